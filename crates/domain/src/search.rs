//! Search: how words become search terms, for stored texts and for queries alike, so that both backends (SQLite
//! FTS5 and PostgreSQL `tsvector`) index and match exactly the same terms.
//!
//! A word becomes a term by lower-casing it, stemming it with the Snowball stemmer of its language
//! (`trabajos` → `trabaj`, `returned` → `return`), then removing accents (`migración` → `migr`). A query word
//! typed without accents is also tried with the accents a Spanish ending needs (`migracion` is tried as
//! `migración` too), because the Spanish stemmer recognises endings by their accents.
//!
//! Query syntax: words (all must match), `"quoted phrases"` (the words in that order), and `-word` or
//! `-"phrase"` (must not match). Anything that is not a letter or a digit separates words.

use crate::bulletin::BulletinText;
use crate::language::{Language, Versions};
use crate::{DomainError, DomainResult};
use rust_stemmers::{Algorithm, Stemmer};
use std::sync::LazyLock;

static SPANISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Spanish));
static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most words and phrases in a query.
pub const MAX_CLAUSES: usize = 12;
/// The longest snippet marker (`open`, `close`), in characters: enough for `<mark class="hit">`, too little for
/// a client to make a small request fetch a large answer (a snippet repeats its markers at every match).
pub const MAX_MARKER_CHARS: usize = 32;

/// A snippet marker as a client gave it, refused (`Invalid` at `field`) when longer than [`MAX_MARKER_CHARS`].
pub fn parse_marker<'m>(field: &str, marker: &'m str) -> DomainResult<&'m str> {
    if marker.chars().count() > MAX_MARKER_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("a marker holds at most {MAX_MARKER_CHARS} characters"),
        ));
    }
    Ok(marker)
}

/// The words of `text`, as byte ranges: runs of letters and digits.
pub fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while let Some(&(_, c)) = chars.peek() {
            if c.is_alphanumeric() {
                break;
            }
            chars.next();
        }
        let (start, _) = *chars.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        Some((start, end))
    })
}

/// A letter without its accent (`á` → `a`, `ñ` → `n`); other characters unchanged.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// The search term of one word in `lang`.
pub fn term(word: &str, lang: Language) -> String {
    let lower = word.to_lowercase();
    let stemmer = match lang {
        Language::Es => &*SPANISH,
        Language::En => &*ENGLISH,
    };
    stemmer.stem(&lower).chars().map(fold).collect()
}

/// The terms a query word may stand for in `lang`: its own, and for an unaccented Spanish word, the term of the
/// word with its ending's accent restored.
fn query_terms(word: &str, lang: Language) -> Vec<String> {
    let mut terms = vec![term(word, lang)];
    if lang == Language::Es && word.is_ascii() {
        let lower = word.to_lowercase();
        for (plain, accented) in [
            ("cion", "ción"),
            ("sion", "sión"),
            ("logia", "logía"),
            ("logias", "logías"),
        ] {
            if let Some(stem) = lower.strip_suffix(plain) {
                let alternative = term(&format!("{stem}{accented}"), lang);
                if !terms.contains(&alternative) {
                    terms.push(alternative);
                }
            }
        }
    }
    terms
}

/// The terms of `text` in `lang`, space-separated, in order: what the search index stores.
pub fn document(text: &str, lang: Language) -> String {
    words(text)
        .map(|(start, end)| term(&text[start..end], lang))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How much the title, the summary and the body weigh in a score, in that order. PostgreSQL's ranking is given
/// the same weights (`ts_rank('{0.1, 0.2, 0.4, 1.0}', …)`, for the weight classes D, C, B and A).
pub const FIELD_WEIGHTS: [f32; 3] = [1.0, 0.4, 0.2];

/// The most positions of one term a `tsvector` keeps (`MAXNUMPOS`); `to_tsvector` keeps one fewer per text.
const MAX_POSITIONS: usize = 256;
/// The last position a `tsvector` records (`MAXENTRYPOS - 1`): later words all stand at this one.
const LAST_POSITION: u32 = 16_383;

/// The score of one version of a bulletin for each of its terms searched alone, in term order: what a one-word
/// search ranks by. The search index keeps it beside each term, so the best matches of a common word are read
/// first from an index instead of every match being ranked at every search.
///
/// It is PostgreSQL's `ts_rank` for a one-term query (`calc_rank_or` in `tsrank.c`, no normalisation) over the
/// index's `tsvector`, computed with the same single-precision steps, so it equals the score PostgreSQL gives the
/// same search: the term's positions are taken in text order (title, summary, body) with their field's weight
/// `w`, and the score is `(max w + Σ w_j/(j+1)² − max w/(j_max+1)²) / (π²/6)`. Every title match therefore
/// outranks every summary match, and every summary match every body match; more occurrences rank higher within
/// a field. The positions are the ones PostgreSQL keeps: at most 255 of a term per field (`to_tsvector`) and 256
/// in all (`||`), none past position 16,383 (where the rest of a long text collapses into one).
pub fn term_scores(text: &BulletinText) -> Vec<(String, f64)> {
    // Each term's kept positions with their weights, as `setweight(to_tsvector(title), 'A') || … 'B' || … 'C'`.
    let mut vector: std::collections::BTreeMap<String, Vec<(u32, f32)>> = std::collections::BTreeMap::new();
    let fields = [&text.title, &text.summary, &text.body];
    for (field, weight) in fields.into_iter().zip(FIELD_WEIGHTS) {
        // `to_tsvector` of the field: positions from 1, the same position never twice, at most 255 a term.
        let mut own: std::collections::BTreeMap<String, Vec<u32>> = std::collections::BTreeMap::new();
        for (i, (start, end)) in words(field).enumerate() {
            let position = u32::try_from(i + 1).unwrap_or(u32::MAX).min(LAST_POSITION);
            let positions = own.entry(term(&field[start..end], text.lang)).or_default();
            let last = positions.last().copied();
            if positions.len() < MAX_POSITIONS - 1 && last != Some(LAST_POSITION) && last != Some(position) {
                positions.push(position);
            }
        }
        // `||`: the field's positions move past the largest position kept so far, a term keeping at most 256.
        let shift = vector
            .values()
            .flat_map(|positions| positions.iter().map(|(p, _)| *p))
            .max()
            .unwrap_or(0);
        for (term, positions) in own {
            let kept = vector.entry(term).or_default();
            for position in positions {
                if kept.len() >= MAX_POSITIONS || kept.last().map(|(p, _)| *p) == Some(LAST_POSITION) {
                    break;
                }
                kept.push(((position + shift).min(LAST_POSITION), weight));
            }
        }
    }
    vector
        .into_iter()
        .map(|(term, positions)| {
            // `calc_rank_or` for the one term.
            let (mut weighted, mut heaviest, mut heaviest_at) = (0.0_f32, -1.0_f32, 0_u32);
            for (j, (_, weight)) in (0_u32..).zip(&positions) {
                weighted += weight / ((j + 1) * (j + 1)) as f32;
                if *weight > heaviest {
                    heaviest = *weight;
                    heaviest_at = j;
                }
            }
            let k = heaviest_at + 1;
            let rank = f64::from(heaviest + weighted - heaviest / (k * k) as f32) / 1.644_934_066_85;
            (term, f64::from(rank as f32))
        })
        .collect()
}

/// A position in a list of search hits: the score and id of the last hit seen (hits are ordered by score,
/// best first, then by id).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchCursor {
    /// The relevance of the hit at this position.
    pub score: f64,
    /// Its bulletin's id.
    pub id: crate::id::BulletinId,
}

impl SearchCursor {
    /// The cursor as text, `score|id`; the score is written so that it reads back exactly.
    pub fn encode(&self) -> String {
        format!("{:?}|{}", self.score, self.id.0)
    }

    /// Reads a cursor made by [`SearchCursor::encode`]; anything else is `Invalid` at `after`.
    pub fn decode(text: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::invalid("after", "is not a cursor of this search");
        let (score, id) = text.split_once('|').ok_or_else(invalid)?;
        let score: f64 = score.parse().map_err(|_| invalid())?;
        if !score.is_finite() {
            return Err(invalid());
        }
        Ok(Self {
            score,
            id: crate::id::BulletinId(id.parse().map_err(|_| invalid())?),
        })
    }
}

/// One search result: a bulletin and how well it matches (higher is better; comparable within one search and
/// one backend only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchHit {
    /// The bulletin.
    pub id: crate::id::BulletinId,
    /// Its relevance.
    pub score: f64,
}

/// One part of a query, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Clause {
    Word(String),
    Phrase(Vec<String>),
}

/// A checked search query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    include: Vec<Clause>,
    exclude: Vec<Clause>,
}

/// A query clause as terms of one language, for a backend to turn into its own syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermClause {
    /// Any of these terms (alternatives of one word).
    AnyOf(Vec<String>),
    /// These terms, adjacent and in order.
    Phrase(Vec<String>),
}

impl SearchQuery {
    /// Reads a query typed by a person. Refuses (at `query`) an empty query, one made only of exclusions, and
    /// one longer than [`MAX_QUERY_CHARS`] or with more than [`MAX_CLAUSES`] parts.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(DomainError::invalid(
                "query",
                format!("is longer than {MAX_QUERY_CHARS} characters"),
            ));
        }
        let mut query = Self {
            include: Vec::new(),
            exclude: Vec::new(),
        };
        let mut rest = text.trim_start();
        while !rest.is_empty() {
            let excluded = rest.starts_with('-');
            if excluded {
                rest = &rest[1..];
            }
            let (clause, after) = if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"').unwrap_or(quoted.len());
                let phrase: Vec<String> = words(&quoted[..end]).map(|(s, e)| quoted[s..e].to_owned()).collect();
                let clause = match phrase.len() {
                    0 => None,
                    1 => phrase.into_iter().next().map(Clause::Word),
                    _ => Some(Clause::Phrase(phrase)),
                };
                (clause, quoted.get(end + 1..).unwrap_or(""))
            } else {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let piece = &rest[..end];
                let mut parts = words(piece).map(|(s, e)| piece[s..e].to_owned()).collect::<Vec<_>>();
                let clause = match parts.len() {
                    0 => None,
                    1 => parts.pop().map(Clause::Word),
                    // `covid-19` or `e-mail`: the pieces of one token stay together.
                    _ => Some(Clause::Phrase(parts)),
                };
                (clause, &rest[end..])
            };
            if let Some(clause) = clause {
                if excluded {
                    query.exclude.push(clause);
                } else {
                    query.include.push(clause);
                }
            }
            rest = after.trim_start();
        }
        if query.include.is_empty() {
            return Err(DomainError::invalid("query", "give at least one word to find"));
        }
        if query.include.len() + query.exclude.len() > MAX_CLAUSES {
            return Err(DomainError::invalid(
                "query",
                format!("has more than {MAX_CLAUSES} words and phrases"),
            ));
        }
        Ok(query)
    }

    fn clauses(clauses: &[Clause], lang: Language) -> Vec<TermClause> {
        clauses
            .iter()
            .map(|clause| match clause {
                Clause::Word(word) => TermClause::AnyOf(query_terms(word, lang)),
                Clause::Phrase(words) => TermClause::Phrase(words.iter().map(|w| term(w, lang)).collect()),
            })
            .collect()
    }

    /// The clauses that must match, as terms of `lang`.
    pub fn required(&self, lang: Language) -> Vec<TermClause> {
        Self::clauses(&self.include, lang)
    }

    /// The clauses that must not match, as terms of `lang`.
    pub fn excluded(&self, lang: Language) -> Vec<TermClause> {
        Self::clauses(&self.exclude, lang)
    }

    /// Which of `terms` a snippet marks: words matching a required word, and runs matching a required phrase.
    fn marks(&self, terms: &[String], lang: Language) -> Vec<bool> {
        let mut marks = vec![false; terms.len()];
        for clause in self.required(lang) {
            match clause {
                TermClause::AnyOf(alternatives) => {
                    for (mark, term) in marks.iter_mut().zip(terms) {
                        *mark |= alternatives.contains(term);
                    }
                }
                TermClause::Phrase(phrase) => {
                    for start in 0..terms.len().saturating_sub(phrase.len() - 1) {
                        if terms[start..start + phrase.len()] == phrase[..] {
                            marks[start..start + phrase.len()].iter_mut().for_each(|m| *m = true);
                        }
                    }
                }
            }
        }
        marks
    }

    /// The language to show a hit in, and its passage: in `wanted` when given, else the first of English and
    /// Spanish whose text matches; the passage is cut from the body, else the summary, else the title (see
    /// [`SearchQuery::snippet`]). `None` for the passage when no field matches.
    pub fn best_passage(
        &self,
        texts: &Versions<BulletinText>,
        wanted: Option<Language>,
        open: &str,
        close: &str,
        max_words: usize,
    ) -> (Language, Option<String>) {
        let candidates = match wanted {
            Some(lang) => vec![lang],
            None => vec![Language::En, Language::Es],
        };
        candidates
            .iter()
            .map(|wanted| texts.pick(*wanted))
            .find_map(|text| {
                [&text.body, &text.summary, &text.title]
                    .into_iter()
                    .find_map(|field| self.snippet(field, text.lang, open, close, max_words))
                    .map(|passage| (text.lang, Some(passage)))
            })
            .unwrap_or((candidates[0], None))
    }

    /// A passage of `text` of at most `max_words` words around the densest run of matched words, each matched
    /// word between `open` and `close`, with `…` where the text was cut. `None` when no word of `text`
    /// matches.
    pub fn snippet(&self, text: &str, lang: Language, open: &str, close: &str, max_words: usize) -> Option<String> {
        let spans: Vec<(usize, usize)> = words(text).collect();
        let terms: Vec<String> = spans.iter().map(|&(s, e)| term(&text[s..e], lang)).collect();
        let marks = self.marks(&terms, lang);
        let words: Vec<(usize, usize, bool)> = spans.iter().zip(marks).map(|(&(s, e), m)| (s, e, m)).collect();
        let max_words = max_words.max(1);
        // The window of `max_words` words holding the most matches; the earliest among equals.
        let mut best = (0, 0);
        let mut count = 0;
        for (i, word) in words.iter().enumerate() {
            count += usize::from(word.2);
            if i >= max_words {
                count -= usize::from(words[i - max_words].2);
            }
            let start = (i + 1).saturating_sub(max_words);
            if count > best.1 {
                best = (start, count);
            }
        }
        if best.1 == 0 {
            return None;
        }
        // Centre the matches of that window.
        let in_window = best.0..(best.0 + max_words).min(words.len());
        let first_match = in_window.clone().find(|&i| words[i].2)?;
        let last_match = in_window.rev().find(|&i| words[i].2)?;
        let slack = max_words.saturating_sub(last_match - first_match + 1);
        let end = (first_match.saturating_sub(slack / 2) + max_words).min(words.len());
        let start = end.saturating_sub(max_words);
        let best = (start, best.1);
        let window = &words[start..end];
        let (first, last) = (window.first()?, window.last()?);
        let mut out = String::new();
        if best.0 > 0 {
            out.push('…');
        } else {
            out.push_str(text[..first.0].trim_start());
        }
        let mut cursor = first.0;
        for &(start, end, is_match) in window {
            out.push_str(&text[cursor..start]);
            if is_match {
                out.push_str(open);
                out.push_str(&text[start..end]);
                out.push_str(close);
            } else {
                out.push_str(&text[start..end]);
            }
            cursor = end;
        }
        debug_assert_eq!(cursor, last.1);
        if last.1 < words.last().map_or(0, |w| w.1) {
            out.push('…');
        } else {
            out.push_str(text[last.1..].trim_end());
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_ignore_case_accents_and_inflection() {
        assert_eq!(term("Trabajos", Language::Es), term("trabajo", Language::Es));
        assert_eq!(term("returned", Language::En), term("return", Language::En));
        assert_eq!(term("Trafficking", Language::En), term("trafficking", Language::En));
        assert_eq!(term("MIGRACIÓN", Language::Es), term("migraciones", Language::Es));
        let query = SearchQuery::parse("migracion").expect("a valid search query");
        assert_eq!(
            query.required(Language::Es),
            [TermClause::AnyOf(vec!["migracion".into()])]
        );
        // The accent of a Spanish ending is restored when the stemmer needs it.
        let query = SearchQuery::parse("tecnologia").expect("a valid search query");
        assert_eq!(
            query.required(Language::Es),
            [TermClause::AnyOf(vec![
                term("tecnologia", Language::Es),
                term("tecnología", Language::Es)
            ])]
        );
        assert_eq!(term("tecnologías", Language::Es), term("tecnología", Language::Es));
        assert_eq!(document("La OIM, en Tijuana.", Language::Es), "la oim en tijuan");
    }

    #[test]
    fn a_term_scores_by_its_heaviest_field_then_by_how_often_it_occurs() {
        let text = |title: &str, summary: &str, body: &str| BulletinText {
            lang: Language::En,
            title: title.into(),
            summary: summary.into(),
            body: body.into(),
        };
        let score = |text: &BulletinText, word: &str| {
            let wanted = term(word, Language::En);
            term_scores(text)
                .into_iter()
                .find(|(t, _)| *t == wanted)
                .map(|(_, s)| s)
        };
        // One occurrence in the title: 1.0 / (π²/6), as ts_rank gives it.
        let once = text("Migrants", "", "");
        assert_eq!(score(&once, "migrants"), Some(f64::from(0.607_927_1_f32)));
        assert_eq!(score(&once, "absent"), None);
        let in_title = score(&text("Migrants", "", ""), "migrant").expect("a title match");
        let in_summary =
            score(&text("", "Migrants migrants migrants", "migrants"), "migrant").expect("a summary match");
        let in_body = score(&text("", "", "Migrants migrants migrants"), "migrant").expect("a body match");
        assert!(
            in_title > in_summary && in_summary > in_body,
            "{in_title} {in_summary} {in_body}"
        );
        let twice = score(&text("Migrants", "", "migrants"), "migrant").expect("two matches");
        assert!(twice > in_title);
        // Terms are listed once each, in order.
        let terms: Vec<String> = term_scores(&text("b a", "a", "c"))
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(terms, ["a", "b", "c"]);
    }

    #[test]
    fn queries_have_words_phrases_and_exclusions() {
        let query = SearchQuery::parse(r#"  trata "de personas" -órganos -"ciudad de guatemala" covid-19 "#)
            .expect("a valid search query");
        assert_eq!(
            query.required(Language::Es),
            [
                TermClause::AnyOf(vec!["trat".into()]),
                TermClause::Phrase(vec!["de".into(), "person".into()]),
                TermClause::Phrase(vec!["cov".into(), "19".into()]),
            ]
        );
        assert_eq!(
            query.excluded(Language::Es),
            [
                TermClause::AnyOf(vec!["organ".into()]),
                TermClause::Phrase(vec!["ciud".into(), "de".into(), "guatemal".into()]),
            ]
        );
        for bad in ["", "   ", "-solo", "\"\"", &"palabra ".repeat(13), &"x".repeat(201)] {
            assert!(
                matches!(SearchQuery::parse(bad), Err(DomainError::Invalid { ref field, .. }) if field == "query"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn snippets_mark_the_matched_words_around_the_densest_passage() {
        let query = SearchQuery::parse("trabajos migrantes").expect("a valid search query");
        let text =
            "Una feria en Tijuana. Muchos migrantes encontraron trabajo con empresas locales, y otros siguen buscando.";
        assert_eq!(
            query.snippet(text, Language::Es, "<mark>", "</mark>", 6).as_deref(),
            Some("…Muchos <mark>migrantes</mark> encontraron <mark>trabajo</mark> con empresas…")
        );
        assert_eq!(
            query.snippet("Migrantes.", Language::Es, "[", "]", 30).as_deref(),
            Some("[Migrantes].")
        );
        assert_eq!(query.snippet("Nada que ver.", Language::Es, "[", "]", 30), None);
        // A phrase is marked where its words stand together, not word by word.
        let phrase = SearchQuery::parse("\"trata de personas\"").expect("a valid phrase query");
        assert_eq!(
            phrase
                .snippet(
                    "La trata de personas, un delito de la región.",
                    Language::Es,
                    "[",
                    "]",
                    30
                )
                .as_deref(),
            Some("La [trata] [de] [personas], un delito de la región.")
        );
    }
}
