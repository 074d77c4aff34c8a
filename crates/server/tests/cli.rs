//! The `boletin` command line, run as a user would run it.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_database() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("boletin-cli-{}-{nanos}.db", std::process::id()))
}

fn boletin(database: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boletin"))
        .args(args)
        .env("DATABASE_URL", database)
        .env("BOLETIN_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run boletin: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn page(name: &str, content: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("boletin-page-{}-{name}.txt", std::process::id()));
    std::fs::write(&path, content).expect("the page file is written");
    path
}

const SOURCE_PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seed/pages/000_22d4cd1e50c04007.txt");

#[test]
fn import_is_all_or_nothing_and_names_the_line() {
    let db = temp_database();
    let malformed = page(
        "malformed",
        "8 March, 2019\n\nA good bulletin\n\nText.\n\n31 February, 2019\n\nA bad date\n\nText.\n",
    );
    let failed = boletin(&db, &["import", "bulletins", malformed.to_str().unwrap_or_default()]);
    assert!(!failed.status.success());
    assert!(text(&failed.stderr).contains("line 7"), "{}", text(&failed.stderr));

    let imported = boletin(&db, &["import", "bulletins", SOURCE_PAGE]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(text(&imported.stdout).contains("imported 10 bulletins"));

    let again = boletin(&db, &["import", "bulletins", SOURCE_PAGE]);
    assert!(!again.status.success());
    let error = text(&again.stderr);
    assert!(
        error.contains("line 1:") && error.contains("already exists") && error.contains("nothing was imported"),
        "{error}"
    );
    let _ = std::fs::remove_file(&db);
}

#[test]
fn seed_loads_once() {
    let db = temp_database();
    let first = boletin(&db, &["seed"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("seeded 10 bulletins"));
    let second = boletin(&db, &["seed"]);
    assert!(!second.status.success());
    assert!(text(&second.stderr).contains("empty"), "{}", text(&second.stderr));
    let _ = std::fs::remove_file(&db);
}

#[test]
fn schema_prints_the_committed_sdl() {
    let output = boletin(&temp_database(), &["schema"]);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql")).unwrap_or_default();
    assert_eq!(text(&output.stdout), committed);
}

#[test]
fn every_setting_has_help_and_an_environment_variable() {
    let help = text(&boletin(&temp_database(), &["serve", "--help"]).stdout);
    for setting in [
        "DATABASE_URL",
        "BOLETIN_ADDR",
        "BOLETIN_LOG",
        "BOLETIN_LOG_FORMAT",
        "BOLETIN_DB_MAX_CONNECTIONS",
        "BOLETIN_NO_SEED",
    ] {
        assert!(
            help.contains(setting),
            "`serve --help` does not mention {setting}:\n{help}"
        );
    }
}

#[test]
fn generate_fills_an_empty_database_and_bench_measures_and_explains_it() {
    let (first, second) = (temp_database(), temp_database());
    for db in [&first, &second] {
        let output = boletin(
            db,
            &["generate", "--bulletins", "60", "--observations", "300", "--seed", "3"],
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(
            text(&output.stdout).contains("generated 60 bulletins"),
            "{}",
            text(&output.stdout)
        );
    }
    let again = boletin(&first, &["generate", "--bulletins", "1"]);
    assert!(!again.status.success(), "generating into a full database must fail");
    let bench = boletin(&first, &["bench", "--iterations", "1"]);
    assert!(bench.status.success(), "{}", text(&bench.stderr));
    let table = text(&bench.stdout);
    for row in [
        "feed",
        "deep cursor page",
        "search",
        "facets",
        "statistics by country and month",
        "changes feed",
    ] {
        assert!(table.contains(row), "{row} missing from:\n{table}");
    }
    // Explaining prints each query's statements with the database's plan. (How many depends on how the batch
    // loader groups lookups, which timing decides, so only a lower bound is checked.)
    let explained = |db: &Path| {
        let report = text(&boletin(db, &["bench", "--iterations", "1", "--explain"]).stdout);
        report
            .lines()
            .filter(|l| l.starts_with("SELECT") || l.starts_with("WITH"))
            .count()
    };
    for db in [&first, &second] {
        let statements = explained(db);
        assert!(statements >= 7, "{statements}");
    }
    for db in [first, second] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
}

#[test]
fn tokens_are_shown_once_stored_as_hashes_listed_and_revoked() {
    let db = temp_database();
    let created = boletin(&db, &["token", "create", "--name", "newsroom", "--role", "editor"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let output = text(&created.stdout);
    let secret = output.lines().last().unwrap_or_default().to_owned();
    assert!(
        secret.starts_with("bol_") && secret.len() == 47,
        "the secret is the last line: {output}"
    );

    let again = boletin(&db, &["token", "create", "--name", "newsroom", "--role", "admin"]);
    assert!(!again.status.success(), "a taken name must be refused");
    let bad = boletin(&db, &["token", "create", "--name", "News Room", "--role", "admin"]);
    assert!(!bad.status.success());

    let listed = text(&boletin(&db, &["token", "list"]).stdout);
    assert!(
        listed.contains("newsroom\teditor") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "the list never shows secrets");
    let file = std::fs::read(&db).unwrap_or_default();
    let wal = std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
    let needle = secret.as_bytes();
    for bytes in [&file, &wal] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the secret was stored"
        );
    }

    let revoked = boletin(&db, &["token", "revoke", "newsroom"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&boletin(&db, &["token", "list"]).stdout).contains("revoked"));
    assert!(!boletin(&db, &["token", "revoke", "nobody"]).status.success());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
