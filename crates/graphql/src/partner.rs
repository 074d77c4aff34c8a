//! Partners: the list, the lookup by slug, and the Partner type.

use crate::bulletin::BulletinNode;
use crate::country::{Country, Language};
use crate::error::GqlResult;
use crate::loader::{BulletinsOfPartner, CatalogLoader, ProgramsOfPartner, load_in_order};
use crate::node::{Kind, global_id};
use crate::program::{ProgramNode, bulletins_in_order};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use boletin_domain::bulletin::PartnerLink;
use boletin_domain::catalog::Catalog;
use boletin_domain::id::PartnerId;
use boletin_domain::partner::{Partner, PartnerText};

/// What kind of organisation a partner is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "boletin_domain::partner::PartnerKind")]
pub enum PartnerKind {
    /// A national government body: a ministry, secretariat or agency.
    Government,
    /// A local government.
    Municipality,
    /// An agency of the United Nations system.
    UnAgency,
    /// A non-governmental or civil-society organisation.
    Ngo,
    /// A funder: a donor government's fund or a foundation.
    Donor,
    /// A company or business association.
    PrivateSector,
    /// A university or research centre.
    Academia,
    /// An intergovernmental organisation other than a UN agency.
    InternationalOrganisation,
}

/// The part an organisation plays, after IATI's participating-organisation roles.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "boletin_domain::partner::PartnerRole")]
pub enum PartnerRole {
    /// Provides the money.
    Funder,
    /// Carries out the work.
    Implementer,
    /// Convenes or runs the activity.
    Organizer,
    /// Provides the venue or the place.
    Host,
    /// Backs the activity with expertise or resources short of funding.
    Supporter,
}

/// Partner queries.
#[derive(Default)]
pub struct PartnerQuery;

/// Partner queries.
#[Object]
impl PartnerQuery {
    /// Every partner, by slug.
    #[graphql(cache_control(max_age = 300))]
    async fn partners(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The language of names, acronyms and nested texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<Vec<PartnerNode>>> {
        let lang = crate::language(ctx, lang);
        // Nullable, so that one failing field leaves the rest of a combined query its data.
        let result: async_graphql::Result<Vec<PartnerNode>> = async {
            let partners = ctx.data::<Catalog>()?.partners().await.gql(ctx)?;
            Ok(partners.into_iter().map(|p| PartnerNode::new(p, lang)).collect())
        }
        .await;
        result.map(Some)
    }

    /// The partner with this slug, or null.
    #[graphql(cache_control(max_age = 300))]
    async fn partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner's slug, e.g. `canada-fund-for-local-initiatives`.")] slug: String,
        #[graphql(
            desc = "The language of names, acronyms and nested texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<PartnerNode>> {
        let lang = crate::language(ctx, lang);
        Ok(ctx
            .data::<Catalog>()?
            .partner(&slug)
            .await
            .gql(ctx)?
            .map(|p| PartnerNode::new(p, lang)))
    }
}

/// An organisation the office works with: a government, municipality, agency, NGO or donor.
#[derive(Clone)]
pub struct PartnerNode {
    partner: Partner,
    lang: Language,
}

impl PartnerNode {
    pub(crate) fn new(partner: Partner, lang: Language) -> Self {
        Self { partner, lang }
    }

    fn text(&self) -> &PartnerText {
        self.partner.texts.pick(self.lang.into())
    }
}

/// An organisation the office works with: a government, municipality, agency, NGO or donor.
#[Object(name = "Partner")]
impl PartnerNode {
    /// The partner's opaque global id.
    pub(crate) async fn id(&self) -> ID {
        global_id(Kind::Partner, self.partner.id.0)
    }

    /// The partner's stable, URL-safe key.
    async fn slug(&self) -> &str {
        self.partner.slug.as_str()
    }

    /// The language of `name` and `acronym`: the one asked for, or the other when there is no version in it.
    async fn language(&self) -> Language {
        self.text().lang.into()
    }

    /// The organisation's name, e.g. `International Organization for Migration` or
    /// `Organización Internacional para las Migraciones`.
    async fn name(&self) -> &str {
        self.text().name.as_str()
    }

    /// The usual abbreviation in that language, e.g. `IOM` or `OIM`.
    async fn acronym(&self) -> Option<&str> {
        self.text().acronym.as_deref()
    }

    /// What kind of organisation it is.
    async fn kind(&self) -> PartnerKind {
        self.partner.kind.into()
    }

    /// The country it is based in, for national and local bodies.
    async fn country(&self) -> Option<Country> {
        self.partner.country.map(|code| Country { code, lang: self.lang })
    }

    /// Its website.
    async fn website(&self) -> Option<&str> {
        self.partner.website.as_deref()
    }

    /// The record's version, increased by every change; `updatePartner` and `deletePartner` take the version
    /// you read.
    async fn version(&self) -> i32 {
        self.partner.version
    }

    /// The programs it takes part in, each with its role.
    async fn programs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PartnerProgram>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let links = loader
            .load_one(ProgramsOfPartner(self.partner.id))
            .await
            .gql(ctx)?
            .unwrap_or_default();
        let programs = load_in_order(ctx, &links, |l| l.partner).await?;
        Ok(programs
            .into_iter()
            .map(|(l, p)| PartnerProgram {
                program: ProgramNode::new(p, self.lang),
                role: l.role.into(),
            })
            .collect())
    }

    /// The published bulletins that name this partner, newest first.
    async fn bulletins(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BulletinNode>> {
        let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
        let ids = loader
            .load_one(BulletinsOfPartner(self.partner.id))
            .await
            .gql(ctx)?
            .unwrap_or_default();
        bulletins_in_order(ctx, &ids, self.lang).await
    }
}

/// A program a partner takes part in, with the part it plays.
#[derive(SimpleObject)]
pub struct PartnerProgram {
    /// The program.
    program: ProgramNode,
    /// What the partner does in it.
    role: PartnerRole,
}

/// A partner together with the part it plays in a bulletin or program.
#[derive(SimpleObject)]
pub struct PartnerWithRole {
    /// The partner.
    partner: PartnerNode,
    /// What it did: funded, implemented, organised, hosted or supported.
    role: PartnerRole,
}

/// The partners of `links`, loaded in one batch, in the links' order.
pub(crate) async fn partners_with_roles(
    ctx: &Context<'_>,
    links: &[PartnerLink<PartnerId>],
    lang: Language,
) -> async_graphql::Result<Vec<PartnerWithRole>> {
    let partners = load_in_order(ctx, links, |l| l.partner).await?;
    Ok(with_roles(partners.into_iter().map(|(l, p)| (*l, p)), lang))
}

/// Partners with the roles their links give them, as the client sees them in `lang`.
pub(crate) fn with_roles(
    pairs: impl IntoIterator<Item = (PartnerLink<PartnerId>, Partner)>,
    lang: Language,
) -> Vec<PartnerWithRole> {
    pairs
        .into_iter()
        .map(|(l, p)| PartnerWithRole {
            partner: PartnerNode::new(p, lang),
            role: l.role.into(),
        })
        .collect()
}
