//! For the benchmark command: recording the statements a workload runs, and asking the database how it runs
//! them (`EXPLAIN ANALYZE` on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite).

use crate::error::db_error;
use crate::store::SqlStore;
use boletin_domain::DomainResult;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::sync::{Arc, Mutex};

/// A statement the store ran, with its parameters.
#[derive(Debug, Clone)]
pub struct RecordedStatement(Statement);

impl RecordedStatement {
    /// The SQL text, with placeholders.
    pub fn sql(&self) -> &str {
        &self.0.sql
    }
}

/// The statements run since the last [`StatementLog::take`], when recording.
#[derive(Debug, Clone, Default)]
pub struct StatementLog {
    recording: Arc<Mutex<Option<Vec<RecordedStatement>>>>,
}

impl StatementLog {
    /// Starts recording (again), forgetting what was recorded.
    pub fn start(&self) {
        if let Ok(mut recording) = self.recording.lock() {
            *recording = Some(Vec::new());
        }
    }

    /// Stops recording and returns what was recorded.
    pub fn take(&self) -> Vec<RecordedStatement> {
        self.recording
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .unwrap_or_default()
    }
}

impl SqlStore {
    /// A store over `db` whose statements can be recorded through the returned log.
    pub fn with_statement_log(mut db: DatabaseConnection) -> (Self, StatementLog) {
        let log = StatementLog::default();
        let recording = Arc::clone(&log.recording);
        db.set_metric_callback(move |info| {
            if let Ok(mut recording) = recording.lock()
                && let Some(statements) = recording.as_mut()
            {
                statements.push(RecordedStatement(info.statement.clone()));
            }
        });
        (Self::new(db), log)
    }

    /// How the database runs `statement`: PostgreSQL runs it (`EXPLAIN (ANALYZE, BUFFERS)`); SQLite describes
    /// its plan (`EXPLAIN QUERY PLAN`).
    pub async fn explain(&self, statement: &RecordedStatement) -> DomainResult<String> {
        let backend = self.db().get_database_backend();
        let prefix = match backend {
            DbBackend::Postgres => "EXPLAIN (ANALYZE, BUFFERS) ",
            _ => "EXPLAIN QUERY PLAN ",
        };
        let explained = Statement {
            sql: format!("{prefix}{}", statement.0.sql),
            ..statement.0.clone()
        };
        let rows = self.db().query_all_raw(explained).await.map_err(db_error)?;
        let lines: Vec<String> = rows
            .iter()
            .map(|row| match backend {
                DbBackend::Postgres => row.try_get_by_index::<String>(0).unwrap_or_default(),
                _ => row.try_get::<String>("", "detail").unwrap_or_default(),
            })
            .collect();
        Ok(lines.join("\n"))
    }
}
