//! Answers to public reads, kept in memory with their bytes, ETag and compressed forms, until a change could
//! alter them.
//!
//! A response is kept when an anonymous caller sent one operation (over GET or POST, persisted or not) that
//! succeeded without errors and whose `Cache-Control` is public. Its key is the operation's name, text and
//! variables, exactly as sent, so only the same question finds it.
//!
//! Exact invalidation: the store keeps a generation number that moves on every change this server commits (before
//! the mutation returns) and every change it hears of from other servers (PostgreSQL `LISTEN/NOTIFY`, sent in the
//! writing transaction), and whenever its listening connection is lost or regained. An entry is tagged with the
//! generation read before its query ran, is kept only if no change arrived while it ran, and is served only while
//! the generation is unchanged: a server never serves an answer older than the last change it has heard of.
//! While a PostgreSQL server listens to nothing, it caches nothing. Callers with a token always bypass the cache.
//!
//! The cache holds at most `--response-cache-bytes` (keys, bodies and compressed bodies); the least useful
//! entries go first (`quick_cache`'s S3-FIFO policy).

use super::caching::Prepared;
use boletin_domain::language::Language;
use quick_cache::Weighter;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The figures `/metrics` shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheFigures {
    /// Answers served from the cache.
    pub hits: u64,
    /// Cacheable requests that had to run.
    pub misses: u64,
    /// Bytes held now.
    pub bytes: u64,
    /// Entries held now.
    pub entries: u64,
}

/// One kept answer.
pub struct Entry {
    /// The store's change generation read before the query ran.
    pub generation: u64,
    /// The operation's name, for logs and metrics.
    pub operation: Option<String>,
    /// The query's complexity, charged to the caller's rate-limit budget on every hit as on every run.
    pub cost: u64,
    /// The answer, ready to send.
    pub prepared: Prepared,
}

/// Weighs an entry by the bytes it keeps alive: its key, its body, and room for one compressed form.
#[derive(Clone)]
struct ByBytes;

impl Weighter<Arc<str>, Arc<Entry>> for ByBytes {
    fn weight(&self, key: &Arc<str>, entry: &Arc<Entry>) -> u64 {
        let body = entry.prepared.len() as u64;
        (key.len() as u64 + body + body / 2 + 256).max(1)
    }
}

/// The response cache of one server.
pub struct ResponseCache {
    entries: Option<quick_cache::sync::Cache<Arc<str>, Arc<Entry>, ByBytes>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ResponseCache {
    /// A cache of at most `bytes`; 0 turns caching off.
    pub fn new(bytes: usize) -> Self {
        let entries = (bytes > 0).then(|| {
            // quick_cache wants an estimate of the number of entries: assume answers of about 4 KiB.
            let estimated = (bytes / 4096).clamp(16, 1 << 20);
            quick_cache::sync::Cache::with_weighter(estimated, bytes as u64, ByBytes)
        });
        Self {
            entries,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Whether the cache is on.
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The key of an operation: its name, text and variables as sent.
    pub fn key(request: &async_graphql::Request, language: Option<Language>) -> Arc<str> {
        let variables = serde_json::to_string(&request.variables).unwrap_or_default();
        let name = request.operation_name.as_deref().unwrap_or_default();
        let language = language.map_or("", Language::code);
        Arc::from(format!("{name}\u{0}{}\u{0}{variables}\u{0}{language}", request.query))
    }

    /// The answer kept for `key`, if it is still current at `generation`.
    pub fn get(&self, key: &str, generation: u64) -> Option<Arc<Entry>> {
        let entries = self.entries.as_ref()?;
        match entries.get(key) {
            Some(entry) if entry.generation == generation => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(entry)
            }
            Some(_) => {
                entries.remove(key);
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Keeps `entry` under `key`, unless the store's generation moved since the entry's was read (`current`):
    /// a change that arrived while the query ran may not be in the answer. Returns the entry, kept or not.
    pub fn put(&self, key: Arc<str>, entry: Entry, current: Option<u64>) -> Arc<Entry> {
        let entry = Arc::new(entry);
        if let Some(entries) = &self.entries
            && current == Some(entry.generation)
        {
            entries.insert(key, entry.clone());
        }
        entry
    }

    /// The figures for `/metrics`.
    pub fn figures(&self) -> CacheFigures {
        CacheFigures {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: self.entries.as_ref().map_or(0, |e| e.weight()),
            entries: self.entries.as_ref().map_or(0, |e| e.len() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn entry(generation: u64, body: &str) -> Entry {
        Entry {
            generation,
            operation: None,
            cost: 1,
            prepared: Prepared::new(body.as_bytes().to_vec(), HeaderValue::from_static("public, max-age=60")),
        }
    }

    #[test]
    fn entries_serve_only_their_generation_and_are_kept_only_if_nothing_changed_meanwhile() {
        let cache = ResponseCache::new(1 << 20);
        let key: Arc<str> = Arc::from("k");
        cache.put(key.clone(), entry(1, "{}"), Some(2));
        assert!(cache.get(&key, 1).is_none(), "a change arrived while it ran: not kept");
        cache.put(key.clone(), entry(2, "{}"), Some(2));
        assert!(cache.get(&key, 2).is_some());
        assert!(cache.get(&key, 3).is_none());
        assert!(cache.get(&key, 2).is_none(), "a stale entry is dropped when found");
        cache.put(key.clone(), entry(2, "{}"), None);
        assert!(
            cache.get(&key, 2).is_none(),
            "nothing is kept while changes are not heard"
        );
        let figures = cache.figures();
        assert_eq!((figures.hits, figures.misses), (1, 4));
    }

    #[test]
    fn the_cache_holds_at_most_its_bytes() {
        let cache = ResponseCache::new(64 * 1024);
        let body = "x".repeat(4096);
        for n in 0..100 {
            cache.put(Arc::from(format!("k{n}")), entry(0, &body), Some(0));
        }
        assert!(cache.figures().bytes <= 64 * 1024, "{:?}", cache.figures());
        let off = ResponseCache::new(0);
        off.put(Arc::from("k"), entry(0, "{}"), Some(0));
        assert!(off.get("k", 0).is_none());
    }
}
