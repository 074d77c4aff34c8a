//! ISO 8601 scalars for dates and instants.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, SecondsFormat, Utc};

/// A calendar date in ISO 8601 form, `YYYY-MM-DD`, e.g. `2019-03-08`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
/// A calendar date in ISO 8601 form, `YYYY-MM-DD`, e.g. `2019-03-08`.
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            // Exactly YYYY-MM-DD: chrono alone also reads `2019-3-1`, which the format does not allow.
            Value::String(text) if is_iso_date_shape(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| invalid_date(text, format!("`{text}` is not a day of the calendar (YYYY-MM-DD)"))),
            Value::String(text) => Err(invalid_date(
                text,
                format!("`{text}` is not an ISO 8601 date (YYYY-MM-DD, e.g. 2019-03-08)"),
            )),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        // `NaiveDate`'s Display is ISO 8601 (`YYYY-MM-DD`), and faster than `format("%Y-%m-%d")`.
        Value::String(self.0.to_string())
    }
}

/// An instant in ISO 8601 / RFC 3339 form, in UTC, e.g. `2026-11-27T05:12:32Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

#[Scalar(name = "DateTime")]
/// An instant in ISO 8601 / RFC 3339 form, in UTC, e.g. `2026-11-27T05:12:32Z`.
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| DateTime(t.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom(format!("`{text}` is not an RFC 3339 instant"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// Whether `text` is four digits, a dash, two digits, a dash and two digits.
fn is_iso_date_shape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// The extension that carries a malformed date's text until `error::locate_argument_errors` has found which input field
/// held it (async-graphql's parse errors name the argument's position, not the field inside it).
pub(crate) const BAD_DATE: &str = "boletinBadDate";

/// A malformed date: `INVALID`, with the text kept for locating its field.
fn invalid_date<T: async_graphql::InputType>(text: &str, message: String) -> InputValueError<T> {
    InputValueError::custom(message)
        .with_extension("code", crate::ErrorCode::Invalid.as_str())
        .with_extension(BAD_DATE, text)
}
