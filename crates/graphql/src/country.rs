//! Countries and the language argument.

use async_graphql::{Enum, Object};
use boletin_domain::country::CountryCode;

/// A language of published text.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(remote = "boletin_domain::language::Language")]
pub enum Language {
    /// Spanish (español).
    Es,
    /// English; the default.
    #[default]
    En,
}

/// A country, by its ISO 3166-1 alpha-2 code.
pub struct Country {
    pub(crate) code: CountryCode,
    pub(crate) lang: Language,
}

/// A country, by its ISO 3166-1 alpha-2 code.
#[Object]
impl Country {
    /// The ISO 3166-1 alpha-2 code, e.g. `MX`.
    async fn code(&self) -> &str {
        self.code.as_str()
    }

    /// The country's short name in the language the query asked for, e.g. `Mexico` or `México`.
    async fn name(&self) -> &'static str {
        self.code.name(self.lang.into())
    }
}

/// The GraphQL countries for a list of codes, named in `lang`.
pub(crate) fn countries(codes: &[CountryCode], lang: Language) -> Vec<Country> {
    codes.iter().map(|&code| Country { code, lang }).collect()
}
