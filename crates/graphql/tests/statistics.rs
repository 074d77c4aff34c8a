//! `statistics` on SQLite and PostgreSQL: the seed's figures, then a catalogue with more figures to exercise
//! periods, stocks, program trees, filters and warnings.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use support::{run, schema_over};

use boletin_persistence::testing::{TestDatabase, on_each_backend};
use boletin_persistence::{BUILTIN_SEED, parse_dataset};
use serde_json::{Value, json};

/// The seed with three more figures: a January 2019 count of returns in Guatemala from another bulletin
/// (overlapping the joint Guatemala–Mexico figure), a December 2018 count in Honduras under a sub-program, and a
/// later count of the IOM X Roadshow's countries.
async fn extended(db: TestDatabase) -> TestDatabase {
    let mut seed: Value = serde_json::from_str(BUILTIN_SEED).expect("the built-in seed is JSON");
    let extra = [
        json!({"indicator": "returns_assisted", "source": "iom-builds-capacities-for-monitoring-migration-flows-in-mexico-and-guatemala",
               "value": 100, "period": {"start": "2019-01-01", "end": "2019-01-31"}, "countries": ["GT"],
               "program": "assisted-voluntary-return-special-program", "partner": "iom"}),
        json!({"indicator": "returns_assisted", "source": "somos-colmena-emerges-as-a-virtual-informational-community-for-migrants-in",
               "value": 50, "period": {"start": "2018-12-01", "end": "2018-12-31"}, "countries": ["HN"],
               "program": "somos-colmena"}),
        json!({"indicator": "countries_covered", "source": "iom-backs-communication-for-development-as-a-tool-to-promote-regular-migration",
               "value": 5, "period": {"start": "2019-06-01", "end": "2019-06-01"}, "countries": ["GT", "HN", "SV", "MX"],
               "program": "iom-x-roadshow", "partner": "iom"}),
    ];
    if let Some(observations) = seed["observations"].as_array_mut() {
        observations.extend(extra);
    }
    let dataset = parse_dataset(&seed.to_string()).expect("the extended seed parses");
    db.store
        .load_dataset(&dataset)
        .await
        .expect("the seed with three more figures loads");
    db.take_statement_count();
    db
}

fn points(response: &Value) -> Vec<Value> {
    response["data"]["statistics"]["points"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_seed_answers_the_questions_it_was_built_for() {
    on_each_backend("the_seed_answers_the_questions_it_was_built_for", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let by_country = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted", groupBy: [COUNTRY]) { total observationCount points { value observationCount country { code } } warnings { kind observations { value } } } }"#,
        )
        .await;
        assert_eq!(
            by_country["data"]["statistics"],
            json!({
                "total": 1195.0, "observationCount": 1,
                "points": [
                    {"value": 1195.0, "observationCount": 1, "country": {"code": "GT"}},
                    {"value": 1195.0, "observationCount": 1, "country": {"code": "MX"}}
                ],
                "warnings": [{"kind": "JOINT_COUNTRIES", "observations": [{"value": 1195.0}]}]
            }),
            "{:?}: {by_country}",
            db.backend
        );
        let minors = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted", groupBy: [CATEGORY], disaggregation: "age_group") { total points { value category } } }"#,
        )
        .await;
        assert_eq!(
            minors["data"]["statistics"],
            json!({"total": 1195.0, "points": [{"value": 48.0, "category": "unaccompanied_minor"}]}),
            "{minors}"
        );
        let stock = run(
            &schema,
            r#"{ statistics(indicator: "countries_covered", groupBy: [PROGRAM]) { total points { value program { slug } } } }"#,
        )
        .await;
        assert_eq!(
            stock["data"]["statistics"],
            json!({"total": 6.0, "points": [
                {"value": 2.0, "program": {"slug": "displacement-tracking-matrix"}},
                {"value": 4.0, "program": {"slug": "iom-x-roadshow"}}
            ]}),
            "{stock}"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn periods_stocks_program_trees_and_filters() {
    on_each_backend("periods_stocks_program_trees_and_filters", |db| async move {
        let db = extended(db).await;
        let schema = schema_over(&db);
        // A figure belongs to the period in which it ends: the joint October–March figure counts in March.
        let monthly = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted", groupBy: [MONTH]) { total points { value periodStart periodEnd } } }"#,
        )
        .await;
        assert_eq!(
            monthly["data"]["statistics"],
            json!({"total": 1345.0, "points": [
                {"value": 50.0, "periodStart": "2018-12-01", "periodEnd": "2018-12-31"},
                {"value": 100.0, "periodStart": "2019-01-01", "periodEnd": "2019-01-31"},
                {"value": 1195.0, "periodStart": "2019-03-01", "periodEnd": "2019-03-31"}
            ]}),
            "{monthly}"
        );
        let quarterly = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted", groupBy: [QUARTER]) { points { value periodStart periodEnd } } }"#,
        )
        .await;
        assert_eq!(
            points(&quarterly),
            [
                json!({"value": 50.0, "periodStart": "2018-10-01", "periodEnd": "2018-12-31"}),
                json!({"value": 1295.0, "periodStart": "2019-01-01", "periodEnd": "2019-03-31"})
            ],
            "{quarterly}"
        );
        // A program includes its sub-programs; the period filter reads the day a figure ends.
        let tree = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted", groupBy: [YEAR], filter: { programs: ["regional-migration-program"] }) { total points { value periodStart } } }"#,
        )
        .await;
        assert_eq!(
            tree["data"]["statistics"],
            json!({"total": 50.0, "points": [{"value": 50.0, "periodStart": "2018-01-01"}]}),
            "{tree}"
        );
        let recent = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted", filter: { periodFrom: "2019-01-01", countries: ["GT"] }) { total observationCount } }"#,
        )
        .await;
        assert_eq!(
            recent["data"]["statistics"],
            json!({"total": 1295.0, "observationCount": 2}),
            "{recent}"
        );
        // Stocks: each series' latest figure. The Roadshow's June count supersedes its February one.
        let stock = run(
            &schema,
            r#"{ statistics(indicator: "countries_covered", groupBy: [MONTH]) { total points { value periodStart } } }"#,
        )
        .await;
        assert_eq!(
            stock["data"]["statistics"],
            json!({"total": 7.0, "points": [
                {"value": 6.0, "periodStart": "2019-02-01"},
                {"value": 5.0, "periodStart": "2019-06-01"}
            ]}),
            "{stock}"
        );
        let none = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted", groupBy: [COUNTRY], filter: { countries: ["PA"] }) { total observationCount points { value } warnings { kind } } }"#,
        )
        .await;
        assert_eq!(
            none["data"]["statistics"],
            json!({"total": null, "observationCount": 0, "points": [], "warnings": []}),
            "{none}"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn warnings_name_the_figures_an_analyst_should_check() {
    on_each_backend("warnings_name_the_figures_an_analyst_should_check", |db| async move {
        let db = extended(db).await;
        // Parts larger than the figure can only come from outside boletin (the domain refuses them).
        db.execute_sql("UPDATE observation_disaggregations SET value = 5000 WHERE category = 'unaccompanied_minor'")
            .await
            .expect("the parts are raised");
        // A change behind boletin's back reaches the rollups when they are rebuilt.
        db.store.rebuild_rollups(&|_, _| {}).await.expect("the rollups are rebuilt");
        let schema = schema_over(&db);
        let response = run(
            &schema,
            r#"{ statistics(indicator: "returns_assisted") { warnings { kind country { code } dimension observations { value } } } }"#,
        )
        .await;
        assert_eq!(
            response["data"]["statistics"]["warnings"],
            json!([
                {"kind": "PARTS_EXCEED_TOTAL", "country": null, "dimension": "age_group", "observations": [{"value": 1195.0}]},
                {"kind": "POSSIBLE_DOUBLE_COUNT", "country": {"code": "GT"}, "dimension": null, "observations": [{"value": 1195.0}, {"value": 100.0}]}
            ]),
            "{response}"
        );
        db
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_warnings_name_are_read_at_once() {
    on_each_backend("the_figures_warnings_name_are_read_at_once", |db| async move {
        let db = extended(db).await;
        let schema = schema_over(&db);
        let kinds = r#"{ statistics(indicator: "returns_assisted", groupBy: [COUNTRY]) { warnings { kind } } }"#;
        let figures = r#"{ statistics(indicator: "returns_assisted", groupBy: [COUNTRY]) { warnings { kind observations { id value } } } }"#;
        db.take_statement_count();
        run(&schema, kinds).await;
        let without = db.take_statement_count();
        let response = run(&schema, figures).await;
        let with = db.take_statement_count();
        let warnings = response["data"]["statistics"]["warnings"].as_array().cloned().unwrap_or_default();
        let named: usize = warnings
            .iter()
            .map(|w| w["observations"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(warnings.len() >= 2 && named >= 3, "{response}");
        // Their figures, countries and parts, once for all the warnings (a multi-threaded runtime, where the batch
        // loader, which waits for nothing, would split the warnings' asks into several batches).
        assert!(with - without <= 3, "{without} statements without the figures, {with} with them: {response}");
        db
    })
    .await;
}

#[tokio::test]
async fn identical_statistics_in_one_request_are_computed_once() {
    on_each_backend("identical_statistics_in_one_request_are_computed_once", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let one = r#"{ a: statistics(indicator: "returns_assisted", groupBy: [COUNTRY]) { total } }"#;
        let two = r#"{ a: statistics(indicator: "returns_assisted", groupBy: [COUNTRY]) { total } b: statistics(indicator: "returns_assisted", groupBy: [COUNTRY]) { total } }"#;
        db.take_statement_count();
        let response = run(&schema, one).await;
        assert!(response.get("errors").is_none(), "{response}");
        let once = db.take_statement_count();
        let response = run(&schema, two).await;
        assert_eq!(response["data"]["b"]["total"], json!(1195.0), "{response}");
        assert_eq!(db.take_statement_count(), once, "the second alias was computed again");
        db
    })
    .await;
}

#[tokio::test]
async fn bad_statistic_arguments_are_refused_with_their_field() {
    on_each_backend("bad_statistic_arguments_are_refused_with_their_field", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        for (query, code, field) in [
            (r#"{ statistics(indicator: "returns_assisted", groupBy: [YEAR, MONTH]) { total } }"#, "INVALID", json!("groupBy")),
            (r#"{ statistics(indicator: "returns_assisted", groupBy: [CATEGORY]) { total } }"#, "INVALID", json!("disaggregation")),
            (r#"{ statistics(indicator: "returns_assisted", groupBy: [CATEGORY], disaggregation: "sex") { total } }"#, "INVALID", json!("disaggregation")),
            (r#"{ statistics(indicator: "returns_assisted", filter: { countries: ["ZZ"] }) { total } }"#, "INVALID", json!("filter.countries[0]")),
            (r#"{ statistics(indicator: "Returns Assisted") { total } }"#, "INVALID", json!("indicator")),
            (r#"{ statistics(indicator: "people_counted_twice") { total } }"#, "NOT_FOUND", Value::Null),
        ] {
            let response = run(&schema, query).await;
            let extensions = &response["errors"][0]["extensions"];
            assert_eq!((extensions["code"].as_str(), &extensions["field"]), (Some(code), &field), "{query}: {response}");
        }
        db
    })
    .await;
}

/// Points are written as one list (`crates/graphql/src/statistics/points.rs`); a selection that list does not
/// handle, such as a response key given twice, goes through async-graphql field by field. Both give the same
/// answer for every field, through fragments, aliases and `__typename`, in the query's order.
#[tokio::test]
async fn points_answer_the_same_as_one_list_and_field_by_field() {
    on_each_backend("points_answer_the_same_as_one_list_and_field_by_field", |db| async move {
        let db = extended(db).await;
        let schema = schema_over(&db);
        let fields = r#"__typename amount: value observationCount country { code name } program { slug name }
            partner { slug } ... on StatisticPoint { periodStart } ...ends category"#;
        for arguments in [
            r#"indicator: "returns_assisted", groupBy: [COUNTRY, PROGRAM, PARTNER, MONTH]"#,
            r#"indicator: "returns_assisted", groupBy: [COUNTRY, CATEGORY], disaggregation: "age_group", lang: ES"#,
            r#"indicator: "countries_covered", groupBy: [PROGRAM, YEAR]"#,
        ] {
            let one_list = format!(
                "{{ statistics({arguments}) {{ points {{ {fields} }} }} }} fragment ends on StatisticPoint {{ periodEnd }}"
            );
            // `amount` twice: GraphQL merges the two, and the list leaves such a selection to async-graphql.
            let field_by_field = format!(
                "{{ statistics({arguments}) {{ points {{ {fields} amount: value }} }} }} fragment ends on StatisticPoint {{ periodEnd }}"
            );
            // Once each first, so that both read programs and partners the store keeps between requests.
            data_text(&schema, &one_list).await;
            data_text(&schema, &field_by_field).await;
            db.take_statement_count();
            let fast = data_text(&schema, &one_list).await;
            let fast_statements = db.take_statement_count();
            let slow = data_text(&schema, &field_by_field).await;
            let slow_statements = db.take_statement_count();
            assert!(fast.contains("\"amount\""), "{arguments}: {fast}");
            assert_eq!(fast, slow, "{arguments}");
            assert!(fast_statements <= slow_statements, "{fast_statements} statements as one list, {slow_statements} field by field");
            let first = &fast[fast.find("\"__typename\"").expect("a point")..];
            let order = ["__typename", "amount", "observationCount", "country", "program", "partner", "periodStart", "periodEnd", "category"];
            let at: Vec<usize> = order.iter().map(|key| first.find(&format!("\"{key}\"")).unwrap_or(usize::MAX)).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "fields out of the query's order: {first}");
        }
        db
    })
    .await;
}

/// The answer's data as the server writes it (fields in the order they come), after checking it has no errors.
async fn data_text(schema: &boletin_graphql::BoletinSchema, query: &str) -> String {
    let request = async_graphql::Request::new(query).data(boletin_graphql::RequestId("test-request".into()));
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
    serde_json::to_string(&response.data).expect("the data serialises")
}
