//! ISO 3166-1 alpha-2 country codes, with English and Spanish names.

mod table;

use crate::DomainError;
use crate::language::Language;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use table::COUNTRIES;

/// A real ISO 3166-1 alpha-2 country code, always upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a code, accepting any case (`mx` becomes `MX`); refuses codes ISO 3166-1 does not assign.
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        let upper = code.trim().to_ascii_uppercase();
        match COUNTRIES.binary_search_by(|(c, _, _)| (*c).cmp(upper.as_str())) {
            Ok(index) => {
                let bytes = COUNTRIES[index].0.as_bytes();
                Ok(Self([bytes[0], bytes[1]]))
            }
            Err(_) => Err(DomainError::invalid(
                "country",
                format!("`{code}` is not an ISO 3166-1 alpha-2 country code"),
            )),
        }
    }

    /// The two-letter code, e.g. `MX`.
    pub fn as_str(&self) -> &str {
        // The bytes come from the ASCII table above, so this cannot fail; fall back to an empty code if it did.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The country's short name in `lang`, e.g. `Mexico` or `México`.
    pub fn name(&self, lang: Language) -> &'static str {
        let entry = COUNTRIES
            .binary_search_by(|(c, _, _)| (*c).cmp(self.as_str()))
            .map(|i| COUNTRIES[i])
            .unwrap_or(("", "", ""));
        match lang {
            Language::En => entry.1,
            Language::Es => entry.2,
        }
    }

    /// Every assigned code, sorted.
    pub fn all() -> impl Iterator<Item = CountryCode> {
        COUNTRIES.iter().filter_map(|(c, _, _)| Self::parse(c).ok())
    }

    /// Finds the country whose English short name is exactly `name` (case-insensitive).
    pub fn from_english_name(name: &str) -> Option<Self> {
        COUNTRIES
            .iter()
            .find(|(_, en, _)| en.eq_ignore_ascii_case(name.trim()))
            .and_then(|(c, _, _)| Self::parse(c).ok())
    }

    /// The countries whose English names appear in `text` as whole words, in order of first mention.
    ///
    /// Used by the importer to find the countries a bulletin concerns.
    pub fn mentioned_in(text: &str) -> Vec<Self> {
        let mut found: Vec<(usize, Self)> = COUNTRIES
            .iter()
            .filter_map(|(code, english, _)| {
                let position = find_whole_word(text, english)?;
                Some((position, Self::parse(code).ok()?))
            })
            .collect();
        found.sort_by_key(|(position, _)| *position);
        found.into_iter().map(|(_, code)| code).collect()
    }
}

/// The byte offset of the first occurrence of `word` in `text` that is not part of a longer word.
fn find_whole_word(text: &str, word: &str) -> Option<usize> {
    let mut start = 0;
    while let Some(offset) = text[start..].find(word) {
        let at = start + offset;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric) {
            return Some(at);
        }
        start = at + word.len();
    }
    None
}

impl std::fmt::Display for CountryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<&str> for CountryCode {
    type Error = DomainError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_assigned_codes_in_any_case() {
        assert_eq!(CountryCode::parse("mx").map(|c| c.to_string()), Ok("MX".to_owned()));
        assert_eq!(
            CountryCode::parse("DO").map(|c| c.name(Language::Es)),
            Ok("República Dominicana")
        );
    }

    #[test]
    fn refuses_unassigned_and_malformed_codes() {
        for bad in ["XX", "UK", "MEX", "", "M"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn the_table_is_sorted_and_complete() {
        assert_eq!(COUNTRIES.len(), 249);
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn finds_whole_word_mentions_in_order() {
        let text = "Experts from Guatemala, the Dominican Republic, Niger and Mexico; not Dominicans.";
        let codes: Vec<String> = CountryCode::mentioned_in(text)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(codes, ["GT", "DO", "NE", "MX"]);
    }
}
