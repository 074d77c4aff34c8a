//! The SQL store against real SQLite and PostgreSQL databases, one fresh database per test and backend.

#![expect(
    clippy::expect_used,
    reason = "a test's helpers stop it at the first failed step, with the step's name"
)]

use boletin_domain::DomainError;
use boletin_domain::bulletin::{
    Bulletin, BulletinCursor, BulletinFilter, BulletinOrder, BulletinStatus, BulletinText, LinksWanted, NewBulletin,
    NewBulletinParts, TextsWanted, Theme, Visibility,
};
use boletin_domain::country::CountryCode;
use boletin_domain::editorial::{RecordStore, Revision};
use boletin_domain::id::BulletinId;
use boletin_domain::import::parse_page;
use boletin_domain::language::Language;
use boletin_domain::observation::ObservationParts;
use boletin_domain::page::{Page, PageRequest};
use boletin_domain::search::{SearchCursor, SearchQuery};
use boletin_domain::slug::Slug;
use boletin_domain::store::CatalogStore;
use boletin_persistence::testing::on_each_backend;
use boletin_persistence::{BUILTIN_SEED, parse_dataset};

const SOURCE_PAGE: &str = include_str!("../../../seed/pages/000_22d4cd1e50c04007.txt");

fn slug(s: &str) -> Slug {
    Slug::parse(s).expect("a valid slug")
}

/// `bulletin` with `change` made to its fields, checked again.
fn changed(bulletin: &NewBulletin, change: impl FnOnce(&mut NewBulletinParts)) -> NewBulletin {
    let mut parts = bulletin.clone().into_parts();
    change(&mut parts);
    NewBulletin::new(parts).expect("the changed bulletin is valid")
}

fn first(n: i32) -> PageRequest<BulletinCursor> {
    PageRequest::new(Some(n), None, None, None).expect("a valid page request")
}

/// The first `n` bulletins of the default list (published, newest first), with all their texts.
async fn newest(store: &impl CatalogStore, n: i32) -> Page<Bulletin> {
    store
        .bulletin_page(
            &BulletinFilter::default(),
            BulletinOrder::default(),
            &first(n),
            TextsWanted::ALL,
        )
        .await
        .expect("the first page reads")
}

#[test]
fn the_seed_holds_every_bulletin_of_the_source_page_exactly_as_written() {
    let dataset = parse_dataset(BUILTIN_SEED).expect("the built-in seed parses");
    assert_eq!(dataset.validate(), Ok(()));
    let page = parse_page(SOURCE_PAGE).expect("the source page parses");
    assert_eq!(page.len(), 10);
    assert_eq!(dataset.bulletins.len(), 10);
    for (source, seeded) in page.iter().zip(&dataset.bulletins) {
        let imported = source
            .to_new_bulletin(BulletinStatus::Published)
            .expect("a valid bulletin");
        let english = seeded
            .texts()
            .iter()
            .find(|t| t.lang == Language::En)
            .unwrap_or_else(|| panic!("no English text"));
        assert_eq!(english.title, imported.texts()[0].title);
        assert_eq!(english.body, imported.texts()[0].body);
        assert_eq!(seeded.published_on(), imported.published_on());
        assert_eq!(
            seeded.slug(),
            imported.slug(),
            "the seed's slug is the one the importer derives"
        );
        assert!(
            seeded.texts().iter().any(|t| t.lang == Language::Es),
            "{} has no Spanish text",
            seeded.slug()
        );
    }
    for observation in &dataset.observations {
        assert!(dataset.bulletins.iter().any(|b| b.slug() == observation.source()));
    }
}

#[test]
fn a_bad_record_in_a_seed_file_is_named_at_its_path_and_a_bad_shape_at_its_line() {
    let mut seed: serde_json::Value = serde_json::from_str(BUILTIN_SEED).expect("the built-in seed is JSON");
    seed["bulletins"][3]["translations"][0]["title"] = " ".into();
    assert!(matches!(
        parse_dataset(&seed.to_string()),
        Err(DomainError::Invalid { field, .. }) if field == "bulletins[3].translations[0].title"
    ));
    let mut seed: serde_json::Value = serde_json::from_str(BUILTIN_SEED).expect("the built-in seed is JSON");
    seed["observations"][0]["countries"] = serde_json::json!([]);
    assert!(matches!(
        parse_dataset(&seed.to_string()),
        Err(DomainError::Invalid { field, .. }) if field == "observations[0].countries"
    ));
    let mut seed: serde_json::Value = serde_json::from_str(BUILTIN_SEED).expect("the built-in seed is JSON");
    seed["partners"][0]["colour"] = "blue".into();
    assert!(matches!(
        parse_dataset(&seed.to_string()),
        Err(DomainError::Invalid { field, reason }) if field == "seed" && reason.starts_with("line 1, column")
    ));
}

#[tokio::test]
async fn the_seed_loads_and_lists_newest_first() {
    on_each_backend("the_seed_loads_and_lists_newest_first", |db| async move {
        let db = db.seeded().await;
        let page = newest(&db.store, 20).await;
        assert_eq!(page.items.len(), 10);
        assert!(!page.has_next_page);
        assert!(
            page.items
                .windows(2)
                .all(|w| (w[0].published_on, w[0].id) > (w[1].published_on, w[1].id))
        );
        assert_eq!(db.store.bulletin_count(&BulletinFilter::default()).await, Ok(10));
        let returns = db
            .store
            .indicator_by_code("returns_assisted")
            .await
            .expect("the indicator lookup runs")
            .unwrap_or_else(|| panic!("missing"));
        let observations = db
            .store
            .indicator_observations(&[returns.id])
            .await
            .expect("the indicator's figures read");
        assert_eq!(observations.len(), 1);
        assert_eq!(observations[0].value, 1195.0);
        assert_eq!(observations[0].disaggregations[0].value, 48.0);
        let source = db
            .store
            .bulletins_by_ids(&[observations[0].source], Visibility::Public)
            .await
            .expect("the source bulletin reads");
        assert!(
            source[0]
                .texts
                .iter()
                .any(|t| t.lang == Language::En && t.title.starts_with("Over a thousand migrants"))
        );
        db
    })
    .await;
}

/// PostgreSQL plans a bound `LIMIT $n` as if a tenth of the rows were read, so a page whose limit is a
/// parameter is planned afresh at every execution (QUERY-PLANS.md); its text must carry the limit as a number.
#[tokio::test]
async fn a_page_writes_its_limit_as_a_number() {
    on_each_backend("a_page_writes_its_limit_as_a_number", |db| async move {
        let db = db.seeded().await;
        let (store, log) = boletin_persistence::SqlStore::with_statement_log(db.connection.clone());
        log.start();
        let page = store
            .bulletin_page(
                &BulletinFilter::default(),
                BulletinOrder::PublishedOnDesc,
                &first(3),
                TextsWanted::ALL,
            )
            .await
            .expect("the page reads");
        assert_eq!(page.items.len(), 3);
        let statements = log.take();
        let limits: Vec<&str> = statements
            .iter()
            .map(|s| s.sql())
            .filter(|s| s.contains("LIMIT"))
            .collect();
        assert_eq!(limits.len(), 1, "one statement reads the page: {limits:?}");
        assert!(limits[0].contains(" LIMIT 4)"), "size + 1, as a number: {}", limits[0]);
        assert!(
            !limits[0].contains("LIMIT $") && !limits[0].contains("LIMIT ?"),
            "{}",
            limits[0]
        );
        db
    })
    .await;
}

/// A page's links and figures come in one statement, the same lists the separate reads give, whichever of
/// them are asked for.
#[tokio::test]
async fn links_and_figures_come_in_one_statement_as_read_apart() {
    on_each_backend(
        "links_and_figures_come_in_one_statement_as_read_apart",
        |db| async move {
            let db = db.seeded().await;
            let page = newest(&db.store, 20).await;
            let ids: Vec<BulletinId> = page.items.iter().map(|b| b.id).collect();
            let every = LinksWanted {
                programs: true,
                partners: true,
                countries: true,
                themes: true,
            };
            let bare = ObservationParts {
                countries: false,
                disaggregations: false,
            };
            let (store, log) = boletin_persistence::SqlStore::with_statement_log(db.connection.clone());
            for (wanted, parts) in [
                (every, Some(ObservationParts::ALL)),
                (every, Some(bare)),
                (every, None),
                (LinksWanted::default(), Some(bare)),
                (
                    LinksWanted {
                        countries: true,
                        ..LinksWanted::default()
                    },
                    Some(bare),
                ),
            ] {
                let links = store.bulletin_links(&ids, wanted).await.expect("the links read");
                let figures = match parts {
                    Some(parts) => Some(
                        store
                            .bulletin_observations(&ids, Visibility::Editorial, parts)
                            .await
                            .expect("the figures read"),
                    ),
                    None => None,
                };
                log.start();
                let together = store
                    .bulletin_links_and_figures(&ids, wanted, parts)
                    .await
                    .expect("links and figures read together");
                let statements = log.take();
                assert_eq!(together, (links, figures), "{wanted:?} {parts:?}");
                if parts == Some(bare) {
                    assert_eq!(statements.len(), 1, "{wanted:?}: {statements:?}");
                }
            }
            let (_, figures) = store
                .bulletin_links_and_figures(&ids, every, Some(ObservationParts::ALL))
                .await
                .expect("links and figures read together");
            let figures = figures.unwrap_or_default();
            assert!(
                figures.iter().any(|f| !f.countries.is_empty()),
                "the seed's figures name countries"
            );
            assert!(figures.iter().any(|f| !f.disaggregations.is_empty()));
            assert!(figures.iter().any(|f| f.partner.is_some()) && figures.iter().any(|f| f.note.is_some()));
            db
        },
    )
    .await;
}

#[tokio::test]
async fn keyset_pages_cover_the_list_once_in_both_directions() {
    on_each_backend("keyset_pages_cover_the_list_once_in_both_directions", |db| async move {
        let db = db.seeded().await;
        let filter = BulletinFilter::default();
        let mut seen = Vec::new();
        let mut request = first(3);
        loop {
            let page = db
                .store
                .bulletin_page(&filter, BulletinOrder::PublishedOnDesc, &request, TextsWanted::ALL)
                .await
                .expect("the next page reads");
            seen.extend(page.items.iter().map(|b| b.id));
            let Some(last) = page.items.last() else { break };
            if !page.has_next_page {
                break;
            }
            request =
                PageRequest::new(Some(3), Some(BulletinCursor::of(last)), None, None).expect("a valid page request");
        }
        let all = db
            .store
            .bulletin_page(&filter, BulletinOrder::PublishedOnDesc, &first(100), TextsWanted::ALL)
            .await
            .expect("the whole list reads");
        assert_eq!(seen, all.items.iter().map(|b| b.id).collect::<Vec<_>>());

        let before = BulletinCursor::of(&all.items[5]);
        let back = PageRequest::new(None, None, Some(2), Some(before)).expect("a valid page request");
        let page = db
            .store
            .bulletin_page(&filter, BulletinOrder::PublishedOnDesc, &back, TextsWanted::ALL)
            .await
            .expect("the previous page reads");
        assert_eq!(
            page.items.iter().map(|b| b.id).collect::<Vec<_>>(),
            [all.items[3].id, all.items[4].id]
        );
        assert!(page.has_previous_page && page.has_next_page);

        let oldest = db
            .store
            .bulletin_page(&filter, BulletinOrder::PublishedOnAsc, &first(1), TextsWanted::ALL)
            .await
            .expect("the oldest bulletin reads");
        assert_eq!(oldest.items[0].id, all.items[9].id);
        db
    })
    .await;
}

#[tokio::test]
async fn filters_narrow_the_list() {
    on_each_backend("filters_narrow_the_list", |db| async move {
        let db = db.seeded().await;
        let count = |filter: BulletinFilter| {
            let store = db.store.clone();
            async move { store.bulletin_count(&filter).await.expect("the filtered count runs") }
        };
        let country = |c: &str| CountryCode::parse(c).expect("a valid country code");
        assert_eq!(
            count(BulletinFilter {
                countries: vec![country("DO")],
                ..Default::default()
            })
            .await,
            2
        );
        assert_eq!(
            count(BulletinFilter {
                countries: vec![country("DO"), country("CR")],
                ..Default::default()
            })
            .await,
            4
        );
        assert_eq!(
            count(BulletinFilter {
                themes: vec![Theme::HumanTrafficking],
                ..Default::default()
            })
            .await,
            2
        );
        assert_eq!(
            count(BulletinFilter {
                programs: vec![slug("planami")],
                ..Default::default()
            })
            .await,
            1
        );
        assert_eq!(
            count(BulletinFilter {
                partners: vec![slug("iom")],
                ..Default::default()
            })
            .await,
            10
        );
        let march = chrono::NaiveDate::from_ymd_opt(2019, 3, 1);
        assert_eq!(
            count(BulletinFilter {
                published_from: march,
                ..Default::default()
            })
            .await,
            4
        );
        assert_eq!(
            count(BulletinFilter {
                published_to: march,
                themes: vec![Theme::AssistedVoluntaryReturn],
                ..Default::default()
            })
            .await,
            1
        );
        db
    })
    .await;
}

#[tokio::test]
async fn drafts_and_their_figures_stay_invisible() {
    on_each_backend("drafts_and_their_figures_stay_invisible", |db| async move {
        let db = db.seeded().await;
        let page = parse_page("1 April, 2019\n\nA draft about Panama\n\nPanama City, Panama. Text.")
            .expect("the draft page parses");
        let draft = page[0]
            .to_new_bulletin(BulletinStatus::Draft)
            .expect("a valid draft bulletin");
        assert_eq!(db.store.import_bulletins(std::slice::from_ref(&draft)).await, Ok(1));
        assert_eq!(db.store.bulletin_count(&BulletinFilter::default()).await, Ok(10));
        let published = [BulletinStatus::Published];
        assert_eq!(
            db.store
                .bulletin_by_slug(draft.slug(), &published, TextsWanted::ALL)
                .await,
            Ok(None)
        );
        // Reads that name the draft status (which only editors may ask for) see it, and only it.
        let drafts = BulletinFilter {
            statuses: vec![BulletinStatus::Draft],
            ..Default::default()
        };
        assert_eq!(db.store.bulletin_count(&drafts).await, Ok(1));
        let found = db
            .store
            .bulletin_by_slug(draft.slug(), &[BulletinStatus::Draft], TextsWanted::ALL)
            .await
            .expect("the draft lookup runs")
            .unwrap_or_else(|| panic!("the draft is missing"));
        assert_eq!(found.status, BulletinStatus::Draft);
        assert_eq!(
            db.store.bulletins_by_ids(&[found.id], Visibility::Public).await,
            Ok(vec![])
        );
        assert_eq!(
            db.store
                .bulletins_by_ids(&[found.id], Visibility::Editorial)
                .await
                .map(|b| b.len()),
            Ok(1)
        );
        let program = db
            .store
            .program_by_slug(&slug("planami"))
            .await
            .expect("the program lookup runs")
            .unwrap_or_else(|| panic!("missing"));
        assert_eq!(db.store.program_bulletins(&[program.id]).await.map(|b| b.len()), Ok(1));
        db
    })
    .await;
}

#[tokio::test]
async fn imports_are_all_or_nothing_and_refuse_taken_slugs() {
    on_each_backend("imports_are_all_or_nothing_and_refuse_taken_slugs", |db| async move {
        let db = db.seeded().await;
        let page =
            parse_page(&format!("1 April, 2019\n\nA new bulletin\n\nText.\n\n{SOURCE_PAGE}")).expect("the pages parse");
        let list: Vec<_> = page
            .iter()
            .map(|p| {
                p.to_new_bulletin(BulletinStatus::Published)
                    .expect("a valid published bulletin")
            })
            .collect();
        let failure = db
            .store
            .import_bulletins(&list)
            .await
            .err()
            .unwrap_or_else(|| panic!("the import should fail"));
        assert_eq!(failure.index, 1);
        assert!(matches!(failure.error, DomainError::Conflict { .. }));
        assert_eq!(
            db.store.bulletin_count(&BulletinFilter::default()).await,
            Ok(10),
            "nothing was written"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn seeding_twice_is_refused() {
    on_each_backend("seeding_twice_is_refused", |db| async move {
        let db = db.seeded().await;
        let dataset = parse_dataset(BUILTIN_SEED).expect("the built-in seed parses");
        assert!(matches!(
            db.store.load_dataset(&dataset).await,
            Err(DomainError::Conflict { .. })
        ));
        assert_eq!(db.store.is_empty().await, Ok(false));
        db
    })
    .await;
}

#[tokio::test]
async fn a_broken_connection_is_an_error_without_database_text() {
    on_each_backend(
        "a_broken_connection_is_an_error_without_database_text",
        |db| async move {
            let db = db.seeded().await;
            let store = db.store.clone();
            db.connection.clone().close().await.expect("the connection closes");
            let error = store
                .bulletin_count(&BulletinFilter::default())
                .await
                .err()
                .unwrap_or_else(|| panic!("a closed pool should fail"));
            assert!(
                matches!(error, DomainError::Unavailable { .. } | DomainError::Internal { .. }),
                "{error:?}"
            );
            assert!(!error.to_string().to_lowercase().contains("pool"), "{error}");
            db
        },
    )
    .await;
}

#[tokio::test]
async fn imports_resolve_named_programs_and_partners_or_refuse_unknown_ones() {
    on_each_backend(
        "imports_resolve_named_programs_and_partners_or_refuse_unknown_ones",
        |db| async move {
            let db = db.seeded().await;
            let page =
                parse_page("1 April, 2019\n\nA\n\nText.\n\n1 April, 2019\n\nB\n\nText.").expect("the two pages parse");
            let mut list: Vec<_> = page
                .iter()
                .map(|p| {
                    p.to_new_bulletin(BulletinStatus::Published)
                        .expect("a valid published bulletin")
                })
                .collect();
            list[0] = changed(&list[0], |b| b.programs = vec![slug("planami")]);
            list[1] = changed(&list[1], |b| b.programs = vec![slug("no-such-program")]);
            let failure = db
                .store
                .import_bulletins(&list)
                .await
                .err()
                .unwrap_or_else(|| panic!("the import should fail"));
            assert_eq!(failure.index, 1);
            assert!(matches!(failure.error, DomainError::Invalid { ref field, .. } if field == "programs"));
            list[1] = changed(&list[1], |b| {
                b.programs.clear();
                b.partners = vec![boletin_domain::bulletin::PartnerLink {
                    partner: slug("iom"),
                    role: boletin_domain::partner::PartnerRole::Supporter,
                }];
            });
            assert_eq!(db.store.import_bulletins(&list).await, Ok(2));
            let planami = db
                .store
                .program_by_slug(&slug("planami"))
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("missing"));
            assert_eq!(db.store.program_bulletins(&[planami.id]).await.map(|b| b.len()), Ok(2));
            db
        },
    )
    .await;
}

#[tokio::test]
async fn a_read_carries_only_the_texts_it_asks_for_with_the_fallback_language() {
    use boletin_domain::language::Language;
    on_each_backend(
        "a_read_carries_only_the_texts_it_asks_for_with_the_fallback_language",
        |db| async move {
            let db = db.seeded().await;
            // One bulletin in English only, so the fallback is exercised whatever the seed holds.
            db.execute_sql(
                "DELETE FROM bulletin_translations WHERE lang = 'es' AND bulletin_id = (SELECT MIN(id) FROM bulletins)",
            )
            .await
            .expect("the Spanish text is deleted");
            let read = |texts| {
                let store = db.store.clone();
                async move {
                    store
                        .bulletin_page(&BulletinFilter::default(), BulletinOrder::default(), &first(20), texts)
                        .await
                        .expect("the bulletin page reads")
                        .items
                }
            };
            let all = read(TextsWanted::ALL).await;
            for lang in [Language::Es, Language::En] {
                let lean = read(TextsWanted {
                    lang: Some(lang),
                    body: false,
                    tags: false,
                })
                .await;
                assert_eq!(lean.len(), all.len());
                for (lean, full) in lean.iter().zip(&all) {
                    assert!(
                        lean.countries.is_empty() && lean.themes.is_empty(),
                        "{}: tags read although not wanted",
                        lean.slug
                    );
                    let wanted = full.texts.pick(lang);
                    assert_eq!(lean.texts.len(), 1, "{}: {:?}", lean.slug, lean.texts);
                    let text = lean.texts.pick(lang);
                    assert_eq!(
                        (text.lang, &text.title, &text.summary, text.body.as_str()),
                        (wanted.lang, &wanted.title, &wanted.summary, ""),
                        "{}",
                        lean.slug
                    );
                }
            }
            let with_bodies = read(TextsWanted {
                lang: Some(Language::Es),
                body: true,
                tags: true,
            })
            .await;
            assert!(with_bodies.iter().all(|b| b.texts.iter().all(|t| !t.body.is_empty())));
            assert!(all.iter().any(|b| !b.countries.is_empty() && !b.themes.is_empty()));
            for (lean, full) in with_bodies.iter().zip(&all) {
                assert_eq!(
                    (&lean.countries, &lean.themes),
                    (&full.countries, &full.themes),
                    "{}",
                    lean.slug
                );
            }
            db
        },
    )
    .await;
}

/// Every hit of a search of `query` in `languages` among `filter`'s bulletins, read `size` at a time: the ids in
/// order, and the count.
async fn every_search_hit(
    store: &impl CatalogStore,
    query: &str,
    languages: &[Language],
    filter: &BulletinFilter,
    size: i32,
) -> (Vec<BulletinId>, u64) {
    let query = SearchQuery::parse(query).expect("a valid query");
    let (mut hits, mut after) = (Vec::new(), None);
    loop {
        let request = PageRequest::new(Some(size), after, None, None).expect("a valid page request");
        let page = store
            .search(&query, languages, filter, &request)
            .await
            .expect("the search runs");
        hits.extend(page.items.iter().map(|hit| hit.id));
        after = page.items.last().map(|hit| SearchCursor {
            score: hit.score,
            id: hit.id,
        });
        if !page.has_next_page {
            break;
        }
    }
    let count = store
        .search_count(&query, languages, filter)
        .await
        .expect("the count runs");
    (hits, count)
}

/// Every search term row is on its bulletin's shelf, and the drafts' terms are counted as the drafts' rows have
/// them.
async fn assert_terms_placed(db: &boletin_persistence::testing::TestDatabase) {
    let misplaced = "SELECT COUNT(*) FROM bulletin_search_terms t JOIN bulletins b ON b.id = t.bulletin_id \
                     WHERE t.shelf <> CASE WHEN b.status = 'archived' THEN 'archived' ELSE 'current' END";
    assert_eq!(
        db.scalar(misplaced).await,
        Ok(0),
        "rows on another shelf than their bulletin's"
    );
    let counted = "SELECT t.lang, t.term, COUNT(*) AS drafts FROM bulletin_search_terms t \
                   JOIN bulletins b ON b.id = t.bulletin_id WHERE b.status = 'draft' GROUP BY t.lang, t.term";
    let kept = "SELECT lang, term, drafts FROM bulletin_search_draft_terms";
    let miscounted = format!(
        "SELECT COUNT(*) FROM (SELECT * FROM ({kept} EXCEPT {counted}) a \
         UNION ALL SELECT * FROM ({counted} EXCEPT {kept}) b) c"
    );
    assert_eq!(db.scalar(&miscounted).await, Ok(0), "drafts' terms miscounted");
    let drafts = db.scalar("SELECT COUNT(*) FROM bulletins WHERE status = 'draft'").await;
    let kept_rows = db.scalar(&format!("SELECT COUNT(*) FROM ({kept}) k")).await;
    assert_eq!(
        kept_rows > Ok(0),
        drafts > Ok(0),
        "{kept_rows:?} counts for {drafts:?} drafts"
    );
}

/// A one-word search of any statuses (as an editor's read may ask) finds what the full-text index finds, page by
/// page and in its count, and the search terms follow their bulletin's status however it changes.
#[tokio::test]
async fn one_word_searches_of_every_status_find_what_full_text_finds() {
    on_each_backend(
        "one_word_searches_of_every_status_find_what_full_text_finds",
        |db| async move {
            let db = db.seeded().await;
            db.execute_sql(
                "UPDATE bulletins SET status = 'draft' WHERE id % 3 = 1; \
                 UPDATE bulletins SET status = 'archived' WHERE id % 3 = 2",
            )
            .await
            .expect("some bulletins are drafts and some archived");
            assert_terms_placed(&db).await;
            use BulletinStatus::{Archived, Draft, Published};
            let mut found_of = std::collections::BTreeMap::new();
            for statuses in [
                vec![Published],
                vec![Draft],
                vec![Archived],
                vec![Draft, Published],
                vec![Draft, Archived],
                vec![Published, Archived],
                vec![Draft, Published, Archived],
            ] {
                let filter = BulletinFilter {
                    statuses: statuses.clone(),
                    ..Default::default()
                };
                for word in ["migrantes", "oim", "iom", "returned", "trata"] {
                    for languages in [&[Language::Es][..], &[Language::En], &[Language::Es, Language::En]] {
                        let case = format!("{statuses:?} {word} {languages:?}");
                        let (whole, count) = every_search_hit(&db.store, word, languages, &filter, 100).await;
                        assert_eq!(count, whole.len() as u64, "{case}");
                        assert_eq!(
                            every_search_hit(&db.store, word, languages, &filter, 1).await,
                            (whole.clone(), count),
                            "{case}: by one"
                        );
                        // Excluding a word no bulletin has sends the query to the full-text index.
                        let (full_text, full_count) =
                            every_search_hit(&db.store, &format!("{word} -qqqzzz"), languages, &filter, 100).await;
                        let set = |ids: &[BulletinId]| ids.iter().copied().collect::<std::collections::BTreeSet<_>>();
                        assert_eq!(set(&whole), set(&full_text), "{case}");
                        assert_eq!(count, full_count, "{case}");
                        *found_of.entry(format!("{statuses:?}")).or_insert(0) += count;
                    }
                }
            }
            for statuses in ["[Published]", "[Draft]", "[Archived]"] {
                assert!(found_of[statuses] > 0, "nothing found among {statuses}: {found_of:?}");
            }

            // A draft's texts rewritten, a draft created and a draft deleted, through the store.
            let id = db
                .scalar(
                    "SELECT id FROM bulletins WHERE status = 'draft' AND id NOT IN \
                     (SELECT source_bulletin_id FROM observations) ORDER BY id LIMIT 1",
                )
                .await
                .expect("a draft without figures");
            let draft = db
                .store
                .bulletins_by_ids(&[BulletinId(id)], Visibility::Editorial)
                .await
                .expect("the draft is read");
            let find = |slug: Slug| {
                let db = &db;
                async move {
                    RecordStore::<NewBulletin>::find(&db.store, &slug)
                        .await
                        .expect("the draft is found")
                        .expect("the draft exists")
                }
            };
            let stored = find(draft.first().expect("the draft is there").slug.clone()).await;
            let mut parts = stored.record.clone().into_parts();
            parts.texts = parts
                .texts
                .into_iter()
                .map(|text| BulletinText {
                    body: format!("{} Zanahorias y trata.", text.title),
                    ..text
                })
                .collect();
            let after = NewBulletin::new(parts.clone()).expect("a valid bulletin");
            let revision = Revision {
                id: stored.id,
                expected_version: stored.version,
                before: &stored.record,
                after: &after,
                operation: "update",
            };
            RecordStore::<NewBulletin>::update(&db.store, &revision, "test")
                .await
                .expect("the draft is rewritten");
            assert_terms_placed(&db).await;
            parts.slug = slug("a-new-draft-on-carrots");
            RecordStore::<NewBulletin>::create(&db.store, &NewBulletin::new(parts).expect("valid"), "test")
                .await
                .expect("a draft is created");
            assert_terms_placed(&db).await;
            let created = find(slug("a-new-draft-on-carrots")).await;
            RecordStore::<NewBulletin>::delete(&db.store, &created, "test")
                .await
                .expect("the draft is deleted");
            assert_terms_placed(&db).await;

            // Archived and published again, and published from a draft: every row with its bulletin's status.
            db.execute_sql(
                "UPDATE bulletins SET status = 'published' WHERE id % 3 = 2; \
                 UPDATE bulletins SET status = 'archived' WHERE id % 3 = 0; \
                 UPDATE bulletins SET status = 'published' WHERE id % 3 = 1",
            )
            .await
            .expect("the statuses change");
            assert_terms_placed(&db).await;
            let published = BulletinFilter::default();
            let (hits, count) = every_search_hit(&db.store, "migrantes", &[Language::Es], &published, 100).await;
            let (full_text, _) =
                every_search_hit(&db.store, "migrantes -qqqzzz", &[Language::Es], &published, 100).await;
            assert_eq!(count, full_text.len() as u64);
            assert_eq!(hits.len(), full_text.len());
            db
        },
    )
    .await;
}
