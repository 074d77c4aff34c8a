//! `changes`: the delta-sync feed for mobile apps.

use crate::country::Language;
use crate::cursor::{self, List};
use crate::error::GqlResult;
use crate::node::RecordKind;
use crate::node::{Kind, Node, global_id, load_node};
use crate::scalar::DateTime;
use async_graphql::{Context, Enum, ID, Object};
use boletin_domain::catalog::Catalog;
use boletin_domain::changes::{Change, ChangesPage, EntityType as DomainEntityType};

/// What happened to a record.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "boletin_domain::changes::ChangeKind")]
pub enum ChangeKind {
    /// The record is new, changed, or became visible: replace your copy with `node`.
    Upsert,
    /// The record was deleted or is no longer public (an unpublished bulletin, a figure it sourced): remove your
    /// copy.
    Delete,
}

/// The kinds of record the feed reports.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "boletin_domain::changes::EntityType")]
pub enum EntityType {
    /// A bulletin.
    Bulletin,
    /// A program.
    Program,
    /// A partner.
    Partner,
    /// An indicator.
    Indicator,
    /// An observation (a reported figure).
    Observation,
}

fn kind_of(entity: DomainEntityType) -> Kind {
    match entity {
        DomainEntityType::Bulletin => Kind::Bulletin,
        DomainEntityType::Program => Kind::Program,
        DomainEntityType::Partner => Kind::Partner,
        DomainEntityType::Indicator => Kind::Indicator,
        DomainEntityType::Observation => Kind::Observation,
    }
}

/// Changes feed queries.
#[derive(Default)]
pub struct ChangeQuery;

/// Changes feed queries.
#[Object]
impl ChangeQuery {
    /// What changed in the public catalogue since `since`, oldest first: call without `since` to get everything,
    /// store `nextToken`, and call again with it (until `hasMore` is false) to get exactly what changed since,
    /// with no gaps or repeats while content keeps changing.
    #[graphql(cache_control(no_cache))]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `nextToken` of your last call; from the beginning when omitted.")] since: Option<String>,
        #[graphql(desc = "How many changes at most (0 to 100; default 100).")] first: Option<i32>,
        #[graphql(
            desc = "The language of the records' texts in `node`; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<ChangesNode>> {
        let lang = crate::language(ctx, lang);
        // Nullable, so that one failing field leaves the rest of a combined query its data.
        let result: async_graphql::Result<ChangesNode> = async {
            let since = cursor::unwrap_opt(List::Changes, since, "since").gql(ctx)?;
            let page = ctx.data::<Catalog>()?.changes(since.as_deref(), first).await.gql(ctx)?;
            Ok(ChangesNode { page, lang })
        }
        .await;
        result.map(Some)
    }
}

/// A page of the changes feed.
pub struct ChangesNode {
    page: ChangesPage,
    lang: Language,
}

/// A page of the changes feed.
#[Object(name = "Changes")]
impl ChangesNode {
    /// The changes, oldest first.
    async fn changes(&self) -> Vec<ChangeNode> {
        self.page
            .changes
            .iter()
            .cloned()
            .map(|change| ChangeNode {
                change,
                lang: self.lang,
            })
            .collect()
    }

    /// Pass this as `since` next time (also when this page was empty).
    async fn next_token(&self) -> String {
        cursor::wrap(List::Changes, &self.page.next.encode())
    }

    /// More changes follow: call again with `nextToken` now.
    async fn has_more(&self) -> bool {
        self.page.has_more
    }
}

/// One change to a public record.
pub struct ChangeNode {
    change: Change,
    lang: Language,
}

/// One change to a public record.
#[Object(name = "Change")]
impl ChangeNode {
    /// Upsert or delete.
    async fn kind(&self) -> ChangeKind {
        self.change.kind.into()
    }

    /// The kind of record.
    async fn record_kind(&self) -> RecordKind {
        kind_of(self.change.entity).into()
    }

    /// The kind of record.
    #[graphql(deprecation = "use `recordKind`")]
    async fn entity_type(&self) -> EntityType {
        self.change.entity.into()
    }

    /// The record's global id (the same as its `id` field).
    async fn id(&self) -> ID {
        global_id(kind_of(self.change.entity), self.change.id)
    }

    /// When the change happened.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.change.at)
    }

    /// The record as it is now, for an upsert; null for a delete, or when a later change has hidden it (that
    /// change follows in the feed).
    async fn node(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Node>> {
        if self.change.kind == boletin_domain::changes::ChangeKind::Delete {
            return Ok(None);
        }
        load_node(ctx, kind_of(self.change.entity), self.change.id, self.lang).await
    }
}
