//! API tokens over HTTP, on SQLite and PostgreSQL: roles, refusals, revocation on the next request, and tokens
//! never taken from a URL.

use boletin::http::{HttpSettings, secret_hash};
use boletin_domain::auth::{Role, Tokens};
use boletin_e2e::{code, start_with};
use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};
use std::sync::Arc;

/// A token secret of the right shape, distinct per `n`.
fn secret(n: u8) -> String {
    format!("bol_{}", format!("{n:02}").repeat(22)[..43].to_owned())
}

async fn call(base: &str, token: Option<&str>, query: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_else(|e| panic!("{e}")))
}

const LIST: &str = "{ apiTokens { name role revokedAt } }";
const REVOKE_WRITER: &str = r#"mutation { revokeApiToken(name: "writer") { token { name revokedAt } } }"#;

#[tokio::test]
async fn roles_decide_and_revoked_tokens_are_refused_at_once() {
    on_each_backend("roles_decide_and_revoked_tokens_are_refused_at_once", |db| async move {
        let tokens = Tokens::new(Arc::new(db.store.clone()));
        let (admin, editor) = (secret(1), secret(2));
        for (name, role, secret) in [("chief", Role::Admin, &admin), ("writer", Role::Editor, &editor)] {
            tokens
                .create(name, role, &secret_hash(secret))
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
        }
        let server = start_with(&db.connect_options(), HttpSettings::default()).await;
        let base = server.base.clone();

        // Anonymous callers read published content, and nothing else.
        let (status, body) = call(&base, None, "{ bulletins(first: 1) { totalCount } }").await;
        assert_eq!((status, body["data"]["bulletins"]["totalCount"].clone()), (200, json!(10)));
        let (_, body) = call(&base, None, LIST).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        let (_, body) = call(&base, None, REVOKE_WRITER).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        // An editor may not manage tokens; nothing is written.
        let (_, body) = call(&base, Some(&editor), LIST).await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
        let (_, body) = call(&base, Some(&editor), REVOKE_WRITER).await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
        let (_, body) = call(&base, Some(&admin), LIST).await;
        assert_eq!(
            body["data"]["apiTokens"],
            json!([{"name": "chief", "role": "ADMIN", "revokedAt": null}, {"name": "writer", "role": "EDITOR", "revokedAt": null}]),
            "{body}"
        );

        // Malformed, unknown and foreign-scheme credentials are refused, never treated as anonymous.
        for header in [
            format!("Bearer {}", secret(9)),
            "Bearer bol_short".to_owned(),
            format!("Basic {admin}"),
            "Bearer".to_owned(),
        ] {
            let response = reqwest::Client::new()
                .post(format!("{base}/graphql"))
                .header("authorization", header.as_str())
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(response.status(), 401, "{header}");
            assert_eq!(
                response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
                Some("Bearer")
            );
            let body: Value = response.json().await.unwrap_or_default();
            assert_eq!(code(&body), "UNAUTHENTICATED", "{header}: {body}");
        }

        // Revoked by an admin: refused from the next request on.
        let (_, body) = call(&base, Some(&admin), REVOKE_WRITER).await;
        assert_eq!(body["data"]["revokeApiToken"]["token"]["name"], "writer", "{body}");
        assert!(body["data"]["revokeApiToken"]["token"]["revokedAt"].is_string(), "{body}");
        let (status, body) = call(&base, Some(&editor), "{ __typename }").await;
        assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED".to_owned()));
        // The revocation is in the audit log; the refused attempts before it are not.
        let (_, body) = call(&base, Some(&admin), "{ auditLog { entries { actor entityType operation } } }").await;
        assert_eq!(
            body["data"]["auditLog"]["entries"],
            json!([{"actor": "chief", "entityType": "API_TOKEN", "operation": "revoke"}]),
            "{body}"
        );

        // Never from a URL; never by GET for a mutation; answers to a token holder are not cached by others.
        let response = reqwest::Client::new()
            .get(format!("{base}/graphql"))
            .query(&[("query", "{ __typename }"), ("access_token", admin.as_str())])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 400);
        let response = reqwest::Client::new()
            .get(format!("{base}/graphql"))
            .header("authorization", format!("Bearer {admin}"))
            .query(&[("query", REVOKE_WRITER)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 405);
        let response = reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .header("authorization", format!("Bearer {admin}"))
            .json(&json!({ "query": "{ bulletins(first: 1) { totalCount } }" }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            response.headers().get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        server.stop().await;
        db
    })
    .await;
}
