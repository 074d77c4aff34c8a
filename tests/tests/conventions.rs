//! What client libraries expect, over HTTP on SQLite and PostgreSQL: media types and their statuses, every asked
//! key present when a field fails, opaque cursors, mutations by global id, Accept-Language, strict dates and
//! the CORS headers Apollo Client sends. (graphql-http's audit and Apollo Client itself run in `web/tests/`.)

use boletin::http::HttpSettings;
use boletin_e2e::{admin_and_editor, call_as, code, post, start_with};
use boletin_persistence::testing::on_each_backend;
use serde_json::{Value, json};

/// POSTs `query` with the extra `headers`, returning the status, the content type and the body.
async fn send(base: &str, headers: &[(&str, &str)], query: &str) -> (u16, String, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("the server answers: {e}"));
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        media,
        response.json().await.unwrap_or_else(|e| panic!("a JSON body: {e}")),
    )
}

const GRAPHQL_RESPONSE: (&str, &str) = ("accept", "application/graphql-response+json, application/json;q=0.9");

#[tokio::test]
async fn media_types_statuses_and_partial_results() {
    on_each_backend("media_types_statuses_and_partial_results", |db| async move {
        let server = start_with(&db.connect_options(), HttpSettings::default()).await;
        let base = server.base.clone();
        // A document that does not validate: 400 and no `data` with the GraphQL response type, 200 with JSON.
        let (status, media, body) = send(&base, &[GRAPHQL_RESPONSE], "{ nope }").await;
        assert_eq!((status, media.as_str()), (400, "application/graphql-response+json; charset=utf-8"));
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(code(&body), "INVALID_QUERY");
        let (status, media, body) = send(&base, &[], "{ nope }").await;
        assert_eq!((status, media.as_str()), (200, "application/json"));
        assert!(body.get("data").is_none(), "{body}");
        let (status, _, _) = send(&base, &[("accept", "text/plain")], "{ __typename }").await;
        assert_eq!(status, 406);

        // One failing panel is null with its error; the others keep their data.
        let panels = r#"{ a: statistics(indicator: "returns_assisted") { total } b: statistics(indicator: "nope") { total } c: indicator(code: "job_fair_hires") { code } d: bulletins(first: 500) { totalCount } }"#;
        let (status, _, body) = send(&base, &[GRAPHQL_RESPONSE], panels).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["data"],
            json!({"a": {"total": 1195.0}, "b": null, "c": {"code": "job_fair_hires"}, "d": null}),
            "{body}"
        );
        let paths: Vec<&Value> = body["errors"].as_array().into_iter().flatten().map(|e| &e["path"]).collect();
        assert_eq!(paths, [&json!(["b"]), &json!(["d"])]);
        server.stop().await;
        db
    })
    .await;
}

#[tokio::test]
async fn cursors_are_opaque_and_checked() {
    on_each_backend("cursors_are_opaque_and_checked", |db| async move {
        let server = start_with(&db.connect_options(), HttpSettings::default()).await;
        let base = server.base.clone();
        let (_, _, first) = post(
            &base,
            "{ bulletins(first: 3) { pageInfo { endCursor } nodes { slug } } }",
        )
        .await;
        let cursor = first["data"]["bulletins"]["pageInfo"]["endCursor"]
            .as_str()
            .expect("a cursor")
            .to_owned();
        assert!(!cursor.contains('|') && !cursor.contains("2019"), "{cursor}");
        let next = format!(r#"{{ bulletins(first: 3, after: "{cursor}") {{ nodes {{ slug }} }} }}"#);
        let (_, _, second) = post(&base, &next).await;
        assert_eq!(
            second["data"]["bulletins"]["nodes"].as_array().map(Vec::len),
            Some(3),
            "{second}"
        );
        for forged in [
            "2099-01-01|1",
            "djE6YnVsbGV0aW5zOjIwOTktMDEtMDF8MTowMDAwMDAwMDAwMDAwMDAw",
            "changes:3",
        ] {
            let query = format!(r#"{{ bulletins(first: 3, after: "{forged}") {{ nodes {{ slug }} }} }}"#);
            let (_, _, body) = post(&base, &query).await;
            assert_eq!(code(&body), "INVALID", "{forged}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
        }
        // A search cursor is not a bulletins cursor.
        let (_, _, search) = post(
            &base,
            r#"{ search(query: "migrantes", first: 1) { pageInfo { endCursor } } }"#,
        )
        .await;
        let other = search["data"]["search"]["pageInfo"]["endCursor"]
            .as_str()
            .expect("a cursor")
            .to_owned();
        let (_, _, body) = post(&base, &format!(r#"{{ bulletins(after: "{other}") {{ totalCount }} }}"#)).await;
        assert_eq!(code(&body), "INVALID", "{body}");
        // The changes feed's token is opaque too, and the earlier `changes:N` form is still read.
        let (_, _, changes) = post(&base, "{ changes(first: 2) { nextToken } }").await;
        let token = changes["data"]["changes"]["nextToken"]
            .as_str()
            .expect("a token")
            .to_owned();
        assert!(!token.starts_with("changes:"), "{token}");
        let (_, _, body) = post(&base, &format!(r#"{{ changes(since: "{token}") {{ hasMore }} }}"#)).await;
        assert!(body.get("errors").is_none(), "{body}");
        let (_, _, body) = post(&base, r#"{ changes(since: "changes:2") { hasMore } }"#).await;
        assert!(body.get("errors").is_none(), "{body}");
        server.stop().await;
        db
    })
    .await;
}

#[tokio::test]
async fn mutations_take_the_global_id_or_the_slug() {
    on_each_backend("mutations_take_the_global_id_or_the_slug", |db| async move {
        let (_, editor) = admin_and_editor(&db.store).await;
        let server = start_with(&db.connect_options(), HttpSettings::default()).await;
        let base = server.base.clone();
        let create = r#"mutation { createBulletin(input: { publishedOn: "2019-03-15", countries: ["MX"], programs: ["iom-x-roadshow"], translations: [{ lang: ES, title: "Abre un albergue", summary: "S.", body: "B." }] }) { bulletin { id slug version } } }"#;
        let (_, created) = call_as(&base, Some(&editor), create).await;
        let bulletin = &created["data"]["createBulletin"]["bulletin"];
        let id = bulletin["id"].as_str().expect("an id").to_owned();
        let publish = format!(r#"mutation {{ publishBulletin(id: "{id}", expectedVersion: 1) {{ bulletin {{ status version }} }} }}"#);
        let (_, published) = call_as(&base, Some(&editor), &publish).await;
        assert_eq!(
            published["data"]["publishBulletin"]["bulletin"],
            json!({"status": "PUBLISHED", "version": 2}),
            "{published}"
        );
        // Neither, both, another kind's id: INVALID at `id`; anonymous callers learn nothing.
        let (_, program) = call_as(&base, None, r#"{ program(slug: "iom-x-roadshow") { id } }"#).await;
        let program_id = program["data"]["program"]["id"].as_str().expect("an id").to_owned();
        for arguments in [
            String::new(),
            format!(r#"id: "{id}", slug: "abre-un-albergue","#),
            format!(r#"id: "{program_id}","#),
        ] {
            let archive = format!(r#"mutation {{ archiveBulletin({arguments} expectedVersion: 2) {{ bulletin {{ status }} }} }}"#);
            let (_, body) = call_as(&base, Some(&editor), &archive).await;
            assert_eq!((code(&body).as_str(), body["errors"][0]["extensions"]["field"].as_str()), ("INVALID", Some("id")), "{arguments}: {body}");
            let (_, body) = call_as(&base, None, &archive).await;
            assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        }
        let update = format!(r#"mutation {{ updateProgram(id: "{program_id}", expectedVersion: 1, input: {{ countries: ["MX"] }}) {{ program {{ slug version }} }} }}"#);
        let (_, body) = call_as(&base, Some(&editor), &update).await;
        assert_eq!(body["data"]["updateProgram"]["program"]["version"], 2, "{body}");
        server.stop().await;
        db
    })
    .await;
}

#[tokio::test]
async fn accept_language_dates_and_cors() {
    on_each_backend("accept_language_dates_and_cors", |db| async move {
        let settings = HttpSettings {
            cors_origins: vec!["https://dash.example.org".to_owned()],
            cors_allow_headers: vec!["x-tenant".to_owned()],
            ..HttpSettings::default()
        };
        let server = start_with(&db.connect_options(), settings).await;
        let base = server.base.clone();
        let query = "{ bulletins(first: 1) { nodes { language } } indicator(code: \"returns_assisted\") { name } }";
        let language = |body: &Value| body["data"]["bulletins"]["nodes"][0]["language"].clone();
        let (_, _, spanish) = send(&base, &[("accept-language", "es-MX,es;q=0.9,en;q=0.5")], query).await;
        assert_eq!(language(&spanish), "ES", "{spanish}");
        // Cached per language: the same text with another preference is not the Spanish answer.
        let (_, _, english) = send(&base, &[("accept-language", "en-US")], query).await;
        assert_eq!(language(&english), "EN", "{english}");
        let (_, _, argument) = send(
            &base,
            &[("accept-language", "es")],
            "{ bulletins(first: 1, lang: EN) { nodes { language } } }",
        )
        .await;
        assert_eq!(language(&argument), "EN", "the argument wins: {argument}");

        // Dates are exactly YYYY-MM-DD, and a malformed one is INVALID at the input field that held it, under
        // the filter argument's new name and its deprecated one alike.
        for (argument, date, field) in [
            ("observations", "2019-3-1", "observations.periodFrom"),
            ("filter", "2019-02-30", "filter.periodFrom"),
        ] {
            let query = format!(
                r#"{{ statistics(indicator: "returns_assisted", {argument}: {{ periodFrom: "{date}" }}) {{ total }} }}"#
            );
            let (_, _, body) = post(&base, &query).await;
            assert_eq!(code(&body), "INVALID", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
            assert!(
                body["errors"][0]["extensions"].get("boletinBadDate").is_none(),
                "{body}"
            );
        }
        let (_, _, body) = post(
            &base,
            r#"{ bulletins(filter: { publishedTo: "2019-3-08" }) { totalCount } }"#,
        )
        .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "filter.publishedTo", "{body}");
        let both = r#"{ statistics(indicator: "returns_assisted", observations: {}, filter: {}) { total } }"#;
        let (_, _, body) = post(&base, both).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "observations", "{body}");
        let (_, _, body) = post(
            &base,
            r#"{ statistics(indicator: "returns_assisted", observations: { countries: ["GT"] }) { total } }"#,
        )
        .await;
        assert_eq!(body["data"]["statistics"]["total"], 1195.0, "{body}");

        let preflight = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{base}/graphql"))
            .header("origin", "https://dash.example.org")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "apollographql-client-name, x-tenant")
            .send()
            .await
            .expect("a preflight answer");
        assert_eq!(preflight.status(), 200);
        let allowed = preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        for header in ["apollographql-client-name", "apollographql-client-version", "x-tenant"] {
            assert!(allowed.contains(header), "{allowed}");
        }
        let response = reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .header("origin", "https://dash.example.org")
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("an answer");
        let exposed = response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            exposed.contains("retry-after") && exposed.contains("x-request-id"),
            "{exposed}"
        );
        server.stop().await;
        db
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_is_a_relay_connection_with_global_ids() {
    on_each_backend("the_audit_log_is_a_relay_connection_with_global_ids", |db| async move {
        let (admin, editor) = admin_and_editor(&db.store).await;
        let server = start_with(&db.connect_options(), HttpSettings::default()).await;
        let base = server.base.clone();
        let (_, program) = call_as(&base, None, r#"{ program(slug: "iom-x-roadshow") { id } }"#).await;
        let id = program["data"]["program"]["id"].as_str().expect("an id").to_owned();
        for version in [1, 2] {
            let update = format!(
                r#"mutation {{ updateProgram(id: "{id}", expectedVersion: {version}, input: {{ countries: ["MX"] }}) {{ program {{ version }} }} }}"#
            );
            let (_, body) = call_as(&base, Some(&editor), &update).await;
            assert!(body.get("errors").is_none(), "{body}");
        }
        let page = |after: &str| {
            format!(
                r#"{{ auditEntries(first: 1{after}, filter: {{ recordId: "{id}" }}) {{ edges {{ cursor node {{ recordKind recordId action actor }} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"#
            )
        };
        let (_, first) = call_as(&base, Some(&admin), &page("")).await;
        let connection = &first["data"]["auditEntries"];
        assert_eq!(
            connection["edges"][0]["node"],
            json!({"recordKind": "PROGRAM", "recordId": id, "action": "UPDATE", "actor": "writer"}),
            "{first}"
        );
        assert_eq!(connection["pageInfo"]["hasNextPage"], true, "{first}");
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], false, "{first}");
        let cursor = connection["pageInfo"]["endCursor"].as_str().expect("a cursor").to_owned();
        let (_, second) = call_as(&base, Some(&admin), &page(&format!(r#", after: "{cursor}""#))).await;
        let connection = &second["data"]["auditEntries"];
        assert_eq!(connection["edges"].as_array().map(Vec::len), Some(1), "{second}");
        assert_eq!(connection["pageInfo"], json!({"hasNextPage": false, "hasPreviousPage": true, "endCursor": connection["edges"][0]["cursor"]}));
        // The role comes first: an anonymous caller with a forged cursor is UNAUTHENTICATED; an admin, INVALID.
        let forged = page(r#", after: "12""#);
        assert_eq!(code(&call_as(&base, None, &forged).await.1), "UNAUTHENTICATED");
        let (_, body) = call_as(&base, Some(&admin), &forged).await;
        assert_eq!((code(&body).as_str(), body["errors"][0]["extensions"]["field"].as_str()), ("INVALID", Some("after")));
        server.stop().await;
        db
    })
    .await;
}
