//! What every GraphQL test file needs: the schema over a test database, and a way to run a request.

use async_graphql::Request;
use boletin_domain::catalog::Catalog;
use boletin_graphql::{BoletinSchema, RequestId, SchemaOptions, build_schema};
use boletin_persistence::testing::TestDatabase;
use serde_json::Value;
use std::sync::Arc;

/// The schema over `db` with `options`.
pub fn schema_with(db: &TestDatabase, options: SchemaOptions) -> BoletinSchema {
    build_schema(
        Catalog::new(Arc::new(db.store.clone())),
        |f| {
            tokio::spawn(f);
        },
        options,
    )
}

/// The schema over `db` with the default options.
pub fn schema_over(db: &TestDatabase) -> BoletinSchema {
    schema_with(db, SchemaOptions::default())
}

/// Executes `request` (a query text or a whole request) and returns the response as JSON (`data`, and `errors`
/// when there are any).
pub async fn run(schema: &BoletinSchema, request: impl Into<Request>) -> Value {
    let response = schema
        .execute(request.into().data(RequestId("test-request".into())))
        .await;
    serde_json::to_value(&response).expect("the response serialises")
}
