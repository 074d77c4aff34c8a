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

/// Statements sent to the database in one call. On PostgreSQL, the common table expressions of one statement:
/// its parts share one snapshot and run in no set order, each to completion whether or not the `SELECT` that
/// ends the statement reads it. On SQLite, which has no data-modifying common table expressions, statements of
/// one text, run in turn on the connection's thread. Either way each part takes its values from the list in
/// the order its placeholders appear, and the batch costs one round trip.
pub(crate) struct Batch {
    sql: Sql,
    parts: usize,
    ended: bool,
}

impl Batch {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            sql: Sql::new(backend),
            parts: 0,
            ended: false,
        }
    }

    pub(crate) fn backend(&self) -> DbBackend {
        self.sql.backend
    }

    /// Adds a part that `write` writes, named `name` on PostgreSQL (a name no other part of the batch takes).
    pub(crate) fn part(&mut self, name: &str, write: impl FnOnce(&mut Sql)) {
        assert!(!self.ended, "a part after the statement's SELECT");
        if self.sql.backend == DbBackend::Postgres {
            self.sql
                .push(if self.parts == 0 { "WITH " } else { ", " })
                .push(name)
                .push(" AS (");
            write(&mut self.sql);
            self.sql.push(")");
        } else {
            if self.parts > 0 {
                self.sql.push("; ");
            }
            write(&mut self.sql);
        }
        self.parts += 1;
    }

    /// Adds common table expressions that `write` names itself (PostgreSQL only).
    pub(crate) fn named(&mut self, write: impl FnOnce(&mut Sql)) {
        debug_assert_eq!(self.sql.backend, DbBackend::Postgres);
        self.sql.push(if self.parts == 0 { "WITH " } else { ", " });
        write(&mut self.sql);
        self.parts += 1;
    }

    /// Ends the statement with `SELECT …`, whose list and clauses `write` writes (PostgreSQL only). Without it
    /// a statement with parts ends in `SELECT 1`.
    pub(crate) fn select(&mut self, write: impl FnOnce(&mut Sql)) {
        debug_assert_eq!(self.sql.backend, DbBackend::Postgres);
        self.sql.push(if self.parts == 0 { "SELECT " } else { " SELECT " });
        write(&mut self.sql);
        self.ended = true;
    }

    /// Whether the batch has nothing to send.
    fn is_empty(&self) -> bool {
        self.parts == 0 && !self.ended
    }

    pub(crate) fn statement(mut self) -> Statement {
        if self.sql.backend == DbBackend::Postgres && !self.ended {
            self.sql.push(" SELECT 1");
        }
        self.sql.statement()
    }

    /// Sends the batch, when it has something to send.
    pub(crate) async fn run<C: sea_orm::ConnectionTrait>(self, conn: &C) -> Result<(), sea_orm::DbErr> {
        if !self.is_empty() {
            conn.execute_raw(self.statement()).await?;
        }
        Ok(())
    }
}

/// A list bound as one JSON array of arrays and read back as rows, one per element: however long the list,
/// the statement's text stays the same, so PostgreSQL plans it once.
pub(crate) struct JsonRows(serde_json::Value);

impl JsonRows {
    /// The rows `rows`, each an array of JSON items.
    pub(crate) fn new(rows: Vec<serde_json::Value>) -> Self {
        Self(serde_json::Value::Array(rows))
    }

    /// `…, …`: a row's items in order, each as text, or cast to the type given beside it (`CAST(… AS BIGINT)`).
    pub(crate) fn items(backend: DbBackend, types: &[Option<&str>]) -> String {
        let row = match backend {
            DbBackend::Postgres => "r.e",
            _ => "r.value",
        };
        let item = |(i, cast): (usize, &Option<&str>)| match cast {
            Some(to) => format!("CAST({row} ->> {i} AS {to})"),
            None => format!("{row} ->> {i}"),
        };
        types.iter().enumerate().map(item).collect::<Vec<_>>().join(", ")
    }

    /// ` FROM … ORDER BY …`: the rows, aliased `r`, in the list's order.
    pub(crate) fn from(self, sql: &mut Sql) {
        let json = self.0.to_string();
        match sql.backend {
            DbBackend::Postgres => {
                sql.push(" FROM jsonb_array_elements(CAST(")
                    .bind(json)
                    .push(" AS jsonb)) WITH ORDINALITY AS r(e, n) ORDER BY r.n");
            }
            _ => {
                sql.push(" FROM json_each(").bind(json).push(") AS r ORDER BY r.key");
            }
        }
    }
}
