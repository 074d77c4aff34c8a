//! The real server on port 0, spoken to over HTTP, on SQLite and PostgreSQL.

use boletin::{Server, open_store, state};
use boletin_persistence::testing::{TestDatabase, on_each_backend};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// Starts a server on `db` (seeding it as `boletin serve` does) and returns its base URL and a stopper.
async fn start(db: &TestDatabase) -> (String, tokio::sync::oneshot::Sender<()>) {
    let store = open_store(&db.connect_options(), true)
        .await
        .expect("the seeded store opens");
    let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), state(store).await)
        .await
        .expect("the server binds a free port");
    let addr = server.local_addr().expect("the server's address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
}

async fn post(base: &str, query: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn a_fresh_database_is_seeded_and_served_newest_first() {
    on_each_backend("a_fresh_database_is_seeded_and_served_newest_first", |db| async move {
        let (base, stop) = start(&db).await;
        let (status, headers, body) = post(&base, "{ bulletins(first: 20) { totalCount nodes { title publishedOn countries { code } } } }").await;
        assert_eq!(status, 200);
        assert!(headers.contains_key("x-request-id"));
        assert_eq!(body["data"]["bulletins"]["totalCount"], json!(10));
        let dates: Vec<&str> = body["data"]["bulletins"]["nodes"].as_array().into_iter().flatten().filter_map(|n| n["publishedOn"].as_str()).collect();
        assert_eq!(dates.len(), 10);
        assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
        assert_eq!(dates[0], "2019-03-08");

        let (_, _, spanish) = post(&base, "{ bulletins(lang: ES, first: 1, orderBy: PUBLISHED_ON_ASC) { nodes { title language } } }").await;
        assert_eq!(
            spanish["data"]["bulletins"]["nodes"][0],
            json!({"title": "Centros de información para personas migrantes en Costa Rica se fortalecen con el apoyo del Fondo Canadá para Iniciativas Locales", "language": "ES"})
        );
        let _ = stop.send(());
        db
    })
    .await;
}

#[tokio::test]
async fn health_playground_and_request_ids() {
    on_each_backend("health_playground_and_request_ids", |db| async move {
        let (base, stop) = start(&db).await;
        let client = reqwest::Client::new();
        let health = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("the health check answers");
        assert_eq!(health.status(), 200);
        let playground = client
            .get(format!("{base}/graphql"))
            .header("accept", "text/html")
            .send()
            .await
            .expect("the playground answers");
        assert!(playground.headers().contains_key("content-security-policy"));
        let expected = if boletin::http::web_pages_missing().is_some() {
            503
        } else {
            200
        };
        assert_eq!(playground.status(), expected);
        assert!(playground.text().await.unwrap_or_default().contains("playground"));
        let echoed = client
            .post(format!("{base}/graphql"))
            .header("x-request-id", "abc-123")
            .json(&json!({"query": "{ indicators { code } }"}))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(
            echoed.headers().get("x-request-id").and_then(|v| v.to_str().ok()),
            Some("abc-123")
        );
        let _ = stop.send(());
        db
    })
    .await;
}

#[tokio::test]
async fn a_lost_database_fails_health_and_queries_without_leaking() {
    on_each_backend(
        "a_lost_database_fails_health_and_queries_without_leaking",
        |db| async move {
            let (base, stop) = start(&db).await;
            // The server has its own pool; breaking the schema underneath it is a database fault it cannot hide.
            db.execute_sql("DROP TABLE observation_disaggregations")
                .await
                .expect("the table is dropped");
            let (status, _, body) = post(
                &base,
                r#"{ indicator(code: "returns_assisted") { observations { value } } }"#,
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(body["errors"][0]["extensions"]["code"], json!("INTERNAL"), "{body}");
            assert!(!body.to_string().contains("observation_disaggregations"), "{body}");
            let _ = stop.send(());
            db
        },
    )
    .await;
}

#[tokio::test]
async fn malformed_bodies_get_400_with_a_short_json_error() {
    let db = boletin_persistence::testing::sqlite().await;
    let (base, stop) = start(&db).await;
    let client = reqwest::Client::new();
    for body in ["", "{", r#"{"query": 5}"#, "[]"] {
        let response = client
            .post(format!("{base}/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 400, "{body:?}");
        assert!(response.headers().contains_key("x-request-id"));
        let json: Value = response.json().await.unwrap_or_else(|e| panic!("{body:?}: {e}"));
        assert_eq!(
            json["errors"][0]["extensions"]["code"],
            json!("BAD_REQUEST"),
            "{body:?}: {json}"
        );
        assert!(!json.to_string().contains("InvalidRequest"), "{json}");
    }
    let _ = stop.send(());
}
