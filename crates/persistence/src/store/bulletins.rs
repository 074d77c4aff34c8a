//! Reading bulletins: keyset pages, counts, lookups, and the relations of many bulletins at once.

use super::indicators::{FIGURE_COLUMNS, figure, with_parts};
use super::{PUBLISHED, status_codes};
use crate::entity::{
    bulletin_countries, bulletin_partners, bulletin_programs, bulletin_themes, bulletins, observations, partners,
    programs,
};
use crate::error::{corrupt, db_error};
use crate::sql::Sql;
use boletin_domain::DomainResult;
use boletin_domain::bulletin::{
    Bulletin, BulletinCursor, BulletinFilter, BulletinLinks, BulletinOrder, BulletinStatus, BulletinText, LinksWanted,
    PartnerLink, TextsWanted, Theme,
};
use boletin_domain::country::CountryCode;
use boletin_domain::id::{BulletinId, ObservationId, PartnerId, ProgramId};
use boletin_domain::language::Language;
use boletin_domain::observation::{Observation, ObservationParts};
use boletin_domain::page::{Direction, Page, PageRequest};
use boletin_domain::partner::PartnerRole;
use boletin_domain::slug::Slug;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr, UnionType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QueryTrait, Select,
};
use std::collections::HashMap;

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
    let order = [
        (bulletins::Column::PublishedOn, direction.clone()),
        (bulletins::Column::Id, direction.clone()),
    ];
    let select = bulletins::Entity::find()
        .filter(condition)
        .order_by(bulletins::Column::PublishedOn, direction.clone())
        .order_by(bulletins::Column::Id, direction);
    let mut rows = rows_with_texts(db, select, Some(u64::from(request.size) + 1), &order, texts).await?;
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
    let select = bulletins::Entity::find()
        .filter(bulletins::Column::Slug.eq(slug.as_str()))
        .filter(bulletins::Column::Status.is_in(status_codes(statuses)));
    let rows = rows_with_texts(db, select, None, &[], texts).await?;
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
    let select = bulletins::Entity::find()
        .filter(bulletins::Column::Id.is_in(ids.iter().copied()))
        .filter(bulletins::Column::Status.is_in(status_codes(statuses)));
    let rows = rows_with_texts(db, select, None, &BY_ID, TextsWanted::ALL).await?;
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
    let select = bulletins::Entity::find()
        .filter(condition(filter))
        .filter(bulletins::Column::Id.is_in(ids.iter().copied()));
    let rows = rows_with_texts(db, select, None, &BY_ID, TextsWanted::ALL).await?;
    assemble(db, rows, TextsWanted::ALL).await
}

/// The order of reads by id, where the caller needs none: one bulletin's texts must come out together.
const BY_ID: [(bulletins::Column, Order); 1] = [(bulletins::Column::Id, Order::Asc)];

/// One part of a union over link tables: `SELECT owner AS bulletin_id, <kind> AS kind, <id> AS other_id, <code>
/// AS code FROM table WHERE owner IN (ids)`. A link to a record (a program, a partner) carries its id in
/// `other_id` (and a partner's role in `code`); a tag (a country, a theme) carries its code in `code` and 0 in
/// `other_id`. `kind` and the placeholders are SQL literals, so both backends type them alike.
fn link_part<E: EntityTrait>(
    table: E,
    owner: impl ColumnTrait,
    kind: Kind,
    other_id: SimpleExpr,
    code: SimpleExpr,
    ids: &[i64],
) -> SelectStatement {
    Query::select()
        .expr_as(Expr::col((table, owner)), Alias::new("bulletin_id"))
        .expr_as(Expr::cust(kind.literal()), Alias::new("kind"))
        .expr_as(other_id, Alias::new("other_id"))
        .expr_as(code, Alias::new("code"))
        .from(table)
        .and_where(Expr::col((table, owner)).is_in(ids.iter().copied()))
        .to_owned()
}

/// The kinds of a bulletin's links (and of its figures, read with them), in the order the union lists them;
/// `kind` holds the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Program,
    Partner,
    Country,
    Theme,
    /// A figure the bulletin is the source of: its id in `other_id`, its other columns after `code`.
    Figure,
}

impl Kind {
    /// The number as an SQL literal.
    fn literal(self) -> &'static str {
        match self {
            Self::Program => "0",
            Self::Partner => "1",
            Self::Country => "2",
            Self::Theme => "3",
            Self::Figure => "4",
        }
    }

    /// The kind a `kind` column holds.
    fn of(number: i32) -> Option<Self> {
        match number {
            0 => Some(Self::Program),
            1 => Some(Self::Partner),
            2 => Some(Self::Country),
            3 => Some(Self::Theme),
            4 => Some(Self::Figure),
            _ => None,
        }
    }
}

/// The links of bulletins `ids` that `wanted` asks for and, when `figures` is given, the figures each is the
/// source of, in one statement (a union over the link tables and the figures): programs in id order, partners
/// in id and role order, countries and themes in code order (links alike but for their bulletin in bulletin id
/// order), figures oldest period first, then by id. The figures are read whatever their bulletin's status (the
/// caller read `ids` by a read that checked it); their countries and disaggregations, when `figures` asks for
/// them, take up to two more statements.
pub(crate) async fn links(
    db: &DatabaseConnection,
    ids: &[i64],
    wanted: LinksWanted,
    figures: Option<ObservationParts>,
) -> DomainResult<(BulletinLinks, Option<Vec<Observation>>)> {
    if ids.is_empty() {
        return Ok((BulletinLinks::default(), figures.map(|_| Vec::new())));
    }
    let none = || Expr::cust("''");
    // Typed, so that a union of tags alone still reads as BIGINT on PostgreSQL.
    let no_id = || Expr::cust("CAST(0 AS BIGINT)");
    let mut parts = Vec::new();
    if wanted.programs {
        let t = bulletin_programs::Entity;
        let other = Expr::col((t, bulletin_programs::Column::ProgramId));
        parts.push(link_part(
            t,
            bulletin_programs::Column::BulletinId,
            Kind::Program,
            other,
            none(),
            ids,
        ));
    }
    if wanted.partners {
        let t = bulletin_partners::Entity;
        let other = Expr::col((t, bulletin_partners::Column::PartnerId));
        let role = Expr::col((t, bulletin_partners::Column::Role));
        parts.push(link_part(
            t,
            bulletin_partners::Column::BulletinId,
            Kind::Partner,
            other,
            role,
            ids,
        ));
    }
    if wanted.countries {
        let t = bulletin_countries::Entity;
        let code = Expr::col((t, bulletin_countries::Column::Country));
        parts.push(link_part(
            t,
            bulletin_countries::Column::BulletinId,
            Kind::Country,
            no_id(),
            code,
            ids,
        ));
    }
    if wanted.themes {
        let t = bulletin_themes::Entity;
        let code = Expr::col((t, bulletin_themes::Column::Theme));
        parts.push(link_part(
            t,
            bulletin_themes::Column::BulletinId,
            Kind::Theme,
            no_id(),
            code,
            ids,
        ));
    }
    if figures.is_some() {
        // A link's row carries the figure's columns as typed NULLs, so that the union's columns have one type
        // on PostgreSQL whichever part comes first.
        for part in &mut parts {
            for (column, sql_type) in FIGURE_COLUMNS {
                part.expr_as(Expr::cust(format!("CAST(NULL AS {sql_type})")), column);
            }
        }
        let t = observations::Entity;
        let owner = observations::Column::SourceBulletinId;
        let mut part = link_part(
            t,
            owner,
            Kind::Figure,
            Expr::col((t, observations::Column::Id)),
            none(),
            ids,
        );
        for (column, _) in FIGURE_COLUMNS {
            part.expr_as(Expr::col((t, column)), column);
        }
        parts.push(part);
    }
    let mut parts = parts.into_iter();
    let Some(mut union) = parts.next() else {
        return Ok((BulletinLinks::default(), None));
    };
    for part in parts {
        union.union(UnionType::All, part);
    }
    let column = |name: &str| Expr::col((Alias::new("u"), Alias::new(name)));
    let mut select = Query::select();
    select
        .exprs([
            column("bulletin_id"),
            column("kind"),
            column("other_id"),
            column("code"),
        ])
        .from_subquery(union, Alias::new("u"))
        .order_by_expr(column("kind"), Order::Asc);
    if figures.is_some() {
        for (name, _) in FIGURE_COLUMNS {
            select.expr(column(name.as_str()));
        }
        // Links have no period: within their kind they keep the order below.
        select.order_by_expr(column("period_start"), Order::Asc);
    }
    select
        .order_by_expr(column("other_id"), Order::Asc)
        .order_by_expr(column("code"), Order::Asc)
        .order_by_expr(column("bulletin_id"), Order::Asc);
    let rows = db.query_all(&select).await.map_err(db_error)?;
    let mut links = BulletinLinks::default();
    let mut read_figures = Vec::new();
    for row in &rows {
        let value = |e| corrupt("bulletin_links", e);
        let bulletin = BulletinId(row.try_get("", "bulletin_id").map_err(value)?);
        let kind: i32 = row.try_get("", "kind").map_err(value)?;
        let other: i64 = row.try_get("", "other_id").map_err(value)?;
        let code: String = row.try_get("", "code").map_err(value)?;
        match Kind::of(kind) {
            Some(Kind::Program) => links.programs.push((bulletin, ProgramId(other))),
            Some(Kind::Partner) => {
                let role = PartnerRole::parse(&code).map_err(|e| corrupt("bulletin_partners", e))?;
                let partner = PartnerId(other);
                links.partners.push((bulletin, PartnerLink { partner, role }));
            }
            Some(Kind::Country) => {
                let country = CountryCode::parse(&code).map_err(|e| corrupt("bulletin_countries", e))?;
                links.countries.push((bulletin, country));
            }
            Some(Kind::Theme) => {
                let theme = Theme::parse(&code).map_err(|e| corrupt("bulletin_themes", e))?;
                links.themes.push((bulletin, theme));
            }
            Some(Kind::Figure) => read_figures.push(figure(row, ObservationId(other), bulletin)?),
            None => return Err(corrupt("bulletin_links", format!("unknown kind {kind}"))),
        }
    }
    let Some(parts) = figures else {
        return Ok((links, None));
    };
    with_parts(db, &mut read_figures, parts).await?;
    Ok((links, Some(read_figures)))
}

/// A bulletin row and its language versions, as one statement reads them.
type RowWithTexts = (bulletins::Model, Vec<BulletinText>);

/// The bulletins `select` finds (with its own conditions and order, and at most `limit`), each with the language
/// versions `wanted` asks for, in one statement: `select` as a subquery, left-joined to its texts (every one, or
/// the wanted language and, for a bulletin without it, its others; bodies empty unless wanted) and ordered by
/// `order`, then language. A bulletin with no text in the join still comes back, with none, so that a page
/// counts it as `select` did.
///
/// The limit is written as a number, not a parameter. PostgreSQL plans a prepared statement's `LIMIT $n` as if
/// it kept a tenth of the rows, so the generic plan of a page is a sequential scan and a sort, and PostgreSQL
/// plans every execution afresh instead (0.2 ms, twice the time the page takes to read; see QUERY-PLANS.md).
/// With the number in the text, the generic plan is the custom one and is planned once per connection.
async fn rows_with_texts(
    db: &DatabaseConnection,
    select: Select<bulletins::Entity>,
    limit: Option<u64>,
    order: &[(bulletins::Column, Order)],
    wanted: TextsWanted,
) -> DomainResult<Vec<RowWithTexts>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT ");
    for column in bulletins::Column::iter() {
        sql.push("b.").push(column.as_str()).push(", ");
    }
    sql.push("t.lang AS text_lang, t.title AS text_title, t.summary AS text_summary, ");
    sql.push(if wanted.body { "t.body" } else { "''" })
        .push(" AS text_body FROM (");
    let inner = backend.build(&select.into_query());
    sql.push_built(&inner.sql, inner.values.map(|v| v.0).unwrap_or_default());
    if let Some(limit) = limit {
        sql.push(&format!(" LIMIT {limit}"));
    }
    sql.push(") b LEFT JOIN bulletin_translations t ON t.bulletin_id = b.id");
    if let Some(lang) = wanted.lang {
        let code = lang.code();
        sql.push(" AND (t.lang = ").bind(code);
        sql.push(
            " OR NOT EXISTS (SELECT 1 FROM bulletin_translations w WHERE w.bulletin_id = t.bulletin_id AND w.lang = ",
        );
        sql.bind(code).push("))");
    }
    sql.push(" ORDER BY ");
    for (column, direction) in order {
        let direction = if matches!(direction, Order::Desc) {
            " DESC"
        } else {
            " ASC"
        };
        sql.push("b.").push(column.as_str()).push(direction).push(", ");
    }
    sql.push("t.lang ASC");
    let query = sql.statement();
    let rows = db.query_all_raw(query).await.map_err(db_error)?;
    let mut read: Vec<RowWithTexts> = Vec::new();
    for row in &rows {
        let bulletin = bulletins::Model::from_query_result(row, "").map_err(db_error)?;
        if read.last().is_none_or(|(last, _)| last.id != bulletin.id) {
            read.push((bulletin, Vec::new()));
        }
        let value = |e| corrupt("bulletin_translations", e);
        let Some(lang) = row.try_get::<Option<String>>("", "text_lang").map_err(value)? else {
            continue;
        };
        let text = BulletinText {
            lang: Language::parse(&lang).map_err(|e| corrupt("bulletin_translations", e))?,
            title: row.try_get("", "text_title").map_err(value)?,
            summary: row.try_get("", "text_summary").map_err(value)?,
            body: row.try_get("", "text_body").map_err(value)?,
        };
        if let Some((_, texts)) = read.last_mut() {
            texts.push(text);
        }
    }
    Ok(read)
}

/// Builds domain bulletins from rows read with their texts, reading their countries and themes (when `wanted`)
/// in one more statement.
async fn assemble(
    db: &DatabaseConnection,
    rows: Vec<RowWithTexts>,
    wanted: TextsWanted,
) -> DomainResult<Vec<Bulletin>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    let tags = LinksWanted {
        countries: wanted.tags,
        themes: wanted.tags,
        ..LinksWanted::default()
    };
    let (links, _) = links(db, &ids, tags, None).await?;
    let mut countries_of = by_bulletin(links.countries);
    let mut themes_of = by_bulletin(links.themes);
    rows.into_iter()
        // Every write leaves a bulletin with a text; one without (a corrupt row) is left out rather than shown
        // without a title.
        .filter(|(_, texts)| !texts.is_empty())
        .map(|(row, texts)| {
            let texts = super::records::versions("bulletin_translations", row.id, texts)?;
            let id = BulletinId(row.id);
            Ok(Bulletin {
                id,
                slug: Slug::parse(&row.slug).map_err(|e| corrupt("bulletins", e))?,
                published_on: row.published_on,
                dateline: row.dateline,
                countries: countries_of.remove(&id).unwrap_or_default(),
                themes: themes_of.remove(&id).unwrap_or_default(),
                status: BulletinStatus::parse(&row.status).map_err(|e| corrupt("bulletins", e))?,
                texts,
                created_at: row.created_at,
                updated_at: row.updated_at,
                version: row.version,
            })
        })
        .collect()
}

/// Groups `(bulletin, item)` pairs by bulletin, keeping their order.
fn by_bulletin<T>(pairs: Vec<(BulletinId, T)>) -> HashMap<BulletinId, Vec<T>> {
    let mut groups: HashMap<BulletinId, Vec<T>> = HashMap::new();
    for (bulletin, item) in pairs {
        groups.entry(bulletin).or_default().push(item);
    }
    groups
}
