//! HTTP caching over real HTTP: persisted queries over POST and GET, Cache-Control, ETag and 304, compression.

use boletin::http::HttpSettings;
use boletin_e2e::{code, start_with};
use boletin_persistence::testing::sqlite;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Read as _;

const QUERY: &str = "{ bulletins(first: 10) { totalCount nodes { slug title summary publishedOn } } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn send(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (
        status,
        headers,
        response.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
    )
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn persisted_queries_over_get_are_cacheable_and_revalidate_with_304() {
    let db = sqlite().await;
    let server = start_with(&db.connect_options(), HttpSettings::default()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let hash = sha256(QUERY);

    // A hash alone, before the server knows it: the client must send the query once.
    let (status, _, body) = send(client.post(&url).json(&json!({ "extensions": persisted(&hash) }))).await;
    let body = json_of(&body);
    assert_eq!(
        (status, code(&body)),
        (200, "PERSISTED_QUERY_NOT_FOUND".to_owned()),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    let (status, _, body) = send(client.get(&url).query(&[("extensions", persisted(&hash).to_string())])).await;
    assert_eq!(
        (status, code(&json_of(&body))),
        (200, "PERSISTED_QUERY_NOT_FOUND".to_owned())
    );

    // A hash that is not its query's is refused, and not remembered.
    let (status, _, body) = send(
        client
            .post(&url)
            .json(&json!({ "query": "{ programs { slug } }", "extensions": persisted(&hash) })),
    )
    .await;
    assert_eq!(
        (status, code(&json_of(&body))),
        (400, "PERSISTED_QUERY_HASH_MISMATCH".to_owned())
    );

    // The query with its hash registers it; then the hash alone works, over GET too.
    let (status, _, body) = send(
        client
            .post(&url)
            .json(&json!({ "query": QUERY, "extensions": persisted(&hash) })),
    )
    .await;
    assert_eq!(status, 200);
    let expected = json_of(&body);
    assert_eq!(expected["data"]["bulletins"]["totalCount"], json!(10));
    let (status, headers, body) = send(client.get(&url).query(&[("extensions", persisted(&hash).to_string())])).await;
    assert_eq!(status, 200);
    assert_eq!(json_of(&body), expected);
    assert_eq!(header(&headers, "cache-control"), "public, max-age=60");
    let etag = header(&headers, "etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "a strong ETag: {etag}"
    );

    // The same GET with the tag: 304, no body. A different tag: the full answer.
    let (status, headers, body) = send(
        client
            .get(&url)
            .query(&[("extensions", persisted(&hash).to_string())])
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(status, 304, "{}", String::from_utf8_lossy(&body));
    assert!(body.is_empty());
    assert_eq!(header(&headers, "etag"), etag);
    let (status, _, _) = send(
        client
            .get(&url)
            .query(&[("extensions", persisted(&hash).to_string())])
            .header("if-none-match", "\"something-else\""),
    )
    .await;
    assert_eq!(status, 200);

    // Hints follow the fields asked for: statistics are cached longer than lists, and errors not at all.
    let (_, headers, _) = send(client.get(&url).query(&[("query", "{ indicators { code } }")])).await;
    assert_eq!(header(&headers, "cache-control"), "public, max-age=300");
    let (_, headers, _) = send(
        client
            .get(&url)
            .query(&[("query", "{ indicators { code } bulletins { totalCount } }")]),
    )
    .await;
    assert_eq!(header(&headers, "cache-control"), "public, max-age=60");
    let (_, headers, _) = send(
        client
            .get(&url)
            .query(&[("query", "{ bulletins(first: 500) { totalCount } }")]),
    )
    .await;
    assert_eq!(header(&headers, "cache-control"), "no-store");
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let db = sqlite().await;
    let server = start_with(&db.connect_options(), HttpSettings::default()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let plain = send(client.post(&url).json(&json!({ "query": QUERY }))).await;
    assert_eq!(header(&plain.1, "content-encoding"), "");
    let identity = json_of(&plain.2);

    let (status, headers, body) = send(
        client
            .post(&url)
            .header("accept-encoding", "gzip")
            .json(&json!({ "query": QUERY })),
    )
    .await;
    assert_eq!((status, header(&headers, "content-encoding")), (200, "gzip"));
    assert!(header(&headers, "vary").contains("accept-encoding"));
    assert!(body.len() < plain.2.len(), "{} >= {}", body.len(), plain.2.len());
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut text)
        .expect("the gzip body decodes");
    assert_eq!(json_of(&text), identity);
    assert_ne!(
        header(&headers, "etag"),
        header(&plain.1, "etag"),
        "each encoding has its own strong tag"
    );

    let (status, headers, body) = send(
        client
            .post(&url)
            .header("accept-encoding", "gzip, deflate, br")
            .json(&json!({ "query": QUERY })),
    )
    .await;
    assert_eq!((status, header(&headers, "content-encoding")), (200, "br"));
    let mut text = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut text).expect("the brotli body decodes");
    assert_eq!(json_of(&text), identity);

    // Small answers are not worth compressing.
    let (_, headers, _) = send(
        client
            .post(&url)
            .header("accept-encoding", "gzip")
            .json(&json!({ "query": "{ __typename }" })),
    )
    .await;
    assert_eq!(header(&headers, "content-encoding"), "");
    server.stop().await;
    db.cleanup().await;
}
