//! `boletin generate`: a deterministic synthetic catalogue of realistic shape, for scale tests and benchmarks.
//! The same `--seed` gives the same catalogue, byte for byte.
//!
//! Shape: 50 countries (most bulletins about Mesoamerica and the Caribbean), 400 partners of every kind, 300
//! programs (a fifth of them inside another), each in one or two countries with one to three partners, 30
//! indicators (the office's own, `returns_assisted`, `job_fair_hires`, … `countries_covered`, then synthetic
//! flows and stocks; some broken down by age group or sex), bulletins in English and Spanish spread over
//! 2012–2026 (95% published, the rest drafts or archived), and observations sourced from them: each program
//! reports two to four indicators, mostly for the calendar month (sometimes the quarter, sometimes the days of an
//! event) before the bulletin, in its own countries with one of its partners or none, with parts that never
//! exceed their figure.

use boletin_domain::DomainError;
use boletin_domain::bulletin::{BulletinStatus, BulletinText, NewBulletin, NewBulletinParts, PartnerLink, Theme};
use boletin_domain::country::CountryCode;
use boletin_domain::indicator::{Aggregation, IndicatorText, NewIndicator, NewIndicatorParts, Unit};
use boletin_domain::language::Language;
use boletin_domain::observation::{Disaggregation, NewObservation, NewObservationParts, ReferencePeriod};
use boletin_domain::partner::{NewPartner, NewPartnerParts, PartnerKind, PartnerRole, PartnerText};
use boletin_domain::program::{NewProgram, NewProgramParts, Period, ProgramText};
use boletin_domain::seed::Dataset;
use boletin_domain::slug::Slug;
use chrono::{Datelike, Duration, NaiveDate};

/// SplitMix64: small, fast and the same on every machine.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The countries, the first twelve weighted as the office's region.
const COUNTRIES: [&str; 50] = [
    "MX", "GT", "HN", "SV", "NI", "CR", "PA", "BZ", "DO", "HT", "CU", "JM", "TT", "BS", "BB", "CO", "VE", "EC", "PE",
    "BO", "CL", "AR", "BR", "UY", "PY", "US", "CA", "ES", "FR", "DE", "IT", "GB", "NL", "BE", "CH", "SE", "NO", "DK",
    "PT", "IE", "AU", "NZ", "JP", "KR", "CN", "IN", "PH", "ZA", "NG", "KE",
];

/// Cities for datelines and places.
const CITIES: [&str; 16] = [
    "Tijuana",
    "Tapachula",
    "Ciudad de Guatemala",
    "Tegucigalpa",
    "San Pedro Sula",
    "San Salvador",
    "Managua",
    "San José",
    "Upala",
    "Ciudad de Panamá",
    "Santo Domingo",
    "Puerto Príncipe",
    "Belmopán",
    "Chiapas",
    "Quetzaltenango",
    "Monterrey",
];

/// Topics, in English and Spanish, with the theme they belong to.
const TOPICS: [(&str, &str, Theme); 12] = [
    (
        "human trafficking prevention",
        "prevención de la trata de personas",
        Theme::HumanTrafficking,
    ),
    (
        "labour integration of migrants",
        "integración laboral de personas migrantes",
        Theme::LabourIntegration,
    ),
    (
        "assisted voluntary return",
        "retorno voluntario asistido",
        Theme::AssistedVoluntaryReturn,
    ),
    (
        "displacement tracking",
        "monitoreo de flujos migratorios",
        Theme::DisplacementTracking,
    ),
    (
        "communication for development",
        "comunicación para el desarrollo",
        Theme::CommunicationForDevelopment,
    ),
    (
        "migration governance",
        "gobernanza de la migración",
        Theme::MigrationGovernance,
    ),
    ("migrant health", "salud de las personas migrantes", Theme::Health),
    (
        "information for migrants",
        "información para personas migrantes",
        Theme::InformationForMigrants,
    ),
    (
        "training of border officials",
        "capacitación de funcionarios de frontera",
        Theme::CapacityBuilding,
    ),
    (
        "surveys of migrant caravans",
        "encuestas a caravanas de migrantes",
        Theme::ResearchAndData,
    ),
    (
        "job fairs for returnees",
        "ferias de empleo para personas retornadas",
        Theme::LabourIntegration,
    ),
    (
        "shelters on the migration route",
        "albergues en la ruta migratoria",
        Theme::Health,
    ),
];

/// What IOM does in a headline, in English and Spanish.
const VERBS: [(&str, &str); 6] = [
    ("supports", "apoya"),
    ("strengthens", "fortalece"),
    ("launches", "lanza"),
    ("promotes", "promueve"),
    ("trains partners in", "capacita a sus socios en"),
    ("reviews progress on", "revisa los avances en"),
];

/// Sentences of a body, in English and Spanish; `{n}`, `{city}` and `{topic}` are filled in.
const SENTENCES: [(&str, &str); 8] = [
    (
        "In {city}, {n} people took part in activities on {topic}.",
        "En {city}, {n} personas participaron en actividades de {topic}.",
    ),
    (
        "The International Organization for Migration worked with local authorities and civil society.",
        "La Organización Internacional para las Migraciones trabajó con autoridades locales y la sociedad civil.",
    ),
    (
        "Migrants returned voluntarily with assistance and received support for their reintegration.",
        "Las personas migrantes retornaron voluntariamente con asistencia y recibieron apoyo para su reintegración.",
    ),
    (
        "Officials were trained to identify victims of trafficking and refer them to protection services.",
        "Se capacitó a funcionarios para identificar a víctimas de trata y referirlas a servicios de protección.",
    ),
    (
        "A job fair offered {n} openings to migrants and returnees looking for work.",
        "Una feria de empleo ofreció {n} vacantes a personas migrantes y retornadas que buscan trabajo.",
    ),
    (
        "Surveys with migrants in transit show that violence and the search for work drive migration.",
        "Las encuestas a personas migrantes en tránsito muestran que la violencia y la búsqueda de trabajo impulsan la migración.",
    ),
    (
        "Information centres in {city} now reach {n} migrants each month.",
        "Los centros de información en {city} ya llegan a {n} personas migrantes cada mes.",
    ),
    (
        "The project will continue next year with the support of its donors.",
        "El proyecto continuará el próximo año con el apoyo de sus donantes.",
    ),
];

const KINDS: [PartnerKind; 8] = [
    PartnerKind::Government,
    PartnerKind::Municipality,
    PartnerKind::UnAgency,
    PartnerKind::Ngo,
    PartnerKind::Donor,
    PartnerKind::PrivateSector,
    PartnerKind::Academia,
    PartnerKind::InternationalOrganisation,
];

const ROLES: [PartnerRole; 5] = [
    PartnerRole::Funder,
    PartnerRole::Implementer,
    PartnerRole::Organizer,
    PartnerRole::Host,
    PartnerRole::Supporter,
];

fn slug(text: &str) -> Result<Slug, DomainError> {
    Slug::from_title(text)
}

fn regional_country(random: &mut Random) -> Result<CountryCode, DomainError> {
    if random.chance(80) {
        CountryCode::parse(COUNTRIES[random.below(12)])
    } else {
        CountryCode::parse(COUNTRIES[random.below(COUNTRIES.len())])
    }
}

fn day(random: &mut Random, from: NaiveDate, days: usize) -> NaiveDate {
    from + Duration::days(random.below(days) as i64)
}

/// The categories of each disaggregation.
const DIMENSIONS: [(&str, &[&str]); 2] = [
    (
        "age_group",
        &["child", "adolescent", "adult", "older_adult", "unaccompanied_minor"],
    ),
    ("sex", &["female", "male"]),
];

/// An indicator of the office: code, unit, aggregation, dimensions, English and Spanish name.
type OfficeIndicator = (
    &'static str,
    Unit,
    Aggregation,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// The office's own indicators, as in the seed.
const OFFICE_INDICATORS: [OfficeIndicator; 9] = [
    (
        "returns_assisted",
        Unit::People,
        Aggregation::Sum,
        &["age_group", "sex"],
        "Assisted voluntary returns",
        "Retornos voluntarios asistidos",
    ),
    (
        "job_fair_hires",
        Unit::People,
        Aggregation::Sum,
        &["sex"],
        "People hired at job fairs",
        "Personas contratadas en ferias de empleo",
    ),
    (
        "job_fair_attendees",
        Unit::People,
        Aggregation::Sum,
        &["sex"],
        "Job fair attendees",
        "Asistentes a ferias de empleo",
    ),
    (
        "job_openings",
        Unit::JobOpenings,
        Aggregation::Sum,
        &[],
        "Job openings offered",
        "Vacantes ofrecidas",
    ),
    (
        "participating_businesses",
        Unit::Businesses,
        Aggregation::Sum,
        &[],
        "Participating businesses",
        "Empresas participantes",
    ),
    (
        "participating_countries",
        Unit::Countries,
        Aggregation::Sum,
        &[],
        "Participating countries",
        "Países participantes",
    ),
    (
        "consuls_consulted",
        Unit::People,
        Aggregation::Sum,
        &[],
        "Consuls consulted",
        "Cónsules consultados",
    ),
    (
        "consultation_meetings",
        Unit::Events,
        Aggregation::Sum,
        &[],
        "Consultation meetings",
        "Reuniones de consulta",
    ),
    (
        "countries_covered",
        Unit::Countries,
        Aggregation::Latest,
        &[],
        "Countries covered",
        "Países cubiertos",
    ),
];

/// Indicator `n`: the office's own first, then synthetic ones (`indicator_09`, …; every fifth a stock).
fn indicator(n: usize) -> Result<NewIndicator, DomainError> {
    let (topic_en, topic_es, _) = TOPICS[n % TOPICS.len()];
    if let Some((code, unit, aggregation, dimensions, en, es)) = OFFICE_INDICATORS.get(n) {
        return NewIndicator::new(NewIndicatorParts {
            code: (*code).to_owned(),
            unit: *unit,
            aggregation: *aggregation,
            dimensions: dimensions.iter().map(|d| (*d).to_owned()).collect(),
            texts: vec![
                IndicatorText {
                    lang: Language::En,
                    name: (*en).to_owned(),
                    definition: format!("{en}, as reported in the office's bulletins."),
                },
                IndicatorText {
                    lang: Language::Es,
                    name: (*es).to_owned(),
                    definition: format!("{es}, según los boletines de la oficina."),
                },
            ],
        });
    }
    let stock = n % 5 == 4;
    NewIndicator::new(NewIndicatorParts {
        code: format!("indicator_{n:02}"),
        unit: if stock { Unit::Countries } else { Unit::People },
        aggregation: if stock { Aggregation::Latest } else { Aggregation::Sum },
        dimensions: match n % 3 {
            0 => vec!["age_group".to_owned(), "sex".to_owned()],
            1 => vec!["sex".to_owned()],
            _ => vec![],
        },
        texts: vec![
            IndicatorText {
                lang: Language::En,
                name: format!("People reached: {topic_en} ({n})"),
                definition: format!("People reached by activities on {topic_en}."),
            },
            IndicatorText {
                lang: Language::Es,
                name: format!("Personas alcanzadas: {topic_es} ({n})"),
                definition: format!("Personas alcanzadas por actividades de {topic_es}."),
            },
        ],
    })
}

/// The period a bulletin published on `published` reports, and a plausible value of `indicator` for it: most
/// figures cover a calendar month shortly before publication, some a quarter, some the days of an event.
fn reported_period(random: &mut Random, published: NaiveDate, indicator: &str) -> (ReferencePeriod, f64) {
    let month_start = |day: NaiveDate| day.with_day(1).unwrap_or(day);
    let last_month = month_start(published).pred_opt().unwrap_or(published);
    let end = month_start(last_month)
        .checked_sub_months(chrono::Months::new(random.below(3) as u32))
        .and_then(|start| start.checked_add_months(chrono::Months::new(1)))
        .and_then(|next| next.pred_opt())
        .unwrap_or(last_month);
    let (start, scale) = match random.below(10) {
        0..=6 => (month_start(end), 1),
        7..=8 => (
            month_start(end)
                .checked_sub_months(chrono::Months::new(2))
                .unwrap_or(end),
            3,
        ),
        _ => {
            let day = published - Duration::days(1 + random.below(20) as i64);
            return (
                ReferencePeriod {
                    start: day - Duration::days(random.below(3) as i64),
                    end: day,
                },
                (1 + random.below(60)) as f64,
            );
        }
    };
    let base = match indicator {
        "countries_covered" | "participating_countries" => 1 + random.below(12),
        "participating_businesses" | "consultation_meetings" => 1 + random.below(40),
        _ => 1 + random.below(400),
    };
    (ReferencePeriod { start, end }, (base * scale) as f64)
}

/// When generated bulletins start, and over how many days they spread (2012 to 2026).
struct Span {
    start: NaiveDate,
    days: usize,
}

/// A synthetic catalogue of `bulletins` bulletins and `observations` observations from `seed`: partners, then
/// programs with their partners, indicators, what each program reports, bulletins, and the figures they
/// source, each drawn from one sequence of random numbers in that order (so a seed gives one catalogue).
pub fn dataset(bulletins: usize, observations: usize, seed: u64) -> Result<Dataset, DomainError> {
    let random = &mut Random(seed);
    let span = Span {
        start: NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or_default(),
        days: 365 * 15 - 60,
    };
    let partners = partners(random)?;
    let programs = programs(random, &span, &partners)?;
    let indicators: Vec<NewIndicator> = (0..30).map(indicator).collect::<Result<_, _>>()?;
    let reports = Reports::draw(random, &programs, indicators.len());
    let bulletins = bulletins_of(random, bulletins, &span, &programs, &partners)?;
    let observations = if bulletins.is_empty() {
        Vec::new()
    } else {
        (0..observations)
            .map(|_| observation(random, &bulletins, &programs, &indicators, &reports))
            .collect::<Result<_, _>>()?
    };
    Ok(Dataset {
        partners,
        programs,
        indicators,
        bulletins,
        observations,
    })
}

/// 400 partners of every kind, each in one country of the region.
fn partners(random: &mut Random) -> Result<Vec<NewPartner>, DomainError> {
    (0..400)
        .map(|n| -> Result<NewPartner, DomainError> {
            let kind = KINDS[n % KINDS.len()];
            let place = random.pick(&CITIES);
            let (en, es) = match kind {
                PartnerKind::Government => (
                    format!("Ministry of Migration {n}"),
                    format!("Ministerio de Migración {n}"),
                ),
                PartnerKind::Municipality => (
                    format!("Municipality of {place} {n}"),
                    format!("Municipalidad de {place} {n}"),
                ),
                PartnerKind::Ngo => (
                    format!("Migrant Support Network {n}"),
                    format!("Red de Apoyo al Migrante {n}"),
                ),
                PartnerKind::Donor => (format!("Development Fund {n}"), format!("Fondo de Desarrollo {n}")),
                _ => (format!("Partner Organization {n}"), format!("Organización Socia {n}")),
            };
            NewPartner::new(NewPartnerParts {
                slug: slug(&en)?,
                texts: vec![
                    PartnerText {
                        lang: Language::En,
                        name: en,
                        acronym: None,
                    },
                    PartnerText {
                        lang: Language::Es,
                        name: es,
                        acronym: None,
                    },
                ],
                kind,
                country: Some(regional_country(random)?),
                website: random.chance(50).then(|| format!("https://partner-{n}.example.org")),
            })
        })
        .collect()
}

/// 300 programs, a fifth of those after the twentieth inside one of the first twenty, each in one or two
/// countries with one to three partners.
fn programs(random: &mut Random, span: &Span, partners: &[NewPartner]) -> Result<Vec<NewProgram>, DomainError> {
    let (start, span_days) = (span.start, span.days);
    let mut programs: Vec<NewProgram> = Vec::with_capacity(300);
    for n in 0..300 {
        let (topic_en, topic_es, _) = *random.pick(&TOPICS);
        let place = random.pick(&CITIES);
        let parent = (n > 20 && random.chance(20)).then(|| programs[random.below(20)].slug().clone());
        let begins = day(random, start, span_days - 400);
        programs.push(NewProgram::new(NewProgramParts {
            slug: slug(&format!("{topic_en} {place} {n}"))?,
            parent,
            period: Period {
                start: begins,
                end: random
                    .chance(60)
                    .then(|| begins + Duration::days(365 + random.below(1500) as i64)),
            },
            countries: {
                let mut countries = vec![regional_country(random)?];
                let other = regional_country(random)?;
                if random.chance(30) && other != countries[0] {
                    countries.push(other);
                }
                countries
            },
            texts: vec![
                ProgramText {
                    lang: Language::En,
                    name: format!("Program on {topic_en} in {place} ({n})"),
                    description: format!("A program on {topic_en} in {place}."),
                },
                ProgramText {
                    lang: Language::Es,
                    name: format!("Programa de {topic_es} en {place} ({n})"),
                    description: format!("Un programa de {topic_es} en {place}."),
                },
            ],
            partners: {
                let mut links: Vec<PartnerLink<Slug>> = Vec::new();
                for _ in 0..1 + random.below(3) {
                    let partner = partners[random.below(partners.len())].slug().clone();
                    let role = *random.pick(&ROLES);
                    if links.iter().all(|l| l.partner != partner) {
                        links.push(PartnerLink { partner, role });
                    }
                }
                links
            },
        })?);
    }
    Ok(programs)
}

/// Which indicators each program reports (two to four, by index), and where a program is in the list.
struct Reports<'a> {
    tracked: Vec<Vec<usize>>,
    program_index: std::collections::HashMap<&'a Slug, usize>,
}

impl<'a> Reports<'a> {
    fn draw(random: &mut Random, programs: &'a [NewProgram], indicators: usize) -> Self {
        // Each program reports two to four indicators, month after month.
        let tracked: Vec<Vec<usize>> = (0..programs.len())
            .map(|_| {
                let mut list: Vec<usize> = Vec::new();
                for _ in 0..2 + random.below(3) {
                    let n = random.below(indicators);
                    if !list.contains(&n) {
                        list.push(n);
                    }
                }
                list
            })
            .collect();
        let program_index = programs.iter().enumerate().map(|(n, p)| (p.slug(), n)).collect();
        Self { tracked, program_index }
    }
}

/// `count` bulletins, newest first, each about one program and naming one partner.
fn bulletins_of(
    random: &mut Random,
    count: usize,
    span: &Span,
    programs: &[NewProgram],
    partners: &[NewPartner],
) -> Result<Vec<NewBulletin>, DomainError> {
    let mut dates: Vec<NaiveDate> = (0..count).map(|_| day(random, span.start, span.days)).collect();
    dates.sort_unstable_by(|a, b| b.cmp(a));
    dates
        .into_iter()
        .enumerate()
        .map(|(n, published_on)| bulletin(random, n, published_on, programs, partners))
        .collect()
}

/// The `n`th bulletin, published on `published_on`, in English and Spanish.
fn bulletin(
    random: &mut Random,
    n: usize,
    published_on: NaiveDate,
    programs: &[NewProgram],
    partners: &[NewPartner],
) -> Result<NewBulletin, DomainError> {
    let (topic_en, topic_es, theme) = *random.pick(&TOPICS);
    let (verb_en, verb_es) = *random.pick(&VERBS);
    let city = *random.pick(&CITIES);
    let country_code = regional_country(random)?;
    let title_en = format!("IOM {verb_en} {topic_en} in {city}");
    let title_es = format!("La OIM {verb_es} {topic_es} en {city}");
    let mut body_en = Vec::new();
    let mut body_es = Vec::new();
    for _ in 0..4 + random.below(5) {
        let (en, es) = *random.pick(&SENTENCES);
        let count = (10 + random.below(2000)).to_string();
        let fill = |text: &str, topic: &str| {
            text.replace("{n}", &count)
                .replace("{city}", city)
                .replace("{topic}", topic)
        };
        body_en.push(fill(en, topic_en));
        body_es.push(fill(es, topic_es));
    }
    let status = match random.below(100) {
        0..=94 => BulletinStatus::Published,
        95..=98 => BulletinStatus::Draft,
        _ => BulletinStatus::Archived,
    };
    let mut countries = vec![country_code];
    if random.chance(30) {
        let other = regional_country(random)?;
        if other != country_code {
            countries.push(other);
        }
    }
    NewBulletin::new(NewBulletinParts {
        slug: Slug::parse(&format!("{}-{n}", slug(&title_en)?.as_str()))?,
        published_on,
        dateline: Some(format!("{city}, {}", country_code.name(Language::En))),
        countries,
        themes: vec![theme],
        status,
        texts: vec![
            BulletinText {
                lang: Language::En,
                title: title_en,
                summary: body_en[0].clone(),
                body: body_en.join("\n\n"),
            },
            BulletinText {
                lang: Language::Es,
                title: title_es,
                summary: body_es[0].clone(),
                body: body_es.join("\n\n"),
            },
        ],
        programs: vec![programs[random.below(programs.len())].slug().clone()],
        partners: vec![PartnerLink {
            partner: partners[random.below(partners.len())].slug().clone(),
            role: *random.pick(&ROLES),
        }],
    })
}

/// One figure sourced from a random bulletin, for an indicator its program reports, in the program's
/// countries, with parts that never exceed it.
fn observation(
    random: &mut Random,
    bulletins: &[NewBulletin],
    programs: &[NewProgram],
    indicators: &[NewIndicator],
    reports: &Reports<'_>,
) -> Result<NewObservation, DomainError> {
    let source = &bulletins[random.below(bulletins.len())];
    let program = &programs[reports.program_index[&source.programs()[0]]];
    let indicator = &indicators[*random.pick(&reports.tracked[reports.program_index[&program.slug()]])];
    let (period, value) = reported_period(random, source.published_on(), indicator.code());
    let mut countries = program.countries().to_vec();
    if random.chance(1) {
        let other = regional_country(random)?;
        if !countries.contains(&other) {
            countries.push(other);
        }
    }
    let mut disaggregations = Vec::new();
    for name in indicator.dimensions() {
        if !random.chance(50) {
            continue;
        }
        let categories = DIMENSIONS.iter().find(|(d, _)| d == name).map_or(&[][..], |(_, c)| *c);
        let mut left = value;
        for category in categories.iter().take(1 + random.below(categories.len())) {
            let part = (left * random.below(60) as f64 / 100.0).floor();
            left -= part;
            disaggregations.push(Disaggregation {
                dimension: name.clone(),
                category: (*category).to_owned(),
                value: part,
            });
        }
    }
    NewObservation::new(NewObservationParts {
        indicator: indicator.code().to_owned(),
        source: source.slug().clone(),
        value,
        period,
        countries,
        place: random.chance(50).then(|| (*random.pick(&CITIES)).to_owned()),
        program: program.slug().clone(),
        partner: random
            .chance(70)
            .then(|| random.pick(program.partners()).partner.clone()),
        note: None,
        disaggregations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_valid_catalogue() {
        let generate = |seed| dataset(300, 1000, seed).expect("a generated dataset");
        let a = generate(7);
        assert_eq!(a.validate(), Ok(()));
        assert_eq!(a.bulletins.len(), 300);
        assert_eq!(a.observations.len(), 1000);
        assert_eq!(
            format!("{:?}", a.bulletins[17]),
            format!("{:?}", generate(7).bulletins[17])
        );
        assert_ne!(
            format!("{:?}", a.bulletins[17]),
            format!("{:?}", generate(8).bulletins[17])
        );
        let countries: std::collections::HashSet<_> = a.partners.iter().filter_map(|p| p.country()).collect();
        assert!(countries.len() > 12, "{countries:?}");
        assert!(
            a.bulletins
                .windows(2)
                .all(|w| w[0].published_on() >= w[1].published_on()),
            "newest first"
        );
    }
}
