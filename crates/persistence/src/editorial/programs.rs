//! Writing programs: their row, texts, countries and partners; a parent must exist and must not lie inside the
//! program; a program is deleted only once no sub-program, bulletin or figure refers to it.

use super::{
    Effects, count_where, delete_if_current, ids_by_key, keys_by_id, known, partners_by_slug, refuse_while_used,
    slug_of, snapshot, update_if_current,
};
use crate::entity::{bulletin_programs, observations, partners, programs};
use crate::error::{corrupt, db_error};
use crate::rows::{Children, Ids, ProgramChildren, program_row};
use crate::store::SqlStore;
use crate::store::programs as read;
use boletin_domain::editorial::{RecordStore, Revision, Stored};
use boletin_domain::program::{NewProgram, Program};
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, NotSet};

/// The ids of `program`'s parent and partners; `Invalid` at `parent` or `partners[i].partner` for one that
/// does not exist.
async fn links<C: ConnectionTrait>(conn: &C, program: &NewProgram) -> DomainResult<(Option<i64>, Ids)> {
    let parent = match &program.parent {
        Some(slug) => {
            let found = ids_by_key::<programs::Entity, _>(
                conn,
                programs::Column::Slug,
                programs::Column::Id,
                vec![slug.to_string()],
            )
            .await?;
            Some(known(&found, slug.as_str(), "parent", "program has the slug")?)
        }
        None => None,
    };
    let partner_ids = ids_by_key::<partners::Entity, _>(
        conn,
        partners::Column::Slug,
        partners::Column::Id,
        program.partners.iter().map(|l| l.partner.to_string()).collect(),
    )
    .await?;
    for (i, link) in program.partners.iter().enumerate() {
        known(
            &partner_ids,
            link.partner.as_str(),
            &format!("partners[{i}].partner"),
            "partner has the slug",
        )?;
    }
    Ok((parent, partner_ids))
}

/// Refuses to make `parent` the parent of program `id` when `parent` lies inside it (or is it): programs form
/// a tree.
async fn refuse_cycle(txn: &DatabaseTransaction, id: i64, parent: Option<i64>) -> DomainResult<()> {
    let mut next = parent;
    // Each step climbs one level; a tree of programs is a few levels deep, and the bound stops a corrupt loop.
    for _ in 0..1000 {
        let Some(ancestor) = next else {
            return Ok(());
        };
        if ancestor == id {
            return Err(DomainError::invalid(
                "parent",
                "that program lies inside this one; a program cannot contain its own ancestor",
            ));
        }
        next = programs::Entity::find_by_id(ancestor)
            .one(txn)
            .await
            .map_err(db_error)?
            .and_then(|p| p.parent_id);
    }
    Err(corrupt("programs", "the parents of a program form a loop"))
}

impl SqlStore {
    /// The program `id`, as the catalogue reads it.
    async fn program(&self, id: i64, slug: &Slug) -> DomainResult<Program> {
        read::by_ids(self.db(), &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::not_found("program", slug.as_str()))
    }
}

#[async_trait::async_trait]
impl RecordStore<NewProgram> for SqlStore {
    async fn create(&self, program: &NewProgram, actor: &str) -> DomainResult<Program> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let (parent, partner_ids) = links(&txn, program).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let row = program_row(program, NotSet, parent, 1, effects.now())
            .insert(&txn)
            .await
            .map_err(db_error)?;
        let mut children = ProgramChildren::default();
        children.add(row.id, program, &partner_ids);
        children.insert(&txn).await?;
        effects.public_change::<NewProgram>(row.id, "create", None, Some(snapshot(program, 1)));
        self.commit(txn, effects).await?;
        self.program(row.id, &program.slug).await
    }

    async fn find(&self, slug: &Slug) -> DomainResult<Option<Stored<NewProgram>>> {
        let Some(program) = read::by_slug(self.db(), slug).await? else {
            return Ok(None);
        };
        let links: Vec<_> = read::partners(self.db(), &[program.id.0])
            .await?
            .into_iter()
            .map(|(_, link)| link)
            .collect();
        let parents = keys_by_id::<programs::Entity, _>(
            self.db(),
            programs::Column::Slug,
            programs::Column::Id,
            program.parent.map(|p| p.0).into_iter().collect(),
        )
        .await?;
        let record = NewProgram {
            slug: program.slug,
            parent: program.parent.map(|p| slug_of(&parents, p.0)).transpose()?,
            period: program.period,
            countries: program.countries,
            texts: program.texts,
            partners: partners_by_slug(self.db(), &links).await?,
        };
        Ok(Some(Stored {
            id: program.id.0,
            version: program.version,
            record,
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewProgram>, actor: &str) -> DomainResult<Program> {
        let (id, after, version) = (revision.id, revision.after, revision.expected_version);
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let (parent, partner_ids) = links(&txn, after).await?;
        refuse_cycle(&txn, id, parent).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        let mut row = program_row(after, NotSet, parent, version + 1, effects.now());
        row.created_at = NotSet;
        update_if_current::<programs::Entity, _>(&txn, "program", row, id, version).await?;
        let mut children = ProgramChildren::default();
        children.add(id, after, &partner_ids);
        children.replace(&txn, id).await?;
        effects.public_change::<NewProgram>(
            id,
            revision.operation,
            Some(snapshot(revision.before, version)),
            Some(snapshot(after, version + 1)),
        );
        self.commit(txn, effects).await?;
        self.program(id, &after.slug).await
    }

    async fn delete(&self, stored: &Stored<NewProgram>, actor: &str) -> DomainResult<()> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let uses = [
            (
                count_where::<programs::Entity, _>(&txn, programs::Column::ParentId, stored.id).await?,
                "sub-programs",
            ),
            (
                count_where::<bulletin_programs::Entity, _>(&txn, bulletin_programs::Column::ProgramId, stored.id)
                    .await?,
                "bulletins",
            ),
            (
                count_where::<observations::Entity, _>(&txn, observations::Column::ProgramId, stored.id).await?,
                "figures",
            ),
        ];
        refuse_while_used(&format!("the program `{}`", stored.record.slug), &uses)?;
        delete_if_current::<programs::Entity>(&txn, "program", stored.id, stored.version).await?;
        let mut effects = Effects::new(Some(actor), Utc::now());
        effects.public_change::<NewProgram>(
            stored.id,
            "delete",
            Some(snapshot(&stored.record, stored.version)),
            None,
        );
        self.commit(txn, effects).await
    }
}
