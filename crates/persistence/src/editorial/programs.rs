//! Writing programs: their row, texts, countries and partners; a parent must exist and must not lie inside the
//! program; a program is deleted only once no sub-program, bulletin or figure refers to it.

use super::public::{self, PublicRecord};
use super::{count_where, id_of, ids_by_key, keys_by_id, known, partners_by_slug, slug_of};
use crate::entity::{bulletin_programs, observations, partners, programs};
use crate::error::{corrupt, db_error};
use crate::rows::{Ids, ProgramChildren, program_row};
use crate::store::SqlStore;
use crate::store::programs as read;
use crate::store::records;
use boletin_domain::changes::EntityType;
use boletin_domain::editorial::{RecordStore, Revision, Stored};
use boletin_domain::program::{NewProgram, NewProgramParts, Program};
use boletin_domain::slug::Slug;
use boletin_domain::{DomainError, DomainResult};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait, NotSet};

/// The ids of `program`'s parent and partners; `Invalid` at `parent` or `partners[i].partner` for one that
/// does not exist.
async fn links<C: ConnectionTrait>(conn: &C, program: &NewProgram) -> DomainResult<(Option<i64>, Ids)> {
    let parent = match program.parent() {
        Some(slug) => Some(
            id_of::<programs::Entity, _>(
                conn,
                (programs::Column::Slug, programs::Column::Id),
                slug.as_str(),
                "parent",
                "program has the slug",
            )
            .await?,
        ),
        None => None,
    };
    let partner_ids = ids_by_key::<partners::Entity, _>(
        conn,
        partners::Column::Slug,
        partners::Column::Id,
        program.partners().iter().map(|l| l.partner.to_string()).collect(),
    )
    .await?;
    for (i, link) in program.partners().iter().enumerate() {
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

#[async_trait::async_trait]
impl PublicRecord for NewProgram {
    const FEED: EntityType = EntityType::Program;
    type Entity = programs::Entity;
    /// The parent's id and the partners' ids.
    type Links = (Option<i64>, Ids);
    type Children = ProgramChildren;

    async fn links(&self, txn: &DatabaseTransaction) -> DomainResult<Self::Links> {
        links(txn, self).await
    }

    fn row(&self, (parent, _): &Self::Links, version: i32, now: DateTime<Utc>) -> programs::ActiveModel {
        program_row(self, NotSet, *parent, version, now)
    }

    fn children(&self, id: i64, (_, partner_ids): &Self::Links) -> ProgramChildren {
        let mut children = ProgramChildren::default();
        children.add(id, self, partner_ids);
        children
    }

    async fn check_change(&self, txn: &DatabaseTransaction, id: i64, (parent, _): &Self::Links) -> DomainResult<()> {
        refuse_cycle(txn, id, *parent).await
    }

    async fn uses(txn: &DatabaseTransaction, id: i64) -> DomainResult<Vec<(u64, &'static str)>> {
        Ok(vec![
            (
                count_where::<programs::Entity, _>(txn, programs::Column::ParentId, id).await?,
                "sub-programs",
            ),
            (
                count_where::<bulletin_programs::Entity, _>(txn, bulletin_programs::Column::ProgramId, id).await?,
                "bulletins",
            ),
            (
                count_where::<observations::Entity, _>(txn, observations::Column::ProgramId, id).await?,
                "figures",
            ),
        ])
    }

    fn describe(&self) -> String {
        format!("the program `{}`", self.slug())
    }

    async fn read(store: &SqlStore, id: i64, record: &Self) -> DomainResult<Program> {
        records::by_ids::<Program>(store.db(), &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::not_found("program", record.slug().as_str()))
    }
}

#[async_trait::async_trait]
impl RecordStore<NewProgram> for SqlStore {
    async fn create(&self, program: &NewProgram, actor: &str) -> DomainResult<Program> {
        public::create(self, program, actor).await
    }

    async fn find(&self, slug: &Slug) -> DomainResult<Option<Stored<NewProgram>>> {
        let Some(program) = records::by_key::<Program>(self.db(), slug.as_str()).await? else {
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
        let record = NewProgram::new(NewProgramParts {
            slug: program.slug,
            parent: program.parent.map(|p| slug_of(&parents, p.0)).transpose()?,
            period: program.period,
            countries: program.countries,
            texts: program.texts.into_vec(),
            partners: partners_by_slug(self.db(), &links).await?,
        })
        .map_err(|e| corrupt("programs", e))?;
        Ok(Some(Stored {
            id: program.id.0,
            version: program.version,
            record,
        }))
    }

    async fn update(&self, revision: &Revision<'_, NewProgram>, actor: &str) -> DomainResult<Program> {
        public::update(self, revision, actor).await
    }

    async fn delete(&self, stored: &Stored<NewProgram>, actor: &str) -> DomainResult<()> {
        public::delete(self, stored, actor).await
    }
}
