//! What an operation would cost to run, measured on the operation as executed but in time linear in its text.
//!
//! A fragment spread runs its fragment's whole selection every time it is spread, so a chain of fragments that
//! each spread the previous one twice is small as text and exponential once executed. async-graphql's own
//! validation walks the operation with every spread expanded, so it is exponential on such a chain too; these
//! measures are computed first, from the parsed document, with each fragment measured once and its measure
//! reused at every spread, and an operation above a limit never reaches validation, resolvers or SQL.
//!
//! Three measures, as Apollo Router (`max_depth`, `max_height`) and graphql-armor (cost limit) name them:
//! - depth: the longest chain of nested fields;
//! - height: how many fields run, counting each spread in full and without weighting lists (`__typename` and
//!   inline fragments count like any field);
//! - complexity: the height with each list weighted by how many records it may return (see [`weight`]).
//!
//! The same walk refuses unknown directives (async-graphql never looks at those on `__typename`) and list
//! arguments longer than [`MAX_LIST_VALUES`], wherever they come from (a literal or a variable).

use async_graphql::Variables;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet, VariableDefinition,
};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{Name, Positioned, Value};
use std::collections::HashMap;

/// The most values a list argument may hold, in filters and inputs alike.
pub const MAX_LIST_VALUES: usize = 100;
/// The largest page a connection returns, and the size assumed when a query gives none.
const MAX_PAGE: u64 = 100;
const DEFAULT_PAGE: u64 = 20;
/// The number of records assumed for a list at the root with no paging (programs, partners, indicators).
const CATALOG_LIST_WEIGHT: u64 = 20;
/// The number of records assumed for a list nested in a record (a bulletin's programs, say).
const NESTED_LIST_WEIGHT: u64 = 5;
/// Root fields that cost more than their shape says: `statistics` adds up many figures in SQL, and is charged
/// like a catalogue list.
const EXPENSIVE_ROOT_FIELDS: &[(&str, u64)] = &[("statistics", CATALOG_LIST_WEIGHT)];

/// The measures of an operation, or of a fragment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// The longest chain of nested fields.
    pub depth: usize,
    /// The fields that run once every fragment is expanded.
    pub height: u64,
    /// The height with lists weighted by the records they may return.
    pub complexity: u64,
}

impl Measure {
    /// `self` followed by `other` in one selection set.
    fn then(self, other: Self) -> Self {
        Self {
            depth: self.depth.max(other.depth),
            height: self.height.saturating_add(other.height),
            complexity: self.complexity.saturating_add(other.complexity),
        }
    }
}

/// Why an operation cannot be measured, and so cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmeasurable {
    /// A fragment spreads itself, directly or through others.
    FragmentCycle(String),
    /// A directive the schema does not define.
    UnknownDirective(String),
    /// A list argument holds more than [`MAX_LIST_VALUES`] values; the path of the argument, e.g.
    /// `filter.countries`.
    ListTooLong(String),
}

/// Measures every operation of `document` (async-graphql validates them all, so all must be bounded) and returns
/// the largest of each measure.
pub fn measure(
    document: &ExecutableDocument,
    registry: &Registry,
    variables: &Variables,
) -> Result<Measure, Unmeasurable> {
    let mut walk = Walk {
        registry,
        variables,
        fragments: HashMap::new(),
        definitions: &[],
    };
    for name in fragment_order(document)? {
        let Some(fragment) = document.fragments.get(name) else {
            continue;
        };
        let measure = walk.fragment(fragment)?;
        walk.fragments.insert(name, measure);
    }
    let operations: Vec<&Positioned<OperationDefinition>> = match &document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values().collect(),
    };
    let mut largest = Measure::default();
    for operation in operations {
        let measure = walk.operation(operation)?;
        largest = Measure {
            depth: largest.depth.max(measure.depth),
            height: largest.height.max(measure.height),
            complexity: largest.complexity.max(measure.complexity),
        };
    }
    Ok(largest)
}

/// The fragments in an order where each comes after every fragment it spreads (unknown names left out, for
/// validation to report). Iterative, so a chain of a thousand fragments cannot exhaust the stack.
fn fragment_order(document: &ExecutableDocument) -> Result<Vec<&Name>, Unmeasurable> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let spreads: HashMap<&Name, Vec<&Name>> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut names = Vec::new();
            spreads_in(&fragment.node.selection_set, &mut names);
            names.retain(|spread| document.fragments.contains_key(*spread));
            (name, names)
        })
        .collect();
    let mut marks: HashMap<&Name, Mark> = HashMap::new();
    let mut order = Vec::with_capacity(spreads.len());
    for root in spreads.keys() {
        if marks.contains_key(root) {
            continue;
        }
        // Each entry: a fragment and how many of its spreads have been followed.
        let mut stack: Vec<(&Name, usize)> = vec![(*root, 0)];
        marks.insert(*root, Mark::Visiting);
        while let Some((name, next)) = stack.last_mut() {
            let children = spreads.get(name).map_or(&[][..], Vec::as_slice);
            if let Some(child) = children.get(*next) {
                *next += 1;
                match marks.get(child) {
                    Some(Mark::Visiting) => return Err(Unmeasurable::FragmentCycle(child.to_string())),
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(*child, Mark::Visiting);
                        stack.push((*child, 0));
                    }
                }
            } else {
                marks.insert(*name, Mark::Done);
                order.push(*name);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// Whether `type_name` is one of the introspection types (`__Schema`, `__Type`, …). They answer from memory,
/// without a database, so their lists weigh nothing more (their fields still count in the height).
fn is_introspection(type_name: &str) -> bool {
    type_name.starts_with("__")
}

/// The fragment names spread anywhere in `set` (fields and inline fragments included).
fn spreads_in<'d>(set: &'d Positioned<SelectionSet>, names: &mut Vec<&'d Name>) {
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => spreads_in(&field.node.selection_set, names),
            Selection::FragmentSpread(spread) => names.push(&spread.node.fragment_name.node),
            Selection::InlineFragment(fragment) => spreads_in(&fragment.node.selection_set, names),
        }
    }
}

/// The state of one measurement: the schema, the request's variables, and the measures of the fragments done.
struct Walk<'a> {
    registry: &'a Registry,
    variables: &'a Variables,
    fragments: HashMap<&'a Name, Measure>,
    /// The variable definitions of the operation being measured (none inside fragments: a variable a fragment
    /// uses is looked up by name in the request's variables, or else its default in any operation).
    definitions: &'a [Positioned<VariableDefinition>],
}

impl<'a> Walk<'a> {
    fn fragment(&mut self, fragment: &'a Positioned<FragmentDefinition>) -> Result<Measure, Unmeasurable> {
        self.directives(&fragment.node.directives)?;
        let on = fragment.node.type_condition.node.on.node.as_str();
        self.set(&fragment.node.selection_set, Some(on), false)
    }

    fn operation(&mut self, operation: &'a Positioned<OperationDefinition>) -> Result<Measure, Unmeasurable> {
        use async_graphql::parser::types::OperationType;
        self.definitions = &operation.node.variable_definitions;
        self.directives(&operation.node.directives)?;
        for definition in &operation.node.variable_definitions {
            self.directives(&definition.node.directives)?;
        }
        let root = match operation.node.ty {
            OperationType::Query => Some(self.registry.query_type.as_str()),
            OperationType::Mutation => self.registry.mutation_type.as_deref(),
            OperationType::Subscription => self.registry.subscription_type.as_deref(),
        };
        self.set(&operation.node.selection_set, root, false)
    }

    /// The measure of `set`, selected on the type `on` (unknown types and fields measure as plain fields; the
    /// validation that follows refuses them). `in_page` is true for the selection of a paged field, whose lists
    /// (`nodes`, `edges`) are the page itself and weigh nothing more.
    fn set(
        &mut self,
        set: &'a Positioned<SelectionSet>,
        on: Option<&'a str>,
        in_page: bool,
    ) -> Result<Measure, Unmeasurable> {
        let parent = on.and_then(|name| self.registry.types.get(name));
        let mut total = Measure::default();
        for selection in &set.node.items {
            let measure = match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.directives(&field.directives)?;
                    let meta = parent.and_then(|parent| parent.field_by_name(field.name.node.as_str()));
                    let mut weight = 1;
                    let mut child_type = None;
                    // The selection of a paged field that returns a connection (not a plain list) is the page.
                    let mut page_object = false;
                    if let Some(meta) = meta {
                        child_type = Some(MetaTypeName::concrete_typename(&meta.ty));
                        let is_list = MetaTypeName::create(&meta.ty).is_list();
                        let paged = meta.args.contains_key("first") || meta.args.contains_key("last");
                        page_object = paged && !is_list;
                        weight = if paged {
                            self.page_size(field)
                        } else if is_list && !in_page && !on.is_some_and(is_introspection) {
                            if on == Some(self.registry.query_type.as_str()) {
                                CATALOG_LIST_WEIGHT
                            } else {
                                NESTED_LIST_WEIGHT
                            }
                        } else if on == Some(self.registry.query_type.as_str()) {
                            EXPENSIVE_ROOT_FIELDS
                                .iter()
                                .find(|(name, _)| *name == field.name.node.as_str())
                                .map_or(1, |(_, weight)| *weight)
                        } else {
                            1
                        };
                    }
                    for (name, value) in &field.arguments {
                        self.list_lengths(name.node.as_str(), &value.node)?;
                    }
                    let children = self.set(&field.selection_set, child_type, page_object)?;
                    Measure {
                        depth: children.depth + 1,
                        height: children.height.saturating_add(1),
                        complexity: children.complexity.saturating_mul(weight).saturating_add(1),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.directives)?;
                    let on = match &fragment.node.type_condition {
                        Some(condition) => Some(condition.node.on.node.as_str()),
                        None => on,
                    };
                    let inner = self.set(&fragment.node.selection_set, on, in_page)?;
                    Measure {
                        depth: inner.depth,
                        height: inner.height.saturating_add(1),
                        complexity: inner.complexity.saturating_add(1),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives)?;
                    self.fragments
                        .get(&spread.node.fragment_name.node)
                        .copied()
                        .unwrap_or_default()
                }
            };
            total = total.then(measure);
        }
        Ok(total)
    }

    /// Refuses a directive the schema does not define.
    fn directives(&self, directives: &[Positioned<Directive>]) -> Result<(), Unmeasurable> {
        match directives
            .iter()
            .find(|d| !self.registry.directives.contains_key(d.node.name.node.as_str()))
        {
            Some(unknown) => Err(Unmeasurable::UnknownDirective(unknown.node.name.node.to_string())),
            None => Ok(()),
        }
    }

    /// The page a paged field asks for: `first`, else `last`, else the default, within 0 to [`MAX_PAGE`].
    fn page_size(&self, field: &async_graphql::parser::types::Field) -> u64 {
        let size = ["first", "last"].iter().find_map(|name| {
            let value = self.resolve(&field.get_argument(name)?.node)?;
            match value {
                Value::Number(n) => Some(n.as_i64().map_or(MAX_PAGE, |n| u64::try_from(n).unwrap_or(0))),
                _ => None,
            }
        });
        size.unwrap_or(DEFAULT_PAGE).min(MAX_PAGE)
    }

    /// `value` with its variables replaced by the request's values (or their defaults); `None` for a variable
    /// that has neither.
    fn resolve(&self, value: &async_graphql_value::Value) -> Option<Value> {
        value
            .clone()
            .into_const_with(|name| self.variable(&name).cloned().ok_or(()))
            .ok()
    }

    fn variable(&self, name: &Name) -> Option<&'a Value> {
        self.variables.get(name).or_else(|| {
            self.definitions
                .iter()
                .find(|d| d.node.name.node == *name)
                .and_then(|d| d.node.default_value())
        })
    }

    /// Refuses a list longer than [`MAX_LIST_VALUES`] anywhere in the argument `name` (in a nested input object
    /// too), naming its path.
    fn list_lengths(&self, name: &str, value: &async_graphql_value::Value) -> Result<(), Unmeasurable> {
        use async_graphql_value::Value as Input;
        // Literal lists and objects are checked as written; a variable is checked as the request sent it.
        let mut pending: Vec<(String, Option<&async_graphql_value::Value>, Option<&Value>)> =
            vec![(name.to_owned(), Some(value), None)];
        while let Some((path, literal, constant)) = pending.pop() {
            match (literal, constant) {
                (Some(Input::Variable(variable)), _) => {
                    if let Some(value) = self.variable(variable) {
                        pending.push((path, None, Some(value)));
                    }
                }
                (Some(Input::List(items)), _) => {
                    if items.len() > MAX_LIST_VALUES {
                        return Err(Unmeasurable::ListTooLong(path));
                    }
                    for (i, item) in items.iter().enumerate() {
                        pending.push((format!("{path}[{i}]"), Some(item), None));
                    }
                }
                (Some(Input::Object(fields)), _) => {
                    for (key, item) in fields {
                        pending.push((format!("{path}.{key}"), Some(item), None));
                    }
                }
                (None, Some(Value::List(items))) => {
                    if items.len() > MAX_LIST_VALUES {
                        return Err(Unmeasurable::ListTooLong(path));
                    }
                    for (i, item) in items.iter().enumerate() {
                        pending.push((format!("{path}[{i}]"), None, Some(item)));
                    }
                }
                (None, Some(Value::Object(fields))) => {
                    for (key, item) in fields {
                        pending.push((format!("{path}.{key}"), None, Some(item)));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, ServerResult};
    use std::sync::{Arc, Mutex};

    struct Query;

    #[Object]
    impl Query {
        async fn value(&self) -> i32 {
            1
        }
        async fn items(&self, first: Option<i32>) -> Vec<Item> {
            let _ = first;
            Vec::new()
        }
        async fn catalogue(&self) -> Vec<Item> {
            Vec::new()
        }
        async fn filtered(&self, codes: Vec<String>) -> i32 {
            i32::try_from(codes.len()).unwrap_or(0)
        }
    }

    struct Item;

    #[Object]
    impl Item {
        async fn name(&self) -> &str {
            "item"
        }
        async fn tags(&self) -> Vec<Item> {
            Vec::new()
        }
    }

    type Outcome = Arc<Mutex<Option<Result<Measure, Unmeasurable>>>>;

    /// Measures each query it sees with the schema's own registry, then lets it run.
    struct Measuring(Outcome);

    impl ExtensionFactory for Measuring {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(Measuring(self.0.clone()))
        }
    }

    #[async_trait::async_trait]
    impl Extension for Measuring {
        async fn prepare_request(
            &self,
            ctx: &ExtensionContext<'_>,
            mut request: async_graphql::Request,
            _next: NextPrepareRequest<'_>,
        ) -> ServerResult<async_graphql::Request> {
            let variables = request.variables.clone();
            let document = request.parsed_query()?;
            if let Ok(mut slot) = self.0.lock() {
                *slot = Some(measure(document, &ctx.schema_env.registry, &variables));
            }
            Err(async_graphql::ServerError::new("measured", None))
        }
    }

    fn measured(query: &str, variables: serde_json::Value) -> Result<Measure, Unmeasurable> {
        let outcome = Outcome::default();
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(Measuring(outcome.clone()))
            .finish();
        let request = async_graphql::Request::new(query).variables(Variables::from_json(variables));
        let _ = futures_executor(schema.execute(request));
        let measured = outcome.lock().ok().and_then(|mut slot| slot.take());
        measured.unwrap_or_else(|| panic!("{query} was not measured"))
    }

    /// Runs a future that never waits on I/O to completion.
    fn futures_executor<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
            .block_on(future)
    }

    #[test]
    fn each_spread_costs_its_fragment_in_full() {
        let chain = |k: usize| {
            let mut text = format!("{{ ...G{k} }} fragment G0 on Query {{ __typename }}");
            for i in 1..=k {
                text.push_str(&format!(" fragment G{i} on Query {{ ...G{j} ...G{j} }}", j = i - 1));
            }
            text
        };
        assert_eq!(
            measured(&chain(3), serde_json::Value::Null),
            Ok(Measure {
                depth: 1,
                height: 8,
                complexity: 8
            })
        );
        let k30 = measured(&chain(30), serde_json::Value::Null).expect("the chain of 30 is measured");
        assert_eq!(k30.height, 1 << 30);
        // A thousand fragments in a chain, measured without recursing through them, saturate.
        let k1000 = measured(&chain(1000), serde_json::Value::Null).expect("the chain of 1000 is measured");
        assert_eq!(k1000.height, u64::MAX);
    }

    #[test]
    fn lists_weigh_what_they_may_return_and_inline_fragments_count() {
        // `items(first: 10)`: 10 × (name + tags of 5 × name) + 1.
        let m = measured(
            "{ items(first: $n) { name tags { name } } }",
            serde_json::json!({ "n": 10 }),
        );
        assert_eq!(
            m,
            Ok(Measure {
                depth: 3,
                height: 4,
                complexity: 10 * (1 + (5 + 1)) + 1
            })
        );
        // An unpaged root list counts 20; `first: 0` weighs nothing but still counts in the height.
        let m = measured(
            "{ catalogue { name } ... on Query { __typename } }",
            serde_json::Value::Null,
        );
        assert_eq!(m.map(|m| (m.height, m.complexity)), Ok((4, 21 + 2)));
        let m = measured(
            "{ items(first: 0) { tags { tags { name } } } }",
            serde_json::Value::Null,
        );
        assert_eq!(m.map(|m| (m.height, m.complexity)), Ok((4, 1)));
    }

    #[test]
    fn cycles_unknown_directives_and_long_lists_are_refused() {
        assert_eq!(
            measured(
                "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
                serde_json::Value::Null
            )
            .map_err(|e| matches!(e, Unmeasurable::FragmentCycle(_))),
            Err(true)
        );
        assert_eq!(
            measured("{ __typename @nope }", serde_json::Value::Null),
            Err(Unmeasurable::UnknownDirective("nope".to_owned()))
        );
        assert!(measured("{ __typename @skip(if: false) }", serde_json::Value::Null).is_ok());
        let codes: Vec<String> = (0..=MAX_LIST_VALUES).map(|i| format!("c{i}")).collect();
        assert_eq!(
            measured(
                "query($c: [String!]!) { filtered(codes: $c) }",
                serde_json::json!({ "c": codes })
            ),
            Err(Unmeasurable::ListTooLong("codes".to_owned()))
        );
        let literal = format!("{{ filtered(codes: {:?}) }}", &codes);
        assert_eq!(
            measured(&literal, serde_json::Value::Null),
            Err(Unmeasurable::ListTooLong("codes".to_owned()))
        );
        let fine = format!("{{ filtered(codes: {:?}) }}", &codes[1..]);
        assert!(measured(&fine, serde_json::Value::Null).is_ok());
    }
}
