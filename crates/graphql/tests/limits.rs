//! Query limits: each hostile or careless shape gets its own code, and a refused query runs no SQL at all.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use support::{run, schema_over, schema_with};

use async_graphql::Request;
use boletin_graphql::{BoletinSchema, QueryLimits, SchemaOptions, Transport};
use boletin_persistence::testing::{TestDatabase, sqlite};
use serde_json::Value;

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"].as_str().unwrap_or("none")
}

/// Runs `query` and checks it is refused with `expected` before any SQL runs.
async fn refused(db: &TestDatabase, schema: &BoletinSchema, query: &str, expected: &str) -> Value {
    db.take_statement_count();
    let response = run(schema, Request::new(query)).await;
    assert_eq!(code(&response), expected, "{response}");
    assert_eq!(response["data"], Value::Null, "{response}");
    assert_eq!(db.take_statement_count(), 0, "a refused query ran SQL: {response}");
    response
}

fn aliases(count: usize, field: &str) -> String {
    let fields: Vec<String> = (0..count).map(|i| format!("a{i}: {field}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

#[tokio::test]
async fn graphiql_introspection_and_everyday_queries_pass() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    let introspection = include_str!("fixtures/graphiql-introspection.graphql");
    let response = run(&schema, Request::new(introspection)).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert!(
        response["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 20)
    );

    // A mobile feed page and a dashboard's lists, as their apps send them.
    for query in [
        "{ bulletins(first: 20, lang: ES) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id slug title summary publishedOn dateline countries { code name } themes programs { slug name } partners { role partner { slug name acronym } } } } } }",
        "{ indicators { code name unit total observations { value periodStart periodEnd country { code } source { slug title } } } programs { slug name partners { role partner { name } } } }",
        "{ bulletins(first: 100) { nodes { slug title summary body countries { code } themes programs { slug } observations { value indicator { code } } } } }",
    ] {
        let response = run(&schema, Request::new(query)).await;
        assert!(response.get("errors").is_none(), "{query}: {response}");
    }
}

#[tokio::test]
async fn costly_shapes_are_refused_before_any_sql() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);

    // 30 aliases of a full page: 30 × 100 bulletins.
    refused(
        &db,
        &schema,
        &aliases(30, "bulletins(first: 100) { nodes { title } }"),
        "QUERY_TOO_COMPLEX",
    )
    .await;
    // Without `first`, the assumed page is 20, and 30 aliases of that pass.
    let response = run(&schema, Request::new(aliases(30, "bulletins { nodes { title } }"))).await;
    assert!(response.get("errors").is_none(), "{response}");

    // Relations that cycle, nested past the depth limit.
    let deep = format!(
        "{{ bulletins(first: 1) {{ nodes {{ {} slug {} }} }} }}",
        "programs { bulletins { ".repeat(8),
        "} } ".repeat(8)
    );
    refused(&db, &schema, &deep, "QUERY_TOO_DEEP").await;

    refused(&db, &schema, &aliases(51, "__typename"), "TOO_MANY_ALIASES").await;
    refused(
        &db,
        &schema,
        "{ programs @include(if: true) @include(if: true) @skip(if: false) @skip(if: false) @include(if: true) { slug } }",
        "TOO_MANY_DIRECTIVES",
    )
    .await;
    let long = format!("{{ programs {{ slug }} }} #{}", "x".repeat(17 * 1024));
    refused(&db, &schema, &long, "QUERY_TOO_LONG").await;
    let many = format!("{{ {} }}", "a ".repeat(4_001));
    refused(&db, &schema, &many, "TOO_MANY_TOKENS").await;
}

#[tokio::test]
async fn nesting_and_cycles_get_an_error_not_a_crash() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    // Within the length limit, but nested past the bracket limit.
    let nested = format!(
        "{{ bulletins(filter: {{ countries: {}\"GT\"{} }}) {{ totalCount }} }}",
        "[".repeat(60),
        "]".repeat(60)
    );
    refused(&db, &schema, &nested, "QUERY_TOO_DEEP").await;

    // With the length and token limits lifted, a literal nested 100,000 deep is still refused by the scan,
    // before the recursive parser could exhaust the stack.
    let lifted = schema_with(
        &db,
        SchemaOptions {
            limits: QueryLimits {
                max_query_bytes: 1 << 20,
                max_tokens: 1 << 20,
                ..QueryLimits::default()
            },
            ..SchemaOptions::default()
        },
    );
    let hostile = format!(
        "{{ bulletins(filter: {{ countries: {}\"GT\"{} }}) {{ totalCount }} }}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    refused(&db, &lifted, &hostile, "QUERY_TOO_DEEP").await;

    // Fragments that spread each other.
    let cycle = "query { bulletins { nodes { ...A } } } fragment A on Bulletin { programs { bulletins { ...B } } } fragment B on Bulletin { ...A }";
    refused(&db, &schema, cycle, "INVALID_QUERY").await;
}

#[tokio::test]
async fn page_sizes_out_of_range_are_invalid_not_clamped() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    for first in ["1000000", "-1", "101"] {
        let response = run(
            &schema,
            Request::new(format!("{{ bulletins(first: {first}) {{ nodes {{ slug }} }} }}")),
        )
        .await;
        assert_eq!(code(&response), "INVALID", "{first}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "first", "{response}");
    }
}

#[tokio::test]
async fn each_transport_runs_only_its_kinds_of_operation() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    let refused = [
        (Transport::Get, "mutation { anything }"),
        (Transport::Get, "subscription { anything }"),
        (Transport::Get, "query Q { programs { slug } } mutation M { anything }"),
        (Transport::Post, "subscription M { bulletinPublished { slug } }"),
        (Transport::WebSocket, "mutation M { anything }"),
    ];
    for (transport, query) in refused {
        let request = Request::new(query).operation_name("M").data(transport);
        let response = run(&schema, request).await;
        assert_eq!(
            code(&response),
            "METHOD_NOT_ALLOWED",
            "{transport:?} {query}: {response}"
        );
    }
    for transport in [Transport::Get, Transport::Post, Transport::WebSocket] {
        let response = run(&schema, Request::new("{ programs { slug } }").data(transport)).await;
        assert!(response.get("errors").is_none(), "{transport:?}: {response}");
    }
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let db = sqlite().await.seeded().await;
    let open = schema_over(&db);
    let response = run(&open, Request::new("{ bulletinz { totalCount } }")).await;
    assert!(response.to_string().contains("Did you mean"), "{response}");

    let closed = schema_with(
        &db,
        SchemaOptions {
            introspection_disabled: true,
            ..SchemaOptions::default()
        },
    );
    let response = run(&closed, Request::new("{ __schema { types { name } } }")).await;
    assert!(
        response["data"]["__schema"].is_null() || response.get("errors").is_some(),
        "{response}"
    );
    assert!(!response.to_string().contains("Bulletin"), "{response}");
    let response = run(
        &closed,
        Request::new("{ __type(name: \"Bulletin\") { fields { name } } }"),
    )
    .await;
    assert!(!response.to_string().contains("publishedOn"), "{response}");
    let response = run(&closed, Request::new("{ bulletinz { totalCount } }")).await;
    assert_eq!(code(&response), "INVALID_QUERY", "{response}");
    assert!(!response.to_string().contains("Did you mean"), "{response}");
}

/// `{ ...G<k> }` over a chain of fragments each spreading the previous one twice, ending in `end`.
fn fragment_chain(k: usize, on: &str, end: &str) -> String {
    let mut text = format!("query {{ ...G{k} }} fragment G0 on {on} {{ {end} }}");
    for i in 1..=k {
        text.push_str(&format!(" fragment G{i} on {on} {{ ...G{j} ...G{j} }}", j = i - 1));
    }
    text
}

#[tokio::test]
async fn fragment_fan_out_is_refused_before_any_sql_whatever_the_other_limits() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    // Tight limits on everything else, as in the report: the expansion is what must be refused.
    let tight = schema_with(
        &db,
        SchemaOptions {
            limits: QueryLimits {
                max_complexity: 10,
                max_depth: 5,
                max_aliases: 1,
                ..QueryLimits::default()
            },
            ..SchemaOptions::default()
        },
    );
    for k in [10, 22, 30] {
        for end in ["__typename", "programs { slug name partners { role } }"] {
            let query = fragment_chain(k, "Query", end);
            let response = refused(&db, &schema, &query, "QUERY_TOO_COMPLEX").await;
            assert!(
                response["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("once its fragments are expanded") || m.contains("complexity")),
                "{response}"
            );
            refused(&db, &tight, &query, "QUERY_TOO_COMPLEX").await;
        }
    }
    // Spreads inside a list count once per spread and are weighed by the list.
    let nested = format!(
        "{{ bulletins(first: 100) {{ nodes {{ ...G6 }} }} }} {}",
        fragment_chain(6, "Bulletin", "slug")
            .split_once("} ")
            .map_or("", |(_, rest)| rest)
    );
    refused(&db, &schema, &nested, "QUERY_TOO_COMPLEX").await;
    // A short chain is an ordinary query.
    let response = run(&schema, Request::new(fragment_chain(3, "Query", "__typename"))).await;
    assert_eq!(response["data"]["__typename"], "Query", "{response}");
    // Inline fragments and `__typename` count like fields: 1,001 of them are over the height limit.
    let inline = format!("{{ {} }}", "... on Query { __typename } ".repeat(501));
    refused(&db, &schema, &inline, "QUERY_TOO_COMPLEX").await;
}

#[tokio::test]
async fn unknown_directives_are_invalid_queries_wherever_they_stand() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    for query in [
        "{ __typename @nope }",
        "{ programs @nope { slug } }",
        "{ ...F @nope } fragment F on Query { __typename }",
        "{ ... on Query @nope { __typename } }",
        "query Q @nope { __typename }",
        "{ ...F } fragment F on Query @nope { __typename }",
    ] {
        let response = refused(&db, &schema, query, "INVALID_QUERY").await;
        assert!(response.to_string().contains("@nope"), "{query}: {response}");
    }
    let response = run(
        &schema,
        Request::new("{ __typename @skip(if: false) programs @include(if: false) { slug } }"),
    )
    .await;
    assert!(response.get("errors").is_none(), "{response}");
}

#[tokio::test]
async fn list_arguments_beyond_the_cap_are_invalid_with_their_path_on_every_list() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    let countries: Vec<String> = (0..40_000).map(|i| format!("C{}", i % 100)).collect();
    let cases = [
        (
            "query($c: [String!]) { bulletins(filter: { countries: $c }) { totalCount } }",
            "filter.countries",
        ),
        (
            "query($c: [String!]) { search(query: \"migrantes\", filter: { countries: $c }) { totalCount } }",
            "filter.countries",
        ),
        (
            "query($c: [String!]) { statistics(indicator: \"returns_assisted\", filter: { countries: $c }) { total } }",
            "filter.countries",
        ),
    ];
    for (query, field) in cases {
        db.take_statement_count();
        let request = Request::new(query).variables(async_graphql::Variables::from_json(
            serde_json::json!({ "c": countries }),
        ));
        let response = run(&schema, request).await;
        assert_eq!(code(&response), "INVALID", "{response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
        assert_eq!(db.take_statement_count(), 0, "{response}");
    }
    // Written out in the text, and nested in an input object, the cap holds too.
    let literal = format!(
        "{{ bulletins(filter: {{ themes: [{}] }}) {{ totalCount }} }}",
        "TRAFFICKING, ".repeat(101)
    );
    let response = refused(&db, &schema, &literal, "INVALID").await;
    assert_eq!(
        response["errors"][0]["extensions"]["field"], "filter.themes",
        "{response}"
    );
    // A hundred values are allowed.
    let hundred: Vec<&str> = std::iter::repeat_n("GT", 100).collect();
    let request = Request::new("query($c: [String!]) { bulletins(filter: { countries: $c }) { totalCount } }")
        .variables(async_graphql::Variables::from_json(serde_json::json!({ "c": hundred })));
    let response = run(&schema, request).await;
    assert!(response.get("errors").is_none(), "{response}");
}

#[tokio::test]
async fn snippet_markers_are_capped_so_a_small_request_cannot_fetch_a_large_answer() {
    let db = sqlite().await.seeded().await;
    let schema = schema_over(&db);
    let query = "query($o: String!) { search(query: \"migrantes\", first: 10) { nodes { snippet(open: $o, close: \"</b>\") } } }";
    let long = "x".repeat(100 * 1024);
    let response = run(
        &schema,
        Request::new(query).variables(async_graphql::Variables::from_json(serde_json::json!({ "o": long }))),
    )
    .await;
    assert_eq!(code(&response), "INVALID", "{response}");
    assert_eq!(response["errors"][0]["extensions"]["field"], "open", "{response}");
    assert!(response.to_string().len() < 2_000, "{response}");
    let marker = "<mark class=\"hit\">";
    let response = run(
        &schema,
        Request::new(query).variables(async_graphql::Variables::from_json(serde_json::json!({ "o": marker }))),
    )
    .await;
    assert!(response.get("errors").is_none(), "{response}");
    assert!(response.to_string().contains("hit"), "{response}");
}
