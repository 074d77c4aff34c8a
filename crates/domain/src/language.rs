//! The languages boletin publishes in, a record's language versions, and the fallback rule for a missing one.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// A language of published text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Spanish.
    Es,
    /// English, the default when a caller names no language.
    #[default]
    En,
}

impl Language {
    /// Every language, in a stable order.
    pub const ALL: [Language; 2] = [Language::Es, Language::En];

    /// The ISO 639-1 code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Self::Es => "es",
            Self::En => "en",
        }
    }

    /// Parses an ISO 639-1 code (`es` or `en`, any case).
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        match code.to_ascii_lowercase().as_str() {
            "es" => Ok(Self::Es),
            "en" => Ok(Self::En),
            _ => Err(DomainError::invalid(
                "lang",
                format!("unknown language `{code}`; expected `es` or `en`"),
            )),
        }
    }

    /// The language to fall back to when a text is missing in this one.
    pub fn other(self) -> Self {
        match self {
            Self::Es => Self::En,
            Self::En => Self::Es,
        }
    }
}

/// Something written in one language: a translation of a bulletin, program or indicator.
pub trait Translated {
    /// The language this version is written in.
    fn language(&self) -> Language;
}

/// A stored record's language versions: at least one, at most one per language, in language order. Read models
/// hold their texts in it, so the version shown in a language (or, without it, in the other) always exists, and
/// the schema can promise a title and a language.
#[derive(Debug, Clone, PartialEq)]
pub struct Versions<T> {
    first: T,
    rest: Vec<T>,
}

impl<T: Translated> Versions<T> {
    /// `versions` in language order, or `None` when there is none or two share a language.
    pub fn new(mut versions: Vec<T>) -> Option<Self> {
        versions.sort_by_key(Translated::language);
        if versions.windows(2).any(|pair| pair[0].language() == pair[1].language()) {
            return None;
        }
        let mut versions = versions.into_iter();
        let first = versions.next()?;
        Some(Self {
            first,
            rest: versions.collect(),
        })
    }

    /// The version in `wanted`, else the one in the other language.
    pub fn pick(&self, wanted: Language) -> &T {
        self.iter()
            .find(|v| v.language() == wanted)
            .or_else(|| self.iter().find(|v| v.language() == wanted.other()))
            .unwrap_or(&self.first)
    }

    /// The versions, in language order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        std::iter::once(&self.first).chain(&self.rest)
    }

    /// How many versions there are (at least one).
    pub fn len(&self) -> usize {
        1 + self.rest.len()
    }

    /// Never: a record has at least one version. (For the `len` convention.)
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The versions, in language order, as a list.
    pub fn into_vec(self) -> Vec<T> {
        let mut versions = Vec::with_capacity(self.len());
        versions.push(self.first);
        versions.extend(self.rest);
        versions
    }
}

/// A text a language version must fill in: its field name and how to read it.
pub(crate) type RequiredText<T> = (&'static str, fn(&T) -> &str);

/// Checks a record's language versions: at least one (else `Invalid` with `missing`), one per language, and
/// every `required` text filled in. Errors name the input path, e.g. `translations[1].lang`.
pub(crate) fn check_versions<T: Translated>(
    versions: &[T],
    missing: &str,
    required: &[RequiredText<T>],
) -> Result<(), DomainError> {
    if versions.is_empty() {
        return Err(DomainError::invalid("translations", missing));
    }
    for (index, version) in versions.iter().enumerate() {
        let lang = version.language();
        if versions[..index].iter().any(|v| v.language() == lang) {
            return Err(DomainError::invalid(
                format!("translations[{index}].lang"),
                format!("two versions in `{}`", lang.code()),
            ));
        }
        for (name, text) in required {
            if text(version).trim().is_empty() {
                return Err(DomainError::invalid(
                    format!("translations[{index}].{name}"),
                    "must not be empty",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Text(Language);
    impl Translated for Text {
        fn language(&self) -> Language {
            self.0
        }
    }

    #[test]
    fn parses_codes_in_any_case_and_refuses_others() {
        assert_eq!(Language::parse("ES"), Ok(Language::Es));
        assert_eq!(Language::parse("en"), Ok(Language::En));
        assert!(matches!(Language::parse("fr"), Err(DomainError::Invalid { .. })));
    }

    #[test]
    fn versions_are_never_empty_and_one_per_language() {
        assert!(Versions::<Text>::new(Vec::new()).is_none());
        assert!(Versions::new(vec![Text(Language::En), Text(Language::En)]).is_none());
        let both = Versions::new(vec![Text(Language::En), Text(Language::Es)]).expect("two languages");
        assert_eq!(
            both.iter().map(|t| t.0).collect::<Vec<_>>(),
            [Language::Es, Language::En]
        );
        assert_eq!(both.pick(Language::En).0, Language::En);
        assert_eq!(both.len(), 2);
        assert_eq!(both.pick(Language::Es).0, Language::Es);
        let spanish_only = Versions::new(vec![Text(Language::Es)]).expect("one language");
        assert_eq!(
            spanish_only.pick(Language::En).0,
            Language::Es,
            "the other language when the wanted one is missing"
        );
        assert_eq!(spanish_only.into_vec().len(), 1);
    }
}
