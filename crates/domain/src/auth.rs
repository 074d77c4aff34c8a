//! Who is calling, and what they may do. Anonymous callers read published content; an API token carries a role:
//! `editor` (content and figures) or `admin` (also tokens and the audit log). Tokens are secrets shown once; the
//! store keeps only their SHA-256, which is enough for a random 256-bit secret (no password stretching needed).

use crate::DomainError;
use chrono::{DateTime, Utc};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Creates, edits and publishes content and figures.
    Editor,
    /// An editor who also manages tokens and reads the audit log.
    Admin,
}

snake_case_codes!(Role, "role", {
    Editor => "editor",
    Admin => "admin",
});

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Caller {
    /// No token was sent.
    #[default]
    Anonymous,
    /// The command line, run by whoever has access to the database itself: every role is granted.
    Operator,
    /// A valid, unrevoked token.
    Token {
        /// The token's name.
        name: String,
        /// Its role.
        role: Role,
    },
}

impl Caller {
    /// Succeeds when the caller holds `role` or a higher one: `Unauthenticated` for anonymous callers,
    /// `Forbidden` for a token with a lower role.
    pub fn require(&self, role: Role) -> Result<(), DomainError> {
        match self {
            Self::Anonymous => Err(DomainError::Unauthenticated),
            Self::Operator => Ok(()),
            Self::Token { role: held, .. } if *held >= role => Ok(()),
            Self::Token { .. } => Err(DomainError::Forbidden { needed: role.code() }),
        }
    }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its unique name, e.g. `newsroom-laptop`.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The prefix of every secret, so a leaked one is recognisable in logs and scanners.
pub const SECRET_PREFIX: &str = "bol_";

/// Checks a token name: 1 to 64 lower-case letters, digits, `-` or `_`.
pub fn validate_name(name: &str) -> Result<(), DomainError> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if fine {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "name",
            "must be 1 to 64 lower-case letters, digits, `-` or `_`",
        ))
    }
}

/// Whether `secret` has the shape of a token boletin issues (`bol_` and 43 URL-safe base64 characters).
pub fn is_well_formed(secret: &str) -> bool {
    secret.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_rank_and_anonymous_callers_are_unauthenticated() {
        let editor = Caller::Token {
            name: "e".into(),
            role: Role::Editor,
        };
        let admin = Caller::Token {
            name: "a".into(),
            role: Role::Admin,
        };
        assert_eq!(
            Caller::Anonymous.require(Role::Editor),
            Err(DomainError::Unauthenticated)
        );
        assert_eq!(editor.require(Role::Editor), Ok(()));
        assert_eq!(
            editor.require(Role::Admin),
            Err(DomainError::Forbidden { needed: "admin" })
        );
        assert_eq!(admin.require(Role::Editor), Ok(()));
        assert_eq!(admin.require(Role::Admin), Ok(()));
    }

    #[test]
    fn names_and_secrets_have_a_shape() {
        assert!(validate_name("newsroom-laptop_2").is_ok());
        for bad in ["", "Newsroom", "a b", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(is_well_formed(&format!("bol_{}", "A".repeat(43))));
        assert!(!is_well_formed(&format!("bol_{}", "A".repeat(42))));
        assert!(!is_well_formed(&format!("xyz_{}", "A".repeat(43))));
        assert!(!is_well_formed(&format!("bol_{}=", "A".repeat(42))));
    }
}

/// Where tokens are kept: `boletin-persistence` implements it.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a new token by the SHA-256 of its secret; `Conflict` when the name is taken.
    async fn create_token(&self, name: &str, role: Role, secret_hash: &str) -> crate::DomainResult<ApiToken>;
    /// The unrevoked token whose secret has this SHA-256.
    async fn active_token(&self, secret_hash: &str) -> crate::DomainResult<Option<ApiToken>>;
    /// Every token, by name.
    async fn tokens(&self) -> crate::DomainResult<Vec<ApiToken>>;
    /// Revokes the token named `name`, recording `actor` in the audit log in the same transaction; `None` when
    /// there is no such token.
    async fn revoke_token(&self, name: &str, actor: &str) -> crate::DomainResult<Option<ApiToken>>;
}

/// The token use cases.
#[derive(Clone)]
pub struct Tokens {
    store: std::sync::Arc<dyn TokenStore>,
}

impl Tokens {
    /// Tokens kept in `store`.
    pub fn new(store: std::sync::Arc<dyn TokenStore>) -> Self {
        Self { store }
    }

    /// The caller a presented secret stands for, given the SHA-256 of that secret: `Unauthenticated` when it is
    /// malformed, unknown or revoked.
    pub async fn authenticate(&self, secret: &str, secret_hash: &str) -> crate::DomainResult<Caller> {
        if !is_well_formed(secret) {
            return Err(DomainError::Unauthenticated);
        }
        match self.store.active_token(secret_hash).await? {
            Some(token) => Ok(Caller::Token {
                name: token.name,
                role: token.role,
            }),
            None => Err(DomainError::Unauthenticated),
        }
    }

    /// Creates a token (the caller, the command line, has made its secret).
    pub async fn create(&self, name: &str, role: Role, secret_hash: &str) -> crate::DomainResult<ApiToken> {
        validate_name(name)?;
        self.store.create_token(name, role, secret_hash).await
    }

    /// Every token, for an admin or the command line.
    pub async fn list(&self, caller: &Caller) -> crate::DomainResult<Vec<ApiToken>> {
        caller.require(Role::Admin)?;
        self.store.tokens().await
    }

    /// Revokes a token by name, for an admin or the command line ([`Caller::Operator`]).
    pub async fn revoke(&self, caller: &Caller, name: &str) -> crate::DomainResult<ApiToken> {
        caller.require(Role::Admin)?;
        self.store
            .revoke_token(name, &crate::editorial::actor(caller))
            .await?
            .ok_or_else(|| DomainError::not_found("token", name))
    }
}
