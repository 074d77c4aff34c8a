//! API tokens over HTTP, on SQLite and PostgreSQL: roles, refusals, revocation on the next request, and tokens
//! never taken from a URL.

use boletin::http::HttpSettings;
use boletin_e2e::{admin_and_editor, call_as as call, code, secret, start_with};
use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};

const LIST: &str = "{ apiTokens { name role revokedAt } }";
const REVOKE_WRITER: &str = r#"mutation { revokeApiToken(name: "writer") { token { name revokedAt } } }"#;

#[tokio::test]
async fn roles_decide_and_revoked_tokens_are_refused_at_once() {
    on_each_backend("roles_decide_and_revoked_tokens_are_refused_at_once", |db| async move {
        let (admin, editor) = admin_and_editor(&db.store).await;
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
                .expect("the server answers");
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
            .expect("the server answers");
        assert_eq!(response.status(), 400);
        let response = reqwest::Client::new()
            .get(format!("{base}/graphql"))
            .header("authorization", format!("Bearer {admin}"))
            .query(&[("query", REVOKE_WRITER)])
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 405);
        let response = reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .header("authorization", format!("Bearer {admin}"))
            .json(&json!({ "query": "{ bulletins(first: 1) { totalCount } }" }))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(
            response.headers().get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        server.stop().await;
        db
    })
    .await;
}
