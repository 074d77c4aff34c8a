//! Publishing and archiving over HTTP, on SQLite and PostgreSQL: drafts stay private until published, a stale
//! `expectedVersion` writes nothing, of two concurrent changes from one version exactly one wins, and the audit
//! log records each change with its values before and after.

use boletin::http::HttpSettings;
use boletin_domain::bulletin::BulletinStatus;
use boletin_domain::import::parse_page;
use boletin_e2e::{admin_and_editor, call_as, code, start_with};
use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};

async fn call(base: &str, token: Option<&str>, query: &str) -> Value {
    call_as(base, token, query).await.1
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
        let (admin, editor) = admin_and_editor(&db.store).await;
        let server = start_with(&db.connect_options(), HttpSettings::default()).await;
        let base = server.base.clone();
        let page = parse_page(
            "12 March, 2019\n\nA draft about shelters in Tapachula\n\nShelters on the route received support.\n",
        )
        .expect("the draft page parses");
        let draft = page[0]
            .to_new_bulletin(BulletinStatus::Draft)
            .expect("a valid draft bulletin");
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

fn create(slug: Option<&str>, extra: &str) -> String {
    let slug = slug.map_or_else(String::new, |s| format!("slug: \"{s}\", "));
    format!(
        r#"mutation {{ createBulletin(input: {{ {slug}publishedOn: "2019-03-15", countries: ["MX"], programs: ["iom-x-roadshow"], translations: [{{ lang: EN, title: "A new shelter opens in Tapachula", summary: "A shelter opened.", body: "A shelter opened in Tapachula." }}, {{ lang: ES, title: "Abre un nuevo albergue en Tapachula", summary: "Abrió un albergue.", body: "Abrió un albergue en Tapachula." }}]{extra} }}) {{ bulletin {{ id slug status version title }} }} }}"#
    )
}

#[tokio::test]
async fn created_drafts_stay_private_until_published_and_slugs_stay_unique() {
    on_each_backend(
        "created_drafts_stay_private_until_published_and_slugs_stay_unique",
        |db| async move {
            let (admin, editor) = admin_and_editor(&db.store).await;
            let server = start_with(&db.connect_options(), HttpSettings::default()).await;
            let base = server.base.clone();

            assert_eq!(code(&call(&base, None, &create(None, "")).await), "UNAUTHENTICATED");
            let created = call(&base, Some(&editor), &create(None, "")).await;
            let bulletin = &created["data"]["createBulletin"]["bulletin"];
            assert_eq!(bulletin["slug"], "a-new-shelter-opens-in-tapachula", "{created}");
            assert_eq!((bulletin["status"].clone(), bulletin["version"].clone()), (json!("DRAFT"), json!(1)));
            let id = bulletin["id"].as_str().unwrap_or_default().to_owned();

            // Invisible to the public everywhere: lists, by slug, by id.
            let public = format!(
                r#"{{ bulletins {{ totalCount }} bulletin(slug: "a-new-shelter-opens-in-tapachula") {{ slug }} node(id: "{id}") {{ id }} }}"#
            );
            assert_eq!(
                call(&base, None, &public).await["data"],
                json!({"bulletins": {"totalCount": 10}, "bulletin": null, "node": null})
            );
            let publish = r#"mutation { publishBulletin(slug: "a-new-shelter-opens-in-tapachula", expectedVersion: 1) { bulletin { status } } }"#;
            assert_eq!(call(&base, Some(&editor), publish).await["data"]["publishBulletin"]["bulletin"]["status"], "PUBLISHED");
            assert_eq!(
                call(&base, None, &public).await["data"],
                json!({"bulletins": {"totalCount": 11}, "bulletin": {"slug": "a-new-shelter-opens-in-tapachula"}, "node": {"id": id}})
            );

            // Twenty concurrent creates of one slug: one row.
            let same = create(Some("one-slug-for-twenty"), "");
            let attempts: Vec<_> = (0..20)
                .map(|_| {
                    let (base, editor, same) = (base.clone(), editor.clone(), same.clone());
                    tokio::spawn(async move { call(&base, Some(&editor), &same).await })
                })
                .collect();
            let mut outcomes = Vec::new();
            for attempt in attempts {
                let body = attempt.await.expect("the attempt task finishes");
                outcomes.push(if body.get("errors").is_none() { "created".to_owned() } else { code(&body) });
            }
            assert_eq!(outcomes.iter().filter(|o| *o == "created").count(), 1, "{outcomes:?}");
            assert!(outcomes.iter().all(|o| o == "created" || o == "CONFLICT"), "{outcomes:?}");
            let rows = db
                .scalar("SELECT COUNT(*) FROM bulletins WHERE slug = 'one-slug-for-twenty'")
                .await
                .expect("the count query runs");
            assert_eq!(rows, 1);

            // Invalid input: INVALID at its path, nothing written.
            for (extra, field) in [
                (r#", countries: ["XX"]"#, "input.countries[0]"),
                (r#", programs: ["no-such-program"]"#, "input.programs"),
            ] {
                let body = call(&base, Some(&editor), &create(Some("never-written"), extra)).await;
                assert_eq!(code(&body), "INVALID", "{body}");
                assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
            }
            let never = db
                .scalar("SELECT COUNT(*) FROM bulletins WHERE slug = 'never-written'")
                .await
                .expect("the count query runs");
            assert_eq!(never, 0);

            let log = call(&base, Some(&admin), "{ auditLog { entries { actor operation } } }").await;
            let operations: Vec<&str> = log["data"]["auditLog"]["entries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["operation"].as_str())
                .collect();
            assert_eq!(operations, ["create", "publish", "create"], "{log}");
            server.stop().await;
            db
        },
    )
    .await;
}
