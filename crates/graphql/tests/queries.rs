//! The GraphQL schema over real databases: queries and their JSON answers, on SQLite and PostgreSQL.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use support::{run, schema_over};

use boletin_persistence::testing::on_each_backend;
use serde_json::json;

/// The cases: a name and a query. Each whole answer is an insta snapshot, `snapshots/queries__<name>.snap`,
/// the same on both backends; a change shows as a diff (accept it with `cargo insta review`, or rerun with
/// `INSTA_UPDATE=always` and read `git diff`).
fn cases() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "newest first, with the total",
            "{ bulletins(first: 3) { totalCount nodes { publishedOn } pageInfo { hasNextPage hasPreviousPage } } }",
        ),
        (
            "returns assisted: total, minors and source",
            r#"{ indicator(code: "returns_assisted") { total unit aggregation observations { value country { code } countries { code } source { title } disaggregations { dimension category value } } } }"#,
        ),
        (
            "the Tijuana job fair's figures",
            r#"{ bulletin(slug: "iom-promotes-labor-integration-of-migrants-in-tijuana") { dateline observations { value place periodStart periodEnd indicator { code } } } }"#,
        ),
        (
            "Spanish titles and country names",
            r#"{ bulletins(first: 5, lang: ES, filter: { countries: ["do"], programs: ["planami"] }) { nodes { language title countries { code name } } } }"#,
        ),
        (
            "filters by theme, program, partner and dates",
            r#"{ a: bulletins(filter: { themes: [HUMAN_TRAFFICKING] }) { totalCount } b: bulletins(filter: { programs: ["planami"] }) { totalCount } c: bulletins(filter: { partners: ["canada-fund-for-local-initiatives"] }) { totalCount } d: bulletins(filter: { publishedFrom: "2019-02-05", publishedTo: "2019-03-01" }) { totalCount } }"#,
        ),
        (
            "a program with its parent, sub-programs, partners and bulletins",
            r#"{ program(slug: "regional-migration-program", lang: ES) { name language subPrograms { slug parent { slug } } partners { role partner { acronym name } } bulletins { slug } } }"#,
        ),
        (
            "a partner with its programs and bulletins",
            r#"{ partner(slug: "municipality-of-tijuana") { kind country { code name } programs { role program { slug } } bulletins { slug } } }"#,
        ),
        (
            "unknown records are null",
            r#"{ bulletin(slug: "no-such-bulletin") { id } b: bulletin(slug: "Not A Slug!") { id } program(slug: "x") { id } partner(slug: "x") { id } indicator(code: "NOPE") { id } node(id: "garbage") { id } }"#,
        ),
        (
            "page sizes are refused, not clamped",
            "{ bulletins(first: 1000000) { totalCount } }",
        ),
        (
            "negative page sizes are refused",
            "{ bulletins(last: -1) { totalCount } }",
        ),
        (
            "queries that cannot run say so with a code",
            "{ bulletins(first: \"many\") { totalCount } nope }",
            // Each mistake once: the wrong `first`, and the unknown field.
        ),
        (
            "malformed dates are refused with a code",
            r#"{ bulletins(filter: { publishedFrom: "2019-13-01" }) { totalCount } }"#,
        ),
        (
            "a value of the wrong kind for a date names its argument",
            r#"{ bulletins(filter: { publishedFrom: 5 }) { totalCount } }"#,
        ),
        ("syntax errors are refused with a code", "{ bulletins("),
        (
            "bad cursors are refused",
            r#"{ bulletins(after: "nonsense") { totalCount } }"#,
        ),
        (
            "bad country codes are refused with their path",
            r#"{ bulletins(filter: { countries: ["MX", "XX"] }) { totalCount } }"#,
        ),
        (
            "inverted date ranges are refused",
            r#"{ bulletins(filter: { publishedFrom: "2019-03-01", publishedTo: "2019-02-01" }) { totalCount } }"#,
        ),
    ]
}

#[tokio::test]
async fn queries_answer_as_expected() {
    on_each_backend("queries_answer_as_expected", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        for (name, query) in cases() {
            let actual = run(&schema, query).await;
            let snapshot = name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            insta::with_settings!({ description => query, omit_expression => true }, {
                insta::assert_json_snapshot!(snapshot, actual);
            });
        }
        db
    })
    .await;
}

#[tokio::test]
async fn paging_forward_then_back_returns_the_same_bulletins() {
    on_each_backend("paging_forward_then_back_returns_the_same_bulletins", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let all = run(&schema, "{ bulletins(first: 100) { edges { cursor node { slug } } } }").await;
        let edges = all["data"]["bulletins"]["edges"].as_array().cloned().unwrap_or_default();
        assert_eq!(edges.len(), 10);
        let after = edges[3]["cursor"].as_str().unwrap_or_default();
        let page = run(&schema, &format!(r#"{{ bulletins(first: 2, after: "{after}") {{ nodes {{ slug }} pageInfo {{ hasPreviousPage endCursor }} }} }}"#)).await;
        assert_eq!(page["data"]["bulletins"]["nodes"], json!([edges[4]["node"], edges[5]["node"]]));
        let before = edges[6]["cursor"].as_str().unwrap_or_default();
        let back = run(&schema, &format!(r#"{{ bulletins(last: 2, before: "{before}") {{ nodes {{ slug }} }} }}"#)).await;
        assert_eq!(back["data"]["bulletins"]["nodes"], json!([edges[4]["node"], edges[5]["node"]]));
        db
    })
    .await;
}

#[tokio::test]
async fn every_record_resolves_through_node() {
    on_each_backend("every_record_resolves_through_node", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let ids = run(&schema, r#"{ bulletins(first: 1) { nodes { id } } programs { id } partners { id } indicators { id observations { id } } }"#).await;
        let data = &ids["data"];
        let mut all = vec![data["bulletins"]["nodes"][0]["id"].clone(), data["programs"][0]["id"].clone(), data["partners"][0]["id"].clone()];
        all.push(data["indicators"][0]["id"].clone());
        all.push(data["indicators"][0]["observations"][0]["id"].clone());
        for id in all {
            let id = id.as_str().unwrap_or_default().to_owned();
            let found = run(&schema, &format!(r#"{{ node(id: "{id}") {{ id __typename }} }}"#)).await;
            assert_eq!(found["data"]["node"]["id"], json!(id), "{found}");
        }
        db
    })
    .await;
}

// On a two-worker runtime, as the server runs: a batch started on the other worker must still hold every ask of
// its level (see `batch_gate`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_lists_cost_the_same_statements_for_any_page_size() {
    on_each_backend("nested_lists_cost_the_same_statements_for_any_page_size", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let query = |n: usize| {
            format!(
                "{{ bulletins(first: {n}) {{ nodes {{ title countries {{ code name }} themes programs {{ name }} partners {{ role partner {{ name }} }} observations {{ value indicator {{ code }} source {{ slug }} }} }} }} }}"
            )
        };
        // Once, so that programs, partners and indicators are kept (store::kept) for both measured runs alike.
        run(&schema, &query(10)).await;
        let mut costs = Vec::new();
        for n in [2, 10] {
            db.take_statement_count();
            let response = run(&schema, &query(n)).await;
            assert!(response.get("errors").is_none(), "{response}");
            assert_eq!(response["data"]["bulletins"]["nodes"].as_array().map(Vec::len), Some(n));
            costs.push(db.take_statement_count());
        }
        // The first two bulletins already use every relation, so any growth would come from the page size.
        assert_eq!(costs[0], costs[1], "statements for 2 and for 10 bulletins: {costs:?}");
        // 1 for the page with its texts, 1 for every link (countries, themes, programs, partners), 3 for the
        // observations, 3 for their sources: 8 where programs, partners and indicators are kept (SQLite here);
        // 8 more where nothing is kept (a test store on PostgreSQL runs no listener, so it has no generation).
        assert!(costs[1] <= 16, "a page of bulletins with its relations costs {} statements", costs[1]);
        db
    })
    .await;
}

/// A bulletin's selection with every list and every part of its figures.
const EVERY_LIST: &str = "slug title countries { code } themes programs { slug } partners { role partner { slug } } \
    observations { value country { code } countries { code } disaggregations { dimension category value } }";

#[tokio::test]
async fn reads_fetch_only_what_is_selected_and_answer_the_same() {
    on_each_backend(
        "reads_fetch_only_what_is_selected_and_answer_the_same",
        |db| async move {
            let db = db.seeded().await;
            let schema = schema_over(&db);
            // The lists a page reads up front are the ones each bulletin reads by itself through `node`.
            let page = run(
                &schema,
                format!("{{ bulletins(first: 10) {{ nodes {{ id {EVERY_LIST} }} }} }}"),
            )
            .await;
            assert!(page.get("errors").is_none(), "{page}");
            let nodes = page["data"]["bulletins"]["nodes"].as_array().expect("a page").clone();
            assert_eq!(nodes.len(), 10);
            let figures = |node: &serde_json::Value| node["observations"].as_array().map_or(0, Vec::len);
            assert!(
                nodes.iter().any(|n| figures(n) > 0),
                "the seed's bulletins report figures"
            );
            for node in &nodes {
                let id = node["id"].as_str().expect("an id");
                let alone = run(
                    &schema,
                    format!(r#"{{ node(id: "{id}") {{ id ... on Bulletin {{ {EVERY_LIST} }} }} }}"#),
                )
                .await;
                assert_eq!(&alone["data"]["node"], node, "{id}");
                let slug = node["slug"].as_str().expect("a slug");
                let detail = run(
                    &schema,
                    format!(r#"{{ bulletin(slug: "{slug}") {{ id {EVERY_LIST} }} }}"#),
                )
                .await;
                assert_eq!(&detail["data"]["bulletin"], node, "{slug}");
            }
            // What each selection costs: the bulletin or page with its texts is one statement, every link asked for
            // (countries, themes, programs, partners) and the figures one more, and each part of the figures asked
            // for one more. Programs and partners are left out here: whether their records are kept differs between
            // the test stores.
            let slug = "iom-promotes-labor-integration-of-migrants-in-tijuana";
            for (selection, statements) in [
                ("title", 1),
                ("title body availableLanguages", 1),
                ("title countries { code }", 2),
                ("title countries { code } themes", 2),
                ("title observations { value periodEnd }", 2),
                ("title themes observations { value }", 2),
                ("title countries { code } themes observations { value periodStart }", 2),
                ("title observations { value country { code } }", 3),
                (
                    "title observations { value countries { code } disaggregations { value } }",
                    4,
                ),
            ] {
                for query in [
                    format!(r#"{{ bulletin(slug: "{slug}") {{ {selection} }} }}"#),
                    format!("{{ bulletins(first: 5) {{ nodes {{ {selection} }} }} }}"),
                ] {
                    db.take_statement_count();
                    let response = run(&schema, query.as_str()).await;
                    assert!(response.get("errors").is_none(), "{response}");
                    assert_eq!(db.take_statement_count(), statements, "{query}");
                }
            }
            db
        },
    )
    .await;
}

#[tokio::test]
async fn database_errors_never_reach_the_client() {
    on_each_backend("database_errors_never_reach_the_client", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        db.execute_sql("DROP TABLE bulletin_themes")
            .await
            .expect("the table is dropped");
        let response = run(&schema, "{ bulletins { nodes { title themes } } }").await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], json!("INTERNAL"), "{response}");
        assert_eq!(error["extensions"]["requestId"], json!("test-request"));
        let text = response.to_string().to_lowercase();
        for leak in ["bulletin_themes", "select", "sqlite", "postgres", "relation", "table"] {
            assert!(!text.contains(leak), "the response leaks `{leak}`: {response}");
        }
        db
    })
    .await;
}
