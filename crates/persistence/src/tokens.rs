//! API tokens in the database: names, roles and secret hashes (see `boletin_domain::auth`).

use crate::error::{corrupt, db_error};
use crate::store::SqlStore;
use boletin_domain::DomainResult;
use boletin_domain::auth::{ApiToken, Role, TokenStore};
use boletin_domain::editorial::AuditedKind;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};

const COLUMNS: [&str; 4] = ["name", "role", "created_at", "revoked_at"];

fn select() -> SelectStatement {
    Query::select()
        .columns(COLUMNS.map(Alias::new))
        .from(Alias::new("api_tokens"))
        .to_owned()
}

fn read(row: &QueryResult) -> DomainResult<ApiToken> {
    let role: String = row.try_get("", "role").map_err(|e| corrupt("api_tokens", e))?;
    Ok(ApiToken {
        name: row.try_get("", "name").map_err(|e| corrupt("api_tokens", e))?,
        role: Role::parse(&role).map_err(|e| corrupt("api_tokens", e))?,
        created_at: row.try_get("", "created_at").map_err(|e| corrupt("api_tokens", e))?,
        revoked_at: row
            .try_get::<Option<DateTime<Utc>>>("", "revoked_at")
            .map_err(|e| corrupt("api_tokens", e))?,
    })
}

#[async_trait::async_trait]
impl TokenStore for SqlStore {
    async fn create_token(&self, name: &str, role: Role, secret_hash: &str) -> DomainResult<ApiToken> {
        let now = Utc::now();
        let insert = Query::insert()
            .into_table(Alias::new("api_tokens"))
            .columns(["name", "role", "secret_hash", "created_at"].map(Alias::new))
            .values([name.into(), role.code().into(), secret_hash.into(), now.into()])
            .map_err(|e| boletin_domain::DomainError::Internal { cause: e.to_string() })?
            .to_owned();
        let _turn = self.write_turn().await;
        self.db().execute(&insert).await.map_err(db_error)?;
        Ok(ApiToken {
            name: name.to_owned(),
            role,
            created_at: now,
            revoked_at: None,
        })
    }

    async fn active_token(&self, secret_hash: &str) -> DomainResult<Option<ApiToken>> {
        let query = select()
            .and_where(Expr::col(Alias::new("secret_hash")).eq(secret_hash))
            .and_where(Expr::col(Alias::new("revoked_at")).is_null())
            .to_owned();
        let row = self.db().query_one(&query).await.map_err(db_error)?;
        row.as_ref().map(read).transpose()
    }

    async fn tokens(&self) -> DomainResult<Vec<ApiToken>> {
        let query = select().order_by(Alias::new("name"), Order::Asc).to_owned();
        let rows = self.db().query_all(&query).await.map_err(db_error)?;
        rows.iter().map(read).collect()
    }

    async fn revoke_token(&self, name: &str, actor: &str) -> DomainResult<Option<ApiToken>> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await.map_err(db_error)?;
        let now = Utc::now();
        let update = Query::update()
            .table(Alias::new("api_tokens"))
            .value(Alias::new("revoked_at"), now)
            .and_where(Expr::col(Alias::new("name")).eq(name))
            .and_where(Expr::col(Alias::new("revoked_at")).is_null())
            .to_owned();
        let revoked = txn.execute(&update).await.map_err(db_error)?.rows_affected() > 0;
        let query = select()
            .column(Alias::new("id"))
            .and_where(Expr::col(Alias::new("name")).eq(name))
            .to_owned();
        let row = txn.query_one(&query).await.map_err(db_error)?;
        let token = row.as_ref().map(read).transpose()?;
        if revoked && let Some(row) = &row {
            let id: i64 = row.try_get("", "id").map_err(|e| corrupt("api_tokens", e))?;
            crate::audit_log::record(
                &txn,
                crate::audit_log::Audit {
                    actor,
                    kind: AuditedKind::ApiToken,
                    id,
                    operation: "revoke",
                    before: Some(serde_json::json!({ "name": name, "revoked_at": null }).to_string()),
                    after: Some(serde_json::json!({ "name": name, "revoked_at": now.to_rfc3339() }).to_string()),
                    at: now,
                },
            )
            .await?;
        }
        txn.commit().await.map_err(db_error)?;
        Ok(token)
    }
}
