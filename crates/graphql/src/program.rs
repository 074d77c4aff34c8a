//! Programs: the list, the lookup by slug, and the Program type.

use crate::bulletin::BulletinNode;
use crate::country::{Country, Language, countries};
use crate::error::GqlResult;
use crate::loader::{BulletinsOfProgram, CatalogLoader, ChildrenOfProgram, PartnersOfProgram, load_in_order};
use crate::node::{Kind, global_id};
use crate::partner::{PartnerWithRole, partners_with_roles};
use crate::scalar::Date;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object};
use boletin_domain::catalog::Catalog;
use boletin_domain::id::BulletinId;
use boletin_domain::program::{Program, ProgramText};

/// Program queries.
#[derive(Default)]
pub struct ProgramQuery;

/// Program queries.
#[Object]
impl ProgramQuery {
    /// Every program, project and campaign, by slug.
    #[graphql(cache_control(max_age = 300))]
    async fn programs(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The language of names and descriptions; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<Vec<ProgramNode>>> {
        let lang = crate::language(ctx, lang);
        // Nullable, so that one failing field leaves the rest of a combined query its data.
        let result: async_graphql::Result<Vec<ProgramNode>> = async {
            let programs = ctx.data::<Catalog>()?.programs().await.gql(ctx)?;
            Ok(programs.into_iter().map(|p| ProgramNode::new(p, lang)).collect())
        }
        .await;
        result.map(Some)
    }

    /// The program with this slug, or null.
    #[graphql(cache_control(max_age = 300))]
    async fn program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The program's slug, e.g. `planami`.")] slug: String,
        #[graphql(
            desc = "The language of names and descriptions; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<ProgramNode>> {
        let lang = crate::language(ctx, lang);
        Ok(ctx
            .data::<Catalog>()?
            .program(&slug)
            .await
            .gql(ctx)?
            .map(|p| ProgramNode::new(p, lang)))
    }
}

/// A program of the office: a regional program, or a project or campaign within one.
pub struct ProgramNode {
    program: Program,
    lang: Language,
}

impl ProgramNode {
    pub(crate) fn new(program: Program, lang: Language) -> Self {
        Self { program, lang }
    }

    fn text(&self) -> &ProgramText {
        self.program.texts.pick(self.lang.into())
    }
}

/// Loads bulletins by id, keeping the order of `ids`.
pub(crate) async fn bulletins_in_order(
    ctx: &Context<'_>,
    ids: &[BulletinId],
    lang: Language,
) -> async_graphql::Result<Vec<BulletinNode>> {
    let bulletins = load_in_order(ctx, ids, |id| *id).await?;
    Ok(bulletins.into_iter().map(|(_, b)| BulletinNode::new(b, lang)).collect())
}

/// A program of the office: a regional program, or a project or campaign within one.
#[Object(name = "Program")]
impl ProgramNode {
    /// The program's opaque global id.
    pub(crate) async fn id(&self) -> ID {
        global_id(Kind::Program, self.program.id.0)
    }

    /// The program's stable, URL-safe key.
    async fn slug(&self) -> &str {
        self.program.slug.as_str()
    }

    /// The language of `name` and `description`.
    async fn language(&self) -> Language {
        self.text().lang.into()
    }

    /// The program's name.
    async fn name(&self) -> &str {
        self.text().name.as_str()
    }

    /// What the program does.
    async fn description(&self) -> &str {
        self.text().description.as_str()
    }

    /// The first day of the program.
    async fn start_on(&self) -> Date {
        Date(self.program.period.start)
    }

    /// The last day of the program, when it has ended or has a planned end.
    async fn end_on(&self) -> Option<Date> {
        self.program.period.end.map(Date)
    }

    /// The countries the program works in.
    async fn countries(&self) -> Vec<Country> {
        countries(&self.program.countries, self.lang)
    }

    /// The record's version, increased by every change; `updateProgram` and `deleteProgram` take the version
    /// you read.
    async fn version(&self) -> i32 {
        self.program.version
    }

    /// The program this one belongs to, if any.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgramNode>> {
        let Some(parent) = self.program.parent else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        Ok(loader
            .load_one(parent)
            .await
            .gql(ctx)?
            .map(|p| ProgramNode::new(p, self.lang)))
    }

    /// The projects and campaigns within this program.
    async fn sub_programs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ProgramNode>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let children = loader
            .load_one(ChildrenOfProgram(self.program.id))
            .await
            .gql(ctx)?
            .unwrap_or_default();
        Ok(children.into_iter().map(|p| ProgramNode::new(p, self.lang)).collect())
    }

    /// The program's partners, each with its role (a partner may appear once per role).
    async fn partners(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PartnerWithRole>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let links = loader
            .load_one(PartnersOfProgram(self.program.id))
            .await
            .gql(ctx)?
            .unwrap_or_default();
        partners_with_roles(ctx, &links, self.lang).await
    }

    /// The published bulletins about this program, newest first.
    async fn bulletins(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BulletinNode>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let ids = loader
            .load_one(BulletinsOfProgram(self.program.id))
            .await
            .gql(ctx)?
            .unwrap_or_default();
        bulletins_in_order(ctx, &ids, self.lang).await
    }
}
