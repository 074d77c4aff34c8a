//! The request deadline holds for work that never waits: a query that passes every check (the limits are lifted
//! here) but would compute in memory for minutes is stopped at its deadline, and stops using the CPU.
//!
//! This file holds one test, so that the process's CPU time is this test's alone.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use async_graphql::Request;
use boletin_domain::catalog::Catalog;
use boletin_graphql::{QueryLimits, SchemaOptions, build_schema};
use boletin_persistence::testing::sqlite;
use std::sync::Arc;
use std::time::Duration;

/// The CPU time this process has used so far (user and system), from `/proc/self/stat`.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("the process's stat file reads");
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name. The kernel counts in
    // USER_HZ, 100 a second on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

#[tokio::test]
async fn a_query_that_computes_past_its_deadline_is_cut_off() {
    let db = sqlite().await.seeded().await;
    let schema = build_schema(
        Catalog::new(Arc::new(db.store.clone())),
        |f| {
            tokio::spawn(f);
        },
        SchemaOptions {
            limits: QueryLimits {
                max_height: usize::MAX,
                max_complexity: usize::MAX,
                max_depth: 1_000,
                ..QueryLimits::default()
            },
            request_timeout: Some(Duration::from_secs(1)),
            ..SchemaOptions::default()
        },
    );
    // 2^14 spreads of the whole schema's fields: tens of millions of resolutions, all in memory.
    let mut query = String::from(
        "query { ...G14 } fragment G0 on Query { __schema { types { name fields { name args { name } type { name ofType { name } } } } } }",
    );
    for i in 1..=14 {
        query.push_str(&format!(" fragment G{i} on Query {{ ...G{j} ...G{j} }}", j = i - 1));
    }
    let before = cpu_time();
    let response = tokio::time::timeout(Duration::from_secs(60), schema.execute(Request::new(query)))
        .await
        .unwrap_or_else(|_| panic!("the query ran on past its deadline"));
    let response = serde_json::to_value(&response).expect("the response serialises");
    let spent = cpu_time() - before;
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        "TIMEOUT",
        "{}",
        response.to_string().chars().take(500).collect::<String>()
    );
    assert!(spent < Duration::from_secs(10), "the query used {spent:?} of CPU");
    // Nothing goes on running once the answer is given.
    let after = cpu_time();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = cpu_time() - after;
    assert!(
        idle < Duration::from_millis(300),
        "{idle:?} of CPU was used after the answer"
    );
    db.cleanup().await;
}
