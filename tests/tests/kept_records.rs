//! Programs and partners kept in memory between changes (`persistence::store::kept`), seen from outside with the
//! response cache off: a renamed program shows in the very next bulletin page read through the server that
//! renamed it, and in the next pages of another server sharing the database as soon as it hears the change.

use boletin::http::HttpSettings;
use boletin_e2e::{admin_and_editor, call_as, rename_program, start_with};
use boletin_persistence::testing::{on_each_backend, postgres};
use std::time::{Duration, Instant};

/// Every bulletin's programs, as a bulletin page shows them.
const PAGE: &str = "{ bulletins(first: 20, lang: EN) { nodes { programs { slug name } } } }";

fn uncached() -> HttpSettings {
    HttpSettings {
        response_cache_bytes: 0,
        ..HttpSettings::default()
    }
}

/// The names the page gives the program `iom-x-roadshow`, read anonymously through `base`.
async fn names_on_page(base: &str) -> Vec<String> {
    let (status, body) = call_as(base, None, PAGE).await;
    assert!(status == 200 && body.get("errors").is_none(), "{body}");
    let mut names: Vec<String> = body["data"]["bulletins"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|node| node["programs"].as_array().cloned().unwrap_or_default())
        .filter(|program| program["slug"] == "iom-x-roadshow")
        .filter_map(|program| program["name"].as_str().map(str::to_owned))
        .collect();
    names.dedup();
    names
}

#[tokio::test]
async fn a_program_renamed_here_shows_in_the_next_page() {
    on_each_backend("a_program_renamed_here_shows_in_the_next_page", |db| async move {
        let (_, editor) = admin_and_editor(&db.store).await;
        let server = start_with(&db.connect_options(), uncached()).await;
        // Read twice, so the program is kept.
        let before = names_on_page(&server.base).await;
        assert_eq!(
            before.len(),
            1,
            "the seed links bulletins to iom-x-roadshow: {before:?}"
        );
        assert_eq!(names_on_page(&server.base).await, before);
        rename_program(&server.base, &editor, "iom-x-roadshow", "Renamed for the page").await;
        assert_eq!(names_on_page(&server.base).await, ["Renamed for the page"]);
        server.stop().await;
        db
    })
    .await;
}

#[tokio::test]
async fn a_program_renamed_through_another_server_shows_once_heard() {
    let test = "a_program_renamed_through_another_server_shows_once_heard";
    let Some(db) = postgres(test).await else {
        return;
    };
    let (_, editor) = admin_and_editor(&db.store).await;
    let reader = start_with(&db.connect_options(), uncached()).await;
    let writer = start_with(&db.connect_options(), uncached()).await;
    let before = names_on_page(&reader.base).await;
    assert_eq!(names_on_page(&reader.base).await, before);
    rename_program(&writer.base, &editor, "iom-x-roadshow", "Renamed elsewhere").await;
    // The notification travels through PostgreSQL; the reader must show the change as soon as it hears it.
    let started = Instant::now();
    loop {
        let names = names_on_page(&reader.base).await;
        if names == ["Renamed elsewhere"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the reader kept showing {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    reader.stop().await;
    writer.stop().await;
    db.cleanup().await;
}
