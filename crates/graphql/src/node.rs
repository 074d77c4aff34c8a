//! Global object identification: opaque ids and `node(id:)`.

use crate::bulletin::BulletinNode;
use crate::country::Language;
use crate::error::GqlResult;
use crate::indicator::{IndicatorNode, ObservationNode};
use crate::loader::CatalogLoader;
use crate::partner::PartnerNode;
use crate::program::ProgramNode;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Interface, Object};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boletin_domain::id::{BulletinId, IndicatorId, ObservationId, PartnerId, ProgramId};

/// The kinds of record a global id can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bulletin,
    Program,
    Partner,
    Indicator,
    Observation,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Bulletin => "Bulletin",
            Self::Program => "Program",
            Self::Partner => "Partner",
            Self::Indicator => "Indicator",
            Self::Observation => "Observation",
        }
    }
}

/// The opaque global id of a record.
/// The kinds of record, wherever a record is named (the changes feed, the audit log).
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecordKind {
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
    /// An API token.
    ApiToken,
}

impl RecordKind {
    /// The audit log's name for this kind.
    pub(crate) fn audited(self) -> boletin_domain::editorial::AuditedKind {
        use boletin_domain::editorial::AuditedKind;
        match self {
            Self::Bulletin => AuditedKind::Bulletin,
            Self::Program => AuditedKind::Program,
            Self::Partner => AuditedKind::Partner,
            Self::Indicator => AuditedKind::Indicator,
            Self::Observation => AuditedKind::Observation,
            Self::ApiToken => AuditedKind::ApiToken,
        }
    }
}

impl From<Kind> for RecordKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Bulletin => Self::Bulletin,
            Kind::Program => Self::Program,
            Kind::Partner => Self::Partner,
            Kind::Indicator => Self::Indicator,
            Kind::Observation => Self::Observation,
        }
    }
}

impl From<RecordKind> for boletin_domain::editorial::AuditedKind {
    fn from(kind: RecordKind) -> Self {
        kind.audited()
    }
}

impl From<boletin_domain::editorial::AuditedKind> for RecordKind {
    fn from(kind: boletin_domain::editorial::AuditedKind) -> Self {
        use boletin_domain::editorial::AuditedKind;
        match kind {
            AuditedKind::Bulletin => Self::Bulletin,
            AuditedKind::Program => Self::Program,
            AuditedKind::Partner => Self::Partner,
            AuditedKind::Indicator => Self::Indicator,
            AuditedKind::Observation => Self::Observation,
            AuditedKind::ApiToken => Self::ApiToken,
        }
    }
}

pub(crate) fn global_id(kind: Kind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

/// The kind and store id a global id names, or `None` for a string that is not one.
pub(crate) fn decode(id: &str) -> Option<(Kind, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, raw) = text.split_once(':')?;
    let kind = [
        Kind::Bulletin,
        Kind::Program,
        Kind::Partner,
        Kind::Indicator,
        Kind::Observation,
    ]
    .into_iter()
    .find(|k| k.name() == kind)?;
    Some((kind, raw.parse().ok()?))
}

/// Any record with a global id.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The record's opaque global id, accepted by `node(id:)`."
))]
pub enum Node {
    /// A bulletin.
    Bulletin(BulletinNode),
    /// A program.
    Program(ProgramNode),
    /// A partner.
    Partner(PartnerNode),
    /// An indicator.
    Indicator(IndicatorNode),
    /// An observation.
    Observation(ObservationNode),
}

/// `node(id:)`.
#[derive(Default)]
pub struct NodeQuery;

/// `node(id:)`.
#[Object]
impl NodeQuery {
    /// The record with this global id, or null when there is none (or it is not published).
    #[graphql(cache_control(max_age = 60))]
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id taken from any record's `id` field.")] id: ID,
        #[graphql(
            desc = "The language of the record's texts; when omitted, the one the request's `Accept-Language` prefers (Spanish or English), else English."
        )]
        lang: Option<Language>,
    ) -> async_graphql::Result<Option<Node>> {
        let lang = crate::language(ctx, lang);
        let Some((kind, raw)) = decode(&id) else {
            return Ok(None);
        };
        load_node(ctx, kind, raw, lang).await
    }
}

/// The visible record of `kind` with store id `raw`, or `None`.
pub(crate) async fn load_node(
    ctx: &Context<'_>,
    kind: Kind,
    raw: i64,
    lang: Language,
) -> async_graphql::Result<Option<Node>> {
    let loader = ctx.data::<DataLoader<CatalogLoader>>()?;
    Ok(match kind {
        Kind::Bulletin => loader
            .load_one(BulletinId(raw))
            .await
            .gql(ctx)?
            .map(|b| Node::Bulletin(BulletinNode::new(b, lang))),
        Kind::Program => loader
            .load_one(ProgramId(raw))
            .await
            .gql(ctx)?
            .map(|p| Node::Program(ProgramNode::new(p, lang))),
        Kind::Partner => loader
            .load_one(PartnerId(raw))
            .await
            .gql(ctx)?
            .map(|p| Node::Partner(PartnerNode::new(p, lang))),
        Kind::Indicator => loader
            .load_one(IndicatorId(raw))
            .await
            .gql(ctx)?
            .map(|i| Node::Indicator(IndicatorNode::new(i, lang))),
        Kind::Observation => loader
            .load_one(ObservationId(raw))
            .await
            .gql(ctx)?
            .map(|o| Node::Observation(ObservationNode::new(o, lang))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_refuse_garbage() {
        let id = global_id(Kind::Program, 42);
        assert_eq!(decode(&id), Some((Kind::Program, 42)));
        for bad in [
            "",
            "!!",
            "UHJvZ3JhbQ",
            &URL_SAFE_NO_PAD.encode("Cake:1"),
            &URL_SAFE_NO_PAD.encode("Program:x"),
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
