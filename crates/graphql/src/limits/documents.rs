//! The documents parsed lately, by their text, so that a query a client sends again is not parsed again.
//!
//! Parsing is a tenth of the server's CPU for a bulletin's detail page (async-graphql's parser is built on pest,
//! which allocates for every token), and an app sends the same few texts over and over with other variables. A
//! document depends on its text alone, so a parsed copy is as good as a new parse; only documents that parse are
//! kept. The text is still checked ([`super::Limits::check_text`]) and the document still walked by the limits on
//! every request, as variables and the caller change what they allow.

use async_graphql::parser::types::ExecutableDocument;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// How much query text the documents kept may add up to. A document takes some ten times its text's length in
/// memory, so this keeps the cache to about 10 MiB; a few hundred usual queries fit.
const TEXT_BYTES: u64 = 1 << 20;

/// A document weighs its text's length (and at least 1, as an empty text would weigh nothing).
#[derive(Clone, Copy)]
struct ByText;

impl Weighter<String, ExecutableDocument> for ByText {
    fn weight(&self, text: &String, _: &ExecutableDocument) -> u64 {
        (text.len() as u64).max(1)
    }
}

/// Parsed documents by text, the least used first out.
pub(crate) struct ParsedDocuments(Cache<String, ExecutableDocument, ByText>);

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self(Cache::with_weighter(512, TEXT_BYTES, ByText))
    }
}

impl ParsedDocuments {
    /// A copy of the document parsed from `text` before, if it is still kept.
    pub(crate) fn get(&self, text: &str) -> Option<ExecutableDocument> {
        self.0.get(text)
    }

    /// Keeps `document`, parsed from `text`.
    pub(crate) fn keep(&self, text: &str, document: &ExecutableDocument) {
        self.0.insert(text.to_owned(), document.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_kept_by_its_exact_text_within_a_bounded_budget() {
        let documents = ParsedDocuments::default();
        let text = "{ bulletins { nodes { slug } } }";
        assert!(documents.get(text).is_none());
        let parsed = async_graphql::parser::parse_query(text).expect("parses");
        documents.keep(text, &parsed);
        let kept = documents.get(text).expect("kept");
        assert_eq!(format!("{kept:?}"), format!("{parsed:?}"));
        assert!(
            documents.get("{ bulletins { nodes { slug } } } ").is_none(),
            "another text"
        );
        // Texts past the budget push others out: the memory stays bounded.
        let filler = format!("{text}{}", " ".repeat(64 * 1024));
        for i in 0..40 {
            documents.keep(&format!("{filler}#{i}"), &parsed);
        }
        assert!(
            documents.0.weight() <= TEXT_BYTES,
            "{} bytes of text kept",
            documents.0.weight()
        );
        assert!(documents.0.len() < 40, "{} documents kept", documents.0.len());
    }
}
