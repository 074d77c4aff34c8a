//! The changes feed on SQLite and PostgreSQL: a client that follows it while other writers change content ends
//! with exactly what a fresh full read gives.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

mod support;

use support::{run, schema_over};

use boletin_domain::bulletin::BulletinStatus;
use boletin_domain::editorial::EditorialStore;
use boletin_domain::import::parse_page;
use boletin_domain::slug::Slug;
use boletin_graphql::BoletinSchema;
use boletin_persistence::testing::on_each_backend;
use boletin_persistence::{SqlStore, connect};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The fields a client keeps of each record, by global id.
const FIELDS: &str = "id ... on Bulletin { slug title } ... on Program { slug } ... on Partner { slug } ... on Indicator { code } ... on Observation { value }";

/// A client's copy of the catalogue, built from the feed.
#[derive(Default)]
struct Client {
    token: Option<String>,
    records: BTreeMap<String, Value>,
}

impl Client {
    /// Reads one page of the feed and applies it; returns `hasMore`.
    async fn sync_page(&mut self, schema: &BoletinSchema) -> bool {
        let since = self.token.as_ref().map_or("null".to_owned(), |t| json!(t).to_string());
        let response = run(
            schema,
            &format!("{{ changes(since: {since}, first: 7) {{ nextToken hasMore changes {{ kind entityType id node {{ {FIELDS} }} }} }} }}"),
        )
        .await;
        let page = &response["data"]["changes"];
        for change in page["changes"].as_array().unwrap_or_else(|| panic!("{response}")) {
            let id = change["id"].as_str().unwrap_or_default().to_owned();
            match (change["kind"].as_str(), change["node"].is_null()) {
                (Some("UPSERT"), false) => {
                    self.records.insert(id, change["node"].clone());
                }
                // Hidden again since: the delete that hid it follows.
                (Some("UPSERT"), true) => {}
                (Some("DELETE"), _) => {
                    self.records.remove(&id);
                }
                other => panic!("unexpected change {other:?}: {change}"),
            }
        }
        self.token = page["nextToken"].as_str().map(str::to_owned);
        page["hasMore"] == json!(true)
    }
}

/// Every public record, read afresh.
async fn full_read(schema: &BoletinSchema) -> BTreeMap<String, Value> {
    let response = run(
        schema,
        "{ bulletins(first: 100) { nodes { id slug title } } programs { id slug } partners { id slug } indicators { id code observations { id value } } }",
    )
    .await;
    assert!(response.get("errors").is_none(), "{response}");
    let data = &response["data"];
    let mut records = BTreeMap::new();
    let mut add = |node: &Value| {
        records.insert(node["id"].as_str().unwrap_or_default().to_owned(), node.clone());
    };
    data["bulletins"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .for_each(&mut add);
    for list in ["programs", "partners"] {
        data[list].as_array().into_iter().flatten().for_each(&mut add);
    }
    for indicator in data["indicators"].as_array().into_iter().flatten() {
        let mut own = indicator.clone();
        if let Some(fields) = own.as_object_mut() {
            fields.remove("observations");
        }
        add(&own);
        indicator["observations"]
            .as_array()
            .into_iter()
            .flatten()
            .for_each(&mut add);
    }
    records
}

/// One writer's edits: new bulletins (one a draft), and a seed bulletin hidden and shown again.
async fn edit(store: SqlStore, writer: usize, hide: &'static str) {
    for round in 0..4 {
        let status = if round == 2 {
            BulletinStatus::Draft
        } else {
            BulletinStatus::Published
        };
        let page =
            format!("10 March, 2019\n\nWriter {writer} round {round} reports\n\nMigrants and partners met again.\n");
        let bulletin = parse_page(&page).expect("the writer's page parses")[0]
            .to_new_bulletin(status)
            .expect("a valid bulletin");
        store
            .import_bulletins(&[bulletin])
            .await
            .unwrap_or_else(|f| panic!("{:?}", f.error));
        let slug = Slug::parse(hide).expect("a valid slug");
        let status = if round % 2 == 0 {
            BulletinStatus::Archived
        } else {
            BulletinStatus::Published
        };
        store
            .change_bulletin_status(&slug, status, None, "writer")
            .await
            .expect("the status changes");
        tokio::task::yield_now().await;
    }
    // Leave one hidden for good.
    if writer == 0 {
        let slug = Slug::parse(hide).expect("a valid slug");
        store
            .change_bulletin_status(&slug, BulletinStatus::Archived, None, "writer")
            .await
            .expect("the bulletin is archived");
    }
}

#[tokio::test]
async fn a_client_following_the_feed_while_content_changes_ends_with_a_full_read() {
    on_each_backend(
        "a_client_following_the_feed_while_content_changes_ends_with_a_full_read",
        |db| async move {
            let db = db.seeded().await;
            let schema = schema_over(&db);
            let mut client = Client::default();
            // A first sync from nothing gives the whole catalogue.
            while client.sync_page(&schema).await {}
            assert_eq!(
                client.records,
                full_read(&schema).await,
                "the initial sync differs from a full read"
            );
            assert_eq!(client.records.len(), 10 + 10 + 7 + 9 + 10, "every public record once");

            // Other writers, on their own connections, change content while the client keeps syncing.
            let mut writers = Vec::new();
            for (writer, hide) in [
                (0, "iom-interviews-migrants-from-caravans-in-chiapas"),
                (
                    1,
                    "over-a-thousand-migrants-have-returned-voluntarily-with-assistance-from-iom-in",
                ),
                (2, "iom-promotes-labor-integration-of-migrants-in-tijuana"),
            ] {
                let connection = connect(&db.connect_options()).await.expect("the database connects");
                writers.push(tokio::spawn(edit(SqlStore::new(connection), writer, hide)));
            }
            while writers.iter().any(|w| !w.is_finished()) {
                client.sync_page(&schema).await;
                tokio::task::yield_now().await;
            }
            for writer in writers {
                writer.await.expect("the writer task finishes");
            }
            while client.sync_page(&schema).await {}
            let fresh = full_read(&schema).await;
            assert_eq!(client.records, fresh, "the synced copy differs from a full read");
            // Nine new published bulletins; one seed bulletin (without figures) hidden.
            assert_eq!(fresh.len(), 46 + 9 - 1, "{}", fresh.len());

            // Nothing new: the token stays, and the page is empty.
            let token = client.token.clone();
            assert!(!client.sync_page(&schema).await);
            assert_eq!(client.token, token);
            db
        },
    )
    .await;
}

#[tokio::test]
async fn bad_tokens_and_sizes_are_refused() {
    on_each_backend("bad_tokens_and_sizes_are_refused", |db| async move {
        let db = db.seeded().await;
        let schema = schema_over(&db);
        for (query, field) in [
            (r#"{ changes(since: "42") { hasMore } }"#, "since"),
            (r#"{ changes(first: 101) { hasMore } }"#, "first"),
            (r#"{ changes(first: -1) { hasMore } }"#, "first"),
        ] {
            let response = run(&schema, query).await;
            assert_eq!(response["errors"][0]["extensions"]["code"], "INVALID", "{response}");
            assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
        }
        db
    })
    .await;
}
