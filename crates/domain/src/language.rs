//! The languages boletin publishes in, and the fallback rule for missing translations.

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

/// Picks the version in `wanted`, or else the one in the other language.
///
/// Returns `None` only when there is no version at all; the caller reads the returned item's language to tell
/// the client which one it got.
pub fn pick<T: Translated>(versions: &[T], wanted: Language) -> Option<&T> {
    versions
        .iter()
        .find(|v| v.language() == wanted)
        .or_else(|| versions.iter().find(|v| v.language() == wanted.other()))
        .or_else(|| versions.first())
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
    fn pick_prefers_the_wanted_language_and_falls_back_to_the_other() {
        let both = [Text(Language::En), Text(Language::Es)];
        assert_eq!(pick(&both, Language::Es).map(|t| t.0), Some(Language::Es));
        let english_only = [Text(Language::En)];
        assert_eq!(pick(&english_only, Language::Es).map(|t| t.0), Some(Language::En));
        let none: [Text; 0] = [];
        assert!(pick(&none, Language::En).is_none());
    }
}
