//! API tokens: a name, a role, and the SHA-256 of the secret (the secret itself is never stored).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_pk_auto, string_len, timestamp_with_time_zone, timestamp_with_time_zone_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("api_tokens")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len("name", 64).unique_key())
                    .col(string_len("role", 20))
                    .col(string_len("secret_hash", 64).unique_key())
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("api_tokens").to_owned()).await
    }
}
