//! Editing over HTTP, on SQLite and PostgreSQL: a bulletin's whole life (draft, figures, concurrent updates,
//! language versions, publication, deletion) with editors reading drafts; programs, partners, indicators and
//! figures created, changed and deleted only once nothing refers to them; every refusal writes nothing, and the
//! audit log and the changes feed record exactly the changes made.

use boletin::http::HttpSettings;
use boletin_e2e::{admin_and_editor, call_as, code, start_with};
use boletin_persistence::testing::{TestDatabase, on_each_backend};
use serde_json::{Value, json};

async fn call(base: &str, token: Option<&str>, query: &str) -> Value {
    call_as(base, token, query).await.1
}

/// The error's `extensions.field`.
fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"].as_str().unwrap_or("none")
}

/// The rows of `table`, counted straight in the database.
async fn rows(db: &TestDatabase, table: &str) -> i64 {
    db.scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .await
        .expect("the row count query runs")
}

/// The operations the audit log holds for records of `kind`, oldest first.
async fn audited(base: &str, admin: &str, kind: &str) -> Vec<String> {
    let log = call(
        base,
        Some(admin),
        &format!("{{ auditLog(filter: {{ entityType: {kind} }}) {{ entries {{ operation }} }} }}"),
    )
    .await;
    log["data"]["auditLog"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["operation"].as_str().map(str::to_owned))
        .collect()
}

/// The changes feed after `token`: `(entityType, kind)` of each change, and the token to pass next.
async fn changes_since(base: &str, token: &str) -> (Vec<(String, String)>, String) {
    let since = if token.is_empty() {
        String::new()
    } else {
        format!(r#"since: "{token}", "#)
    };
    let body = call(
        base,
        None,
        &format!("{{ changes({since}first: 100) {{ nextToken changes {{ entityType kind }} }} }}"),
    )
    .await;
    let changes = body["data"]["changes"]["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["entityType"].as_str().unwrap_or_default().to_owned(),
                c["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let next = body["data"]["changes"]["nextToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (changes, next)
}

/// The token after every change so far.
async fn feed_end(base: &str) -> String {
    let mut token = String::new();
    loop {
        let (changes, next) = changes_since(base, &token).await;
        token = next;
        if changes.is_empty() {
            return token;
        }
    }
}

const SLUG: &str = "a-shelter-opens-in-tapachula";
const CREATE: &str = r#"mutation { createBulletin(input: { publishedOn: "2019-03-15", countries: ["MX"], programs: ["iom-x-roadshow"], translations: [{ lang: EN, title: "A shelter opens in Tapachula", summary: "A shelter opened.", body: "A shelter opened in Tapachula." }] }) { bulletin { slug status version } } }"#;
const FIGURE: &str = r#"mutation { recordObservation(input: { indicator: "countries_covered", source: "a-shelter-opens-in-tapachula", value: 1, periodStart: "2019-03-01", periodEnd: "2019-03-15", countries: ["MX"], program: "iom-x-roadshow" }) { observation { id version source { slug status } } } }"#;

#[tokio::test]
async fn a_bulletin_is_drafted_edited_published_and_deleted_under_its_version() {
    on_each_backend(
        "a_bulletin_is_drafted_edited_published_and_deleted_under_its_version",
        |db| async move {
            let (admin, editor) = admin_and_editor(&db.store).await;
            let server = start_with(&db.connect_options(), HttpSettings::default()).await;
            let base = server.base.clone();
            let start = feed_end(&base).await;

            let created = call(&base, Some(&editor), CREATE).await;
            assert_eq!(
                created["data"]["createBulletin"]["bulletin"],
                json!({"slug": SLUG, "status": "DRAFT", "version": 1}),
                "{created}"
            );
            // A figure of the draft is the editors' too: its payload shows the draft as its source.
            let figure = call(&base, Some(&editor), FIGURE).await;
            let observation = &figure["data"]["recordObservation"]["observation"];
            assert_eq!(observation["source"], json!({"slug": SLUG, "status": "DRAFT"}), "{figure}");
            let figure_id = observation["id"].as_str().unwrap_or_default().to_owned();

            // Editors read drafts by naming the status, figures included; anyone else is refused, and the
            // public lists, counts and totals do not move.
            let drafts = format!(
                r#"{{ bulletins(status: [DRAFT]) {{ totalCount nodes {{ slug observations {{ value }} }} }} bulletin(slug: "{SLUG}", status: [DRAFT]) {{ version }} }}"#
            );
            assert_eq!(code(&call(&base, None, &drafts).await), "UNAUTHENTICATED");
            assert_eq!(
                call(&base, Some(&editor), &drafts).await["data"],
                json!({"bulletins": {"totalCount": 1, "nodes": [{"slug": SLUG, "observations": [{"value": 1.0}]}]}, "bulletin": {"version": 1}})
            );
            let public = format!(
                r#"{{ bulletins {{ totalCount }} bulletin(slug: "{SLUG}") {{ slug }} node(id: "{figure_id}") {{ id }} indicator(code: "countries_covered") {{ total observations {{ value }} }} }}"#
            );
            let before = call(&base, None, &public).await;
            assert_eq!(before["data"]["bulletins"]["totalCount"], 10, "{before}");
            assert_eq!(before["data"]["bulletin"], Value::Null);
            assert_eq!(before["data"]["node"], Value::Null);
            assert_eq!(before["data"]["indicator"]["total"], 6.0, "{before}");

            // Two updates from version 1 at once: exactly one is written, the other is told the version now.
            let update = |dateline: &str| {
                format!(
                    r#"mutation {{ updateBulletin(slug: "{SLUG}", expectedVersion: 1, input: {{ dateline: "{dateline}", themes: [HEALTH] }}) {{ bulletin {{ version dateline }} }} }}"#
                )
            };
            let (mexico, chiapas) = (update("Tapachula, Mexico"), update("Tapachula, Chiapas"));
            let (first, second) = tokio::join!(
                call(&base, Some(&editor), &mexico),
                call(&base, Some(&admin), &chiapas),
            );
            let written: Vec<&Value> = [&first, &second].into_iter().filter(|r| r.get("errors").is_none()).collect();
            let refused: Vec<&Value> = [&first, &second].into_iter().filter(|r| code(r) == "CONFLICT").collect();
            assert_eq!((written.len(), refused.len()), (1, 1), "{first} {second}");
            assert_eq!(refused[0]["errors"][0]["extensions"]["currentVersion"], 2);
            let dateline = written[0]["data"]["updateBulletin"]["bulletin"]["dateline"].clone();

            // Language versions, one at a time; the last one stays.
            let spanish = format!(
                r#"mutation {{ setBulletinTranslation(slug: "{SLUG}", expectedVersion: 2, translation: {{ lang: ES, title: "Abre un albergue en Tapachula", summary: "Abrió un albergue.", body: "Abrió un albergue en Tapachula." }}, lang: ES) {{ bulletin {{ version title availableLanguages }} }} }}"#
            );
            assert_eq!(
                call(&base, Some(&editor), &spanish).await["data"]["setBulletinTranslation"]["bulletin"],
                json!({"version": 3, "title": "Abre un albergue en Tapachula", "availableLanguages": ["ES", "EN"]})
            );
            let remove = |language: &str, version: i32| {
                format!(
                    r#"mutation {{ removeBulletinTranslation(slug: "{SLUG}", expectedVersion: {version}, language: {language}) {{ bulletin {{ version availableLanguages }} }} }}"#
                )
            };
            assert_eq!(
                call(&base, Some(&editor), &remove("EN", 3)).await["data"]["removeBulletinTranslation"]["bulletin"],
                json!({"version": 4, "availableLanguages": ["ES"]})
            );
            let last = call(&base, Some(&editor), &remove("ES", 4)).await;
            assert_eq!((code(&last), field(&last)), ("INVALID".to_owned(), "language"), "{last}");

            // Published: the bulletin and its figure are public, and the feed says so.
            let publish = format!(
                r#"mutation {{ publishBulletin(slug: "{SLUG}", expectedVersion: 4) {{ bulletin {{ status version }} }} }}"#
            );
            assert_eq!(
                call(&base, Some(&editor), &publish).await["data"]["publishBulletin"]["bulletin"],
                json!({"status": "PUBLISHED", "version": 5})
            );
            let after = call(&base, None, &public).await;
            assert_eq!(after["data"]["bulletins"]["totalCount"], 11, "{after}");
            assert_eq!(after["data"]["bulletin"]["slug"], SLUG);
            assert_eq!(after["data"]["node"]["id"], figure_id.as_str());
            assert_eq!(after["data"]["indicator"]["total"], 7.0, "{after}");

            // A bulletin that is the source of figures is not deleted; once they are gone, it is.
            let delete = |version: i32| {
                format!(r#"mutation {{ deleteBulletin(slug: "{SLUG}", expectedVersion: {version}) {{ deletedId }} }}"#)
            };
            let kept = call(&base, Some(&editor), &delete(5)).await;
            assert_eq!(code(&kept), "CONFLICT", "{kept}");
            let figure_gone = call(
                &base,
                Some(&editor),
                &format!(r#"mutation {{ deleteObservation(id: "{figure_id}", expectedVersion: 1) {{ deletedId }} }}"#),
            )
            .await;
            assert_eq!(figure_gone["data"]["deleteObservation"]["deletedId"], figure_id.as_str());
            let gone = call(&base, Some(&editor), &delete(5)).await;
            assert!(gone["data"]["deleteBulletin"]["deletedId"].is_string(), "{gone}");
            let last_look = call(&base, None, &public).await;
            assert_eq!(last_look["data"]["bulletins"]["totalCount"], 10);
            assert_eq!(last_look["data"]["bulletin"], Value::Null);
            assert_eq!(rows(&db, "bulletin_translations WHERE title LIKE '%Tapachula%'").await, 0);

            // The feed heard only what the public could see: the publication, then the deletions.
            let (changes, _) = changes_since(&base, &start).await;
            let pairs: Vec<(&str, &str)> = changes.iter().map(|(e, k)| (e.as_str(), k.as_str())).collect();
            assert_eq!(
                pairs,
                [
                    ("BULLETIN", "UPSERT"),
                    ("OBSERVATION", "UPSERT"),
                    ("OBSERVATION", "DELETE"),
                    ("BULLETIN", "DELETE")
                ]
            );
            assert_eq!(
                audited(&base, &admin, "BULLETIN").await,
                ["create", "update", "set_translation", "remove_translation", "publish", "delete"]
            );
            // The update's values before and after.
            let log = call(
                &base,
                Some(&admin),
                r#"{ auditLog(filter: { entityType: BULLETIN }) { entries { operation actor before after } } }"#,
            )
            .await;
            let entry = &log["data"]["auditLog"]["entries"][1];
            let values = |text: &Value| serde_json::from_str::<Value>(text.as_str().unwrap_or("null")).unwrap_or_default();
            assert_eq!(values(&entry["before"])["dateline"], Value::Null, "{entry}");
            assert_eq!(values(&entry["after"])["dateline"], dateline, "{entry}");
            assert_eq!(values(&entry["after"])["version"], 2, "{entry}");
            assert_eq!(values(&entry["after"])["themes"], json!(["health"]), "{entry}");
            server.stop().await;
            db
        },
    )
    .await;
}

#[tokio::test]
async fn catalogue_records_change_under_their_version_and_go_only_when_unreferenced() {
    on_each_backend(
        "catalogue_records_change_under_their_version_and_go_only_when_unreferenced",
        |db| async move {
            let (admin, editor) = admin_and_editor(&db.store).await;
            let server = start_with(&db.connect_options(), HttpSettings::default()).await;
            let base = server.base.clone();
            let start = feed_end(&base).await;
            let run = |query: String| {
                let (base, editor) = (base.clone(), editor.clone());
                async move { call(&base, Some(&editor), &query).await }
            };

            // A partner: checked, unique, in both languages.
            let partner = |slug: &str, website: &str| {
                format!(
                    r#"mutation {{ createPartner(input: {{ slug: "{slug}", kind: NGO, country: "mx", website: "{website}", translations: [{{ lang: EN, name: "Migrant House" }}, {{ lang: ES, name: "Casa del Migrante", acronym: "CDM" }}] }}, lang: ES) {{ partner {{ slug name acronym country {{ code }} version }} }} }}"#
                )
            };
            let created = run(partner("casa-del-migrante", "https://casa.example.org")).await;
            assert_eq!(
                created["data"]["createPartner"]["partner"],
                json!({"slug": "casa-del-migrante", "name": "Casa del Migrante", "acronym": "CDM", "country": {"code": "MX"}, "version": 1}),
                "{created}"
            );
            let bad = run(partner("another-house", "ftp://casa.example.org")).await;
            assert_eq!((code(&bad), field(&bad)), ("INVALID".to_owned(), "input.website"), "{bad}");
            let twice = run(partner("casa-del-migrante", "https://casa.example.org")).await;
            assert_eq!(code(&twice), "CONFLICT", "{twice}");

            // A program inside the regional one, with the partner; its parent may not lie inside it.
            let program = |partner: &str| {
                format!(
                    r#"mutation {{ createProgram(input: {{ slug: "shelter-network", parent: "regional-migration-program", startOn: "2019-01-01", countries: ["MX", "GT"], partners: [{{ partner: "{partner}", role: IMPLEMENTER }}], translations: [{{ lang: EN, name: "Shelter network" }}] }}) {{ program {{ slug version parent {{ slug }} partners {{ role partner {{ slug }} }} }} }} }}"#
                )
            };
            let unknown = run(program("nobody")).await;
            assert_eq!(
                (code(&unknown), field(&unknown)),
                ("INVALID".to_owned(), "input.partners[0].partner"),
                "{unknown}"
            );
            assert_eq!(
                run(program("casa-del-migrante")).await["data"]["createProgram"]["program"],
                json!({"slug": "shelter-network", "version": 1, "parent": {"slug": "regional-migration-program"}, "partners": [{"role": "IMPLEMENTER", "partner": {"slug": "casa-del-migrante"}}]})
            );
            let cycle = run(
                r#"mutation { updateProgram(slug: "regional-migration-program", expectedVersion: 1, input: { parent: "shelter-network" }) { program { slug } } }"#.to_owned(),
            )
            .await;
            assert_eq!((code(&cycle), field(&cycle)), ("INVALID".to_owned(), "input.parent"), "{cycle}");

            // An indicator, and figures checked against it.
            let indicator = run(
                r#"mutation { createIndicator(input: { code: "people_sheltered", unit: PEOPLE, aggregation: SUM, dimensions: ["sex"], translations: [{ lang: EN, name: "People sheltered" }, { lang: ES, name: "Personas albergadas" }] }) { indicator { code version dimensions } } }"#.to_owned(),
            )
            .await;
            assert_eq!(
                indicator["data"]["createIndicator"]["indicator"],
                json!({"code": "people_sheltered", "version": 1, "dimensions": ["sex"]}),
                "{indicator}"
            );
            let figure = |indicator: &str, parts: &str| {
                format!(
                    r#"mutation {{ recordObservation(input: {{ indicator: "{indicator}", source: "iom-promotes-labor-integration-of-migrants-in-tijuana", value: 120, periodStart: "2019-01-01", periodEnd: "2019-01-31", countries: ["MX"], program: "shelter-network", partner: "casa-del-migrante", disaggregations: [{parts}] }}) {{ observation {{ id version value }} }} }}"#
                )
            };
            for (indicator, parts, at) in [
                ("people_fed", "", "input.indicator"),
                ("people_sheltered", r#"{ dimension: "age", category: "adult", value: 1 }"#, "input.disaggregations[0].dimension"),
                (
                    "people_sheltered",
                    r#"{ dimension: "sex", category: "female", value: 70 }, { dimension: "sex", category: "male", value: 60 }"#,
                    "input.disaggregations[1].value",
                ),
            ] {
                let refused = run(figure(indicator, parts)).await;
                assert_eq!((code(&refused), field(&refused)), ("INVALID".to_owned(), at), "{refused}");
            }
            let recorded = run(figure("people_sheltered", r#"{ dimension: "sex", category: "female", value: 70 }"#)).await;
            let id = recorded["data"]["recordObservation"]["observation"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let total = r#"{ indicator(code: "people_sheltered") { total } }"#;
            assert_eq!(call(&base, None, total).await["data"]["indicator"]["total"], 120.0);

            // A dimension its figures use stays; a correction is made once per version.
            let drop_sex = run(
                r#"mutation { updateIndicator(code: "people_sheltered", expectedVersion: 1, input: { dimensions: [] }) { indicator { code } } }"#.to_owned(),
            )
            .await;
            assert_eq!((code(&drop_sex), field(&drop_sex)), ("INVALID".to_owned(), "input.dimensions"), "{drop_sex}");
            let correct = format!(
                r#"mutation {{ correctObservation(id: "{id}", expectedVersion: 1, input: {{ value: 150, note: "Revised count." }}) {{ observation {{ value version note }} }} }}"#
            );
            assert_eq!(
                run(correct.clone()).await["data"]["correctObservation"]["observation"],
                json!({"value": 150.0, "version": 2, "note": "Revised count."})
            );
            let stale = run(correct).await;
            assert_eq!(code(&stale), "CONFLICT", "{stale}");
            assert_eq!(stale["errors"][0]["extensions"]["currentVersion"], 2);
            assert_eq!(call(&base, None, total).await["data"]["indicator"]["total"], 150.0);

            // Nothing referred to goes; once the figure is gone, everything does, newest first.
            for refused in [
                r#"mutation { deletePartner(slug: "casa-del-migrante", expectedVersion: 1) { deletedId } }"#,
                r#"mutation { deleteProgram(slug: "shelter-network", expectedVersion: 1) { deletedId } }"#,
                r#"mutation { deleteIndicator(code: "people_sheltered", expectedVersion: 1) { deletedId } }"#,
            ] {
                let body = run(refused.to_owned()).await;
                assert_eq!(code(&body), "CONFLICT", "{refused}: {body}");
            }
            let stale_delete = run(format!(
                r#"mutation {{ deleteObservation(id: "{id}", expectedVersion: 1) {{ deletedId }} }}"#
            ))
            .await;
            assert_eq!(code(&stale_delete), "CONFLICT", "{stale_delete}");
            for deletion in [
                format!(r#"mutation {{ deleteObservation(id: "{id}", expectedVersion: 2) {{ deletedId }} }}"#),
                r#"mutation { deleteIndicator(code: "people_sheltered", expectedVersion: 1) { deletedId } }"#.to_owned(),
                r#"mutation { deleteProgram(slug: "shelter-network", expectedVersion: 1) { deletedId } }"#.to_owned(),
                r#"mutation { deletePartner(slug: "casa-del-migrante", expectedVersion: 1) { deletedId } }"#.to_owned(),
            ] {
                let body = run(deletion.clone()).await;
                assert!(body.get("errors").is_none(), "{deletion}: {body}");
            }
            let gone = call(
                &base,
                None,
                r#"{ partner(slug: "casa-del-migrante") { slug } program(slug: "shelter-network") { slug } indicator(code: "people_sheltered") { code } }"#,
            )
            .await;
            assert_eq!(gone["data"], json!({"partner": null, "program": null, "indicator": null}));
            assert_eq!(rows(&db, "program_partners WHERE role = 'implementer' AND program_id NOT IN (SELECT id FROM programs)").await, 0);

            let (changes, _) = changes_since(&base, &start).await;
            let pairs: Vec<(&str, &str)> = changes.iter().map(|(e, k)| (e.as_str(), k.as_str())).collect();
            assert_eq!(
                pairs,
                [
                    ("PARTNER", "UPSERT"),
                    ("PROGRAM", "UPSERT"),
                    ("INDICATOR", "UPSERT"),
                    ("OBSERVATION", "UPSERT"),
                    ("OBSERVATION", "UPSERT"),
                    ("OBSERVATION", "DELETE"),
                    ("INDICATOR", "DELETE"),
                    ("PROGRAM", "DELETE"),
                    ("PARTNER", "DELETE"),
                ]
            );
            assert_eq!(audited(&base, &admin, "PARTNER").await, ["create", "delete"]);
            assert_eq!(audited(&base, &admin, "OBSERVATION").await, ["record", "correct", "delete"]);
            assert_eq!(audited(&base, &admin, "PROGRAM").await, ["create", "delete"]);
            server.stop().await;
            db
        },
    )
    .await;
}

/// One call of every mutation, with arguments that would be valid for an editor.
const MUTATIONS: [&str; 19] = [
    r#"mutation { createBulletin(input: { publishedOn: "2019-01-01", translations: [{ lang: EN, title: "T", summary: "", body: "B" }] }) { bulletin { id } } }"#,
    r#"mutation { updateBulletin(slug: "iom-interviews-migrants-from-caravans-in-chiapas", expectedVersion: 1, input: { dateline: "X" }) { bulletin { id } } }"#,
    r#"mutation { setBulletinTranslation(slug: "iom-interviews-migrants-from-caravans-in-chiapas", expectedVersion: 1, translation: { lang: ES, title: "T", summary: "", body: "B" }) { bulletin { id } } }"#,
    r#"mutation { removeBulletinTranslation(slug: "iom-interviews-migrants-from-caravans-in-chiapas", expectedVersion: 1, language: ES) { bulletin { id } } }"#,
    r#"mutation { publishBulletin(slug: "iom-interviews-migrants-from-caravans-in-chiapas", expectedVersion: 1) { bulletin { id } } }"#,
    r#"mutation { archiveBulletin(slug: "iom-interviews-migrants-from-caravans-in-chiapas", expectedVersion: 1) { bulletin { id } } }"#,
    r#"mutation { deleteBulletin(slug: "iom-interviews-migrants-from-caravans-in-chiapas", expectedVersion: 1) { deletedId } }"#,
    r#"mutation { createProgram(input: { slug: "p", startOn: "2019-01-01", translations: [{ lang: EN, name: "P" }] }) { program { id } } }"#,
    r#"mutation { updateProgram(slug: "planami", expectedVersion: 1, input: { endOn: null }) { program { id } } }"#,
    r#"mutation { deleteProgram(slug: "virtual-course-on-human-trafficking-for-health-providers", expectedVersion: 1) { deletedId } }"#,
    r#"mutation { createPartner(input: { slug: "p", kind: NGO, translations: [{ lang: EN, name: "P" }] }) { partner { id } } }"#,
    r#"mutation { updatePartner(slug: "iom", expectedVersion: 1, input: { website: null }) { partner { id } } }"#,
    r#"mutation { deletePartner(slug: "municipality-of-upala", expectedVersion: 1) { deletedId } }"#,
    r#"mutation { createIndicator(input: { code: "c", unit: PEOPLE, aggregation: SUM, translations: [{ lang: EN, name: "C" }] }) { indicator { id } } }"#,
    r#"mutation { updateIndicator(code: "job_openings", expectedVersion: 1, input: { unit: PEOPLE }) { indicator { id } } }"#,
    r#"mutation { deleteIndicator(code: "job_openings", expectedVersion: 1) { deletedId } }"#,
    r#"mutation { recordObservation(input: { indicator: "job_openings", source: "iom-interviews-migrants-from-caravans-in-chiapas", value: 1, periodStart: "2019-01-01", periodEnd: "2019-01-02", countries: ["MX"], program: "planami" }) { observation { id } } }"#,
    r#"mutation { correctObservation(id: "T2JzZXJ2YXRpb246MQ", expectedVersion: 1, input: { value: 2 }) { observation { id } } }"#,
    r#"mutation { deleteObservation(id: "T2JzZXJ2YXRpb246MQ", expectedVersion: 1) { deletedId } }"#,
];

#[tokio::test]
async fn every_mutation_needs_an_editor_and_admin_operations_an_admin() {
    on_each_backend(
        "every_mutation_needs_an_editor_and_admin_operations_an_admin",
        |db| async move {
            let (_, editor) = admin_and_editor(&db.store).await;
            let server = start_with(&db.connect_options(), HttpSettings::default()).await;
            let base = server.base.clone();
            let tables = [
                "bulletins",
                "programs",
                "partners",
                "indicators",
                "observations",
                "audit_log",
                "changes",
            ];
            let mut before = Vec::new();
            for table in tables {
                before.push(rows(&db, table).await);
            }
            for mutation in MUTATIONS {
                let body = call(&base, None, mutation).await;
                assert_eq!(code(&body), "UNAUTHENTICATED", "{mutation}: {body}");
            }
            for admin_only in [
                r#"mutation { revokeApiToken(name: "writer") { token { name } } }"#,
                "{ auditLog { hasMore } }",
                "{ apiTokens { name } }",
            ] {
                assert_eq!(
                    code(&call(&base, None, admin_only).await),
                    "UNAUTHENTICATED",
                    "{admin_only}"
                );
                let forbidden = call(&base, Some(&editor), admin_only).await;
                assert_eq!(code(&forbidden), "FORBIDDEN", "{admin_only}");
                let message = forbidden["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(message.contains("`admin` role"), "{message}");
            }
            let mut after = Vec::new();
            for table in tables {
                after.push(rows(&db, table).await);
            }
            assert_eq!(before, after, "a refused call wrote something");
            server.stop().await;
            db
        },
    )
    .await;
}
