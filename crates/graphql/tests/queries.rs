//! The GraphQL schema over real databases: queries and their JSON answers, on SQLite and PostgreSQL.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use support::{run, schema_over};

use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};

/// The cases: a query and the part of the response it must contain (compared with `contains`).
fn cases() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "newest first, with the total",
            "{ bulletins(first: 3) { totalCount nodes { publishedOn } pageInfo { hasNextPage hasPreviousPage } } }",
            json!({"data": {"bulletins": {"totalCount": 10, "nodes": [{"publishedOn": "2019-03-08"}, {"publishedOn": "2019-03-08"}, {"publishedOn": "2019-03-05"}], "pageInfo": {"hasNextPage": true, "hasPreviousPage": false}}}}),
        ),
        (
            "returns assisted: total, minors and source",
            r#"{ indicator(code: "returns_assisted") { total unit aggregation observations { value country { code } countries { code } source { title } disaggregations { dimension category value } } } }"#,
            json!({"data": {"indicator": {"total": 1195.0, "unit": "PEOPLE", "aggregation": "SUM", "observations": [{"value": 1195.0, "country": null, "countries": [{"code": "GT"}, {"code": "MX"}], "source": {"title": "Over a thousand migrants have returned voluntarily with assistance from IOM in Central America"}, "disaggregations": [{"dimension": "age_group", "category": "unaccompanied_minor", "value": 48.0}]}]}}}),
        ),
        (
            "the Tijuana job fair's figures",
            r#"{ bulletin(slug: "iom-promotes-labor-integration-of-migrants-in-tijuana") { dateline observations { value place periodStart periodEnd indicator { code } } } }"#,
            json!({"data": {"bulletin": {"dateline": "Tijuana, Mexico", "observations": [
                {"value": 33.0, "place": "Tijuana", "periodStart": "2019-02-27", "periodEnd": "2019-02-28", "indicator": {"code": "job_fair_hires"}},
                {"value": 256.0, "place": "Tijuana", "periodStart": "2019-02-27", "periodEnd": "2019-02-28", "indicator": {"code": "job_fair_attendees"}},
                {"value": 746.0, "place": "Tijuana", "periodStart": "2019-02-27", "periodEnd": "2019-02-28", "indicator": {"code": "job_openings"}},
                {"value": 18.0, "place": "Tijuana", "periodStart": "2019-02-27", "periodEnd": "2019-02-28", "indicator": {"code": "participating_businesses"}}
            ]}}}),
        ),
        (
            "Spanish titles and country names",
            r#"{ bulletins(first: 5, lang: ES, filter: { countries: ["do"], programs: ["planami"] }) { nodes { language title countries { code name } } } }"#,
            json!({"data": {"bulletins": {"nodes": [{"language": "ES", "title": "El Ministro de Relaciones Exteriores de la República Dominicana inicia consultas para la creación del Plan Nacional de Acción sobre Migración", "countries": [{"code": "DO", "name": "República Dominicana"}]}]}}}),
        ),
        (
            "filters by theme, program, partner and dates",
            r#"{ a: bulletins(filter: { themes: [HUMAN_TRAFFICKING] }) { totalCount } b: bulletins(filter: { programs: ["planami"] }) { totalCount } c: bulletins(filter: { partners: ["canada-fund-for-local-initiatives"] }) { totalCount } d: bulletins(filter: { publishedFrom: "2019-02-05", publishedTo: "2019-03-01" }) { totalCount } }"#,
            json!({"data": {"a": {"totalCount": 2}, "b": {"totalCount": 1}, "c": {"totalCount": 1}, "d": {"totalCount": 3}}}),
        ),
        (
            "a program with its parent, sub-programs, partners and bulletins",
            r#"{ program(slug: "regional-migration-program", lang: ES) { name language subPrograms { slug parent { slug } } partners { role partner { acronym name } } bulletins { slug } } }"#,
            json!({"data": {"program": {"name": "Programa Regional sobre Migración: Mesoamérica–El Caribe", "language": "ES", "subPrograms": [{"slug": "somos-colmena", "parent": {"slug": "regional-migration-program"}}], "partners": [{"role": "IMPLEMENTER", "partner": {"acronym": "OIM", "name": "Organización Internacional para las Migraciones"}}], "bulletins": [{"slug": "somos-colmena-emerges-as-a-virtual-informational-community-for-migrants-in"}]}}}),
        ),
        (
            "a partner with its programs and bulletins",
            r#"{ partner(slug: "municipality-of-tijuana") { kind country { code name } programs { role program { slug } } bulletins { slug } } }"#,
            json!({"data": {"partner": {"kind": "MUNICIPALITY", "country": {"code": "MX", "name": "Mexico"}, "programs": [{"role": "HOST", "program": {"slug": "tijuana-municipal-job-fair-2019"}}, {"role": "ORGANIZER", "program": {"slug": "tijuana-municipal-job-fair-2019"}}], "bulletins": [{"slug": "iom-promotes-labor-integration-of-migrants-in-tijuana"}]}}}),
        ),
        (
            "unknown records are null",
            r#"{ bulletin(slug: "no-such-bulletin") { id } b: bulletin(slug: "Not A Slug!") { id } program(slug: "x") { id } partner(slug: "x") { id } indicator(code: "NOPE") { id } node(id: "garbage") { id } }"#,
            json!({"data": {"bulletin": null, "b": null, "program": null, "partner": null, "indicator": null, "node": null}}),
        ),
        (
            "page sizes are refused, not clamped",
            "{ bulletins(first: 1000000) { totalCount } }",
            json!({"errors": [{"message": "invalid first: must be between 0 and 100", "extensions": {"code": "INVALID", "field": "first"}}]}),
        ),
        (
            "negative page sizes are refused",
            "{ bulletins(last: -1) { totalCount } }",
            json!({"errors": [{"extensions": {"code": "INVALID", "field": "last"}}]}),
        ),
        (
            "queries that cannot run say so with a code",
            "{ bulletins(first: \"many\") { totalCount } nope }",
            // Each mistake once: the wrong `first`, and the unknown field.
            json!({"errors": [{"extensions": {"code": "INVALID_QUERY"}}, {"extensions": {"code": "INVALID_QUERY"}}]}),
        ),
        (
            "malformed dates are refused with a code",
            r#"{ bulletins(filter: { publishedFrom: "2019-13-01" }) { totalCount } }"#,
            json!({"errors": [{"extensions": {"code": "INVALID"}}]}),
        ),
        (
            "a value of the wrong kind for a date names its argument",
            r#"{ bulletins(filter: { publishedFrom: 5 }) { totalCount } }"#,
            json!({"errors": [{"extensions": {"code": "INVALID", "field": "filter"}}]}),
        ),
        (
            "syntax errors are refused with a code",
            "{ bulletins(",
            json!({"errors": [{"extensions": {"code": "INVALID_QUERY"}}]}),
        ),
        (
            "bad cursors are refused",
            r#"{ bulletins(after: "nonsense") { totalCount } }"#,
            json!({"errors": [{"extensions": {"code": "INVALID", "field": "after"}}]}),
        ),
        (
            "bad country codes are refused with their path",
            r#"{ bulletins(filter: { countries: ["MX", "XX"] }) { totalCount } }"#,
            json!({"errors": [{"extensions": {"code": "INVALID", "field": "filter.countries[1]"}}]}),
        ),
        (
            "inverted date ranges are refused",
            r#"{ bulletins(filter: { publishedFrom: "2019-03-01", publishedTo: "2019-02-01" }) { totalCount } }"#,
            json!({"errors": [{"extensions": {"code": "INVALID", "field": "filter.publishedFrom"}}]}),
        ),
    ]
}

/// Whether `actual` holds everything in `expected`: objects by key, arrays element by element and of equal length.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Value::Array(a), Value::Array(e)) => a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| contains(av, ev)),
        _ => actual == expected,
    }
}

#[tokio::test]
async fn queries_answer_as_expected() {
    on_each_backend("queries_answer_as_expected", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        for (name, query, expected) in cases() {
            let actual = run(&schema, query).await;
            assert!(
                contains(&actual, &expected),
                "{name} ({:?}):\n  got      {actual}\n  expected {expected}",
                db.backend
            );
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

#[tokio::test]
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
        // 3 for the page (bulletins, texts, countries and themes), 1 for the program and partner links, 3 for the
        // observations, 3 for their sources: 10 where programs, partners and indicators are kept (SQLite here);
        // 8 more where nothing is kept (a test store on PostgreSQL runs no listener, so it has no generation).
        assert!(costs[1] <= 18, "a page of bulletins with its relations costs {} statements", costs[1]);
        db
    })
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
        let response = run(&schema, "{ bulletins { nodes { title } } }").await;
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
