//! Publishing and archiving over HTTP, on SQLite and PostgreSQL: drafts stay private until published, a stale
//! `expectedVersion` writes nothing, of two concurrent changes from one version exactly one wins, and the audit
//! log records each change with its values before and after.

use boletin::http::{HttpSettings, secret_hash};
use boletin_domain::auth::{Role, Tokens};
use boletin_domain::bulletin::BulletinStatus;
use boletin_domain::import::parse_page;
use boletin_e2e::{code, start_with};
use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};
use std::sync::Arc;

fn secret(n: u8) -> String {
    format!("bol_{}", format!("{n:02}").repeat(22)[..43].to_owned())
}

async fn call(base: &str, token: Option<&str>, query: &str) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
    response.json().await.unwrap_or_else(|e| panic!("{e}"))
}

const SLUG: &str = "a-draft-about-shelters-in-tapachula";
const PUBLIC: &str = r#"{ bulletin(slug: "a-draft-about-shelters-in-tapachula") { slug status version } }"#;

fn change(operation: &str, version: i32) -> String {
    format!(
        r#"mutation {{ {operation}(slug: "{SLUG}", expectedVersion: {version}) {{ bulletin {{ slug status version }} }} }}"#
    )
}

#[tokio::test]
async fn drafts_are_published_once_per_version_and_audited() {
    on_each_backend("drafts_are_published_once_per_version_and_audited", |db| async move {
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
        let page = parse_page(
            "12 March, 2019\n\nA draft about shelters in Tapachula\n\nShelters on the route received support.\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let draft = page[0]
            .to_new_bulletin(BulletinStatus::Draft)
            .unwrap_or_else(|e| panic!("{e}"));
        db.store
            .import_bulletins(&[draft])
            .await
            .unwrap_or_else(|f| panic!("{:?}", f.error));

        // A draft looks like a missing bulletin to the public.
        assert_eq!(call(&base, None, PUBLIC).await["data"]["bulletin"], Value::Null);
        // Only editors publish; nothing is written otherwise.
        assert_eq!(
            code(&call(&base, None, &change("publishBulletin", 1)).await),
            "UNAUTHENTICATED"
        );
        assert_eq!(call(&base, None, PUBLIC).await["data"]["bulletin"], Value::Null);

        let published = call(&base, Some(&editor), &change("publishBulletin", 1)).await;
        assert_eq!(
            published["data"]["publishBulletin"]["bulletin"],
            json!({"slug": SLUG, "status": "PUBLISHED", "version": 2}),
            "{published}"
        );
        assert_eq!(
            call(&base, None, PUBLIC).await["data"]["bulletin"],
            json!({"slug": SLUG, "status": "PUBLISHED", "version": 2})
        );

        // A stale version: CONFLICT with the current one, and nothing written.
        let stale = call(&base, Some(&editor), &change("archiveBulletin", 1)).await;
        assert_eq!(code(&stale), "CONFLICT", "{stale}");
        assert_eq!(stale["errors"][0]["extensions"]["currentVersion"], json!(2), "{stale}");
        assert_eq!(
            call(&base, None, PUBLIC).await["data"]["bulletin"]["status"],
            "PUBLISHED"
        );

        // Two changes from the same version at once: exactly one wins.
        let archive = change("archiveBulletin", 2);
        let (first, second) = tokio::join!(
            call(&base, Some(&editor), &archive),
            call(&base, Some(&admin), &archive),
        );
        let wins = [&first, &second].iter().filter(|r| r.get("errors").is_none()).count();
        let conflicts = [&first, &second].iter().filter(|r| code(r) == "CONFLICT").count();
        assert_eq!((wins, conflicts), (1, 1), "{first} {second}");
        assert_eq!(
            call(&base, None, PUBLIC).await["data"]["bulletin"],
            Value::Null,
            "archived is private again"
        );

        // The audit log: admins only; each successful change once, with before and after.
        assert_eq!(
            code(&call(&base, Some(&editor), "{ auditLog { hasMore } }").await),
            "FORBIDDEN"
        );
        let log = call(
            &base,
            Some(&admin),
            "{ auditLog { hasMore entries { actor entityType operation before after } } }",
        )
        .await;
        let entries = log["data"]["auditLog"]["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(entries.len(), 2, "{log}");
        assert_eq!(entries[0]["actor"], "writer");
        assert_eq!(entries[0]["entityType"], "BULLETIN");
        assert_eq!(entries[0]["operation"], "publish");
        let values = |text: &Value| serde_json::from_str::<Value>(text.as_str().unwrap_or("null")).unwrap_or_default();
        assert_eq!(values(&entries[0]["before"]), json!({"status": "draft", "version": 1}));
        assert_eq!(
            values(&entries[0]["after"]),
            json!({"status": "published", "version": 2})
        );
        assert_eq!(entries[1]["operation"], "archive");
        assert_eq!(
            values(&entries[1]["after"]),
            json!({"status": "archived", "version": 3})
        );
        server.stop().await;
        db
    })
    .await;
}
