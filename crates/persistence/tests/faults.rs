//! SQLite under pressure: many writers at once, and a full disk.

use boletin_domain::DomainError;
use boletin_domain::bulletin::{BulletinCursor, BulletinFilter, BulletinOrder, BulletinStatus, NewBulletin};
use boletin_domain::import::parse_page;
use boletin_domain::page::PageRequest;
use boletin_domain::store::CatalogStore;
use boletin_persistence::testing::sqlite;
use boletin_persistence::{ConnectOptions, SqlStore, connect};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// A bulletin of one page, numbered so that each has its own slug.
fn bulletin(number: usize, body_words: usize) -> NewBulletin {
    let body = "Texto del boletín sobre migración y retorno asistido. ".repeat(body_words.max(1));
    let page = format!("8 March, 2019\n\nBulletin number {number} on assisted returns\n\n{body}\n");
    let parsed = parse_page(&page).unwrap_or_else(|e| panic!("{e}"));
    parsed[0]
        .to_new_bulletin(BulletinStatus::Published)
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn published(store: &SqlStore) -> u64 {
    store
        .bulletin_count(&BulletinFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

async fn pragma(db: &DatabaseConnection, name: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("PRAGMA {name} returned no row"));
    row.try_get::<String>("", name)
        .or_else(|_| row.try_get::<i64>("", name).map(|n| n.to_string()))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn fifty_concurrent_writers_on_sqlite_all_succeed() {
    let db = sqlite().await.seeded().await;
    let mut writers = Vec::new();
    for number in 0..50 {
        let store = db.store.clone();
        writers.push(tokio::spawn(async move {
            store.import_bulletins(&[bulletin(number, 3)]).await
        }));
    }
    for (number, writer) in writers.into_iter().enumerate() {
        let result = writer.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(result.map_err(|f| format!("{:?}", f.error)), Ok(1), "writer {number}");
    }
    assert_eq!(published(&db.store).await, 60);
    db.cleanup().await;
}

#[tokio::test]
async fn a_full_disk_fails_the_write_keeps_reads_and_leaves_a_sound_file() {
    let db = sqlite().await.seeded().await;
    // One connection, so the page limit below (a per-connection setting) holds for every statement: SQLite
    // answers a write past `max_page_count` with SQLITE_FULL, the same error as a full disk.
    let mut options = ConnectOptions::new(db.url.clone());
    options.max_connections = 1;
    let connection = connect(&options).await.unwrap_or_else(|e| panic!("{e:?}"));
    let store = SqlStore::new(connection.clone());
    let pages = pragma(&connection, "page_count").await;
    connection
        .execute_unprepared(&format!("PRAGMA max_page_count = {pages}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let large: Vec<NewBulletin> = (0..40).map(|n| bulletin(n, 400)).collect();
    let failure = store
        .import_bulletins(&large)
        .await
        .err()
        .unwrap_or_else(|| panic!("the write passed"));
    assert!(
        matches!(failure.error, DomainError::Unavailable { .. }),
        "{:?}",
        failure.error
    );
    assert_eq!(failure.error.to_string(), "the service is temporarily unavailable");

    // Reads go on, nothing of the failed import is visible, and the file is sound.
    assert_eq!(published(&store).await, 10);
    let page = store
        .bulletin_page(
            &BulletinFilter::default(),
            BulletinOrder::default(),
            &PageRequest::<BulletinCursor>::new(Some(5), None, None, None).unwrap_or_else(|e| panic!("{e:?}")),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(page.items.len(), 5);
    assert_eq!(pragma(&connection, "integrity_check").await, "ok");

    // Once there is room again, the same import succeeds.
    connection
        .execute_unprepared("PRAGMA max_page_count = 1073741823")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store
            .import_bulletins(&large)
            .await
            .map_err(|f| format!("{:?}", f.error)),
        Ok(40)
    );
    connection.close().await.unwrap_or_else(|e| panic!("{e}"));
    db.cleanup().await;
}
