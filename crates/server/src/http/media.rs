//! Which media type a GraphQL answer is sent as, from the request's `Accept` (GraphQL over HTTP): the GraphQL
//! response type, whose status codes say whether the request ran (400 for a document that fails to parse or
//! validate, or variables that do not fit), or plain JSON, always 200 for a well-formed request, for the
//! clients written before it.

use super::refusal::Refusal;
use axum::http::{HeaderMap, HeaderValue, header};
use boletin_domain::language::Language;

/// The media type of a GraphQL answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`.
    GraphqlResponse,
    /// `application/json`: what clients that send no `Accept`, or `*/*`, receive.
    Json,
}

impl Media {
    /// The `Content-Type` of an answer in this media type.
    pub fn content_type(self) -> HeaderValue {
        match self {
            Self::GraphqlResponse => HeaderValue::from_static("application/graphql-response+json; charset=utf-8"),
            Self::Json => HeaderValue::from_static("application/json"),
        }
    }

    /// The media type `Accept` asks for: the GraphQL response type when the client names it with the highest
    /// weight it gives any type boletin sends, JSON when it names JSON, `application/*` or `*/*` (or sends no
    /// `Accept`), and 406 when it accepts neither.
    pub fn negotiate(headers: &HeaderMap) -> Result<Self, Refusal> {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Ok(Self::Json);
        };
        let (mut graphql, mut json) = (0.0_f32, 0.0_f32);
        for (range, weight) in weighted(accept) {
            match range.as_str() {
                "application/graphql-response+json" => graphql = graphql.max(weight),
                "application/json" | "application/*" | "*/*" => json = json.max(weight),
                _ => {}
            }
        }
        if graphql > 0.0 && graphql >= json {
            Ok(Self::GraphqlResponse)
        } else if json > 0.0 || accept.trim().is_empty() {
            Ok(Self::Json)
        } else {
            Err(Refusal::not_acceptable())
        }
    }
}

/// The language `Accept-Language` prefers among the two boletin publishes in (Spanish and English), by weight
/// and then by order; `None` when it names neither. A `lang` argument in the query overrides it.
pub fn preferred_language(headers: &HeaderMap) -> Option<Language> {
    let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(f32, Language)> = None;
    for (tag, weight) in weighted(accept) {
        let primary = tag.split('-').next().unwrap_or_default();
        let language = match primary {
            "es" => Language::Es,
            "en" => Language::En,
            _ => continue,
        };
        if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, language));
        }
    }
    best.map(|(_, language)| language)
}

/// The items of an `Accept`-style header, lower-cased, each with its weight (`q`, 1 when absent).
fn weighted(header: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    header.split(',').map(|item| {
        let mut parts = item.split(';');
        let value = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (value, weight)
    })
}

/// Whether `Accept` names HTML before any JSON type: a browser opening `/graphql`, not a client.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            let html = accept.find("text/html");
            let json = accept.find("json");
            html.is_some_and(|h| json.is_none_or(|j| h < j))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: &'static str) -> Result<Media, &'static str> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        Media::negotiate(&headers).map_err(|r| r.code)
    }

    #[test]
    fn the_client_s_weights_choose_the_media_type() {
        assert_eq!(Media::negotiate(&HeaderMap::new()), Ok(Media::Json));
        assert_eq!(with("*/*"), Ok(Media::Json));
        assert_eq!(with("application/json"), Ok(Media::Json));
        assert_eq!(with("application/graphql-response+json"), Ok(Media::GraphqlResponse));
        assert_eq!(
            with("application/graphql-response+json, application/json;q=0.9"),
            Ok(Media::GraphqlResponse)
        );
        assert_eq!(
            with("application/graphql-response+json;q=0.5, application/json"),
            Ok(Media::Json)
        );
        assert_eq!(with("application/graphql-response+json;q=0, */*"), Ok(Media::Json));
        assert_eq!(with("text/plain"), Err("NOT_ACCEPTABLE"));
    }

    #[test]
    fn accept_language_picks_spanish_or_english() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(value));
            preferred_language(&headers)
        };
        assert_eq!(with("es-MX,es;q=0.9,en;q=0.8"), Some(Language::Es));
        assert_eq!(with("fr-FR, en-GB;q=0.7, es;q=0.5"), Some(Language::En));
        assert_eq!(with("en;q=0.3, es;q=0.6"), Some(Language::Es));
        assert_eq!(with("fr, de"), None);
        assert_eq!(with("es;q=0"), None);
        assert_eq!(preferred_language(&HeaderMap::new()), None);
    }

    #[test]
    fn browsers_prefer_html() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert!(prefers_html(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json, text/html"));
        assert!(!prefers_html(&headers));
        assert!(!prefers_html(&HeaderMap::new()));
    }
}
