//! Response fields in the order the query asked for them, as the GraphQL specification requires.
//!
//! async-graphql 7 resolves an object's fields concurrently and writes each as it finishes (async-graphql issue
//! #612), so the same query could come back with its fields in a different order each time: harder to read,
//! and different bytes for equal answers, which breaks ETags. The request's hooks ([`crate::hooks`]) keep the parsed query and, once
//! the operation has run, puts every object's fields back in the query's order (fields from fragments where the
//! fragment is spread). Errors are sorted by where they occur in the query, and a field that failed is `null`
//! rather than missing.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Response, Value};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Mutex;

/// Field order for one request (its part of [`crate::hooks::Hooks`]): the parsed query, kept until the
/// operation has run.
pub(crate) struct FieldOrder {
    document: Mutex<Option<ExecutableDocument>>,
}

impl FieldOrder {
    pub(crate) fn new() -> Self {
        Self {
            document: Mutex::new(None),
        }
    }

    /// Keeps the parsed query.
    pub(crate) fn parsed(&self, document: &ExecutableDocument) {
        if let Ok(mut slot) = self.document.lock() {
            *slot = Some(document.clone());
        }
    }

    /// Puts the answer of operation `operation_name` in the query's order.
    pub(crate) fn finish(&self, response: &mut Response, operation_name: Option<&str>) {
        fill_failed_fields(response);
        // Errors too come back in the query's order (where they occur in it), not in the order fields finished.
        response.errors.sort_by_key(|e| {
            let at = e.locations.first().map(|p| (p.line, p.column));
            (at, e.path.len())
        });
        let document = self.document.lock().ok().and_then(|mut d| d.take());
        if let Some(document) = document
            && let Some(operation) = crate::limits::selected_operation(&document, operation_name)
        {
            let plan = Plan::of(&[&operation.node.selection_set], &document.fragments);
            reorder(&mut response.data, &plan, &document.fragments);
        }
    }
}

type Fragments = HashMap<Name, Positioned<async_graphql::parser::types::FragmentDefinition>>;

/// How deep fragment spreads are followed (validation refuses cycles; this only bounds the walk).
const MAX_SPREADS: usize = 32;

/// The response keys the selection sets ask for, in order, each with the selection sets of its sub-fields.
fn keys<'d>(
    sets: &[&'d Positioned<SelectionSet>],
    fragments: &'d Fragments,
) -> Vec<(Name, Vec<&'d Positioned<SelectionSet>>)> {
    fn walk<'d>(
        set: &'d Positioned<SelectionSet>,
        fragments: &'d Fragments,
        depth: usize,
        out: &mut Vec<(Name, Vec<&'d Positioned<SelectionSet>>)>,
    ) {
        if depth > MAX_SPREADS {
            return;
        }
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.clone();
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, children)) => children.push(&field.node.selection_set),
                        None => out.push((key, vec![&field.node.selection_set])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = fragments.get(&spread.node.fragment_name.node) {
                        walk(&fragment.node.selection_set, fragments, depth + 1, out);
                    }
                }
                Selection::InlineFragment(inline) => walk(&inline.node.selection_set, fragments, depth + 1, out),
            }
        }
    }
    let mut out = Vec::new();
    for set in sets {
        walk(set, fragments, 0, &mut out);
    }
    out
}

/// Puts `null` where a field failed. async-graphql 7 leaves a failed field's key out of its object, so a client
/// reading `{ a: statistics(…) b: statistics(…) }` finds no `b` at all, which GraphQL forbids and Apollo Client
/// reports as a missing field; the error's path says exactly which key it was. (The fields that fail on their
/// own, the root fields a dashboard combines, are nullable, so `null` is what the specification asks for.)
fn fill_failed_fields(response: &mut Response) {
    use async_graphql::PathSegment;
    for error in &response.errors {
        let Some((PathSegment::Field(last), parents)) = error.path.split_last() else {
            continue;
        };
        if parents.is_empty() && response.data == Value::Null {
            response.data = Value::Object(Default::default());
        }
        if let Some(Value::Object(fields)) = at(&mut response.data, parents) {
            fields.entry(Name::new(last)).or_insert(Value::Null);
        }
    }
}

/// The value at `path` in `value`, if every step exists.
fn at<'v>(value: &'v mut Value, path: &[async_graphql::PathSegment]) -> Option<&'v mut Value> {
    use async_graphql::PathSegment;
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    let next = match (first, value) {
        (PathSegment::Field(name), Value::Object(fields)) => fields.get_mut(name.as_str())?,
        (PathSegment::Index(i), Value::List(items)) => items.get_mut(*i)?,
        _ => return None,
    };
    at(next, rest)
}

/// The response keys some selection sets ask for, in order, each with the plan of its sub-fields, worked out the
/// first time a value needs it: once per place in the query, not once per item of a list (a statistic's 2,000
/// points would otherwise walk their selection 2,000 times).
struct Plan<'d> {
    keys: Vec<Step<'d>>,
}

/// One response key of a [`Plan`]: the selection sets that ask for it and, once needed, their plan.
struct Step<'d> {
    key: Name,
    sets: Vec<&'d Positioned<SelectionSet>>,
    plan: OnceCell<Plan<'d>>,
}

impl<'d> Plan<'d> {
    fn of(sets: &[&'d Positioned<SelectionSet>], fragments: &'d Fragments) -> Self {
        Self {
            keys: keys(sets, fragments)
                .into_iter()
                .map(|(key, sets)| Step {
                    key,
                    sets,
                    plan: OnceCell::new(),
                })
                .collect(),
        }
    }

    /// Whether the fields of `object` come in this plan's order already (the usual case: async-graphql writes
    /// fields as they finish, and most finish in order).
    fn holds(&self, object: &async_graphql::indexmap::IndexMap<Name, Value>) -> bool {
        let mut next = 0;
        object
            .keys()
            .all(|key| match self.keys[next..].iter().position(|step| step.key == *key) {
                Some(skip) => {
                    next += skip + 1;
                    true
                }
                None => false,
            })
    }
}

/// Puts the fields of every object in `value` in the order `plan` gives.
fn reorder<'d>(value: &mut Value, plan: &Plan<'d>, fragments: &'d Fragments) {
    match value {
        Value::Object(fields) => {
            if !plan.holds(fields) {
                let mut ordered = async_graphql::indexmap::IndexMap::with_capacity(fields.len());
                for step in &plan.keys {
                    if let Some(child) = fields.shift_remove(&step.key) {
                        ordered.insert(step.key.clone(), child);
                    }
                }
                // Anything the query did not name (none in practice) keeps its place after the rest.
                ordered.extend(fields.drain(..));
                *fields = ordered;
            }
            for step in &plan.keys {
                if let Some(child @ (Value::Object(_) | Value::List(_))) = fields.get_mut(&step.key) {
                    let child_plan = step.plan.get_or_init(|| Plan::of(&step.sets, fragments));
                    reorder(child, child_plan, fragments);
                }
            }
        }
        Value::List(items) => items.iter_mut().for_each(|item| reorder(item, plan, fragments)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};

    #[derive(SimpleObject)]
    struct Item {
        a: i32,
        b: i32,
        c: i32,
        inner: Inner,
    }

    #[derive(SimpleObject)]
    struct Inner {
        x: i32,
        y: i32,
    }

    struct Query;

    #[Object]
    impl Query {
        async fn slow(&self) -> i32 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            1
        }
        async fn fast(&self) -> i32 {
            2
        }
        async fn items(&self) -> Vec<Item> {
            vec![
                Item {
                    a: 1,
                    b: 2,
                    c: 3,
                    inner: Inner { x: 7, y: 8 },
                },
                Item {
                    a: 4,
                    b: 5,
                    c: 6,
                    inner: Inner { x: 9, y: 10 },
                },
            ]
        }
    }

    struct Failing;

    #[Object]
    impl Failing {
        async fn good(&self) -> i32 {
            1
        }
        async fn bad(&self) -> async_graphql::Result<Option<i32>> {
            Err("no".into())
        }
    }

    /// A schema over `query` with the request hooks.
    fn ordered<Q: async_graphql::ObjectType + 'static>(query: Q) -> Schema<Q, EmptyMutation, EmptySubscription> {
        Schema::build(query, EmptyMutation, EmptySubscription)
            .extension(crate::hooks::Hooks::default())
            .finish()
    }

    #[tokio::test]
    async fn a_failed_field_is_null_not_missing() {
        let schema = ordered(Failing);
        let response = schema.execute("{ x: bad good y: bad }").await;
        let text = serde_json::to_string(&response.data).unwrap_or_default();
        assert_eq!(text, r#"{"x":null,"good":1,"y":null}"#);
        let paths: Vec<String> = response.errors.iter().map(|e| format!("{:?}", e.path)).collect();
        assert_eq!(paths, [r#"[Field("x")]"#, r#"[Field("y")]"#]);
        let only = schema.execute("{ bad }").await;
        assert_eq!(serde_json::to_string(&only.data).unwrap_or_default(), r#"{"bad":null}"#);
    }

    #[tokio::test]
    async fn every_item_of_a_list_and_the_objects_inside_it_are_ordered() {
        let schema = ordered(Query);
        let response = schema
            .execute("{ items { inner { y x } b inner2: inner { x } } }")
            .await;
        let text = serde_json::to_string(&response.data).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"items":[{"inner":{"y":8,"x":7},"b":2,"inner2":{"x":7}},{"inner":{"y":10,"x":9},"b":5,"inner2":{"x":9}}]}"#
        );
    }

    #[tokio::test]
    async fn fields_come_back_in_the_querys_order() {
        let schema = ordered(Query);
        let response = schema
            .execute("query { slow fast items { c ...F a } } fragment F on Item { b c }")
            .await;
        let text = serde_json::to_string(&response.data).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"slow":1,"fast":2,"items":[{"c":3,"b":2,"a":1},{"c":6,"b":5,"a":4}]}"#
        );
    }
}
