//! Armor over real HTTP and WebSockets: error answers are never cached, answers larger than the limit are not
//! sent, and a socket cannot reuse an operation id or run operations without bound.

use boletin::http::HttpSettings;
use boletin::rate_limit::RateLimit;
use boletin_e2e::ws::{Heard, Protocol, open};
use boletin_e2e::{code, post, start_with};
use boletin_persistence::testing::sqlite;
use std::time::Duration;

const SOON: Duration = Duration::from_secs(5);

#[tokio::test]
async fn every_http_error_says_no_store() {
    let db = sqlite().await;
    let settings = HttpSettings {
        max_body_bytes: 4096,
        rate_limit: Some(RateLimit {
            points_per_second: 0.001,
            burst: 60.0,
        }),
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let json = "application/json";
    let cases = [
        (client.post(&url).header("content-type", json).body("{nope"), 400),
        (
            client
                .post(&url)
                .header("content-type", json)
                .header("authorization", "Bearer nonsense")
                .body(r#"{"query":"{ __typename }"}"#),
            401,
        ),
        (client.get(format!("{}/nowhere", server.base)), 404),
        (client.put(&url).header("content-type", json).body("{}"), 405),
        (client.get(format!("{url}?query=mutation%20%7B%20x%20%7D")), 405),
        (
            client.post(&url).header("content-type", json).body("x".repeat(5000)),
            413,
        ),
        (client.post(&url).header("content-type", "text/plain").body("{}"), 415),
    ];
    for (request, expected) in cases {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let cache = response.headers().get("cache-control").cloned();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, expected, "{body}");
        assert_eq!(
            cache.as_ref().map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "{status}: {body}"
        );
        assert!(body.contains("\"code\""), "{status}: {body}");
    }
    // Spend the budget, then a refusal for the rate limit.
    let (status, _, _) = post(&server.base, "{ programs { slug name } }").await;
    assert_eq!(status, 200);
    let (status, headers, body) = post(&server.base, "{ programs { slug name } }").await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (429, "RATE_LIMITED".to_owned()),
        "{body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn an_answer_larger_than_the_limit_is_refused_not_sent() {
    let db = sqlite().await;
    let settings = HttpSettings {
        max_response_bytes: 2_000,
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    let feed = "{ bulletins(first: 10) { nodes { slug title summary body } } }";
    let (status, headers, body) = post(&server.base, feed).await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (200, "RESPONSE_TOO_LARGE".to_owned()),
        "{body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.to_string().len() < 500, "{body}");
    let (_, _, body) = post(&server.base, "{ bulletins(first: 2) { nodes { slug } } }").await;
    assert!(body.get("errors").is_none(), "{body}");

    // Over a WebSocket, the result message is replaced the same way.
    let mut socket = open(&server.base, Protocol::TransportWs, None)
        .await
        .expect("the socket opens");
    socket.init().await;
    socket.start("1", feed).await;
    match socket.hear(SOON).await {
        Heard::Payload(payload) => assert_eq!(code(&payload), "RESPONSE_TOO_LARGE", "{payload}"),
        other => panic!("{other:?}"),
    }
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_socket_cannot_reuse_a_running_id_nor_run_operations_without_bound() {
    let db = sqlite().await;
    let settings = HttpSettings {
        max_subscriptions_per_socket: 2,
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    let subscription = "subscription { bulletinPublished { slug } }";
    for protocol in [Protocol::TransportWs, Protocol::LegacyWs] {
        let mut socket = open(&server.base, protocol, None)
            .await
            .expect("the socket opens with either protocol");
        socket.init().await;
        socket.start("a", subscription).await;
        socket.start("b", subscription).await;
        // A third at once is refused on its own; the socket goes on.
        socket.start("c", subscription).await;
        match socket.hear(SOON).await {
            Heard::Error(payload) => assert!(
                payload.to_string().contains("TOO_MANY_SUBSCRIPTIONS"),
                "{protocol:?}: {payload}"
            ),
            other => panic!("{protocol:?}: {other:?}"),
        }
        // Once one completes, another may start.
        socket.complete("a").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        socket.start("c", "{ programs { slug } }").await;
        match socket.hear(SOON).await {
            Heard::Payload(payload) => assert!(payload.get("errors").is_none(), "{protocol:?}: {payload}"),
            other => panic!("{protocol:?}: {other:?}"),
        }
        // Reusing the id of an operation still running closes the socket, as graphql-transport-ws says.
        socket.start("b", subscription).await;
        assert_eq!(socket.hear(SOON).await, Heard::Closed(Some(4409)), "{protocol:?}");
    }
    server.stop().await;
    db.cleanup().await;
}
