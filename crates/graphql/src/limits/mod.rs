//! Limits on the shape and cost of a query, checked before any resolver runs.
//!
//! The checks run in two steps of async-graphql's request pipeline:
//! - before parsing, a linear scan of the text refuses queries that are too long, have too many tokens or nest
//!   brackets too deeply (the parser recurses on nesting, so this scan is what keeps a hostile query from
//!   exhausting the stack);
//! - after parsing, before async-graphql validates the document, the document's aliases and directives are
//!   counted, the operation's kind is checked against the transport, its depth, height and complexity are
//!   measured as executed (every fragment spread in full, in time linear in the text: [`cost`]), and the
//!   caller's budget is charged. Validation itself expands every spread, so nothing costly may reach it.
//!
//! A refused query gets one error with a stable code and never reaches a resolver or the database.

mod cost;
mod deadline;
mod documents;

pub(crate) use documents::ParsedDocuments;

pub use cost::MAX_LIST_VALUES;
pub(crate) use deadline::Deadline;

use crate::error::{ErrorCode, coded_error};
use async_graphql::extensions::ExtensionContext;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Positioned, Request, ServerError, ServerResult, Variables};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The limits a query must stay within. Every value is configurable; see `docs/SECURITY.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLimits {
    /// The longest query text, in bytes.
    pub max_query_bytes: usize,
    /// The most lexical tokens (names, punctuation, values) in a query.
    pub max_tokens: usize,
    /// The deepest nesting of `{`, `[` and `(` in the query text, including argument literals.
    pub max_nesting: usize,
    /// The deepest selection: `{ bulletins { nodes { programs { slug } } } }` has depth 4.
    pub max_depth: usize,
    /// The highest complexity: one point a field, lists weighted by the number of records they may return.
    pub max_complexity: usize,
    /// The most fields an operation may run once every fragment spread is expanded (lists not weighted).
    pub max_height: usize,
    /// The most aliased fields in a query.
    pub max_aliases: usize,
    /// The most directives on one field.
    pub max_directives_per_field: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_query_bytes: 16 * 1024,
            max_tokens: 4_000,
            max_nesting: 40,
            max_depth: 15,
            max_complexity: 5_000,
            max_height: 1_000,
            max_aliases: 50,
            max_directives_per_field: 4,
        }
    }
}

/// Whom a request is charged to, put on each request by the server (the client's address, usually).
#[derive(Debug, Clone)]
pub struct ClientKey(pub String);

/// How a request arrived, put on it by the server. Each transport runs only some kinds of operation; the others
/// are refused with `METHOD_NOT_ALLOWED` (a request without a transport, as in tests, runs any kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An HTTP GET: queries only, so a link or a cache can never change data.
    Get,
    /// An HTTP POST: queries and mutations.
    Post,
    /// A WebSocket at `/graphql`: queries and subscriptions. Mutations go over POST, where every request is
    /// authenticated afresh and bounded by the request timeout.
    WebSocket,
}

impl Transport {
    /// Why an operation of `kind` cannot be sent this way, if it cannot.
    fn refuses(self, kind: OperationType) -> Option<&'static str> {
        match (self, kind) {
            (Self::Get, OperationType::Mutation) => Some("a mutation cannot be sent with GET; use POST"),
            (Self::Get | Self::Post, OperationType::Subscription) => {
                Some("a subscription needs a WebSocket at /graphql (graphql-transport-ws or graphql-ws protocol)")
            }
            (Self::WebSocket, OperationType::Mutation) => {
                Some("a mutation cannot be sent over the WebSocket; use POST")
            }
            _ => None,
        }
    }
}

/// Put on a request by the server to learn which operation ran: the name the request gave, or else the name of
/// the document's only operation (`query Feed { … }` sent without `operationName`); its kind; and whether it was
/// executed at all (a document that fails to parse, validate or pass the limits is not).
#[derive(Debug, Clone, Default)]
pub struct OperationName(Arc<Mutex<Seen>>);

#[derive(Debug, Default)]
struct Seen {
    name: Option<String>,
    kind: Option<OperationType>,
    executed: bool,
}

impl OperationName {
    /// The operation's name, once the request has been parsed; `None` for anonymous operations.
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|seen| seen.name.clone())
    }

    /// `query`, `mutation` or `subscription` once the document has been parsed and its operation found.
    pub fn kind(&self) -> Option<&'static str> {
        let kind = self.0.lock().ok()?.kind?;
        Some(match kind {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        })
    }

    /// Whether execution began: false when the request failed before (parse, validation, variables, limits).
    pub fn executed(&self) -> bool {
        self.0.lock().is_ok_and(|seen| seen.executed)
    }
}

/// Put on a request by the server to learn the query's complexity (what it was charged), once measured.
#[derive(Debug, Clone, Default)]
pub struct QueryCost(Arc<std::sync::atomic::AtomicU64>);

impl QueryCost {
    /// The complexity measured, or 0 before (or without) measuring.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A budget of query cost per client, kept by the server (a rate limiter).
pub trait CostBudget: Send + Sync {
    /// Spends `cost` of `client`'s budget, or says how long to wait before the budget allows it.
    fn charge(&self, client: &str, cost: u64) -> Result<(), Duration>;
}

/// Enforces [`QueryLimits`] and charges a [`CostBudget`] for one request (its part of [`crate::hooks::Hooks`]).
pub(crate) struct Limits {
    pub(crate) limits: QueryLimits,
    pub(crate) budget: Option<Arc<dyn CostBudget>>,
    /// The documents parsed lately, shared by every request.
    pub(crate) documents: Arc<ParsedDocuments>,
}

impl Limits {
    /// Every check runs here, before async-graphql's own parse step: that step already walks every fragment
    /// spread in full (its recursion-depth check), as its validation does, so a hostile document must be refused
    /// before either. The document parsed here stays on the request, so it is parsed once, and a text parsed lately
    /// is not parsed again ([`ParsedDocuments`]).
    pub(crate) fn prepare(&self, ctx: &ExtensionContext<'_>, request: &mut Request) -> ServerResult<()> {
        self.check_text(&request.query)?;
        let variables = request.variables.clone();
        let operation_name = request.operation_name.clone();
        // Over HTTP the server puts these on the request; over a WebSocket, on the connection.
        let transport = request_data::<Transport>(ctx, request).copied();
        let client = request_data::<ClientKey>(ctx, request).cloned();
        let cost_slot = request_data::<QueryCost>(ctx, request).cloned();
        let seen = request_data::<OperationName>(ctx, request).cloned();
        match self.documents.get(&request.query) {
            Some(kept) => request.set_parsed_query(kept),
            None => {
                let parsed = async_graphql::parser::parse_query(&request.query)?;
                self.documents.keep(&request.query, &parsed);
                request.set_parsed_query(parsed);
            }
        }
        let document = request.parsed_query()?;
        if let Some(seen) = seen
            && let Some(operation) = selected_operation(document, operation_name.as_deref())
            && let Ok(mut seen) = seen.0.lock()
        {
            seen.kind = Some(operation.node.ty);
        }
        self.check_document(
            ctx,
            document,
            &variables,
            operation_name.as_deref(),
            transport,
            (client, cost_slot),
        )
    }

    /// Notes, for the server, that operation `operation_name` is being executed.
    pub(crate) fn executing(ctx: &ExtensionContext<'_>, operation_name: Option<&str>) {
        if let Some(slot) = ctx.data_opt::<OperationName>()
            && let Ok(mut seen) = slot.0.lock()
        {
            seen.executed = true;
            if let Some(name) = operation_name {
                seen.name = Some(name.to_owned());
            }
        }
    }
}

impl Limits {
    /// The checks of the text, before it is parsed: its length, tokens and bracket nesting. The parser recurses
    /// on nesting, so this scan is what keeps a hostile text from exhausting its stack.
    fn check_text(&self, query: &str) -> ServerResult<()> {
        let limits = &self.limits;
        if query.len() > limits.max_query_bytes {
            return Err(refusal(
                ErrorCode::QueryTooLong,
                format!("the query is longer than {} bytes", limits.max_query_bytes),
            ));
        }
        let scan = scan(query);
        if scan.tokens > limits.max_tokens {
            return Err(refusal(
                ErrorCode::TooManyTokens,
                format!("the query has more than {} tokens", limits.max_tokens),
            ));
        }
        if scan.nesting > limits.max_nesting {
            return Err(refusal(
                ErrorCode::QueryTooDeep,
                format!("the query nests brackets more than {} deep", limits.max_nesting),
            ));
        }
        Ok(())
    }

    /// The checks of the parsed document: aliases, directives, the operation's kind on this transport, and its
    /// measures as executed, charged to the caller's budget.
    fn check_document(
        &self,
        ctx: &ExtensionContext<'_>,
        document: &ExecutableDocument,
        variables: &Variables,
        operation_name: Option<&str>,
        transport: Option<Transport>,
        (client, cost_slot): (Option<ClientKey>, Option<QueryCost>),
    ) -> ServerResult<()> {
        let limits = &self.limits;
        let shape = shape(document);
        if shape.aliases > limits.max_aliases {
            return Err(refusal(
                ErrorCode::TooManyAliases,
                format!("the query has more than {} aliases", limits.max_aliases),
            ));
        }
        if shape.directives_per_field > limits.max_directives_per_field {
            return Err(refusal(
                ErrorCode::TooManyDirectives,
                format!("a field has more than {} directives", limits.max_directives_per_field),
            ));
        }
        if let Some(reason) = transport.and_then(|transport| {
            selected_operation(document, operation_name).and_then(|operation| transport.refuses(operation.node.ty))
        }) {
            return Err(refusal(ErrorCode::MethodNotAllowed, reason.to_owned()));
        }
        self.measure(ctx, document, variables, client, cost_slot)
    }

    /// Measures the document as it would run ([`cost::measure`]), refuses it when a measure is above its limit,
    /// and charges the caller's budget: the query's complexity, or the limit it broke when it is refused, so a
    /// flood of refused queries is throttled like a flood of costly ones.
    fn measure(
        &self,
        ctx: &ExtensionContext<'_>,
        document: &ExecutableDocument,
        variables: &Variables,
        client: Option<ClientKey>,
        cost_slot: Option<QueryCost>,
    ) -> ServerResult<()> {
        let limits = &self.limits;
        let measure =
            cost::measure(document, &ctx.schema_env.registry, variables).map_err(|refused| match refused {
                cost::Unmeasurable::FragmentCycle(name) => {
                    refusal(ErrorCode::InvalidQuery, format!("the fragment `{name}` spreads itself"))
                }
                cost::Unmeasurable::UnknownDirective(name) => {
                    refusal(ErrorCode::InvalidQuery, format!("Unknown directive \"@{name}\"."))
                }
                cost::Unmeasurable::ListTooLong(path) => {
                    let mut error = refusal(
                        ErrorCode::Invalid,
                        format!("invalid {path}: a list argument holds at most {MAX_LIST_VALUES} values"),
                    );
                    if let Some(extensions) = error.extensions.as_mut() {
                        extensions.set("field", path);
                    }
                    error
                }
            })?;
        let over = if measure.depth > limits.max_depth {
            Some(refusal(
                ErrorCode::QueryTooDeep,
                format!(
                    "the query is {} fields deep; the limit is {}",
                    measure.depth, limits.max_depth
                ),
            ))
        } else if measure.height > limits.max_height as u64 {
            Some(refusal(
                ErrorCode::QueryTooComplex,
                format!(
                    "the query runs {} fields once its fragments are expanded; the limit is {}",
                    measure.height, limits.max_height
                ),
            ))
        } else if measure.complexity > limits.max_complexity as u64 {
            Some(refusal(
                ErrorCode::QueryTooComplex,
                format!(
                    "the query's complexity is {}; the limit is {} (ask for smaller pages or fewer fields)",
                    measure.complexity, limits.max_complexity
                ),
            ))
        } else {
            None
        };
        if let Some(slot) = &cost_slot {
            slot.0.store(measure.complexity, std::sync::atomic::Ordering::Relaxed);
        }
        let charge = if over.is_some() {
            limits.max_complexity as u64
        } else {
            measure.complexity
        };
        if let (Some(budget), Some(client)) = (&self.budget, client)
            && let Err(wait) = budget.charge(&client.0, charge.max(1))
        {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut error = refusal(
                ErrorCode::RateLimited,
                format!("too many requests; try again in {seconds} s"),
            );
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("retryAfter", seconds);
            }
            return Err(error);
        }
        over.map_or(Ok(()), Err)
    }
}

/// A value the server put on `request` (over HTTP) or on its connection (over a WebSocket).
fn request_data<'r, T: std::any::Any + Send + Sync>(
    ctx: &'r ExtensionContext<'_>,
    request: &'r Request,
) -> Option<&'r T> {
    request
        .data
        .get(&std::any::TypeId::of::<T>())
        .and_then(|value| value.downcast_ref::<T>())
        .or_else(|| ctx.data_opt::<T>())
}

/// A coded error for a refused query, without a location: the whole query is refused.
fn refusal(code: ErrorCode, message: String) -> ServerError {
    coded_error(code, message)
}

/// What the pre-parse scan counts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    tokens: usize,
    nesting: usize,
}

/// Counts the GraphQL tokens of `query` and the deepest nesting of its brackets, in one pass that does not
/// recurse. Comments, white space and commas are not tokens. It is a bound, not a validator: the parser
/// still reports malformed text.
fn scan(query: &str) -> Scan {
    let bytes = query.as_bytes();
    let (mut i, mut depth, mut result) = (0, 0usize, Scan::default());
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                result.tokens += 1;
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 3;
            }
            b'"' => {
                result.tokens += 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                result.tokens += 1;
                depth += 1;
                result.nesting = result.nesting.max(depth);
                i += 1;
            }
            b'}' | b']' | b')' => {
                result.tokens += 1;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                result.tokens += 1;
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                result.tokens += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            _ => {
                result.tokens += 1;
                i += 1;
            }
        }
    }
    result
}

/// What the document's shape counts.
#[derive(Debug, Default)]
struct Shape {
    aliases: usize,
    directives_per_field: usize,
}

/// Counts aliases in every operation and fragment, and the most directives on one field. Iterative, so a
/// deep document cannot exhaust the stack.
fn shape(document: &ExecutableDocument) -> Shape {
    let mut shape = Shape::default();
    let mut pending: Vec<&Positioned<SelectionSet>> = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set)
        .chain(document.fragments.values().map(|fragment| &fragment.node.selection_set))
        .collect();
    while let Some(set) = pending.pop() {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    shape.aliases += usize::from(field.node.alias.is_some());
                    shape.directives_per_field = shape.directives_per_field.max(field.node.directives.len());
                    pending.push(&field.node.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    shape.directives_per_field = shape.directives_per_field.max(spread.node.directives.len());
                }
                Selection::InlineFragment(fragment) => {
                    shape.directives_per_field = shape.directives_per_field.max(fragment.node.directives.len());
                    pending.push(&fragment.node.selection_set);
                }
            }
        }
    }
    shape
}

/// The operation of `document` a request runs: the one named `name`, or the document's only one.
pub(crate) fn selected_operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_counts_tokens_and_nesting_without_recursing() {
        assert_eq!(
            scan("query Q($a: Int = 1) { x(a: [1, 2]) { ...F } } # comment { { {"),
            Scan { tokens: 25, nesting: 3 }
        );
        assert_eq!(scan(r#"{ x(s: "a { [ \" (") }"#), Scan { tokens: 8, nesting: 2 });
        assert_eq!(
            scan("{ x(s: \"\"\" { \\\"\"\" [ \"\"\") }"),
            Scan { tokens: 8, nesting: 2 }
        );
        let deep = format!("{{ x(a: {}1{}) }}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(scan(&deep).nesting, 100_002);
    }
}
