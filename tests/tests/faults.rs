//! PostgreSQL faults under a running server: unreachable at start, connections lost or killed, a statement
//! blocked behind a lock. The database is the real PostgreSQL; a TCP proxy in front of it plays a server that
//! stops and comes back, so the shared server itself is never stopped.

use boletin::http::HttpSettings;
use boletin::open_store_with_retry;
use boletin_e2e::{Proxy, Running, code, post, postgres_host, start_with, start_without_database, with_host};
use boletin_persistence::ConnectOptions;
use boletin_persistence::testing::{TestDatabase, postgres};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Connect options for a server under test: a short acquire timeout and an application name of its own, so the
/// test can find (and kill) exactly its connections.
fn options_for(db: &TestDatabase, name: &str) -> ConnectOptions {
    let mut options = db.connect_options();
    options.acquire_timeout = Duration::from_secs(1);
    options.application_name = format!("boletin-{name}");
    options
}

async fn status_of(base: &str, path: &str) -> u16 {
    reqwest::get(format!("{base}{path}"))
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// Polls `query` until it answers with data, for at most `limit`.
async fn eventually_answers(base: &str, query: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (_, _, body) = post(base, query).await;
        if body.get("errors").is_none() {
            return body;
        }
        assert!(started.elapsed() < limit, "still failing after {limit:?}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// No database text in a client-facing body.
fn assert_no_leak(body: &Value) {
    let text = body.to_string().to_lowercase();
    for leak in [
        "sqlx",
        "pool",
        "refused",
        "postgres",
        "select ",
        "error returned",
        "connection",
        "canceling",
        "relation",
        "database",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked: {body}");
    }
}

const PROGRAMS: &str = "{ programs { slug } }";

#[tokio::test]
async fn an_unreachable_database_at_start_is_retried_then_served() {
    let Some(db) = postgres("an_unreachable_database_at_start_is_retried_then_served").await else {
        return;
    };
    let proxy = Proxy::new(postgres_host(&db.url)).await;
    let mut options = options_for(&db, "start");
    options.url = with_host(&db.url, proxy.addr);
    let server = start_without_database(HttpSettings::default()).await;
    let state = server.state.clone();
    let opening = tokio::spawn(async move {
        let store = open_store_with_retry(&options, true, None).await?;
        state.attach(store).await;
        anyhow::Ok(())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status_of(&server.base, "/healthz").await, 200);
    assert_eq!(status_of(&server.base, "/readyz").await, 503);
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .json(&serde_json::json!({ "query": PROGRAMS }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(code(&body), "UNAVAILABLE");

    proxy.up().await;
    let started = Instant::now();
    while status_of(&server.base, "/readyz").await != 200 {
        assert!(started.elapsed() < Duration::from_secs(20), "never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(opening.await.is_ok_and(|r| r.is_ok()));
    let body = eventually_answers(&server.base, PROGRAMS, Duration::from_secs(5)).await;
    assert!(
        body["data"]["programs"].as_array().is_some_and(|p| !p.is_empty()),
        "{body}"
    );
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_lost_database_fails_fast_and_is_recovered_without_a_restart() {
    let Some(db) = postgres("a_lost_database_fails_fast_and_is_recovered_without_a_restart").await else {
        return;
    };
    let proxy = Proxy::new(postgres_host(&db.url)).await;
    proxy.up().await;
    let mut options = options_for(&db, "lost");
    options.url = with_host(&db.url, proxy.addr);
    let server = start_with(&options, HttpSettings::default()).await;
    eventually_answers(&server.base, PROGRAMS, Duration::from_secs(5)).await;

    // The server goes away under load: every open connection is cut and new ones are refused. Twenty
    // requests at once (twice the pool) all fail fast with UNAVAILABLE.
    proxy.down();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let load: Vec<_> = (0..20)
        .map(|_| {
            let base = server.base.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let answer = post(&base, PROGRAMS).await;
                (started.elapsed(), answer)
            })
        })
        .collect();
    for request in load {
        let (elapsed, (status, headers, body)) = request.await.expect("the request task finishes");
        assert!(
            elapsed < Duration::from_secs(5),
            "a request waited {elapsed:?} for a dead database"
        );
        // Always 503 with Retry-After, never a 200 holding an error, so proxies and clients retry.
        assert_eq!(
            (status.as_u16(), code(&body)),
            (503, "UNAVAILABLE".to_owned()),
            "{body}"
        );
        assert_eq!(headers["retry-after"], "1");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(body["errors"][0]["extensions"]["requestId"].is_string(), "{body}");
        assert_no_leak(&body);
    }
    assert_eq!(status_of(&server.base, "/healthz").await, 200, "the process is alive");
    assert_eq!(status_of(&server.base, "/readyz").await, 503, "but not ready");

    // It comes back: the pool reconnects by itself.
    proxy.up().await;
    eventually_answers(&server.base, PROGRAMS, Duration::from_secs(10)).await;
    assert_eq!(status_of(&server.base, "/readyz").await, 200);
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn killed_connections_are_replaced() {
    let Some(db) = postgres("killed_connections_are_replaced").await else {
        return;
    };
    let options = options_for(&db, &format!("killed-{}", std::process::id()));
    let name = options.application_name.clone();
    let server = start_with(&options, HttpSettings::default()).await;
    // Several requests at once, so that the pool opens several connections.
    let queries: Vec<_> = (0..8)
        .map(|_| {
            let base = server.base.clone();
            tokio::spawn(async move { post(&base, PROGRAMS).await })
        })
        .collect();
    for query in queries {
        let (_, _, body) = query.await.expect("the query task finishes");
        assert!(body.get("errors").is_none(), "{body}");
    }
    let killed = db
        .scalar(&format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{name}'"
        ))
        .await
        .expect("the backends are terminated");
    assert!(killed > 0, "no connection of {name} to kill");
    for _ in 0..10 {
        let (_, _, body) = post(&server.base, PROGRAMS).await;
        if body.get("errors").is_some() {
            assert_eq!(code(&body), "UNAVAILABLE", "{body}");
            assert_no_leak(&body);
        }
    }
    eventually_answers(&server.base, PROGRAMS, Duration::from_secs(5)).await;
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_blocked_statement_times_out_while_health_checks_answer() {
    let Some(db) = postgres("a_blocked_statement_times_out_while_health_checks_answer").await else {
        return;
    };
    let mut options = options_for(&db, "slow");
    options.statement_timeout = Some(Duration::from_millis(500));
    let server = start_with(&options, HttpSettings::default()).await;
    let lock = db.lock_table("bulletins").await.expect("the bulletins table is locked");
    let blocked = tokio::spawn({
        let base = server.base.clone();
        async move { post(&base, "{ bulletins { totalCount } }").await }
    });
    // While that statement waits, the pool still serves other work.
    assert_eq!(status_of(&server.base, "/healthz").await, 200);
    assert_eq!(status_of(&server.base, "/readyz").await, 200);
    let (_, _, body) = post(&server.base, PROGRAMS).await;
    assert!(body.get("errors").is_none(), "{body}");
    let (status, _, body) = blocked.await.expect("the blocked request finishes");
    assert_eq!((status.as_u16(), code(&body)), (503, "TIMEOUT".to_owned()), "{body}");
    assert_no_leak(&body);
    lock.release().await;
    eventually_answers(&server.base, "{ bulletins { totalCount } }", Duration::from_secs(5)).await;
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_request_past_its_deadline_is_stopped_and_its_statement_cancelled() {
    let Some(db) = postgres("a_request_past_its_deadline_is_stopped_and_its_statement_cancelled").await else {
        return;
    };
    let mut options = options_for(&db, &format!("deadline-{}", std::process::id()));
    let name = options.application_name.clone();
    let settings = HttpSettings {
        request_timeout: Duration::from_secs(1),
        ..HttpSettings::default()
    };
    // As `boletin serve` sets it: the statement timeout never exceeds the request timeout.
    options.statement_timeout = Some(settings.request_timeout);
    let server: Running = start_with(&options, settings).await;
    let lock = db.lock_table("bulletins").await.expect("the bulletins table is locked");
    let started = Instant::now();
    let (status, _, body) = post(&server.base, "{ bulletins { totalCount } }").await;
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(matches!(status.as_u16(), 200 | 503), "{status}: {body}");
    assert_eq!(code(&body), "TIMEOUT", "{body}");
    // The lock is still held, yet soon nothing of this server waits on it: the statement was cancelled, not left
    // to wait for the lock (which is held until the end of the test). Polled, not slept on.
    let cancelled_by = Instant::now() + Duration::from_secs(5);
    loop {
        let waiting = db
            .scalar(&format!(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}' AND state = 'active'"
            ))
            .await
            .expect("the activity query runs");
        if waiting == 0 {
            break;
        }
        assert!(
            Instant::now() < cancelled_by,
            "a statement of the stopped request still runs 5 s later"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    lock.release().await;
    server.stop().await;
    db.cleanup().await;
}
