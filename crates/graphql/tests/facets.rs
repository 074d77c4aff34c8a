//! Facets on bulletin lists and searches, on SQLite and PostgreSQL: each count is the size of the list that
//! filtering by that value would give.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use support::{run, schema_over};

use boletin_persistence::testing::on_each_backend;
use serde_json::json;

const FACETS: &str = "facets { countries { key label count } themes { key label count } programs { key label count } years { key label count } }";

#[tokio::test]
async fn each_facet_count_is_the_size_of_the_filtered_list() {
    on_each_backend("each_facet_count_is_the_size_of_the_filtered_list", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let all = run(&schema, &format!("{{ bulletins(lang: ES) {{ totalCount {FACETS} }} }}")).await;
        let facets = &all["data"]["bulletins"]["facets"];
        assert_eq!(
            facets["years"],
            json!([{"key": "2019", "label": "2019", "count": 10}]),
            "{all}"
        );
        let mexico = facets["countries"]
            .as_array()
            .and_then(|c| c.iter().find(|v| v["key"] == "MX"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(mexico["label"], "México", "{all}");
        for (facet, argument) in [
            ("countries", "countries"),
            ("themes", "themes"),
            ("programs", "programs"),
        ] {
            let values = facets[facet].as_array().cloned().unwrap_or_default();
            assert!(!values.is_empty(), "{facet}: {all}");
            let counts: Vec<u64> = values.iter().filter_map(|v| v["count"].as_u64()).collect();
            assert!(
                counts.windows(2).all(|w| w[0] >= w[1]),
                "{facet} not most frequent first: {counts:?}"
            );
            for value in values {
                let key = value["key"].as_str().unwrap_or_default();
                let filter = if facet == "themes" {
                    format!("{{ {argument}: [{}] }}", key.to_uppercase())
                } else {
                    format!("{{ {argument}: [\"{key}\"] }}")
                };
                let list = run(&schema, &format!("{{ bulletins(filter: {filter}) {{ totalCount }} }}")).await;
                assert_eq!(
                    list["data"]["bulletins"]["totalCount"], value["count"],
                    "{facet} {key}: {list}"
                );
            }
        }
        // Within a filter, the facets count only the filtered bulletins.
        let narrowed = run(
            &schema,
            &format!("{{ bulletins(filter: {{ countries: [\"CR\"] }}) {{ totalCount {FACETS} }} }}"),
        )
        .await;
        let total = &narrowed["data"]["bulletins"]["totalCount"];
        let countries = &narrowed["data"]["bulletins"]["facets"]["countries"];
        assert_eq!(countries[0]["key"], "CR", "{narrowed}");
        assert_eq!(&countries[0]["count"], total, "{narrowed}");
        db
    })
    .await;
}

#[tokio::test]
async fn search_results_carry_facets_of_every_match() {
    on_each_backend("search_results_carry_facets_of_every_match", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let response = run(
            &schema,
            &format!("{{ search(query: \"trafficking\", first: 1) {{ totalCount {FACETS} }} }}"),
        )
        .await;
        let search = &response["data"]["search"];
        assert!(search["totalCount"].as_u64().is_some_and(|n| n >= 2), "{response}");
        let trafficking = search["facets"]["themes"]
            .as_array()
            .and_then(|t| t.iter().find(|v| v["key"] == "human_trafficking"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(trafficking["label"], "Human trafficking", "{response}");
        assert!(
            trafficking["count"].as_u64().is_some_and(|n| n >= 2),
            "all pages count, not one: {response}"
        );
        assert_eq!(
            search["facets"]["years"][0]["count"], search["totalCount"],
            "{response}"
        );
        db
    })
    .await;
}
