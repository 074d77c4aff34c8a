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
use boletin_persistence::Backend;
use boletin_persistence::testing::{TestDatabase, on_each_backend};
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

/// Imports the bulletin a page of text describes, published.
async fn import_page(db: &TestDatabase, text: &str) {
    let page = parse_page(text).expect("the page parses");
    let bulletin = page[0]
        .to_new_bulletin(BulletinStatus::Published)
        .expect("a valid bulletin");
    db.store
        .import_bulletins(&[bulletin])
        .await
        .map_err(|f| format!("{:?}", f.error))
        .expect("the bulletin is imported");
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
        import_page(
            &db,
            "9 March, 2019\n\nA garden of carrots in Upala\n\nMigrants grew carrots (zanahorias) together.\n",
        )
        .await;
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

        // An index lost or older than the texts is rebuilt from them, whichever of its two parts was lost.
        for lost in [
            "DELETE FROM bulletin_search; DELETE FROM bulletin_search_terms",
            "DELETE FROM bulletin_search",
            "DELETE FROM bulletin_search_terms",
        ] {
            db.execute_sql(lost).await.expect("the search index is emptied");
            if lost.contains(';') {
                assert!(found(&schema, "carrots", "EN").await.is_empty());
                assert!(found(&schema, "carrots zanahorias", "").await.is_empty());
            }
            assert_eq!(
                db.store.ensure_search_index().await.map_err(|e| format!("{e:?}")),
                Ok(21),
                "{lost}"
            );
            assert_eq!(
                found(&schema, "carrots", "EN").await,
                set(&["a-garden-of-carrots-in-upala"])
            );
            assert_eq!(
                found(&schema, "garden carrots", "EN").await,
                set(&["a-garden-of-carrots-in-upala"])
            );
            assert_eq!(
                db.store.ensure_search_index().await.map_err(|e| format!("{e:?}")),
                Ok(0)
            );
        }
        db
    })
    .await;
}

/// Every hit of a search, in order: `(slug, score)`, read a page of `first` at a time, and the `totalCount`.
async fn every_hit(schema: &BoletinSchema, query: &str, lang: &str, first: u32) -> (Vec<(String, f64)>, Value) {
    let lang = if lang.is_empty() {
        String::new()
    } else {
        format!(", lang: {lang}")
    };
    let (mut hits, mut after) = (Vec::new(), Value::Null);
    loop {
        let response = run(
            schema,
            &format!(
                "{{ search(query: {}{lang}, first: {first}, after: {after}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ score bulletin {{ slug }} }} }} }}",
                json!(query)
            ),
        )
        .await;
        let search = &response["data"]["search"];
        assert!(search.is_object(), "{query}: {response}");
        let total = search["totalCount"].clone();
        hits.extend(search["nodes"].as_array().into_iter().flatten().map(|n| {
            (
                n["bulletin"]["slug"].as_str().unwrap_or_default().to_owned(),
                n["score"].as_f64().unwrap_or(f64::NAN),
            )
        }));
        if search["pageInfo"]["hasNextPage"] != json!(true) {
            return (hits, total);
        }
        after = search["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn one_word_searches_read_the_terms_in_score_order_and_find_what_full_text_finds() {
    on_each_backend(
        "one_word_searches_read_the_terms_in_score_order_and_find_what_full_text_finds",
        |db| async move {
            let db = db.seeded().await;
            let schema = schema_over(&db);
            for word in ["migrantes", "trata", "trafficking", "oim", "iom", "returned", "costa", "zanahorias"] {
                for lang in ["ES", "EN", ""] {
                    let (whole, total) = every_hit(&schema, word, lang, 100).await;
                    // A page of one at a time, and of three: the cursor skips nothing and repeats nothing, in
                    // one language or two (where a bulletin is listed once, at its better version).
                    for first in [1, 3] {
                        assert_eq!(every_hit(&schema, word, lang, first).await, (whole.clone(), total.clone()), "{word} {lang} by {first}");
                    }
                    assert_eq!(total, json!(whole.len()), "{word} {lang}");
                    assert!(
                        whole.windows(2).all(|w| w[0].1 >= w[1].1),
                        "{word} {lang}: not best first: {whole:?}"
                    );
                    let slugs: BTreeSet<String> = whole.iter().map(|(slug, _)| slug.clone()).collect();
                    assert_eq!(slugs.len(), whole.len(), "{word} {lang}: a bulletin listed twice: {whole:?}");
                    // The full-text index (reached by excluding a word no bulletin has) finds the same bulletins.
                    let (full_text, full_total) = every_hit(&schema, &format!("{word} -qqqzzz"), lang, 100).await;
                    assert_eq!(
                        full_text.into_iter().map(|(slug, _)| slug).collect::<BTreeSet<_>>(),
                        slugs,
                        "{word} {lang}"
                    );
                    assert_eq!(full_total, total, "{word} {lang}");
                }
            }
            assert!(every_hit(&schema, "migrantes", "ES", 100).await.0.len() >= 4);

            // The terms follow the bulletin's status, however it changes.
            let before = every_hit(&schema, "returned", "EN", 100).await.1;
            db.execute_sql(&format!("UPDATE bulletins SET status = 'draft' WHERE slug = '{RETURNS}'"))
                .await
                .expect("the bulletin is unpublished");
            let (hits, total) = every_hit(&schema, "returned", "EN", 100).await;
            assert!(!hits.iter().any(|(slug, _)| slug == RETURNS), "{hits:?}");
            assert_eq!(total.as_i64(), before.as_i64().map(|n| n - 1));
            db.execute_sql(&format!("UPDATE bulletins SET status = 'published' WHERE slug = '{RETURNS}'"))
                .await
                .expect("the bulletin is published again");
            assert_eq!(every_hit(&schema, "returned", "EN", 100).await.0.first().map(|h| h.0.as_str()), Some(RETURNS));

            if db.backend == Backend::Postgres {
                // A text past PostgreSQL's tsvector limits: a word 300 times in a field (255 positions kept), and
                // words past position 16,383 (where the rest collapses into one position).
                let long = format!(
                    "9 March, 2019\n\nA long report on shelters\n\n{}{}{}\n",
                    "uno dos tres cuatro ".repeat(4_300),
                    "refugio ".repeat(50),
                    "migrantes ".repeat(300)
                );
                import_page(&db, &long).await;
                // The kept score of every term is PostgreSQL's own ts_rank for it, so one-word searches rank as
                // the full-text index ranks.
                let differing = db
                    .scalar(
                        "WITH expected AS (\
                           SELECT s.bulletin_id, s.lang, u.lexeme AS term, \
                                  ts_rank('{0.1, 0.2, 0.4, 1.0}', s.document, quote_literal(u.lexeme)::tsquery)::float8 AS score \
                           FROM bulletin_search s, unnest(s.document) u) \
                         SELECT COUNT(*) FROM expected e FULL JOIN bulletin_search_terms t \
                           ON t.bulletin_id = e.bulletin_id AND t.lang = e.lang AND t.term = e.term \
                         WHERE e.term IS NULL OR t.term IS NULL OR e.score <> -t.rank",
                    )
                    .await
                    .expect("the scores are compared");
                assert_eq!(differing, 0, "terms whose kept score is not ts_rank's");
                let terms = db
                    .scalar("SELECT COUNT(*) FROM bulletin_search_terms")
                    .await
                    .expect("the terms are counted");
                assert!(terms > 1000, "{terms} terms");
            }
            db
        },
    )
    .await;
}
