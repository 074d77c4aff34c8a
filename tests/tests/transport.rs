//! Transport rules over real HTTP: media types, sizes, methods, batches, slow clients, rate limits, probes and
//! metrics. These do not depend on the database, so they run on SQLite.

use boletin::http::HttpSettings;
use boletin::rate_limit::RateLimit;
use boletin_e2e::{code, post, post_json, raw, start_with};
use boletin_persistence::testing::sqlite;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn send(request: reqwest::RequestBuilder) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap_or_default())
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn posts_must_be_json_and_small_and_well_formed() {
    let db = sqlite().await;
    let settings = HttpSettings {
        max_body_bytes: 4096,
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let query = r#"{"query": "{ programs { slug } }"}"#;

    // Cross-site forms and plain text are refused, whatever they hold.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = client.post(&url).body(query);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, headers, body) = send(request).await;
        assert_eq!(status, 415, "{content_type:?}: {body}");
        assert!(headers.contains_key("x-request-id"));
        assert_eq!(code(&json_of(&body)), "UNSUPPORTED_MEDIA_TYPE");
    }
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "application/graphql-response+json",
    ] {
        let (status, _, body) = send(client.post(&url).header("content-type", content_type).body(query)).await;
        assert_eq!(status, 200, "{content_type}: {body}");
    }

    // Malformed bodies: 400 with a short message and no internals.
    let deep_variables = format!(
        r#"{{"query": "{{ programs {{ slug }} }}", "variables": {{"x": {}1{}}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not JSON", b"{".to_vec()),
        ("a number for the query", br#"{"query": 5}"#.to_vec()),
        ("not UTF-8", b"{\"query\": \"{ programs { slug } }\xff\xfe\"}".to_vec()),
        ("a string", br#""{ programs { slug } }""#.to_vec()),
        ("an empty batch", b"[]".to_vec()),
        ("deeply nested variables", deep_variables.into_bytes()),
    ];
    for (name, body) in cases {
        let (status, headers, text) =
            send(client.post(&url).header("content-type", "application/json").body(body)).await;
        assert_eq!(status, 400, "{name}: {text}");
        assert!(headers.contains_key("x-request-id"), "{name}");
        let json = json_of(&text);
        assert_eq!(code(&json), "BAD_REQUEST", "{name}: {text}");
        assert!(text.len() < 400, "{name}: a short message: {text}");
    }

    // Too large: refused on its declared length before the body is read (only 10 bytes of 10 MB are sent),
    // and counted while streaming when no length is declared.
    let (status, _, text) = send(
        client
            .post(&url)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"query": "{{ programs {{ slug }} }}", "pad": "{}"}}"#,
                "x".repeat(5000)
            )),
    )
    .await;
    assert_eq!(
        (status.as_u16(), code(&json_of(&text))),
        (413, "PAYLOAD_TOO_LARGE".to_owned())
    );
    let declared = raw(
        server.addr,
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"query\":",
        Duration::from_secs(5),
    )
    .await;
    assert!(declared.starts_with("HTTP/1.1 413"), "{declared}");
    let mut chunked =
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..5 {
        chunked.extend_from_slice(format!("3e8\r\n{}\r\n", " ".repeat(1000)).as_bytes());
    }
    let streamed = raw(server.addr, &chunked, Duration::from_secs(5)).await;
    assert!(streamed.starts_with("HTTP/1.1 413"), "{streamed}");
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations_and_batches_are_bounded() {
    let db = sqlite().await;
    let settings = HttpSettings {
        max_batch: 3,
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);

    let (status, _, body) = send(client.get(&url).query(&[("query", "{ programs { slug } }")])).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        json_of(&body)["data"]["programs"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    let (status, _, body) = send(client.get(&url).query(&[
        ("query", "query Q($n: Int) { bulletins(first: $n) { nodes { slug } } }"),
        ("variables", r#"{"n": 2}"#),
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json_of(&body)["data"]["bulletins"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );

    for query in [
        "mutation { anything }",
        "query Q { programs { slug } } mutation M { anything }",
    ] {
        let (status, headers, body) = send(client.get(&url).query(&[("query", query), ("operationName", "M")])).await;
        assert_eq!(status, 405, "{query}: {body}");
        assert_eq!(headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
        assert_eq!(code(&json_of(&body)), "METHOD_NOT_ALLOWED");
    }
    let (status, _, _) = send(client.put(&url).header("content-type", "application/json").body("{}")).await;
    assert_eq!(status, 405);

    let batch = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({ "query": format!("{{ a{i}: programs {{ slug }} }}") }))
                .collect(),
        )
    };
    let (status, _, body) = post_json(&server.base, &batch(3)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(3), "{body}");
    assert!(body[2]["data"]["a2"].is_array(), "{body}");
    let (status, _, body) = post_json(&server.base, &batch(4)).await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (400, "BATCH_TOO_LARGE".to_owned()),
        "{body}"
    );
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let db = sqlite().await;
    let settings = HttpSettings {
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(500),
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;

    // Headers that never end: the connection is closed without an answer.
    let started = Instant::now();
    let answer = raw(
        server.addr,
        b"POST /graphql HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the connection stayed open"
    );
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A body that never arrives: 408.
    let answer = raw(
        server.addr,
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\"",
        Duration::from_secs(10),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn costly_clients_are_rate_limited_by_address() {
    let db = sqlite().await;
    let settings = HttpSettings {
        rate_limit: Some(RateLimit {
            points_per_second: 1.0,
            burst: 500.0,
        }),
        trust_forwarded_for: true,
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    // About 200 points each: two pass, the third waits.
    let costly = json!({ "query": "{ bulletins(first: 100) { nodes { slug } } }" });
    let from = |address: &str| {
        client
            .post(&url)
            .header("x-forwarded-for", format!("10.0.0.1, {address}"))
            .json(&costly)
    };
    for _ in 0..2 {
        let (status, _, body) = send(from("192.0.2.7")).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, headers, body) = send(from("192.0.2.7")).await;
    assert_eq!(status, 429, "{body}");
    let retry_after: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(retry_after >= 1, "{headers:?}");
    let json = json_of(&body);
    assert_eq!(code(&json), "RATE_LIMITED");
    assert_eq!(json["errors"][0]["extensions"]["retryAfter"], json!(retry_after));
    // Another address has its own budget.
    let (status, _, body) = send(from("192.0.2.8")).await;
    assert_eq!(status, 200, "{body}");

    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("the metrics answer")
        .text()
        .await
        .unwrap_or_default();
    assert!(metrics.contains("boletin_rate_limited_total 1"), "{metrics}");
    assert!(
        metrics.contains("boletin_errors_total{code=\"RATE_LIMITED\"} 1"),
        "{metrics}"
    );
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn probes_metrics_and_the_playground_switch() {
    let db = sqlite().await;
    let settings = HttpSettings {
        playground: false,
        ..HttpSettings::default()
    };
    let server = start_with(&db.connect_options(), settings).await;
    let client = reqwest::Client::new();
    for (path, status) in [("/healthz", 200), ("/readyz", 200)] {
        let (actual, headers, _) = send(client.get(format!("{}{path}", server.base))).await;
        assert_eq!(actual, status, "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
    }
    let browser = client
        .get(format!("{}/graphql", server.base))
        .header("accept", "text/html");
    let (status, _, body) = send(browser).await;
    assert_eq!(status, 404, "the playground is off: {body}");
    // A client that forgot its query gets a JSON error, never the page.
    let (status, headers, body) = send(client.get(format!("{}/graphql", server.base))).await;
    let refused = json_of(&body)["errors"][0]["extensions"]["code"].clone();
    assert_eq!((status.as_u16(), refused), (400, json!("BAD_REQUEST")), "{body}");
    assert_eq!(headers["content-type"], "application/json");

    let (_, _, body) = post(&server.base, "query Feed { bulletins(first: 2) { nodes { slug } } }").await;
    assert!(body["data"]["bulletins"].is_object(), "{body}");
    let (_, _, body) = post(&server.base, "{ bulletins(first: 500) { nodes { slug } } }").await;
    assert_eq!(code(&body), "INVALID");
    let (status, headers, metrics) = send(client.get(format!("{}/metrics", server.base))).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/plain")),
        "{headers:?}"
    );
    for expected in [
        "boletin_requests_total{operation=\"Feed\",type=\"query\",outcome=\"ok\"} 1",
        "boletin_requests_total{operation=\"anonymous\",type=\"query\",outcome=\"error\"} 1",
        "boletin_request_duration_seconds_count{operation=\"Feed\",type=\"query\",outcome=\"ok\"} 1",
        "boletin_build_info{version=",
        "process_resident_memory_bytes ",
        "boletin_errors_total{code=\"INVALID\"} 1",
        "boletin_http_responses_total{status=\"404\"} 1",
        "boletin_db_connections_max 10",
        "# TYPE boletin_request_duration_seconds histogram",
    ] {
        assert!(metrics.contains(expected), "missing {expected}:\n{metrics}");
    }
    server.stop().await;
    db.cleanup().await;
}
