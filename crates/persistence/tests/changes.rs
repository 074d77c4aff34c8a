//! The changes feed's order: a change becomes visible only after every change numbered before it, so a reader
//! following the feed never skips one.

use boletin_domain::bulletin::BulletinStatus;
use boletin_domain::import::parse_page;
use boletin_domain::store::CatalogStore;
use boletin_persistence::testing::on_each_backend;
use std::time::Duration;

#[tokio::test]
async fn a_writer_waits_for_an_earlier_uncommitted_change() {
    on_each_backend("a_writer_waits_for_an_earlier_uncommitted_change", |db| async move {
        let db = db.seeded().await;
        let last = db.store.changes(0, 1000).await.expect("the change log reads");
        let token = last.last().map_or(0, |c| c.sequence);

        // A slow writer has appended to the log and not committed yet.
        let slow = db.hold_change_log().await.expect("the change log is held open");
        let store = db.store.clone();
        let import = tokio::spawn(async move {
            let page = parse_page("11 March, 2019\n\nA later bulletin\n\nIt arrives while another write is open.\n")
                .expect("the page parses");
            let bulletin = page[0]
                .to_new_bulletin(BulletinStatus::Published)
                .expect("a valid bulletin");
            store
                .import_bulletins(&[bulletin])
                .await
                .map_err(|f| format!("{:?}", f.error))
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The later write has not overtaken the open one: a reader sees nothing new yet.
        let seen = db.store.changes(token, 1000).await.expect("the change log reads");
        assert!(
            seen.is_empty(),
            "a later change became visible before an earlier one: {seen:?}"
        );
        assert!(!import.is_finished(), "the import did not wait for the open write");

        slow.release().await;
        assert_eq!(import.await.expect("the import task finishes"), Ok(1));
        let seen = db.store.changes(token, 1000).await.expect("the change log reads");
        assert_eq!(seen.len(), 1, "{seen:?}");
        db
    })
    .await;
}
