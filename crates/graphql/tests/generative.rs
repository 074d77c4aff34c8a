//! Generated queries: hundreds of operations built at random from the schema itself (its types, fields,
//! arguments and enums, read by introspection), with aliases, nested and chained fragments, inline fragments,
//! directives known and unknown, variables, lists short and long, and values valid and not. Each must be
//! answered or refused with a code, never an internal error, within a CPU-time budget, on both backends, and the
//! whole run within a memory budget.
//!
//! The generator is seeded: `BOLETIN_GENERATIVE_SEED=<n>` replays a run, and a failure prints the seed, the
//! query and its variables. `BOLETIN_GENERATIVE_COUNT` sets how many operations each backend gets (300).

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use async_graphql::{Request, Variables};
use boletin_domain::auth::Tokens;
use boletin_domain::catalog::Catalog;
use boletin_domain::editorial::Editorial;
use boletin_domain::live::Live;
use boletin_graphql::SchemaOptions;
use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{run, schema_over, schema_with};

/// The CPU one operation may use in this thread (the resolvers and the checks; SQL runs elsewhere).
const CPU_BUDGET: Duration = Duration::from_secs(2);
/// The most memory the test process may ever hold.
const MEMORY_BUDGET_KIB: u64 = 1024 * 1024;
/// The longest a backend's run may take; the run stops generating after it.
const TIME_BUDGET: Duration = Duration::from_secs(90);

/// Codes a refusal or a failed argument may carry; anything else (`INTERNAL` above all) is a bug.
const EXPECTED_CODES: &[&str] = &[
    "INVALID",
    "INVALID_QUERY",
    "NOT_FOUND",
    "UNAUTHENTICATED",
    "QUERY_TOO_LONG",
    "TOO_MANY_TOKENS",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "TOO_MANY_ALIASES",
    "TOO_MANY_DIRECTIVES",
];

/// xorshift64*: small, seeded and the same everywhere.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    /// True with probability `percent` in 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// The schema as introspection describes it.
struct Model {
    types: Value,
}

/// A type reference: `{ kind, name, ofType }`.
fn named(reference: &Value) -> (&str, bool, bool) {
    let (mut reference, mut list, mut required) = (reference, false, false);
    let mut outer = true;
    while reference["kind"] == "NON_NULL" || reference["kind"] == "LIST" {
        if reference["kind"] == "LIST" {
            list = true;
        } else if outer {
            required = true;
        }
        outer = false;
        reference = &reference["ofType"];
    }
    (reference["name"].as_str().unwrap_or(""), list, required)
}

impl Model {
    fn of(introspection: &Value) -> Self {
        Self {
            types: introspection["data"]["__schema"]["types"].clone(),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.types.as_array()?.iter().find(|t| t["name"] == name)
    }
}

/// Builds one operation: its text and its variables.
struct Generator<'m> {
    model: &'m Model,
    random: Random,
    fragments: Vec<(String, String, String)>,
    variables: Vec<(String, String, Value)>,
    aliases: usize,
}

const WORDS: &[&str] = &[
    "migrantes",
    "retorno",
    "trata",
    "Tijuana",
    "\"feria de empleo\"",
    "-órganos",
    "job fair",
];
const SLUGS: &[&str] = &[
    "iom-promotes-labor-integration-of-migrants-in-tijuana",
    "regional-migration-program",
    "oim",
    "no-such-slug",
    "Not A Slug!",
];
const CODES: &[&str] = &["returns_assisted", "job_fair_hires", "people_trained", "nothing_here"];
const COUNTRIES: &[&str] = &["GT", "MX", "HN", "SV", "CR", "XX", "gt", ""];

impl<'m> Generator<'m> {
    fn new(model: &'m Model, seed: u64) -> Self {
        Self {
            model,
            random: Random(seed.max(1)),
            fragments: Vec::new(),
            variables: Vec::new(),
            aliases: 0,
        }
    }

    /// A whole query document and its variables.
    fn operation(&mut self) -> (String, Value) {
        self.fragments.clear();
        self.variables.clear();
        self.aliases = 0;
        // Now and then, the hostile shape itself: a chain of fragments that double at each step.
        if self.random.chance(5) {
            let k = 5 + self.random.below(26);
            let mut text = format!("{{ ...G{k} }} fragment G0 on Query {{ __typename }}");
            for i in 1..=k {
                text.push_str(&format!(" fragment G{i} on Query {{ ...G{j} ...G{j} }}", j = i - 1));
            }
            return (text, Value::Null);
        }
        let depth = 2 + self.random.below(6);
        // Mostly reads; now and then a mutation, which an anonymous caller is refused.
        let (kind, root) = if self.random.chance(10) {
            ("mutation", "Mutation")
        } else {
            ("query", "Query")
        };
        let body = self.selection(root, depth);
        let mut text = format!("{kind} Generated");
        if !self.variables.is_empty() {
            let definitions: Vec<String> = self
                .variables
                .iter()
                .map(|(name, ty, _)| format!("${name}: {ty}"))
                .collect();
            text.push_str(&format!("({})", definitions.join(", ")));
        }
        text.push(' ');
        text.push_str(&body);
        for (name, on, fragment_body) in &self.fragments {
            text.push_str(&format!(" fragment {name} on {on} {fragment_body}"));
        }
        let variables: serde_json::Map<String, Value> = self
            .variables
            .iter()
            .map(|(name, _, value)| (name.clone(), value.clone()))
            .collect();
        (text, Value::Object(variables))
    }

    /// `{ … }` on the type `on`, at most `depth` levels deep.
    fn selection(&mut self, on: &str, depth: usize) -> String {
        let Some(ty) = self.model.get(on).cloned() else {
            return "{ __typename }".to_owned();
        };
        let mut items = Vec::new();
        for _ in 0..1 + self.random.below(4) {
            let roll = self.random.below(100);
            let item = if roll < 8 {
                format!("__typename{}", self.directive())
            } else if roll < 16 && depth > 1 {
                let inner = self.selection(on, depth - 1);
                format!("... on {on}{} {inner}", self.directive())
            } else if roll < 26 && depth > 1 {
                self.fragment(on, depth)
            } else {
                self.field(&ty, depth)
            };
            items.push(item);
        }
        format!("{{ {} }}", items.join(" "))
    }

    /// A named fragment on `on` (new, or one already made, which nests and chains them), spread here.
    fn fragment(&mut self, on: &str, depth: usize) -> String {
        let existing: Vec<String> = self
            .fragments
            .iter()
            .filter(|(_, fragment_on, _)| fragment_on == on)
            .map(|(name, _, _)| name.clone())
            .collect();
        if let Some(name) = self.random.pick(&existing).cloned()
            && self.random.chance(50)
        {
            return format!("...{name}{}", self.directive());
        }
        let name = format!("F{}", self.fragments.len());
        // Reserve the name first, so the body can spread earlier fragments but never this one.
        self.fragments
            .push((name.clone(), on.to_owned(), "{ __typename }".to_owned()));
        let body = self.selection(on, depth - 1);
        if let Some(slot) = self.fragments.iter_mut().find(|(n, _, _)| *n == name) {
            slot.2 = body;
        }
        format!("...{name}{}", self.directive())
    }

    /// Now and then a directive: `@skip`, `@include`, or one the schema does not define.
    fn directive(&mut self) -> String {
        match self.random.below(20) {
            0 => " @skip(if: true)".to_owned(),
            1 => " @include(if: false)".to_owned(),
            2 => " @include(if: true) @skip(if: false)".to_owned(),
            3 => " @nope".to_owned(),
            _ => String::new(),
        }
    }

    /// A field of `ty` with arguments and, for objects, a selection.
    fn field(&mut self, ty: &Value, depth: usize) -> String {
        let fields = ty["fields"].as_array().cloned().unwrap_or_default();
        let possible = ty["possibleTypes"].as_array().cloned().unwrap_or_default();
        // An interface (`Node`): select on one of its types.
        if fields.is_empty() || (!possible.is_empty() && self.random.chance(50)) {
            if let Some(concrete) = self.random.pick(&possible).and_then(|p| p["name"].as_str()) {
                let concrete = concrete.to_owned();
                let inner = self.selection(&concrete, depth.saturating_sub(1).max(1));
                return format!("... on {concrete} {inner}");
            }
            return "__typename".to_owned();
        }
        let Some(field) = self.random.pick(&fields).cloned() else {
            return "__typename".to_owned();
        };
        let name = field["name"].as_str().unwrap_or("__typename").to_owned();
        let mut text = String::new();
        if self.random.chance(15) {
            self.aliases += 1;
            text.push_str(&format!("a{}: ", self.aliases));
        }
        text.push_str(&name);
        let arguments: Vec<String> = field["args"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|arg| {
                let (_, _, required) = named(&arg["type"]);
                (required && arg["defaultValue"].is_null() || self.random.chance(40)).then(|| {
                    let value = self.argument(&name, arg);
                    format!("{}: {value}", arg["name"].as_str().unwrap_or("x"))
                })
            })
            .collect();
        if !arguments.is_empty() {
            text.push_str(&format!("({})", arguments.join(", ")));
        }
        text.push_str(&self.directive());
        let (type_name, _, _) = named(&field["type"]);
        let kind = self.model.get(type_name).map(|t| t["kind"].clone()).unwrap_or_default();
        if kind == "OBJECT" || kind == "INTERFACE" || kind == "UNION" {
            if depth <= 1 {
                text.push_str(" { __typename }");
            } else {
                let type_name = type_name.to_owned();
                text.push(' ');
                text.push_str(&self.selection(&type_name, depth - 1));
            }
        }
        text
    }

    /// A value for `arg` of the field `field`, written out or passed as a variable.
    fn argument(&mut self, field: &str, arg: &Value) -> String {
        let value = self.value(arg["name"].as_str().unwrap_or(""), field, &arg["type"], 0);
        if self.random.chance(30) {
            let name = format!("v{}", self.variables.len());
            let ty = type_text(&arg["type"]);
            self.variables.push((name.clone(), ty, value));
            return format!("${name}");
        }
        literal(&value)
    }

    /// A JSON value for an input of type `reference`, named `name`.
    fn value(&mut self, name: &str, field: &str, reference: &Value, nesting: usize) -> Value {
        let (type_name, list, required) = named(reference);
        if !required && self.random.chance(5) {
            return Value::Null;
        }
        if list {
            let length = match self.random.below(10) {
                0 => 101 + self.random.below(500),
                1..=3 => 0,
                _ => 1 + self.random.below(3),
            };
            let item = json!({ "kind": "NAMED", "name": type_name });
            return Value::Array(
                (0..length)
                    .map(|_| self.value(name, field, &item, nesting + 1))
                    .collect(),
            );
        }
        match type_name {
            "Int" => match name {
                "first" | "last" => json!(self.random.pick(&[0, 1, 5, 20, 100, 101, -1]).copied().unwrap_or(5)),
                _ => json!(self.random.pick(&[0, 1, 2, -3, 1_000_000]).copied().unwrap_or(1)),
            },
            "Float" => json!(1.5),
            "Boolean" => json!(self.random.chance(50)),
            "ID" => json!(
                self.random
                    .pick(&["QnVsbGV0aW46MQ==", "garbage", "", "UHJvZ3JhbTox"])
                    .copied()
            ),
            "Date" => json!(
                self.random
                    .pick(&["2019-03-08", "2020-01-01", "not a date", "2019-02-30"])
                    .copied()
            ),
            "DateTime" => json!("2019-03-08T00:00:00Z"),
            "String" => json!(self.string(name, field)),
            other => match self.model.get(other).cloned() {
                Some(ty) if ty["kind"] == "ENUM" => {
                    let values = ty["enumValues"].as_array().cloned().unwrap_or_default();
                    self.random
                        .pick(&values)
                        .and_then(|v| v["name"].as_str())
                        .map_or(Value::Null, |v| json!(v))
                }
                Some(ty) if ty["kind"] == "INPUT_OBJECT" && nesting < 4 => {
                    let mut object = serde_json::Map::new();
                    for input in ty["inputFields"].as_array().cloned().unwrap_or_default() {
                        let (_, _, required) = named(&input["type"]);
                        if required && input["defaultValue"].is_null() || self.random.chance(40) {
                            let key = input["name"].as_str().unwrap_or("x").to_owned();
                            let value = self.value(&key, field, &input["type"], nesting + 1);
                            object.insert(key, value);
                        }
                    }
                    Value::Object(object)
                }
                _ => Value::Null,
            },
        }
    }

    fn string(&mut self, name: &str, field: &str) -> String {
        match (name, field) {
            ("query", _) => self.random.pick(WORDS).copied().unwrap_or("migrantes").to_owned(),
            ("open" | "close", _) => "<b>".repeat(if self.random.chance(20) { 40 } else { 1 }),
            ("indicator" | "code", _) | (_, "indicator") => self.random.pick(CODES).copied().unwrap_or("").to_owned(),
            ("countries" | "country", _) => self.random.pick(COUNTRIES).copied().unwrap_or("").to_owned(),
            ("after" | "before" | "since", _) => self
                .random
                .pick(&["garbage", "MjAxOQ==", ""])
                .copied()
                .unwrap_or("")
                .to_owned(),
            _ => self.random.pick(SLUGS).copied().unwrap_or("").to_owned(),
        }
    }
}

/// The GraphQL text of a type reference, e.g. `[String!]`.
fn type_text(reference: &Value) -> String {
    match reference["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_text(&reference["ofType"])),
        Some("LIST") => format!("[{}]", type_text(&reference["ofType"])),
        _ => reference["name"].as_str().unwrap_or("String").to_owned(),
    }
}

/// `value` written as a GraphQL literal (enum values are the strings that name them).
fn literal(value: &Value) -> String {
    match value {
        Value::String(text) if !text.is_empty() && text.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
            text.clone()
        }
        Value::Array(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(fields) => format!(
            "{{ {} }}",
            fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The CPU time this thread has used, from `/proc/thread-self/stat` (in USER_HZ, 100 a second).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// The most memory this process has held, in KiB (`VmHWM`).
fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

const INTROSPECTION: &str = "{ __schema { types { name kind fields { name args { name defaultValue type { ...T } } type { ...T } } inputFields { name defaultValue type { ...T } } enumValues { name } possibleTypes { name } } } } fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

#[tokio::test]
async fn generated_queries_are_answered_or_refused_within_budget_on_both_backends() {
    let seed: u64 = std::env::var("BOLETIN_GENERATIVE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202);
    let count: usize = std::env::var("BOLETIN_GENERATIVE_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    on_each_backend(
        "generated_queries_are_answered_or_refused_within_budget_on_both_backends",
        |db| async move {
            let db = db.seeded().await;
            // Every service the server gives the schema, so that every field can answer.
            let store = Arc::new(db.store.clone());
            let options = SchemaOptions {
                tokens: Some(Tokens::new(store.clone())),
                editorial: Some(Editorial::new(store.clone())),
                live: Some(Live::new(Catalog::new(store.clone()), store)),
                ..SchemaOptions::default()
            };
            let schema = schema_with(&db, options);
            // The schema's shape, read as an analyst's tools read it.
            let introspection = run(&schema_over(&db), Request::new(INTROSPECTION)).await;
            assert!(introspection.get("errors").is_none(), "{introspection}");
            let model = Model::of(&introspection);
            let mut generator = Generator::new(&model, seed);
            let started = Instant::now();
            let (mut answered, mut refused) = (0, 0);
            for n in 0..count {
                if started.elapsed() > TIME_BUDGET {
                    break;
                }
                let (query, variables) = generator.operation();
                let replay = || format!("seed {seed}, operation {n}:\n{query}\nvariables: {variables}");
                let request = Request::new(query.clone()).variables(Variables::from_json(variables.clone()));
                let before = thread_cpu();
                let response = run(&schema, request).await;
                let spent = thread_cpu() - before;
                assert!(spent <= CPU_BUDGET, "{spent:?} of CPU for {}", replay());
                let errors = response["errors"].as_array().cloned().unwrap_or_default();
                for error in &errors {
                    let code = error["extensions"]["code"].as_str().unwrap_or("none");
                    assert!(EXPECTED_CODES.contains(&code), "{code}: {error} for {}", replay());
                }
                if errors.is_empty() {
                    answered += 1;
                } else {
                    refused += 1;
                }
            }
            eprintln!(
                "generated {} operations (seed {seed}): {answered} answered, {refused} refused or partly refused",
                answered + refused
            );
            assert!(answered > 0 && refused > 0, "the generator should produce both");
            assert!(
                peak_memory_kib() <= MEMORY_BUDGET_KIB,
                "the process held {} KiB",
                peak_memory_kib()
            );
            db
        },
    )
    .await;
}
