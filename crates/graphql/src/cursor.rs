//! Opaque, versioned cursors and sync tokens. The domain's positions (`2019-03-08|10`, a score and an id, a
//! change number) are what the stores page by; clients receive them wrapped: `base64url("v1:<list>:<position>:
//! <check>")`, so a client cannot read a date into them, a cursor of one list is refused by another, and a
//! hand-edited one fails its check and is `INVALID` at its argument. The check is a hash against accidents
//! and tampering by hand, not a secret: a cursor grants nothing a client could not ask for directly.
//!
//! The version prefix leaves room to change the positions without breaking cursors clients still hold. The
//! changes feed also reads its earlier token form (`changes:42`) for one release, because apps keep that token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boletin_domain::DomainError;

/// The lists that hand out cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    /// `bulletins`.
    Bulletins,
    /// `search`.
    Search,
    /// `changes` (its `nextToken`).
    Changes,
    /// `auditEntries`.
    AuditLog,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            Self::Bulletins => "bulletins",
            Self::Search => "search",
            Self::Changes => "changes",
            Self::AuditLog => "audit",
        }
    }
}

const VERSION: &str = "v1";

/// FNV-1a, 64 bits: a check against edits, written here rather than pulled in for eight bytes.
fn check(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The cursor a client receives for `position` in `list`.
pub(crate) fn wrap(list: List, position: &str) -> String {
    let body = format!("{VERSION}:{}:{position}", list.name());
    let check = check(&body);
    URL_SAFE_NO_PAD.encode(format!("{body}:{check}"))
}

/// The position in `cursor`, a cursor of `list` given as argument `field`; `Invalid` at `field` otherwise.
pub(crate) fn unwrap(list: List, cursor: &str, field: &str) -> Result<String, DomainError> {
    let invalid = || DomainError::invalid(field, format!("is not a cursor of `{}`", list.name()));
    if list == List::Changes && cursor.starts_with("changes:") {
        return Ok(cursor.to_owned());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (body, sum) = text.rsplit_once(':').ok_or_else(invalid)?;
    if sum != check(body) {
        return Err(invalid());
    }
    let prefix = format!("{VERSION}:{}:", list.name());
    body.strip_prefix(&prefix).map(str::to_owned).ok_or_else(invalid)
}

/// `unwrap` for an optional argument.
pub(crate) fn unwrap_opt(list: List, cursor: Option<String>, field: &str) -> Result<Option<String>, DomainError> {
    cursor.map(|c| unwrap(list, &c, field)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_lists_edits_and_garbage() {
        let cursor = wrap(List::Bulletins, "2019-03-08|10");
        assert!(!cursor.contains("2019"), "{cursor}");
        assert_eq!(
            unwrap(List::Bulletins, &cursor, "after"),
            Ok("2019-03-08|10".to_owned())
        );
        assert!(unwrap(List::Search, &cursor, "after").is_err());
        let edited = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(&cursor).unwrap_or_default())
                .unwrap_or_default()
                .replace("2019", "2099"),
        );
        assert!(unwrap(List::Bulletins, &edited, "after").is_err());
        for bad in ["", "2019-03-08|10", "!!!", "djE6YnVsbGV0aW5zOjE="] {
            let error = unwrap(List::Bulletins, bad, "after");
            assert!(
                matches!(error, Err(DomainError::Invalid { ref field, .. }) if field == "after"),
                "{bad}: {error:?}"
            );
        }
        assert_eq!(
            unwrap(List::Changes, "changes:42", "since"),
            Ok("changes:42".to_owned())
        );
    }
}
