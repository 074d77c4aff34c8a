//! The web pages over HTTP, without a browser (the browser tests are in `web/tests/`): each page is HTML under a
//! Content-Security-Policy that names no other host, every script and style it links is served pre-compressed
//! and cached for a year, unknown assets are 404, and `--dashboard false` turns the dashboard off. A build
//! without Node serves a page that says how to build them; under `CI=true` the pages must have been built.

use boletin::http::{HttpSettings, web_pages_missing};
use boletin_e2e::start_without_database;

fn links(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|part| part.starts_with("/assets/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn pages_and_assets_are_served_from_the_binary() {
    let running = start_without_database(HttpSettings::default()).await;
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .expect("an HTTP client");
    if let Some(reason) = web_pages_missing() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true requires the web pages, but this build has none: {reason}"
        );
        println!("SKIPPED web pages: not built ({reason})");
        let page = client
            .get(format!("{}/dashboard", running.base))
            .send()
            .await
            .expect("the dashboard answers");
        assert_eq!(page.status(), 503);
        assert!(page.text().await.expect("a body").contains("npm"));
        return;
    }
    for (path, marker) in [("/graphql", "id=\"graphiql\""), ("/dashboard", "id=\"app\"")] {
        let page = client
            .get(format!("{}{path}", running.base))
            .header("accept", "text/html")
            .send()
            .await
            .expect("the page answers");
        assert_eq!(page.status(), 200, "{path}");
        let headers = page.headers().clone();
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        let csp = headers["content-security-policy"].to_str().expect("ASCII");
        assert!(csp.starts_with("default-src 'self'") && !csp.contains("http"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        let html = page.text().await.expect("a body");
        assert!(html.contains(marker), "{path}: {html}");
        let assets = links(&html);
        assert_eq!(assets.len(), 2, "{path} links one script and one style: {assets:?}");
        for asset in assets {
            let url = format!("{}{asset}", running.base);
            let plain = client.get(&url).send().await.expect("the asset answers");
            assert_eq!(plain.status(), 200, "{asset}");
            assert_eq!(plain.headers()["cache-control"], "public, max-age=31536000, immutable");
            assert!(plain.headers().get("content-encoding").is_none());
            let size = plain.bytes().await.expect("a body").len();
            for encoding in ["br", "gzip"] {
                let compressed = client
                    .get(&url)
                    .header("accept-encoding", encoding)
                    .send()
                    .await
                    .expect("the asset answers");
                assert_eq!(compressed.headers()["content-encoding"], encoding, "{asset}");
                assert_eq!(compressed.headers()["vary"], "accept-encoding");
                let compressed_size = compressed.bytes().await.expect("a body").len();
                assert!(
                    compressed_size < size,
                    "{asset}: {encoding} {compressed_size} of {size}"
                );
            }
        }
    }
    let missing = client
        .get(format!("{}/assets/nothing.0123.js", running.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_dashboard_can_be_turned_off() {
    let running = start_without_database(HttpSettings {
        dashboard: false,
        ..HttpSettings::default()
    })
    .await;
    let page = reqwest::get(format!("{}/dashboard", running.base))
        .await
        .expect("answers");
    assert_eq!(page.status(), 404);
}
