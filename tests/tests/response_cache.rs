//! The response cache over real HTTP: a repeated public question is answered from memory with the same bytes;
//! any change, made here or on another server sharing the database, is seen by the very next read that could
//! show it; callers with a token never touch the cache.

use boletin::http::HttpSettings;
use boletin_e2e::{admin_and_editor, call_as, rename_program, start_with};
use boletin_persistence::testing::{on_each_backend, postgres};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PROGRAMS: &str = "{ programs { slug name } }";
const PROGRAM: &str = r#"{ program(slug: "iom-x-roadshow", lang: EN) { name version } }"#;

/// The response cache's hit and miss counts, from `/metrics`.
async fn hits_and_misses(base: &str) -> (u64, u64) {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("the metrics answer")
        .text()
        .await
        .unwrap_or_default();
    let count = |result: &str| {
        text.lines()
            .find_map(|line| {
                line.strip_prefix(&format!(
                    "boletin_response_cache_requests_total{{result=\"{result}\"}} "
                ))
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (count("hit"), count("miss"))
}

/// POSTs `query` anonymously and returns the body bytes and the ETag.
async fn read(base: &str, query: &str) -> (Vec<u8>, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the server answers");
    let tag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (response.bytes().await.map(|b| b.to_vec()).unwrap_or_default(), tag)
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("a JSON body")
}

#[tokio::test]
async fn repeated_questions_come_from_memory_until_a_change_could_alter_them() {
    on_each_backend(
        "repeated_questions_come_from_memory_until_a_change_could_alter_them",
        |db| async move {
            let (_, editor) = admin_and_editor(&db.store).await;
            let server = start_with(&db.connect_options(), HttpSettings::default()).await;
            let base = server.base.clone();
            let (first, first_tag) = read(&base, PROGRAMS).await;
            let (second, second_tag) = read(&base, PROGRAMS).await;
            assert_eq!((first, first_tag), (second, second_tag.clone()));
            assert_eq!(hits_and_misses(&base).await, (1, 1));

            // A change through this server: the very next read shows it.
            let (before, _) = read(&base, PROGRAM).await;
            assert_ne!(json_of(&before)["data"]["program"]["name"], "Renamed once");
            rename_program(&base, &editor, "iom-x-roadshow", "Renamed once").await;
            let (after, _) = read(&base, PROGRAM).await;
            assert_eq!(
                json_of(&after)["data"]["program"]["name"],
                "Renamed once",
                "{}",
                json_of(&after)
            );
            let (list, list_tag) = read(&base, PROGRAMS).await;
            assert!(String::from_utf8_lossy(&list).contains("Renamed once"));
            assert_ne!(list_tag, second_tag);

            // Callers with a token never read nor fill the cache.
            let counts = hits_and_misses(&base).await;
            let (_, body) = call_as(&base, Some(&editor), PROGRAMS).await;
            assert!(body.to_string().contains("Renamed once"));
            assert_eq!(hits_and_misses(&base).await, counts);
            server.stop().await;
            db
        },
    )
    .await;
}

#[tokio::test]
async fn a_change_made_through_another_server_reaches_this_servers_cache() {
    let test = "a_change_made_through_another_server_reaches_this_servers_cache";
    let Some(db) = postgres(test).await else {
        return;
    };
    let (_, editor) = admin_and_editor(&db.store).await;
    let reader = start_with(&db.connect_options(), HttpSettings::default()).await;
    let writer = start_with(&db.connect_options(), HttpSettings::default()).await;
    for _ in 0..2 {
        read(&reader.base, PROGRAM).await;
    }
    assert_eq!(hits_and_misses(&reader.base).await, (1, 1));
    rename_program(&writer.base, &editor, "iom-x-roadshow", "Renamed elsewhere").await;
    // The notification travels through PostgreSQL; the reader must show the change as soon as it hears it.
    let started = Instant::now();
    loop {
        let (body, _) = read(&reader.base, PROGRAM).await;
        if json_of(&body)["data"]["program"]["name"] == "Renamed elsewhere" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the reader kept serving {}",
            json_of(&body)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    reader.stop().await;
    writer.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn an_answer_from_memory_is_charged_to_the_rate_limit_like_one_computed() {
    let db = boletin_persistence::testing::sqlite().await;
    let settings = HttpSettings {
        rate_limit: Some(boletin::rate_limit::RateLimit {
            points_per_second: 0.001,
            burst: 60.0,
        }),
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    // `{ programs { slug name } }` costs 41: the first run fits the burst of 60, the cached second does not.
    let (first, _) = read(&server.base, PROGRAMS).await;
    assert!(json_of(&first).get("errors").is_none());
    let (second, _) = read(&server.base, PROGRAMS).await;
    assert_eq!(
        json_of(&second)["errors"][0]["extensions"]["code"],
        "RATE_LIMITED",
        "{}",
        json_of(&second)
    );
    assert_eq!(hits_and_misses(&server.base).await, (1, 1));
    server.stop().await;
    db.cleanup().await;
}
