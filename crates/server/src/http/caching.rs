//! Making GraphQL responses cheap to fetch again: Automatic Persisted Queries (Apollo's protocol), `Cache-Control`
//! from the schema's cache hints, strong `ETag`s with `304 Not Modified`, and gzip or brotli compression.

use super::refusal::Refusal;
use super::sha256_hex;
use async_graphql::{ServerError, Value};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

/// The most query text kept for persisted queries, in bytes; the oldest are forgotten first.
const PERSISTED_BYTES: usize = 16 * 1024 * 1024;
/// Bodies smaller than this are sent uncompressed: compressing them saves nothing.
const COMPRESS_FROM: usize = 1024;

/// Queries registered by hash (Automatic Persisted Queries), kept in this process. Behind a load balancer, a
/// server that has not seen a hash answers `PERSISTED_QUERY_NOT_FOUND` and the client sends the query once more,
/// as the protocol expects.
#[derive(Default)]
pub struct PersistedQueries {
    inner: Mutex<Persisted>,
}

#[derive(Default)]
struct Persisted {
    queries: HashMap<String, String>,
    order: VecDeque<String>,
    bytes: usize,
}

/// What to do with one operation of a request after looking at its persisted-query extension.
pub enum Resolved {
    /// Run it (its query filled in from the store when it came as a hash alone).
    Run(Box<async_graphql::Request>),
    /// Answer it with this error: its hash is unknown.
    NotFound,
}

impl PersistedQueries {
    /// Applies the `persistedQuery` extension of `request`, if any: a hash alone is looked up, a hash with its
    /// query is checked and remembered. A hash that does not match its query, or a version other than 1, is
    /// refused.
    pub fn resolve(&self, mut request: async_graphql::Request) -> Result<Resolved, Refusal> {
        let Some(extension) = request.extensions.get("persistedQuery") else {
            return Ok(Resolved::Run(Box::new(request)));
        };
        let Value::Object(fields) = extension else {
            return Err(Refusal::bad_request("`extensions.persistedQuery` must be an object"));
        };
        if fields.get("version") != Some(&Value::from(1)) {
            return Err(Refusal::bad_request("only version 1 of persisted queries is supported"));
        }
        let Some(Value::String(hash)) = fields.get("sha256Hash") else {
            return Err(Refusal::bad_request(
                "`extensions.persistedQuery.sha256Hash` is missing",
            ));
        };
        let hash = hash.to_ascii_lowercase();
        let Ok(mut persisted) = self.inner.lock() else {
            return Ok(Resolved::NotFound);
        };
        if request.query.is_empty() {
            return Ok(match persisted.queries.get(&hash) {
                Some(query) => {
                    request.query = query.clone();
                    Resolved::Run(Box::new(request))
                }
                None => Resolved::NotFound,
            });
        }
        if sha256_hex(request.query.as_bytes()) != hash {
            return Err(Refusal::persisted_query_mismatch());
        }
        if !persisted.queries.contains_key(&hash) {
            persisted.bytes += request.query.len();
            persisted.queries.insert(hash.clone(), request.query.clone());
            persisted.order.push_back(hash);
            while persisted.bytes > PERSISTED_BYTES {
                let Some(oldest) = persisted.order.pop_front() else {
                    break;
                };
                if let Some(query) = persisted.queries.remove(&oldest) {
                    persisted.bytes -= query.len();
                }
            }
        }
        Ok(Resolved::Run(Box::new(request)))
    }
}

/// The response to an operation whose hash is unknown, as Apollo clients expect it.
pub fn not_found() -> async_graphql::Response {
    let mut error = ServerError::new("PersistedQueryNotFound", None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "PERSISTED_QUERY_NOT_FOUND");
    error.extensions = Some(extensions);
    async_graphql::Response::from_errors(vec![error])
}

/// `Cache-Control` for responses with these cache hints: public and cacheable for the shortest `max-age` of the
/// fields asked for; `no-store` when an operation failed or anything is private to the caller; `no-cache`
/// (revalidate with the ETag) when no field gave a hint.
pub fn cache_control(responses: &[&async_graphql::Response]) -> HeaderValue {
    if responses
        .iter()
        .any(|r| !r.errors.is_empty() || !r.cache_control.public)
    {
        return HeaderValue::from_static("no-store");
    }
    let max_age = responses
        .iter()
        .map(|r| r.cache_control.max_age)
        .try_fold(0, |age, other| match (age, other) {
            (_, -1) => None,
            (0, b) => Some(b),
            (a, 0) => Some(a),
            (a, b) => Some(a.min(b)),
        });
    match max_age {
        Some(age) if age > 0 => {
            HeaderValue::from_str(&format!("public, max-age={age}")).unwrap_or(HeaderValue::from_static("no-cache"))
        }
        _ => HeaderValue::from_static("no-cache"),
    }
}

/// The encodings boletin compresses with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }
}

/// The encoding to use for a client's `Accept-Encoding`: brotli, then gzip, when accepted with a non-zero weight.
pub(super) fn preferred_encoding(headers: &HeaderMap) -> Option<Encoding> {
    let accepted = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    let accepts = |name: &str| {
        accepted.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            coding.eq_ignore_ascii_case(name) && weight > 0.0
        })
    };
    [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .find(|e| accepts(e.name()))
}

/// `body` compressed with a fast setting, fit for answers computed per request: brotli at quality 4 with a
/// window no larger than the body (a large window costs megabytes of zeroed memory per call), gzip at level 3.
fn compress(body: &[u8], encoding: Encoding) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::new(3));
            encoder.write_all(body).ok()?;
            encoder.finish().ok()
        }
        Encoding::Brotli => {
            let mut out = Vec::with_capacity(body.len() / 4);
            let window = usize::BITS - body.len().max(1).leading_zeros();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 4,
                lgwin: i32::try_from(window.clamp(16, 22)).unwrap_or(22),
                size_hint: body.len(),
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
            Some(out)
        }
    }
}

/// Whether an `If-None-Match` header names one of `tags` (or is `*`).
fn matches(if_none_match: Option<&HeaderValue>, tags: &[&str]) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tags.contains(&tag)
    })
}

/// An answer ready to send: its bytes, `Cache-Control`, strong ETag, and each compressed form computed at most
/// once (kept with the answer in the response cache, a repeated answer is never compressed twice).
pub struct Prepared {
    body: axum::body::Bytes,
    cache_control: HeaderValue,
    /// The ETag of the uncompressed bytes, quoted.
    tag: String,
    brotli: OnceLock<Option<axum::body::Bytes>>,
    gzip: OnceLock<Option<axum::body::Bytes>>,
}

impl Prepared {
    /// `body` with `cache_control`, tagged with the start of its SHA-256.
    pub fn new(body: Vec<u8>, cache_control: HeaderValue) -> Self {
        let tag = format!("\"{}\"", &sha256_hex(&body)[..32]);
        Self {
            body: body.into(),
            cache_control,
            tag,
            brotli: OnceLock::new(),
            gzip: OnceLock::new(),
        }
    }

    /// The uncompressed length.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// The body in `encoding`, compressed on first use.
    fn encoded(&self, encoding: Encoding) -> Option<axum::body::Bytes> {
        let slot = match encoding {
            Encoding::Brotli => &self.brotli,
            Encoding::Gzip => &self.gzip,
        };
        slot.get_or_init(|| compress(&self.body, encoding).map(Into::into))
            .clone()
    }

    /// A JSON response with `status`, `Cache-Control`, a strong `ETag` (one per encoding), compression when the
    /// client accepts it, and `304 Not Modified` when `conditional` and `If-None-Match` names the current tag.
    pub fn respond(
        &self,
        status: StatusCode,
        request_headers: &HeaderMap,
        conditional: bool,
        content_type: HeaderValue,
    ) -> Response {
        let encoding = (self.body.len() >= COMPRESS_FROM)
            .then(|| preferred_encoding(request_headers))
            .flatten();
        let tag = match encoding {
            Some(encoding) => format!("{}-{}\"", self.tag.trim_end_matches('"'), encoding.name()),
            None => self.tag.clone(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        // The language of texts may follow Accept-Language (when a query names no `lang`).
        headers.insert(
            header::VARY,
            HeaderValue::from_static("accept-encoding, accept-language"),
        );
        if let Ok(value) = HeaderValue::from_str(&tag) {
            headers.insert(header::ETAG, value);
        }
        if conditional
            && status == StatusCode::OK
            && matches(request_headers.get(header::IF_NONE_MATCH), &[&tag, &self.tag])
        {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(header::CONTENT_TYPE, content_type);
        let body = match encoding.and_then(|e| Some((e, self.encoded(e)?))) {
            Some((encoding, compressed)) => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.name()));
                compressed
            }
            None => self.body.clone(),
        };
        (status, headers, body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_the_clients_weights() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            preferred_encoding(&headers)
        };
        assert_eq!(with("gzip, deflate, br"), Some(Encoding::Brotli));
        assert_eq!(with("gzip, br;q=0"), Some(Encoding::Gzip));
        assert_eq!(with("identity"), None);
        assert_eq!(preferred_encoding(&HeaderMap::new()), None);
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_stars() {
        let value = HeaderValue::from_static("\"a\", W/\"b\"");
        assert!(matches(Some(&value), &["\"b\""]));
        assert!(!matches(Some(&value), &["\"c\""]));
        assert!(matches(Some(&HeaderValue::from_static("*")), &["\"c\""]));
        assert!(!matches(None, &["\"c\""]));
    }

    #[test]
    fn persisted_queries_are_checked_remembered_and_bounded() {
        let store = PersistedQueries::default();
        let query = "{ programs { slug } }";
        let hash = sha256_hex(query.as_bytes());
        let request = |query: &str, hash: &str| {
            let mut request = async_graphql::Request::new(query);
            let extension: Value = serde_json::from_value(serde_json::json!({ "version": 1, "sha256Hash": hash }))
                .expect("a valid persisted-query extension");
            request.extensions.insert("persistedQuery".to_owned(), extension);
            request
        };
        assert!(matches!(store.resolve(request("", &hash)), Ok(Resolved::NotFound)));
        assert!(
            matches!(store.resolve(request("{ partners { slug } }", &hash)), Err(r) if r.code == "PERSISTED_QUERY_HASH_MISMATCH")
        );
        assert!(matches!(store.resolve(request(query, &hash)), Ok(Resolved::Run(_))));
        match store.resolve(request("", &hash.to_uppercase())) {
            Ok(Resolved::Run(found)) => assert_eq!(found.query, query),
            _ => panic!("the registered query was not found"),
        }
    }
}
