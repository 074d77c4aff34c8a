//! A statistic's points, resolved as one list rather than field by field.
//!
//! async-graphql resolves every field of every object as a boxed future wrapped in the extensions' `resolve`
//! hook. A statistic by country and month has thousands of points, each with three to six fields, and that
//! machinery was most of the server's time for such a question (`docs/BENCHMARKS.md`, "Points as one list, a
//! covering rollups index, …"). A point's fields are plain values of the point, except its country, program and partner, which
//! repeat: a statistic by country and month names the same dozen countries three thousand times. So [`Points`]
//! reads the points' selection once, writes each point's plain fields directly, and resolves each distinct
//! country, program and partner once, through [`StatisticPointNode`]'s own field (the same code, loaders and
//! errors as the field-by-field path), concurrently so that their loads still batch. A selection this does not
//! handle (a response key given twice, which GraphQL merges, or a custom directive) falls back to
//! async-graphql's own resolution, and so does a list where resolving a country, program or partner once failed
//! (each point then reports its own error), so the answer never depends on which path ran. The points' own fields
//! are not counted by the deadline's per-field hook (the list is written without waiting); the fields inside a
//! country, program or partner are.

use super::{StatisticPointNode, period};
use crate::country::Language;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    ContainerType, ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerError, ServerResult, Value,
};
use boletin_domain::country::CountryCode;
use boletin_domain::id::{PartnerId, ProgramId};
use boletin_domain::statistics::{StatisticPoint, Statistics};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// The points of one statistic: `[StatisticPoint!]!` in the schema.
pub(crate) struct Points {
    pub(crate) statistics: Arc<Statistics>,
    pub(crate) lang: Language,
}

/// A field of `StatisticPoint`, as the selection names it.
#[derive(Clone, Copy)]
enum PointField {
    Typename,
    Value,
    ObservationCount,
    Country,
    Program,
    Partner,
    PeriodStart,
    PeriodEnd,
    Category,
}

impl PointField {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "__typename" => Self::Typename,
            "value" => Self::Value,
            "observationCount" => Self::ObservationCount,
            "country" => Self::Country,
            "program" => Self::Program,
            "partner" => Self::Partner,
            "periodStart" => Self::PeriodStart,
            "periodEnd" => Self::PeriodEnd,
            "category" => Self::Category,
            _ => return None,
        })
    }
}

/// One entry of the selection, in the query's order.
struct Planned<'a> {
    key: &'a Name,
    field: &'a Positioned<Field>,
    kind: PointField,
}

/// The record an object-valued field of a point shows: a point's country, program or partner.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Named {
    Country(CountryCode),
    Program(ProgramId),
    Partner(PartnerId),
}

impl Named {
    fn of(kind: PointField, point: &StatisticPoint) -> Option<Self> {
        match kind {
            PointField::Country => point.country.map(Self::Country),
            PointField::Program => point.program.map(Self::Program),
            PointField::Partner => point.partner.map(Self::Partner),
            _ => None,
        }
    }
}

/// The selection of a point, flattened through fragments, or `None` when it needs async-graphql's own
/// resolution.
fn plan<'a>(ctx: &ContextSelectionSet<'a>) -> Option<Vec<Planned<'a>>> {
    fn walk<'a>(
        selection_set: &'a SelectionSet,
        ctx: &ContextSelectionSet<'a>,
        depth: usize,
        planned: &mut Vec<Planned<'a>>,
    ) -> Option<()> {
        // Validation refuses cycles among fragments; this only bounds the walk.
        if depth > 32 {
            return None;
        }
        for selection in &selection_set.items {
            let (condition, inner) = match &selection.node {
                Selection::Field(field) => {
                    // @skip and @include are gone by now; any other directive is left to async-graphql.
                    if !field.node.directives.is_empty() {
                        return None;
                    }
                    let key = &field.node.response_key().node;
                    if planned.iter().any(|p| p.key == key) {
                        return None;
                    }
                    let kind = PointField::named(field.node.name.node.as_str())?;
                    planned.push(Planned { key, field, kind });
                    continue;
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = ctx.query_env.fragments.get(&spread.node.fragment_name.node)?;
                    (Some(&fragment.node.type_condition), &fragment.node.selection_set)
                }
                Selection::InlineFragment(fragment) => {
                    (fragment.node.type_condition.as_ref(), &fragment.node.selection_set)
                }
            };
            if condition.is_some_and(|c| c.node.on.node != "StatisticPoint") {
                return None;
            }
            walk(&inner.node, ctx, depth + 1, planned)?;
        }
        Some(())
    }
    let mut planned = Vec::new();
    walk(&ctx.item.node, ctx, 0, &mut planned)?;
    Some(planned)
}

impl Points {
    fn node(&self, point: &StatisticPoint) -> StatisticPointNode {
        StatisticPointNode {
            point: point.clone(),
            lang: self.lang,
        }
    }

    /// The value of `field` for the point at `index`, resolved by [`StatisticPointNode`] as async-graphql would.
    async fn resolve_one(
        &self,
        ctx: &ContextSelectionSet<'_>,
        index: usize,
        field: &Positioned<Field>,
    ) -> ServerResult<Option<Value>> {
        let item = ctx.with_index(index);
        let field_ctx = item.with_field(field);
        self.node(&self.statistics.points[index])
            .resolve_field(&field_ctx)
            .await
    }

    /// Every point through async-graphql, field by field.
    async fn resolve_each(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let points = &self.statistics.points;
        let nodes = points.iter().map(|point| self.node(point));
        resolve_list(ctx, field, nodes, Some(points.len())).await
    }
}

/// How many errors the request has reported so far.
fn error_count(ctx: &ContextSelectionSet<'_>) -> usize {
    ctx.query_env.errors.lock().map_or(0, |errors| errors.len())
}

/// Takes back the errors reported under the list's path (a point's field resolved once for many points).
fn forget_errors_under(ctx: &ContextSelectionSet<'_>) {
    let prefix = ctx.set_error_path(ServerError::new(String::new(), None)).path;
    if let Ok(mut errors) = ctx.query_env.errors.lock() {
        errors.retain(|error| !error.path.starts_with(&prefix));
    }
}

impl OutputType for Points {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("[{}]", StatisticPointNode::qualified_type_name()))
    }

    fn qualified_type_name() -> String {
        format!("[{}]!", StatisticPointNode::qualified_type_name())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        StatisticPointNode::create_type_info(registry);
        Self::qualified_type_name()
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let points = &self.statistics.points;
        let Some(planned) = plan(ctx).filter(|planned| !planned.is_empty()) else {
            return self.resolve_each(ctx, field).await;
        };

        // Each distinct country, program and partner a field shows, resolved once (the first point naming it
        // stands for the rest), all at once so that their loads batch.
        let mut first: HashMap<(usize, Named), usize> = HashMap::new();
        for (index, point) in points.iter().enumerate() {
            for (at, entry) in planned.iter().enumerate() {
                if let Some(named) = Named::of(entry.kind, point) {
                    first.entry((at, named)).or_insert(index);
                }
            }
        }
        let wanted: Vec<((usize, Named), usize)> = first.into_iter().collect();
        let errors_before = error_count(ctx);
        let resolved = async_graphql::futures_util::future::join_all(
            wanted
                .iter()
                .map(|&((at, _), index)| self.resolve_one(ctx, index, planned[at].field)),
        )
        .await;
        // A failure, of the field or of a field inside it, belongs to every point that shows the record, each
        // with its own path and its own null: async-graphql does that when it resolves each point.
        if resolved.iter().any(Result::is_err) || error_count(ctx) > errors_before {
            forget_errors_under(ctx);
            return self.resolve_each(ctx, field).await;
        }
        let shown: HashMap<(usize, Named), Value> = wanted
            .into_iter()
            .map(|(key, _)| key)
            .zip(
                resolved
                    .into_iter()
                    .map(|value| value.ok().flatten().unwrap_or_default()),
            )
            .collect();

        let typename = Value::String(StatisticPointNode::type_name().into_owned());
        let list = points
            .iter()
            .map(|point| {
                let object: IndexMap<Name, Value> = planned
                    .iter()
                    .enumerate()
                    .map(|(at, entry)| {
                        let value = match entry.kind {
                            PointField::Typename => typename.clone(),
                            PointField::Value => point.value.to_value(),
                            PointField::ObservationCount => point.observation_count.to_value(),
                            PointField::Country | PointField::Program | PointField::Partner => {
                                Named::of(entry.kind, point)
                                    .and_then(|named| shown.get(&(at, named)).cloned())
                                    .unwrap_or_default()
                            }
                            PointField::PeriodStart => period(point).map_or(Value::Null, |(start, _)| start.to_value()),
                            PointField::PeriodEnd => period(point).map_or(Value::Null, |(_, end)| end.to_value()),
                            PointField::Category => point.category.as_deref().map_or(Value::Null, Value::from),
                        };
                        (entry.key.clone(), value)
                    })
                    .collect();
                Value::Object(object)
            })
            .collect();
        Ok(Value::List(list))
    }
}
