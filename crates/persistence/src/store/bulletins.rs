//! Reading bulletins: keyset pages, counts, lookups, and the relations of many bulletins at once.

use super::group_by_owner;
use super::{PUBLISHED, status_codes};
use crate::entity::{
    bulletin_countries, bulletin_partners, bulletin_programs, bulletin_themes, bulletin_translations, bulletins,
    partners, programs,
};
use crate::error::{corrupt, db_error};
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{
    Bulletin, BulletinCursor, BulletinFilter, BulletinLinks, BulletinOrder, BulletinStatus, BulletinText, LinksWanted,
    PartnerLink, TextsWanted, Theme,
};
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, PartnerId, ProgramId};
use boletin_domain::language::Language;
use boletin_domain::page::{Direction, Page, PageRequest};
use boletin_domain::partner::PartnerRole;
use boletin_domain::slug::Slug;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr, UnionType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// `SELECT 1 FROM bulletins WHERE id = observations.source_bulletin_id AND status IN (…)`: a figure's source has
/// one of `statuses`, as a correlated subquery for `EXISTS`.
pub(crate) fn source_with_status(statuses: &[BulletinStatus]) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(bulletins::Entity)
        .and_where(Expr::col((bulletins::Entity, bulletins::Column::Id)).equals((
            crate::entity::observations::Entity,
            crate::entity::observations::Column::SourceBulletinId,
        )))
        .and_where(Expr::col((bulletins::Entity, bulletins::Column::Status)).is_in(status_codes(statuses)))
        .to_owned()
}

/// `SELECT column FROM table WHERE condition`, as a subquery.
fn select_where<E: EntityTrait>(table: E, column: impl ColumnTrait, condition: SimpleExpr) -> SelectStatement {
    Query::select()
        .column(column)
        .from(table)
        .and_where(condition)
        .to_owned()
}

/// Bulletins whose link rows in `table` satisfy `condition`.
fn linked<E: EntityTrait>(table: E, bulletin_id: impl ColumnTrait, condition: SimpleExpr) -> SimpleExpr {
    bulletins::Column::Id.in_subquery(select_where(table, bulletin_id, condition))
}

/// The published bulletins linked through the link table `table` to each of the owners `ids` (programs or
/// partners), newest first, as `(owner id, bulletin id)` pairs; a bulletin linked twice (in two roles) is listed
/// once.
pub(crate) async fn linked_published<E: EntityTrait>(
    db: &DatabaseConnection,
    table: E,
    owner: E::Column,
    bulletin: E::Column,
    ids: &[i64],
) -> DomainResult<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = Query::select()
        .distinct()
        .expr_as(Expr::col((table, owner)), "owner_id")
        .expr_as(Expr::col((table, bulletin)), "bulletin_id")
        .column((bulletins::Entity, bulletins::Column::PublishedOn))
        .from(table)
        .inner_join(
            bulletins::Entity,
            Expr::col((bulletins::Entity, bulletins::Column::Id)).equals((table, bulletin)),
        )
        .and_where(Expr::col((table, owner)).is_in(ids.iter().copied()))
        .and_where(Expr::col((bulletins::Entity, bulletins::Column::Status)).eq(PUBLISHED))
        .order_by((bulletins::Entity, bulletins::Column::PublishedOn), Order::Desc)
        .order_by((table, bulletin), Order::Desc)
        .to_owned();
    let rows = db.query_all(&query).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let owner: i64 = row.try_get("", "owner_id").map_err(db_error)?;
            let bulletin: i64 = row.try_get("", "bulletin_id").map_err(db_error)?;
            Ok((owner, bulletin))
        })
        .collect()
}

/// The condition for bulletins that match `filter` (published ones unless it names other statuses).
pub(crate) fn condition(filter: &BulletinFilter) -> Condition {
    let mut condition = Condition::all().add(bulletins::Column::Status.is_in(status_codes(filter.statuses())));
    if let Some(from) = filter.published_from {
        condition = condition.add(bulletins::Column::PublishedOn.gte(from));
    }
    if let Some(to) = filter.published_to {
        condition = condition.add(bulletins::Column::PublishedOn.lte(to));
    }
    if !filter.countries.is_empty() {
        let codes = filter.countries.iter().map(ToString::to_string);
        condition = condition.add(linked(
            bulletin_countries::Entity,
            bulletin_countries::Column::BulletinId,
            bulletin_countries::Column::Country.is_in(codes),
        ));
    }
    if !filter.themes.is_empty() {
        let themes = filter.themes.iter().map(|t| t.code());
        condition = condition.add(linked(
            bulletin_themes::Entity,
            bulletin_themes::Column::BulletinId,
            bulletin_themes::Column::Theme.is_in(themes),
        ));
    }
    if !filter.programs.is_empty() {
        let slugs = filter.programs.iter().map(Slug::as_str);
        let programs = select_where(
            programs::Entity,
            programs::Column::Id,
            programs::Column::Slug.is_in(slugs),
        );
        condition = condition.add(linked(
            bulletin_programs::Entity,
            bulletin_programs::Column::BulletinId,
            bulletin_programs::Column::ProgramId.in_subquery(programs),
        ));
    }
    if !filter.partners.is_empty() {
        let slugs = filter.partners.iter().map(Slug::as_str);
        let partners = select_where(
            partners::Entity,
            partners::Column::Id,
            partners::Column::Slug.is_in(slugs),
        );
        condition = condition.add(linked(
            bulletin_partners::Entity,
            bulletin_partners::Column::BulletinId,
            bulletin_partners::Column::PartnerId.in_subquery(partners),
        ));
    }
    condition
}

/// One keyset page: `size + 1` rows are read to learn whether more follow.
pub(crate) async fn page(
    db: &DatabaseConnection,
    filter: &BulletinFilter,
    order: BulletinOrder,
    request: &PageRequest<BulletinCursor>,
    texts: TextsWanted,
) -> DomainResult<Page<Bulletin>> {
    let newest_first = matches!(
        (order, request.direction),
        (BulletinOrder::PublishedOnDesc, Direction::Forward) | (BulletinOrder::PublishedOnAsc, Direction::Backward)
    );
    let mut condition = condition(filter);
    if let Some(cursor) = &request.cursor {
        // A row comparison, `(published_on, id) < (d, i)`: both backends use it as an index range condition on
        // `(status, published_on, id)`, so a page 90,000 deep reads 21 rows. Spelt out as `d' < d OR (d' = d AND
        // i' < i)`, PostgreSQL used the index for the status alone and filtered every row before the cursor.
        let key = Expr::tuple([
            Expr::col((bulletins::Entity, bulletins::Column::PublishedOn)),
            Expr::col((bulletins::Entity, bulletins::Column::Id)),
        ]);
        let at = Expr::tuple([Expr::val(cursor.published_on), Expr::val(cursor.id.0)]);
        condition = condition.add(if newest_first { key.lt(at) } else { key.gt(at) });
    }
    let direction = if newest_first { Order::Desc } else { Order::Asc };
    let mut rows = bulletins::Entity::find()
        .filter(condition)
        .order_by(bulletins::Column::PublishedOn, direction.clone())
        .order_by(bulletins::Column::Id, direction)
        .limit(u64::from(request.size) + 1)
        .all(db)
        .await
        .map_err(db_error)?;
    let more = rows.len() > request.size as usize;
    rows.truncate(request.size as usize);
    if request.direction == Direction::Backward {
        rows.reverse();
    }
    let items = assemble(db, rows, texts).await?;
    let cursor_given = request.cursor.is_some();
    Ok(match request.direction {
        Direction::Forward => Page {
            items,
            has_next_page: more,
            has_previous_page: cursor_given,
        },
        Direction::Backward => Page {
            items,
            has_next_page: cursor_given,
            has_previous_page: more,
        },
    })
}

pub(crate) async fn count(db: &DatabaseConnection, filter: &BulletinFilter) -> DomainResult<u64> {
    bulletins::Entity::find()
        .filter(condition(filter))
        .count(db)
        .await
        .map_err(db_error)
}

pub(crate) async fn by_slug(
    db: &DatabaseConnection,
    slug: &Slug,
    statuses: &[BulletinStatus],
    texts: TextsWanted,
) -> DomainResult<Option<Bulletin>> {
    let rows = bulletins::Entity::find()
        .filter(bulletins::Column::Slug.eq(slug.as_str()))
        .filter(bulletins::Column::Status.is_in(status_codes(statuses)))
        .all(db)
        .await
        .map_err(db_error)?;
    Ok(assemble(db, rows, texts).await?.into_iter().next())
}

/// The bulletins among `ids` with one of `statuses`.
pub(crate) async fn by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
    statuses: &[BulletinStatus],
) -> DomainResult<Vec<Bulletin>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = bulletins::Entity::find()
        .filter(bulletins::Column::Id.is_in(ids.iter().copied()))
        .filter(bulletins::Column::Status.is_in(status_codes(statuses)))
        .all(db)
        .await
        .map_err(db_error)?;
    assemble(db, rows, TextsWanted::ALL).await
}

/// The bulletins among `ids` that match `filter`.
pub(crate) async fn matching(
    db: &DatabaseConnection,
    ids: &[i64],
    filter: &BulletinFilter,
) -> DomainResult<Vec<Bulletin>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = bulletins::Entity::find()
        .filter(condition(filter))
        .filter(bulletins::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
        .map_err(db_error)?;
    assemble(db, rows, TextsWanted::ALL).await
}

/// One part of a union over link tables: `SELECT owner AS bulletin_id, <kind> AS kind, value AS value, role AS
/// role FROM table WHERE owner IN (ids)`. `kind` and `role` are SQL literals, so both backends type them alike.
fn link_part<E: EntityTrait>(
    table: E,
    owner: impl ColumnTrait,
    kind: &'static str,
    value: impl ColumnTrait,
    role: SimpleExpr,
    ids: &[i64],
) -> SelectStatement {
    Query::select()
        .expr_as(Expr::col((table, owner)), Alias::new("bulletin_id"))
        .expr_as(Expr::cust(kind), Alias::new("kind"))
        .expr_as(Expr::col((table, value)), Alias::new("value"))
        .expr_as(role, Alias::new("role"))
        .from(table)
        .and_where(Expr::col((table, owner)).is_in(ids.iter().copied()))
        .to_owned()
}

/// The rows of `parts` in one statement, ordered by kind, value and role: `(bulletin id, kind, value, role)`.
async fn union_of<T: sea_orm::TryGetable>(
    db: &DatabaseConnection,
    table: &'static str,
    parts: Vec<SelectStatement>,
) -> DomainResult<Vec<(i64, i32, T, String)>> {
    let mut parts = parts.into_iter();
    let Some(mut union) = parts.next() else {
        return Ok(Vec::new());
    };
    for part in parts {
        union.union(UnionType::All, part);
    }
    let column = |name: &str| Expr::col((Alias::new("u"), Alias::new(name)));
    let select = Query::select()
        .exprs([column("bulletin_id"), column("kind"), column("value"), column("role")])
        .from_subquery(union, Alias::new("u"))
        .order_by_expr(column("kind"), Order::Asc)
        .order_by_expr(column("value"), Order::Asc)
        .order_by_expr(column("role"), Order::Asc)
        .to_owned();
    let rows = db.query_all(&select).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("", "bulletin_id").map_err(|e| corrupt(table, e))?,
                row.try_get("", "kind").map_err(|e| corrupt(table, e))?,
                row.try_get("", "value").map_err(|e| corrupt(table, e))?,
                row.try_get("", "role").map_err(|e| corrupt(table, e))?,
            ))
        })
        .collect()
}

/// The programs and the partners (with their roles) of bulletins `ids`, those `wanted`, in one statement: programs in id order, partners in id and role order.
pub(crate) async fn links(db: &DatabaseConnection, ids: &[i64], wanted: LinksWanted) -> DomainResult<BulletinLinks> {
    if ids.is_empty() {
        return Ok(BulletinLinks::default());
    }
    let mut parts = Vec::new();
    if wanted.programs {
        parts.push(link_part(
            bulletin_programs::Entity,
            bulletin_programs::Column::BulletinId,
            "0",
            bulletin_programs::Column::ProgramId,
            Expr::cust("''"),
            ids,
        ));
    }
    if wanted.partners {
        parts.push(link_part(
            bulletin_partners::Entity,
            bulletin_partners::Column::BulletinId,
            "1",
            bulletin_partners::Column::PartnerId,
            Expr::col((bulletin_partners::Entity, bulletin_partners::Column::Role)),
            ids,
        ));
    }
    let mut links = BulletinLinks::default();
    for (bulletin, kind, other, role) in union_of::<i64>(db, "bulletin_links", parts).await? {
        if kind == 0 {
            links.programs.push((BulletinId(bulletin), ProgramId(other)));
        } else {
            let role = PartnerRole::parse(&role).map_err(|e| corrupt("bulletin_partners", e))?;
            links.partners.push((
                BulletinId(bulletin),
                PartnerLink {
                    partner: PartnerId(other),
                    role,
                },
            ));
        }
    }
    Ok(links)
}

/// `(bulletin id, code)` pairs.
type Codes = Vec<(i64, String)>;

/// The countries and themes of bulletins `ids` in one statement, as `(bulletin id, code)` pairs in code order.
async fn tags_of_bulletins(db: &DatabaseConnection, ids: &[i64]) -> DomainResult<(Codes, Codes)> {
    let parts = vec![
        link_part(
            bulletin_countries::Entity,
            bulletin_countries::Column::BulletinId,
            "0",
            bulletin_countries::Column::Country,
            Expr::cust("''"),
            ids,
        ),
        link_part(
            bulletin_themes::Entity,
            bulletin_themes::Column::BulletinId,
            "1",
            bulletin_themes::Column::Theme,
            Expr::cust("''"),
            ids,
        ),
    ];
    let (mut countries, mut themes) = (Vec::new(), Vec::new());
    for (bulletin, kind, code, _) in union_of::<String>(db, "bulletin_tags", parts).await? {
        match kind {
            0 => countries.push((bulletin, code)),
            _ => themes.push((bulletin, code)),
        }
    }
    Ok((countries, themes))
}

/// The language versions of bulletins `ids` that `wanted` asks for, by language: every one, or the wanted
/// language and, for a bulletin without it, its others; bodies left empty unless wanted.
async fn texts_of_bulletins(
    db: &DatabaseConnection,
    ids: &[i64],
    wanted: TextsWanted,
) -> DomainResult<Vec<bulletin_translations::Model>> {
    use bulletin_translations::Column;
    let mut select = bulletin_translations::Entity::find()
        .select_only()
        .columns([Column::BulletinId, Column::Lang, Column::Title, Column::Summary])
        .filter(Column::BulletinId.is_in(ids.iter().copied()))
        .order_by_asc(Column::Lang);
    select = if wanted.body {
        select.column(Column::Body)
    } else {
        select.expr_as(Expr::val(""), "body")
    };
    if let Some(lang) = wanted.lang {
        let code = lang.code();
        let has_it = Query::select()
            .expr(Expr::val(1))
            .from_as(bulletin_translations::Entity, Alias::new("w"))
            .and_where(
                Expr::col((Alias::new("w"), Column::BulletinId))
                    .equals((bulletin_translations::Entity, Column::BulletinId)),
            )
            .and_where(Expr::col((Alias::new("w"), Column::Lang)).eq(code))
            .to_owned();
        select = select.filter(
            Condition::any()
                .add(Column::Lang.eq(code))
                .add(Expr::exists(has_it).not()),
        );
    }
    select.all(db).await.map_err(db_error)
}

/// Builds domain bulletins from rows, reading their texts (only those `wanted`) and their countries and themes in
/// two statements sent at once, on connections of their own.
async fn assemble(
    db: &DatabaseConnection,
    rows: Vec<bulletins::Model>,
    wanted: TextsWanted,
) -> DomainResult<Vec<Bulletin>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let (texts, (countries, themes)) =
        tokio::try_join!(texts_of_bulletins(db, &ids, wanted), tags_of_bulletins(db, &ids))?;
    let mut texts_of = group_by_owner(
        texts,
        |t| t.bulletin_id,
        |t| {
            let lang = Language::parse(&t.lang).map_err(|e| corrupt("bulletin_translations", e))?;
            Ok(BulletinText {
                lang,
                title: t.title,
                summary: t.summary,
                body: t.body,
            })
        },
    )?;
    let mut countries_of = group_by_owner(
        countries,
        |(bulletin, _)| *bulletin,
        |(_, code)| CountryCode::parse(&code).map_err(|e| corrupt("bulletin_countries", e)),
    )?;
    let mut themes_of = group_by_owner(
        themes,
        |(bulletin, _)| *bulletin,
        |(_, code)| Theme::parse(&code).map_err(|e| corrupt("bulletin_themes", e)),
    )?;

    rows.into_iter()
        // A record without texts was deleted between this read and the one of its texts: it is left out.
        .filter_map(|row| texts_of.remove(&row.id).map(|texts| (row, texts)))
        .map(|(row, texts)| {
            let texts = super::records::versions("bulletin_translations", row.id, texts)?;
            Ok(Bulletin {
                id: BulletinId(row.id),
                slug: Slug::parse(&row.slug).map_err(|e| corrupt("bulletins", e))?,
                published_on: row.published_on,
                dateline: row.dateline,
                countries: countries_of.remove(&row.id).unwrap_or_default(),
                themes: themes_of.remove(&row.id).unwrap_or_default(),
                status: BulletinStatus::parse(&row.status).map_err(|e| corrupt("bulletins", e))?,
                texts,
                created_at: row.created_at,
                updated_at: row.updated_at,
                version: row.version,
            })
        })
        .collect()
}
