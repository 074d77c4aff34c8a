//! `search` on SQLite (FTS5) and PostgreSQL (tsvector): the same queries must find the same bulletins.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use support::{run, schema_over};

use boletin_domain::bulletin::BulletinStatus;
use boletin_domain::import::parse_page;
use boletin_graphql::BoletinSchema;
use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The slugs a search finds (all pages' worth: first 100).
async fn found(schema: &BoletinSchema, query: &str, lang: &str) -> BTreeSet<String> {
    let lang = if lang.is_empty() {
        String::new()
    } else {
        format!(", lang: {lang}")
    };
    let response = run(
        schema,
        &format!(
            "{{ search(query: {}{lang}, first: 100) {{ nodes {{ bulletin {{ slug }} }} }} }}",
            json!(query)
        ),
    )
    .await;
    response["data"]["search"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {response}"))
        .iter()
        .filter_map(|n| n["bulletin"]["slug"].as_str().map(str::to_owned))
        .collect()
}

fn set(slugs: &[&str]) -> BTreeSet<String> {
    slugs.iter().map(|s| (*s).to_owned()).collect()
}

const CONGRESS: &str = "iom-organizes-regional-congress-on-human-trafficking-and-organ-trafficking-in";
const COURSE: &str = "health-professionals-will-be-able-to-learn-about-human-trafficking-through-a";
const RETURNS: &str = "over-a-thousand-migrants-have-returned-voluntarily-with-assistance-from-iom-in";
const CARAVANS: &str = "iom-interviews-migrants-from-caravans-in-chiapas";
const HUBS: &str = "migrant-information-hubs-in-costa-rica-strengthened-with-the-support-of-the";

#[tokio::test]
async fn searches_rank_and_mark_their_hits() {
    on_each_backend("searches_rank_and_mark_their_hits", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        for (query, lang, marked) in [("migracion", "ES", "<mark>Migraci"), ("trafficking", "", "<mark>trafficking</mark>")] {
            let lang_argument = if lang.is_empty() { String::new() } else { format!(", lang: {lang}") };
            let response = run(
                &schema,
                &format!("{{ search(query: \"{query}\"{lang_argument}) {{ totalCount nodes {{ score snippet bulletin {{ slug language }} }} }} }}"),
            )
            .await;
            let nodes = response["data"]["search"]["nodes"].as_array().cloned().unwrap_or_default();
            assert!(nodes.len() >= 2, "{query}: {response}");
            assert_eq!(response["data"]["search"]["totalCount"], json!(nodes.len()), "{response}");
            let scores: Vec<f64> = nodes.iter().filter_map(|n| n["score"].as_f64()).collect();
            assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{query}: not ranked: {scores:?}");
            assert!(
                nodes.iter().all(|n| n["snippet"].as_str().is_some_and(|s| s.contains("<mark>"))),
                "{query}: {response}"
            );
            assert!(nodes[0]["snippet"].as_str().is_some_and(|s| s.contains(marked)), "{query}: {response}");
        }
        let trafficking = run(&schema, r#"{ search(query: "trafficking") { nodes { bulletin { slug language } } } }"#).await;
        let top: BTreeSet<String> = trafficking["data"]["search"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .take(2)
            .filter_map(|n| n["bulletin"]["slug"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(top, set(&[CONGRESS, COURSE]), "the bulletins about trafficking come first: {trafficking}");
        assert_eq!(trafficking["data"]["search"]["nodes"][0]["bulletin"]["language"], "EN");
        db
    })
    .await;
}

#[tokio::test]
async fn words_match_across_case_accents_and_inflection_with_phrases_and_exclusions() {
    on_each_backend(
        "words_match_across_case_accents_and_inflection_with_phrases_and_exclusions",
        |db| async move {
            let db = db.seeded().await;
            let schema = schema_over(&db);
            assert_eq!(
                found(&schema, "migracion", "ES").await,
                found(&schema, "MIGRACIÓN", "ES").await
            );
            assert_eq!(found(&schema, "trabajos", "ES").await, set(&[CARAVANS, HUBS]));
            assert_eq!(found(&schema, "returned", "EN").await, set(&[RETURNS]));
            assert_eq!(found(&schema, "trata", "ES").await.len(), 3);
            assert_eq!(
                found(&schema, "trata -órganos", "ES").await,
                found(&schema, "trata", "ES")
                    .await
                    .into_iter()
                    .filter(|s| s != CONGRESS)
                    .collect()
            );
            assert_eq!(found(&schema, "\"trata de personas\"", "ES").await.len(), 3);
            assert_eq!(found(&schema, "\"personas de trata\"", "ES").await, set(&[]));
            let human = found(&schema, "\"human trafficking\"", "EN").await;
            let organ = found(&schema, "\"organ trafficking\"", "EN").await;
            assert!(
                human.contains(COURSE) && organ.contains(CONGRESS),
                "{human:?} {organ:?}"
            );
            assert_eq!(
                found(&schema, "\"human trafficking\" -\"organ trafficking\"", "EN").await,
                human.difference(&organ).cloned().collect()
            );
            db
        },
    )
    .await;
}

#[tokio::test]
async fn search_pages_filters_and_refusals() {
    on_each_backend("search_pages_filters_and_refusals", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        let everything = found(&schema, "migrantes", "ES").await;
        assert!(everything.len() >= 4, "{everything:?}");
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let response = run(
                &schema,
                &format!(
                    "{{ search(query: \"migrantes\", lang: ES, first: 2, after: {after}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ bulletin {{ slug }} }} }} }}"
                ),
            )
            .await;
            let search = &response["data"]["search"];
            assert_eq!(search["totalCount"], json!(everything.len()), "{response}");
            seen.extend(
                search["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n["bulletin"]["slug"].as_str().map(str::to_owned)),
            );
            if search["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = search["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen.len(), everything.len(), "pages repeat or skip hits: {seen:?}");
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), everything);

        let costa_rica = run(
            &schema,
            r#"{ search(query: "migrantes", lang: ES, filter: { countries: ["CR"] }) { nodes { bulletin { slug } } } }"#,
        )
        .await;
        assert_eq!(costa_rica["data"]["search"]["nodes"], json!([{"bulletin": {"slug": HUBS}}]), "{costa_rica}");

        for (query, field) in [
            (r#"{ search(query: "-solo") { totalCount } }"#, "query"),
            (r#"{ search(query: "   ") { totalCount } }"#, "query"),
            (r#"{ search(query: "migrantes", after: "nope") { totalCount } }"#, "after"),
            (r#"{ search(query: "migrantes", first: 101) { totalCount } }"#, "first"),
            (r#"{ search(query: "migrantes", filter: { countries: ["ZZ"] }) { totalCount } }"#, "filter.countries[0]"),
        ] {
            let response = run(&schema, query).await;
            assert_eq!(response["errors"][0]["extensions"]["code"], "INVALID", "{query}: {response}");
            assert_eq!(response["errors"][0]["extensions"]["field"], field, "{query}: {response}");
        }
        db
    })
    .await;
}

#[tokio::test]
async fn the_index_follows_imports_unpublishing_and_rebuilds() {
    on_each_backend("the_index_follows_imports_unpublishing_and_rebuilds", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        assert!(found(&schema, "zanahorias", "").await.is_empty());
        let page = parse_page(
            "9 March, 2019\n\nA garden of carrots in Upala\n\nMigrants grew carrots (zanahorias) together.\n",
        )
        .expect("the carrots page parses");
        let bulletin = page[0]
            .to_new_bulletin(BulletinStatus::Published)
            .expect("a valid bulletin");
        db.store
            .import_bulletins(&[bulletin])
            .await
            .map_err(|f| format!("{:?}", f.error))
            .expect("the bulletin is imported");
        assert_eq!(
            found(&schema, "carrot", "EN").await,
            set(&["a-garden-of-carrots-in-upala"])
        );
        assert_eq!(
            found(&schema, "zanahorias", "").await,
            set(&["a-garden-of-carrots-in-upala"])
        );

        db.execute_sql("UPDATE bulletins SET status = 'archived' WHERE slug = 'a-garden-of-carrots-in-upala'")
            .await
            .expect("the bulletin is archived");
        assert!(
            found(&schema, "carrots", "EN").await.is_empty(),
            "an archived bulletin is not found"
        );
        db.execute_sql("UPDATE bulletins SET status = 'published' WHERE slug = 'a-garden-of-carrots-in-upala'")
            .await
            .expect("the bulletin is published again");

        // An index lost or older than the texts is rebuilt from them.
        db.execute_sql("DELETE FROM bulletin_search")
            .await
            .expect("the search index is emptied");
        assert!(found(&schema, "carrots", "EN").await.is_empty());
        assert_eq!(
            db.store.ensure_search_index().await.map_err(|e| format!("{e:?}")),
            Ok(21)
        );
        assert_eq!(
            found(&schema, "carrots", "EN").await,
            set(&["a-garden-of-carrots-in-upala"])
        );
        assert_eq!(
            db.store.ensure_search_index().await.map_err(|e| format!("{e:?}")),
            Ok(0)
        );
        db
    })
    .await;
}
