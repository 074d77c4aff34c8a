//! SQLite under pressure: many writers at once, and a full disk.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use boletin_domain::DomainError;
use boletin_domain::bulletin::{
    BulletinCursor, BulletinFilter, BulletinOrder, BulletinStatus, NewBulletin, TextsWanted,
};
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
    let parsed = parse_page(&page).expect("the bulletin page parses");
    parsed[0]
        .to_new_bulletin(BulletinStatus::Published)
        .expect("a valid bulletin")
}

async fn published(store: &SqlStore) -> u64 {
    store
        .bulletin_count(&BulletinFilter::default())
        .await
        .expect("the bulletins are counted")
}

async fn pragma(db: &DatabaseConnection, name: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("PRAGMA {name}"),
        ))
        .await
        .expect("the PRAGMA query runs")
        .unwrap_or_else(|| panic!("PRAGMA {name} returned no row"));
    row.try_get::<String>("", name)
        .or_else(|_| row.try_get::<i64>("", name).map(|n| n.to_string()))
        .expect("a text or numeric PRAGMA value")
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
        let result = writer.await.expect("the writer task finishes");
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
    let connection = connect(&options).await.expect("the test database connects");
    let store = SqlStore::new(connection.clone());
    let pages = pragma(&connection, "page_count").await;
    connection
        .execute_unprepared(&format!("PRAGMA max_page_count = {pages}"))
        .await
        .expect("the page limit is set");

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
            &PageRequest::<BulletinCursor>::new(Some(5), None, None, None).expect("a valid page request"),
            TextsWanted::ALL,
        )
        .await
        .expect("the first page reads");
    assert_eq!(page.items.len(), 5);
    assert_eq!(pragma(&connection, "integrity_check").await, "ok");

    // Once there is room again, the same import succeeds.
    connection
        .execute_unprepared("PRAGMA max_page_count = 1073741823")
        .await
        .expect("the page limit is lifted");
    assert_eq!(
        store
            .import_bulletins(&large)
            .await
            .map_err(|f| format!("{:?}", f.error)),
        Ok(40)
    );
    connection.close().await.expect("the connection closes");
    db.cleanup().await;
}

/// A tmpfs of `size` mounted on a directory of its own, unmounted when dropped; `None` where this process may not
/// mount (it needs root).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(name: &str, size: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("boletin-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Self(dir))
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write as _;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).expect("the filler file is created");
        let chunk = vec![0u8; 16 * 1024];
        while file.write_all(&chunk).and_then(|()| file.flush()).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_really_full_disk_fails_every_write_at_once_and_writes_resume_when_space_returns() {
    use boletin_domain::editorial::EditorialStore;
    use boletin_domain::slug::Slug;
    let Some(disk) = SmallDisk::mount("full-disk", "4m") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the full-disk test needs permission to mount a tmpfs (root), and CI must run it"
        );
        eprintln!("SKIPPED (needs root to mount a tmpfs): a really full disk");
        return;
    };
    // The server's own pool (ten connections), on a real file system that runs out of space.
    let url = disk.0.join("boletin.db").display().to_string();
    let connection = connect(&ConnectOptions::new(url))
        .await
        .expect("the database on the small disk connects");
    boletin_persistence::migrate(&connection)
        .await
        .expect("the database migrates");
    let store = SqlStore::new(connection);
    let seed = boletin_persistence::parse_dataset(boletin_persistence::BUILTIN_SEED).expect("the built-in seed parses");
    store.load_dataset(&seed).await.expect("the built-in seed loads");
    let slug = Slug::parse("iom-promotes-labor-integration-of-migrants-in-tijuana").expect("a valid slug");
    let filler = disk.fill();

    // Every write fails as unavailable, none of them with a "locked" stall, whatever failed before it.
    for attempt in 0..8 {
        let failure = store
            .import_bulletins(&[bulletin(attempt, 2_000)])
            .await
            .err()
            .unwrap_or_else(|| panic!("import {attempt} passed on a full disk"));
        let DomainError::Unavailable { cause } = &failure.error else {
            panic!("import {attempt}: {:?}", failure.error);
        };
        assert!(!cause.contains("locked"), "import {attempt}: {cause}");
        let status = store
            .change_bulletin_status(&slug, BulletinStatus::Archived, None, "test")
            .await;
        match status {
            Err(DomainError::Unavailable { cause }) => assert!(!cause.contains("locked"), "{cause}"),
            other => panic!("status change {attempt} on a full disk: {other:?}"),
        }
    }
    assert_eq!(published(&store).await, 10);

    // Once there is room again, the same store writes again: no restart.
    std::fs::remove_file(filler).expect("the filler file is removed");
    assert_eq!(
        store
            .import_bulletins(&[bulletin(100, 20)])
            .await
            .map_err(|f| format!("{:?}", f.error)),
        Ok(1)
    );
    let archived = store
        .change_bulletin_status(&slug, BulletinStatus::Archived, None, "test")
        .await
        .expect("the bulletin is archived");
    assert_eq!(archived.status, BulletinStatus::Archived);
    assert_eq!(published(&store).await, 10);
    store.close().await;
    drop(disk);
}

#[tokio::test]
async fn sqlite_keeps_no_index_samples_so_analyzed_statements_are_not_recompiled_on_every_run() {
    // With STAT4, `ANALYZE` stores index samples and SQLite then recompiles a statement each time values are
    // bound to it (the write path's refresh cost 1.1-1.7 ms a write that way); boletin's SQLite is built without
    // it (.cargo/config.toml).
    let db = sqlite().await.seeded().await;
    db.store.analyze().await.expect("ANALYZE runs");
    let count = |sql: &'static str| {
        let db = &db;
        async move { db.scalar(sql).await.expect("the query runs") }
    };
    assert_eq!(count("SELECT sqlite_compileoption_used('ENABLE_STAT4')").await, 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat4'").await,
        0,
        "ANALYZE stored index samples"
    );
    assert!(
        count("SELECT COUNT(*) FROM sqlite_stat1").await > 0,
        "ANALYZE still stores each index's averages"
    );
    db.cleanup().await;
}
