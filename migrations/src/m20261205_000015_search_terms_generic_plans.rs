//! The search terms' status trigger (migration 14) plans its statements once per connection on PostgreSQL.
//! PL/pgSQL plans a statement for each call's values until it has run five times on a connection; a server
//! whose pool spreads publications over ten connections planned the trigger's `MERGE` on nearly every
//! publication, 0.07-0.22 ms of its statement (docs/BENCHMARKS.md, "Writes in one batch"). The trigger's
//! statements look one bulletin's terms up by key, which a generic plan does as well as any. SQLite has no
//! plans to keep: nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Runs `statement` on PostgreSQL only.
async fn on_postgres(manager: &SchemaManager<'_>, statement: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    manager.get_connection().execute_unprepared(statement).await.map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "ALTER FUNCTION bulletin_search_terms_status() SET plan_cache_mode = force_generic_plan",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "ALTER FUNCTION bulletin_search_terms_status() RESET plan_cache_mode",
        )
        .await
    }
}
