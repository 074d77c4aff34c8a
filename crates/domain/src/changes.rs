//! The changes feed: every change to what the public can see, in the order it became visible, so a mobile app
//! can sync only what changed since its last call.
//!
//! A change is an `Upsert` (the record is new or changed, or became visible) or a `Delete` (it was deleted or
//! stopped being visible: an unpublished bulletin and the figures it sourced). Drafts never appear. Each change
//! has a sequence number; a token names the last one a client has seen. Sequence numbers are assigned in commit
//! order (writers append to the log one at a time), so a client that follows the tokens sees every change once,
//! in order, even while content keeps changing.

use crate::DomainError;
use chrono::{DateTime, Utc};

/// The kinds of record the feed reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    /// A bulletin.
    Bulletin,
    /// A program.
    Program,
    /// A partner.
    Partner,
    /// An indicator.
    Indicator,
    /// An observation.
    Observation,
}

snake_case_codes!(EntityType, "entity type", {
    Bulletin => "bulletin",
    Program => "program",
    Partner => "partner",
    Indicator => "indicator",
    Observation => "observation",
});

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Created, changed or made visible: fetch it again.
    Upsert,
    /// Deleted or hidden: forget it.
    Delete,
}

snake_case_codes!(ChangeKind, "change kind", {
    Upsert => "upsert",
    Delete => "delete",
});

/// One entry of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its position in the feed.
    pub sequence: i64,
    /// The kind of record.
    pub entity: EntityType,
    /// The record's store id.
    pub id: i64,
    /// What happened.
    pub kind: ChangeKind,
    /// When.
    pub at: DateTime<Utc>,
}

/// A position in the feed, as an opaque token: the sequence number of the last change seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChangeToken(pub i64);

impl ChangeToken {
    /// The token as text.
    pub fn encode(self) -> String {
        format!("changes:{}", self.0)
    }

    /// Reads a token made by [`ChangeToken::encode`]; anything else is `Invalid` at `since`.
    pub fn decode(text: &str) -> Result<Self, DomainError> {
        text.strip_prefix("changes:")
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .map(Self)
            .ok_or_else(|| DomainError::invalid("since", "is not a token from `nextToken`"))
    }
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesPage {
    /// The changes, oldest first.
    pub changes: Vec<Change>,
    /// The token to pass next time: the last change of the page, or the token given when there was none.
    pub next: ChangeToken,
    /// More changes follow this page.
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        assert_eq!(ChangeToken::decode(&ChangeToken(42).encode()), Ok(ChangeToken(42)));
        for bad in ["", "42", "changes:", "changes:-1", "changes:x"] {
            assert!(ChangeToken::decode(bad).is_err(), "{bad}");
        }
    }
}
