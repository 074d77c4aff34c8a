//! URL-safe slugs: the stable, human-readable keys of bulletins, programs and partners.

use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest slug accepted.
pub const MAX_SLUG_LENGTH: usize = 100;

/// A URL-safe key: lower-case ASCII letters, digits and single hyphens, not starting or ending with one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    /// Validates `value` as a slug.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let refuse = |reason: &str| Err(DomainError::invalid("slug", format!("`{value}` {reason}")));
        if value.is_empty() || value.len() > MAX_SLUG_LENGTH {
            return refuse(&format!("must have 1 to {MAX_SLUG_LENGTH} characters"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return refuse("may hold only lower-case letters a-z, digits and hyphens");
        }
        if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
            return refuse("may not start or end with a hyphen, nor hold two in a row");
        }
        Ok(Self(value.to_owned()))
    }

    /// Derives a slug from a title: accents folded, words joined by hyphens, cut at a word boundary.
    pub fn from_title(title: &str) -> Result<Self, DomainError> {
        let mut slug = String::with_capacity(title.len());
        for c in title.chars().flat_map(fold_accent) {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug = slug.trim_end_matches('-').to_owned();
        if slug.len() > 80 {
            let cut = slug[..80].rfind('-').unwrap_or(80);
            slug.truncate(cut);
        }
        Self::parse(&slug).map_err(|_| DomainError::invalid("title", format!("no slug can be derived from `{title}`")))
    }

    /// The slug's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The ASCII letters a Latin letter is written with once its accent is removed (`ñ` → `n`, `ß` → `ss`).
fn fold_accent(c: char) -> Vec<char> {
    let folded = match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        'ß' => return vec!['s', 's'],
        other => other,
    };
    vec![folded]
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Slug {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_url_safe_slugs() {
        assert!(Slug::parse("somos-colmena-2019").is_ok());
    }

    #[test]
    fn refuses_unsafe_slugs() {
        for bad in [
            "",
            "Upper",
            "two--hyphens",
            "-lead",
            "trail-",
            "space here",
            "acento-á",
            &"a".repeat(101),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn derives_slugs_from_titles_folding_accents() {
        let slug = Slug::from_title("“Somos Colmena” surge: ¡migración en Mesoamérica!");
        assert_eq!(
            slug.map(|s| s.to_string()),
            Ok("somos-colmena-surge-migracion-en-mesoamerica".to_owned())
        );
    }

    #[test]
    fn cuts_long_titles_at_a_word_boundary() {
        let title = "word ".repeat(40);
        let slug = Slug::from_title(&title).map(|s| s.to_string()).unwrap_or_default();
        assert!(slug.len() <= 80 && !slug.ends_with('-'), "{slug}");
    }

    #[test]
    fn refuses_titles_with_nothing_to_slug() {
        assert!(Slug::from_title("¿¡…!?").is_err());
    }
}
