//! Live updates over WebSocket: published bulletins and their figures reach subscribers (both protocols, both
//! backends), drafts never do, filters narrow; with PostgreSQL an event published through one server reaches
//! a subscriber of another; and sockets are authenticated, capped, timed out and closed on shutdown.

use boletin::http::HttpSettings;
use boletin_e2e::ws::{Heard, Protocol, Socket, open, subscribe};
use boletin_e2e::{admin_and_editor, call_as, code, start_with};
use boletin_persistence::testing::{on_each_backend, postgres};
use serde_json::{Value, json};
use std::time::Duration;

/// How long to wait for an event that must come.
const SOON: Duration = Duration::from_secs(10);
/// How long to wait to be sure an event does not come.
const QUIET: Duration = Duration::from_millis(400);

async fn call(base: &str, token: &str, query: &str) -> Value {
    let (_, body) = call_as(base, Some(token), query).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body
}

/// Creates a draft about `country` titled `title`, with a figure of `countries_covered`, and returns its slug.
async fn draft_with_a_figure(base: &str, editor: &str, title: &str, country: &str) -> String {
    let created = call(
        base,
        editor,
        &format!(
            r#"mutation {{ createBulletin(input: {{ publishedOn: "2019-04-01", countries: ["{country}"], translations: [{{ lang: EN, title: "{title}", summary: "", body: "Text." }}] }}) {{ bulletin {{ slug }} }} }}"#
        ),
    )
    .await;
    let slug = created["data"]["createBulletin"]["bulletin"]["slug"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    call(
        base,
        editor,
        &format!(
            r#"mutation {{ recordObservation(input: {{ indicator: "countries_covered", source: "{slug}", value: 3, periodStart: "2019-03-01", periodEnd: "2019-03-31", countries: ["{country}"], program: "iom-x-roadshow" }}) {{ observation {{ id }} }} }}"#
        ),
    )
    .await;
    slug
}

async fn publish(base: &str, editor: &str, slug: &str) {
    call(
        base,
        editor,
        &format!(r#"mutation {{ publishBulletin(slug: "{slug}", expectedVersion: 1) {{ bulletin {{ status }} }} }}"#),
    )
    .await;
}

/// The payload's `data`, or a panic naming what was heard instead.
fn data(heard: Heard) -> Value {
    match heard {
        Heard::Payload(payload) => {
            assert!(payload.get("errors").is_none(), "{payload}");
            payload["data"].clone()
        }
        other => panic!("expected an event, heard {other:?}"),
    }
}

const MEXICO: &str =
    r#"subscription { bulletinPublished(filter: { countries: ["MX"] }, lang: EN) { slug status countries { code } } }"#;
const FIGURES: &str =
    r#"subscription { observationRecorded(indicator: "countries_covered") { value source { slug } } }"#;

#[tokio::test]
async fn published_bulletins_and_their_figures_reach_subscribers_and_drafts_never_do() {
    on_each_backend(
        "published_bulletins_and_their_figures_reach_subscribers_and_drafts_never_do",
        |db| async move {
            let (_, editor) = admin_and_editor(&db.store).await;
            let server = start_with(&db.connect_options(), HttpSettings::default()).await;
            let base = server.base.clone();
            let mut bulletins = subscribe(&base, Protocol::TransportWs, MEXICO).await;
            let mut figures = subscribe(&base, Protocol::LegacyWs, FIGURES).await;

            // Drafts and their figures are private: nobody hears of them.
            let guatemala = draft_with_a_figure(&base, &editor, "A job fair in Guatemala City", "GT").await;
            let mexico = draft_with_a_figure(&base, &editor, "A shelter opens in Tapachula", "MX").await;
            assert_eq!(bulletins.hear(QUIET).await, Heard::Nothing);
            assert_eq!(figures.hear(QUIET).await, Heard::Nothing);

            // Published: the filter passes Mexico only; every figure of the indicator is heard.
            publish(&base, &editor, &guatemala).await;
            publish(&base, &editor, &mexico).await;
            assert_eq!(
                data(bulletins.hear(SOON).await),
                json!({"bulletinPublished": {"slug": mexico, "status": "PUBLISHED", "countries": [{"code": "MX"}]}})
            );
            assert_eq!(bulletins.hear(QUIET).await, Heard::Nothing, "Guatemala is filtered out");
            for slug in [&guatemala, &mexico] {
                assert_eq!(
                    data(figures.hear(SOON).await),
                    json!({"observationRecorded": {"value": 3.0, "source": {"slug": slug}}})
                );
            }
            server.stop().await;
            db
        },
    )
    .await;
}

#[tokio::test]
async fn an_event_published_through_one_server_reaches_subscribers_of_another() {
    let test = "an_event_published_through_one_server_reaches_subscribers_of_another";
    let Some(db) = postgres(test).await else {
        return;
    };
    let (_, editor) = admin_and_editor(&db.store).await;
    let first = start_with(&db.connect_options(), HttpSettings::default()).await;
    let second = start_with(&db.connect_options(), HttpSettings::default()).await;
    let mut bulletins = subscribe(&first.base, Protocol::TransportWs, MEXICO).await;
    let mut figures = subscribe(&first.base, Protocol::TransportWs, FIGURES).await;

    let slug = draft_with_a_figure(&second.base, &editor, "A shelter opens in Tapachula", "MX").await;
    // Nothing yet (the draft is private), and by now both subscriptions are surely listening.
    assert_eq!(bulletins.hear(QUIET).await, Heard::Nothing);
    assert_eq!(figures.hear(QUIET).await, Heard::Nothing);
    publish(&second.base, &editor, &slug).await;
    assert_eq!(
        data(bulletins.hear(SOON).await),
        json!({"bulletinPublished": {"slug": slug, "status": "PUBLISHED", "countries": [{"code": "MX"}]}})
    );
    assert_eq!(
        data(figures.hear(SOON).await),
        json!({"observationRecorded": {"value": 3.0, "source": {"slug": slug}}})
    );
    // A figure recorded later on the published bulletin, through the second server, is heard on the first.
    call(
        &second.base,
        &editor,
        &format!(
            r#"mutation {{ recordObservation(input: {{ indicator: "countries_covered", source: "{slug}", value: 4, periodStart: "2019-04-01", periodEnd: "2019-04-30", countries: ["MX"], program: "iom-x-roadshow" }}) {{ observation {{ id }} }} }}"#
        ),
    )
    .await;
    assert_eq!(
        data(figures.hear(SOON).await),
        json!({"observationRecorded": {"value": 4.0, "source": {"slug": slug}}})
    );
    first.stop().await;
    second.stop().await;
    db.cleanup().await;
}

/// A socket's first answer to an operation sent after init.
async fn answer(socket: &mut Socket) -> Value {
    match socket.hear(SOON).await {
        Heard::Payload(payload) => payload,
        Heard::Error(errors) => json!({ "errors": errors }),
        other => panic!("expected an answer, heard {other:?}"),
    }
}

#[tokio::test]
async fn sockets_are_authenticated_limited_to_their_operations_capped_timed_out_and_closed_on_shutdown() {
    on_each_backend(
        "sockets_are_authenticated_limited_to_their_operations_capped_timed_out_and_closed_on_shutdown",
        |db| async move {
            let settings = HttpSettings {
                max_websockets: 4,
                websocket_init_timeout: Duration::from_millis(300),
                ..HttpSettings::default()
            };
            let (_, editor) = admin_and_editor(&db.store).await;
            let server = start_with(&db.connect_options(), settings).await;
            let base = server.base.clone();

            // A good token opens a socket but grants nothing on it: the socket outlives the token's checks.
            let mut as_editor = open(&base, Protocol::TransportWs, Some(&editor))
                .await
                .expect("the editor's socket opens");
            as_editor.init().await;
            as_editor
                .start("1", "{ bulletins(status: [DRAFT]) { totalCount } }")
                .await;
            let drafts = answer(&mut as_editor).await;
            assert_eq!(code(&drafts), "UNAUTHENTICATED", "{drafts}");

            // A bad token is refused before the upgrade; no protocol is a bad request.
            let bad_token = format!("bol_{}", "x".repeat(43));
            assert_eq!(
                open(&base, Protocol::TransportWs, Some(&bad_token)).await.err(),
                Some(401)
            );
            let plain = reqwest::Client::new()
                .get(format!("{base}/graphql"))
                .header("connection", "upgrade")
                .header("upgrade", "websocket")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
                .send()
                .await
                .expect("the server answers");
            assert_eq!(plain.status(), 400);

            // Queries and subscriptions run on a socket; mutations go over POST, subscriptions never do.
            let mut socket = subscribe(&base, Protocol::TransportWs, "{ programs { slug } }").await;
            let programs = answer(&mut socket).await;
            assert_eq!(
                programs["data"]["programs"].as_array().map(Vec::len),
                Some(10),
                "{programs}"
            );
            socket
                .start("2", r#"mutation { revokeApiToken(name: "x") { token { name } } }"#)
                .await;
            let refused = answer(&mut socket).await;
            assert_eq!(code(&refused), "METHOD_NOT_ALLOWED", "{refused}");
            let (status, body) = call_as(&base, None, "subscription { bulletinPublished { slug } }").await;
            assert_eq!((status, code(&body)), (405, "METHOD_NOT_ALLOWED".to_owned()), "{body}");

            // A socket that never says `connection_init` is closed; one more is refused while four are open.
            let mut silent = open(&base, Protocol::TransportWs, None)
                .await
                .expect("the silent socket opens");
            let mut third = open(&base, Protocol::TransportWs, None)
                .await
                .expect("the third socket opens");
            assert_eq!(open(&base, Protocol::TransportWs, None).await.err(), Some(503));
            third.init().await;
            assert_eq!(silent.hear(SOON).await, Heard::Closed(Some(4408)));
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut waiting = open(&base, Protocol::LegacyWs, None)
                .await
                .expect("the socket opens once one closes");
            waiting.init().await;

            // A message larger than the body limit closes its socket; the others go on.
            third
                .send_text(format!(r#"{{"type":"ping","payload":"{}"}}"#, "x".repeat(300 * 1024)))
                .await;
            assert!(matches!(third.hear(SOON).await, Heard::Closed(_)));

            // Shutting down closes every socket as "going away".
            server.stop().await;
            assert_eq!(socket.hear(SOON).await, Heard::Closed(Some(1001)));
            assert_eq!(waiting.hear(SOON).await, Heard::Closed(Some(1001)));
            db
        },
    )
    .await;
}
