//! Raw statements written once for both backends: text with placeholders in the backend's style and the
//! values in the order they appear.

use sea_orm::{DbBackend, Statement, Value};

/// A statement being written, with its parameters in the order their placeholders appear.
pub(crate) struct Sql {
    pub(crate) backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends a statement written for this backend elsewhere (by sea-query), with its values. Its placeholders
    /// count from the first, so it must come before any value is bound here.
    pub(crate) fn push_built(&mut self, text: &str, values: Vec<Value>) -> &mut Self {
        assert!(
            self.values.is_empty(),
            "a statement built elsewhere numbers its placeholders from the first"
        );
        self.text.push_str(text);
        self.values = values;
        self
    }

    /// Appends `(?, ?, …)` for `values`.
    pub(crate) fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
        self
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}
