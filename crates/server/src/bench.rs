//! `boletin bench`: the latency of the queries that matter at scale (the feed, a deep cursor page, search,
//! facets, statistics by country and month, the changes feed), run through the GraphQL schema in this process
//! against the configured database, and optionally the database's plan of every statement they run.

use crate::AppState;
use crate::http::HttpSettings;
use async_graphql::Request;
use boletin_graphql::{ClientKey, RequestId};
use boletin_persistence::{SqlStore, StatementLog};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One benchmarked query.
struct Case {
    name: &'static str,
    query: String,
}

/// Runs `query` and fails on GraphQL errors, so a benchmark never times an error.
async fn run(state: &AppState, query: &str) -> anyhow::Result<serde_json::Value> {
    let schema = state.schema().ok_or_else(|| anyhow::anyhow!("no database"))?;
    let response = schema
        .execute(
            Request::new(query)
                .data(RequestId("bench".to_owned()))
                .data(ClientKey("bench".to_owned())),
        )
        .await;
    if !response.errors.is_empty() {
        anyhow::bail!("{query}: {:?}", response.errors);
    }
    Ok(serde_json::to_value(&response.data)?)
}

/// The queries, with a deep cursor and an indicator taken from the data.
async fn cases(state: &AppState) -> anyhow::Result<Vec<Case>> {
    let oldest = run(
        state,
        "{ bulletins(first: 21, orderBy: PUBLISHED_ON_ASC) { edges { cursor } } }",
    )
    .await?;
    let cursor = oldest["bulletins"]["edges"]
        .as_array()
        .and_then(|edges| edges.last())
        .map(|edge| edge["cursor"].clone())
        .ok_or_else(|| anyhow::anyhow!("the database has no bulletins; run `boletin generate` first"))?;
    let indicators = run(state, "{ indicators { code aggregation } }").await?;
    let indicator = indicators["indicators"]
        .as_array()
        .and_then(|list| list.iter().find(|i| i["aggregation"] == "SUM"))
        .and_then(|i| i["code"].as_str())
        .unwrap_or("returns_assisted")
        .to_owned();
    Ok(vec![
        Case {
            name: "feed (first page, newest first)",
            query: "{ bulletins(first: 20) { totalCount nodes { slug title publishedOn countries { code } programs { slug } } } }"
                .to_owned(),
        },
        Case {
            name: "deep cursor page (the 20 oldest)",
            query: format!("{{ bulletins(first: 20, after: {cursor}) {{ nodes {{ slug title publishedOn }} }} }}"),
        },
        Case {
            name: "search (Spanish phrase)",
            query: r#"{ search(query: "\"trata de personas\" -caravanas", lang: ES, first: 20) { totalCount nodes { score snippet bulletin { slug } } } }"#
                .to_owned(),
        },
        Case {
            name: "search (both languages)",
            query: r#"{ search(query: "migrants returned", first: 20) { totalCount nodes { score bulletin { slug } } } }"#.to_owned(),
        },
        Case {
            name: "facets of a filtered list",
            query: r#"{ bulletins(first: 20, filter: { countries: ["GT"] }) { facets { countries { key count } themes { key count } programs { key count } years { key count } } } }"#
                .to_owned(),
        },
        Case {
            name: "statistics by country and month",
            query: format!(
                "{{ statistics(indicator: \"{indicator}\", groupBy: [COUNTRY, MONTH]) {{ total observationCount points {{ value country {{ code }} periodStart }} warnings {{ kind }} }} }}"
            ),
        },
        Case {
            name: "changes feed (first page)",
            query: "{ changes(first: 100) { nextToken hasMore changes { kind entityType id } } }".to_owned(),
        },
    ])
}

/// The report: a table of latencies, then, with `explain`, every statement with its plan.
pub async fn report(store: SqlStore, log: StatementLog, iterations: usize, explain: bool) -> anyhow::Result<String> {
    let state = AppState::new(HttpSettings {
        rate_limit: None,
        ..HttpSettings::default()
    });
    state.attach(store.clone()).await;
    let cases = cases(&state).await?;
    let mut out = String::new();
    writeln!(out, "| query | mean ms | p50 ms | p95 ms | max ms |")?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")?;
    for case in &cases {
        // Two runs to warm the caches, then the measured ones.
        for _ in 0..2 {
            run(&state, &case.query).await?;
        }
        let mut times: Vec<Duration> = Vec::with_capacity(iterations);
        for _ in 0..iterations.max(1) {
            let started = Instant::now();
            run(&state, &case.query).await?;
            times.push(started.elapsed());
        }
        times.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
        writeln!(
            out,
            "| {} | {mean:.2} | {:.2} | {:.2} | {:.2} |",
            case.name,
            ms(at(0.5)),
            ms(at(0.95)),
            ms(at(1.0))
        )?;
    }
    if explain {
        for case in &cases {
            writeln!(out, "\n### {}\n\n```graphql\n{}\n```", case.name, case.query)?;
            log.start();
            run(&state, &case.query).await?;
            for (n, statement) in log.take().iter().enumerate() {
                let plan = store.explain(statement).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
                writeln!(
                    out,
                    "\nStatement {}:\n\n```sql\n{}\n```\n\n```\n{plan}\n```",
                    n + 1,
                    statement.sql()
                )?;
            }
        }
    }
    Ok(out)
}
