//! `boletin bench`: the latency of the queries that matter at scale (the feed, a deep cursor page, search,
//! facets, statistics by country and month, the changes feed), run through the GraphQL schema in this process
//! against the configured database, and optionally the database's plan of every statement they run; or, with
//! `--writes`, the latency of editing and of the live-update event a publication sends.

use async_graphql::Request;
use boletin_domain::auth::Caller;
use boletin_graphql::{BoletinSchema, ClientKey, RequestId};
use boletin_persistence::{SqlStore, StatementLog};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One benchmarked query.
struct Case {
    name: &'static str,
    query: String,
}

/// A request as the bench sends it: from the command line, which may do anything.
fn request(query: &str) -> Request {
    Request::new(query)
        .data(RequestId("bench".to_owned()))
        .data(ClientKey("bench".to_owned()))
        .data(Caller::Operator)
}

/// Runs `query` and fails on GraphQL errors, so a benchmark never times an error.
async fn run(schema: &BoletinSchema, query: &str) -> anyhow::Result<serde_json::Value> {
    let response = schema.execute(request(query)).await;
    if !response.errors.is_empty() {
        anyhow::bail!("{query}: {:?}", response.errors);
    }
    Ok(serde_json::to_value(&response.data)?)
}

/// The queries, with a deep cursor and an indicator taken from the data.
async fn cases(schema: &BoletinSchema) -> anyhow::Result<Vec<Case>> {
    let oldest = run(
        schema,
        "{ bulletins(first: 21, orderBy: PUBLISHED_ON_ASC) { edges { cursor } } }",
    )
    .await?;
    let cursor = oldest["bulletins"]["edges"]
        .as_array()
        .and_then(|edges| edges.last())
        .map(|edge| edge["cursor"].clone())
        .ok_or_else(|| anyhow::anyhow!("the database has no bulletins; run `boletin generate` first"))?;
    let indicators = run(schema, "{ indicators { code aggregation dimensions } }").await?;
    let list = indicators["indicators"].as_array().cloned().unwrap_or_default();
    // The flow with a disaggregation that has the most figures is the seed's and the generator's
    // `returns_assisted`; any flow with a disaggregation otherwise.
    let broken_down = |i: &&serde_json::Value| i["aggregation"] == "SUM" && i["dimensions"][0].is_string();
    let chosen = list
        .iter()
        .find(|i| i["code"] == "returns_assisted" && broken_down(i))
        .or_else(|| list.iter().find(broken_down))
        .ok_or_else(|| anyhow::anyhow!("the database has no flow broken down by a disaggregation"))?;
    let indicator = chosen["code"].as_str().unwrap_or_default().to_owned();
    let dimension = chosen["dimensions"][0].as_str().unwrap_or_default().to_owned();
    let codes: Vec<String> = list
        .iter()
        .filter_map(|i| i["code"].as_str().map(str::to_owned))
        .take(6)
        .collect();
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
            name: "search (a common word, Spanish)",
            query: r#"{ search(query: "migrantes", lang: ES, first: 20) { totalCount nodes { score snippet bulletin { slug title } } } }"#
                .to_owned(),
        },
        Case {
            name: "search (a common word, both languages)",
            query: r#"{ search(query: "migrants", first: 20) { totalCount nodes { score snippet bulletin { slug title } } } }"#
                .to_owned(),
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
            name: "statistics by country, with warnings",
            query: format!(
                "{{ statistics(indicator: \"{indicator}\", groupBy: [COUNTRY]) {{ total points {{ value country {{ code }} }} warnings {{ kind observations {{ id }} }} }} }}"
            ),
        },
        Case {
            name: "statistics by category, with warnings",
            query: format!(
                "{{ statistics(indicator: \"{indicator}\", groupBy: [CATEGORY], disaggregation: \"{dimension}\") {{ total points {{ value category }} warnings {{ kind observations {{ id }} }} }} }}"
            ),
        },
        Case {
            name: "dashboard: six statistics of six indicators",
            query: dashboard(&codes),
        },
        Case {
            name: "changes feed (first page)",
            query: "{ changes(first: 100) { nextToken hasMore changes { kind entityType id } } }".to_owned(),
        },
    ])
}

/// A dashboard's request: statistics of up to six indicators, by country (with warnings), by month over a period
/// that starts and ends inside a month, by year, by program, by country from a day on, and by year again.
fn dashboard(codes: &[String]) -> String {
    let panels = [
        "groupBy: [COUNTRY]) { total points { value country { code } } warnings { kind } }",
        "groupBy: [MONTH], observations: { periodFrom: \"2023-01-15\", periodTo: \"2024-06-20\" }) { points { value periodStart } }",
        "groupBy: [YEAR]) { total points { value periodStart } }",
        "groupBy: [PROGRAM]) { total points { value program { slug } } }",
        "groupBy: [COUNTRY], observations: { periodFrom: \"2020-03-10\" }) { total points { value country { code } } }",
        "groupBy: [YEAR]) { total points { value periodStart } }",
    ];
    let body: Vec<String> = codes
        .iter()
        .zip(panels)
        .enumerate()
        .map(|(n, (code, panel))| format!("p{n}: statistics(indicator: \"{code}\", {panel}"))
        .collect();
    format!("{{ {} }}", body.join(" "))
}

/// The report: a table of latencies, then, with `explain`, every statement with its plan. `schema` serves
/// `store`, whose statements `log` records.
pub async fn report(
    schema: &BoletinSchema,
    store: &SqlStore,
    log: StatementLog,
    iterations: usize,
    explain: bool,
) -> anyhow::Result<String> {
    let cases = cases(schema).await?;
    let mut out = String::new();
    table_head(&mut out, "query")?;
    for case in &cases {
        // Two runs to warm the caches, then the measured ones.
        for _ in 0..2 {
            run(schema, &case.query).await?;
        }
        let mut times: Vec<Duration> = Vec::with_capacity(iterations);
        for _ in 0..iterations.max(1) {
            let started = Instant::now();
            run(schema, &case.query).await?;
            times.push(started.elapsed());
        }
        table_row(&mut out, case.name, times)?;
    }
    if explain {
        for case in &cases {
            writeln!(out, "\n### {}\n\n```graphql\n{}\n```", case.name, case.query)?;
            log.start();
            run(schema, &case.query).await?;
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

/// The head of a table of latencies.
fn table_head(out: &mut String, what: &str) -> std::fmt::Result {
    writeln!(out, "| {what} | mean ms | p50 ms | p95 ms | max ms |")?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")
}

/// A row of a table of latencies: the mean, median, 95th percentile and maximum of `times`.
fn table_row(out: &mut String, name: &str, mut times: Vec<Duration>) -> std::fmt::Result {
    if times.is_empty() {
        return Ok(());
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    writeln!(
        out,
        "| {name} | {mean:.2} | {:.2} | {:.2} | {:.2} |",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0))
    )
}

/// The steps of one editing round, in the order they run, then the two steps timed again for a figure in a busy
/// series, and two for a bulletin with a real bulletin's text.
const WRITE_STEPS: [&str; 10] = [
    "createBulletin (a draft)",
    "recordObservation (on the draft)",
    "publishBulletin",
    "event heard by a subscriber (from the publish call)",
    "deleteObservation",
    "deleteBulletin",
    "publishBulletin (its figure in a busy series)",
    "deleteObservation (a figure in a busy series)",
    "createBulletin (with the newest bulletin's texts)",
    "publishBulletin (with the newest bulletin's texts)",
];

/// The `translations` a round's draft is written with: a line of its own, or the newest bulletin's texts in
/// each of its languages (as long as a real bulletin's, and as many search terms).
fn own_texts(round: usize) -> String {
    format!(
        r#"[{{ lang: EN, title: "Bench {round}", summary: "", body: "A bulletin the bench writes and deletes." }}]"#
    )
}

/// The newest bulletin's texts, as [`own_texts`] writes them; `None` when there is no bulletin.
async fn newest_texts(schema: &BoletinSchema) -> anyhow::Result<Option<String>> {
    let newest = run(
        schema,
        "{ en: bulletins(first: 1, lang: EN) { nodes { language title summary body } } \
         es: bulletins(first: 1, lang: ES) { nodes { language title summary body } } }",
    )
    .await?;
    let mut translations = Vec::new();
    for (alias, lang) in [("en", "EN"), ("es", "ES")] {
        let node = &newest[alias]["nodes"][0];
        if node["language"].as_str() != Some(lang) {
            continue;
        }
        let text = |field: &str| serde_json::to_string(node[field].as_str().unwrap_or_default());
        translations.push(format!(
            "{{ lang: {lang}, title: {}, summary: {}, body: {} }}",
            text("title")?,
            text("summary")?,
            text("body")?
        ));
    }
    Ok((!translations.is_empty()).then(|| format!("[{}]", translations.join(", "))))
}

/// Where a round's figure goes: its indicator, program, period and countries.
struct Series {
    indicator: String,
    program: String,
    start: String,
    end: String,
    countries: String,
}

impl Series {
    /// A series of its own: the first program, the first indicator without dimensions, 1 January 2019, Mexico.
    async fn new_one(schema: &BoletinSchema) -> anyhow::Result<Self> {
        let program = run(schema, "{ programs { slug } }").await?["programs"][0]["slug"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the database has no programs; seed or generate it first"))?
            .to_owned();
        let indicator = run(schema, "{ indicators { code dimensions } }").await?["indicators"]
            .as_array()
            .and_then(|list| list.iter().find(|i| i["dimensions"] == serde_json::json!([])))
            .and_then(|i| i["code"].as_str())
            .ok_or_else(|| anyhow::anyhow!("the database has no indicator without dimensions"))?
            .to_owned();
        Ok(Self {
            indicator,
            program,
            start: "2019-01-01".to_owned(),
            end: "2019-01-01".to_owned(),
            countries: r#"["MX"]"#.to_owned(),
        })
    }

    /// The series of the newest bulletin's first figure (same indicator, program, period and countries), whose
    /// month and year already hold figures, as a new report's usually do; `None` when that bulletin has none.
    async fn busy(schema: &BoletinSchema) -> anyhow::Result<Option<Self>> {
        let newest = run(
            schema,
            "{ bulletins(first: 1) { nodes { observations { indicator { code } program { slug } periodStart \
             periodEnd countries { code } } } } }",
        )
        .await?;
        let figure = &newest["bulletins"]["nodes"][0]["observations"][0];
        let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
        let (Some(indicator), Some(program), Some(start), Some(end)) = (
            text(&figure["indicator"]["code"]),
            text(&figure["program"]["slug"]),
            text(&figure["periodStart"]),
            text(&figure["periodEnd"]),
        ) else {
            return Ok(None);
        };
        let countries: Vec<&str> = figure["countries"]
            .as_array()
            .map(|list| list.iter().filter_map(|c| c["code"].as_str()).collect())
            .unwrap_or_default();
        Ok(Some(Self {
            indicator,
            program,
            start,
            end,
            countries: serde_json::to_string(&countries)?,
        }))
    }
}

/// `bench --writes`: `iterations` rounds of creating a draft with a figure, publishing it while a subscriber
/// listens, and deleting both; the latency of each step and of the event. Each round then does it again with a
/// figure in a busy series, timing its publication and deletion, and with the newest bulletin's texts, timing
/// its creation and publication (a real bulletin's search terms).
pub async fn writes(schema: &BoletinSchema, iterations: usize) -> anyhow::Result<String> {
    use futures::StreamExt as _;
    let own = Series::new_one(schema).await?;
    let busy = Series::busy(schema).await?;
    let texts = newest_texts(schema).await?;
    // The subscription starts listening when its stream is first polled: a task polls it from now on, and the
    // rounds begin once it has had time to start.
    let mut stream = schema
        .clone()
        .execute_stream(request("subscription { bulletinPublished { slug } }"));
    let (heard, mut events) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = stream.next().await {
            if heard.send(event).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); WRITE_STEPS.len()];
    let started_at = std::process::id();
    for round in 0..iterations.max(1) + 2 {
        let slug = format!("bench-{started_at}-{round}");
        let steps = edit(schema, &mut events, &slug, &own_texts(round), &own).await?;
        let busy_steps = match &busy {
            Some(series) => Some(edit(schema, &mut events, &format!("{slug}-busy"), &own_texts(round), series).await?),
            None => None,
        };
        let text_steps = match &texts {
            Some(texts) => Some(edit(schema, &mut events, &format!("{slug}-texts"), texts, &own).await?),
            None => None,
        };
        // The first two rounds warm the caches and are not counted.
        if round >= 2 {
            for (n, elapsed) in steps.into_iter().enumerate() {
                times[n].push(elapsed);
            }
            if let Some(busy_steps) = busy_steps {
                times[6].push(busy_steps[2]);
                times[7].push(busy_steps[4]);
            }
            if let Some(text_steps) = text_steps {
                times[8].push(text_steps[0]);
                times[9].push(text_steps[2]);
            }
        }
    }
    let mut out = String::new();
    table_head(&mut out, "write")?;
    for (name, times) in WRITE_STEPS.iter().zip(times) {
        table_row(&mut out, name, times)?;
    }
    Ok(out)
}

/// Runs `query` and times it.
async fn timed(schema: &BoletinSchema, query: &str) -> anyhow::Result<(serde_json::Value, Duration)> {
    let clock = Instant::now();
    let data = run(schema, query).await?;
    Ok((data, clock.elapsed()))
}

/// One editing round on `series`: a draft `slug` written with `translations` and given a figure, published while
/// `events` listens, then the figure and the bulletin deleted; the time of each step of [`WRITE_STEPS`] up to
/// `deleteBulletin`.
async fn edit(
    schema: &BoletinSchema,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<async_graphql::Response>,
    slug: &str,
    translations: &str,
    series: &Series,
) -> anyhow::Result<[Duration; 6]> {
    let Series {
        indicator,
        program,
        start,
        end,
        countries,
    } = series;
    let mut times = [Duration::ZERO; 6];
    (_, times[0]) = timed(
        schema,
        &format!(
            r#"mutation {{ createBulletin(input: {{ slug: "{slug}", publishedOn: "2019-01-01", countries: ["MX"], programs: ["{program}"], translations: {translations} }}) {{ bulletin {{ version }} }} }}"#
        ),
    )
    .await?;
    let figure;
    (figure, times[1]) = timed(
        schema,
        &format!(
            r#"mutation {{ recordObservation(input: {{ indicator: "{indicator}", source: "{slug}", value: 1, periodStart: "{start}", periodEnd: "{end}", countries: {countries}, program: "{program}" }}) {{ observation {{ id }} }} }}"#
        ),
    )
    .await?;
    let figure = figure["recordObservation"]["observation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let clock = Instant::now();
    run(
        schema,
        &format!(r#"mutation {{ publishBulletin(slug: "{slug}", expectedVersion: 1) {{ bulletin {{ version }} }} }}"#),
    )
    .await?;
    times[2] = clock.elapsed();
    // The event is timed from the publish call, on the same clock.
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no event within 10 s of publishing `{slug}`"))?
            .ok_or_else(|| anyhow::anyhow!("the subscription ended"))?;
        if event.errors.is_empty() && serde_json::to_value(&event.data)?["bulletinPublished"]["slug"] == slug {
            break;
        }
    }
    times[3] = clock.elapsed();
    (_, times[4]) = timed(
        schema,
        &format!(r#"mutation {{ deleteObservation(id: "{figure}", expectedVersion: 1) {{ deletedId }} }}"#),
    )
    .await?;
    (_, times[5]) = timed(
        schema,
        &format!(r#"mutation {{ deleteBulletin(slug: "{slug}", expectedVersion: 2) {{ deletedId }} }}"#),
    )
    .await?;
    Ok(times)
}
