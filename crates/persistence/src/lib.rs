//! boletin's storage on SQLite and PostgreSQL through sea-orm: connection set-up and migrations, the domain's
//! [`CatalogStore`](boletin_domain::store::CatalogStore) over SQL, the seed loader and the bulletin importer.
//!
//! sea-orm entities live in the private `entity` module and never leave this crate: every public function
//! speaks in domain types and [`DomainError`](boletin_domain::DomainError).

mod audit_log;
mod change_log;
mod connect;
mod editorial;
mod entity;
mod error;
mod events;
mod explain;
mod load;
mod rollups;
mod rows;
mod search_index;
mod sql;
mod store;
#[cfg(feature = "test-support")]
pub mod testing;
mod tokens;
mod turn;

pub use connect::{Backend, ConnectOptions, connect, migrate};
pub use explain::{RecordedStatement, StatementLog};
pub use load::{BUILTIN_SEED, ImportFailure, LoadReport, parse_dataset};
pub use store::{NotReady, PoolFigures, SqlStore};
