//! The bulletin page format of the office's published pages, and its parser.
//!
//! A page is a sequence of bulletins. Each starts with a date line (`8 March, 2019`; `March 8, 2019` and
//! `2019-03-08` are read too), then a blank line, then a one-line title, then paragraphs separated by blank
//! lines, up to the next date line. Lines are trimmed; lines within one paragraph are kept apart by a newline.

use crate::DomainError;
use crate::bulletin::{BulletinStatus, BulletinText, NewBulletin, NewBulletinParts};
use crate::country::CountryCode;
use crate::language::Language;
use crate::slug::Slug;
use chrono::NaiveDate;

/// Why a page could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct PageError {
    /// The 1-based line the problem is on.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

/// One bulletin as read from a page, with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct PageBulletin {
    /// The line of its date.
    pub line: usize,
    /// The publication date.
    pub published_on: NaiveDate,
    /// The title, exactly as written.
    pub title: String,
    /// The paragraphs, exactly as written (trimmed).
    pub paragraphs: Vec<String>,
}

impl PageBulletin {
    /// The bulletin to create from this English text: slug from the title, dateline and countries from the
    /// text, summary from the first sentence.
    pub fn to_new_bulletin(&self, status: BulletinStatus) -> Result<NewBulletin, DomainError> {
        let body = self.paragraphs.join("\n\n");
        let first = self.paragraphs.first().map(String::as_str).unwrap_or_default();
        NewBulletin::new(NewBulletinParts {
            slug: Slug::from_title(&self.title)?,
            published_on: self.published_on,
            dateline: dateline(first),
            countries: CountryCode::mentioned_in(&format!("{}\n{}", self.title, body)),
            themes: Vec::new(),
            status,
            texts: vec![BulletinText {
                lang: Language::En,
                title: self.title.clone(),
                summary: summary(first),
                body,
            }],
            programs: Vec::new(),
            partners: Vec::new(),
        })
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Whether `line` has the shape of a date line, and if so the date it names (or why it names none).
fn date_line(line: &str) -> Option<Result<NaiveDate, String>> {
    if line.len() > 30 || !line.starts_with(|c: char| c.is_ascii_digit() || c.is_alphabetic()) {
        return None;
    }
    if let Ok(date) = NaiveDate::parse_from_str(line, "%Y-%m-%d") {
        return Some(Ok(date));
    }
    let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let month_index = |w: &str| MONTHS.iter().position(|m| m.eq_ignore_ascii_case(w));
    let (day, month, year) = match words.as_slice() {
        [day, month, year] if month_index(month).is_some() && day.parse::<u32>().is_ok() => (*day, *month, *year),
        [month, day, year] if month_index(month).is_some() && day.parse::<u32>().is_ok() => (*day, *month, *year),
        _ => return None,
    };
    let (Ok(day), Some(month), Ok(year)) = (day.parse::<u32>(), month_index(month), year.parse::<i32>()) else {
        return Some(Err(format!("`{line}` does not name a year")));
    };
    let month = u32::try_from(month).unwrap_or(0) + 1;
    Some(NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| format!("`{line}` is not a real date")))
}

/// Reads a page of bulletins. Any problem refuses the whole page, naming its line.
pub fn parse_page(text: &str) -> Result<Vec<PageBulletin>, PageError> {
    let mut blocks: Vec<(usize, Vec<&str>)> = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            blocks.extend(current.take());
        } else {
            current.get_or_insert_with(|| (index + 1, Vec::new())).1.push(line);
        }
    }
    blocks.extend(current);

    let mut bulletins: Vec<PageBulletin> = Vec::new();
    let mut blocks = blocks.into_iter().peekable();
    while let Some((line, lines)) = blocks.next() {
        let date = match (lines.as_slice(), date_line(lines[0])) {
            ([_], Some(Ok(date))) => date,
            (_, Some(Err(reason))) => return Err(PageError { line, reason }),
            _ if bulletins.is_empty() => {
                return Err(PageError {
                    line,
                    reason: "expected a date line such as `8 March, 2019` to start a bulletin".into(),
                });
            }
            _ => {
                return Err(PageError {
                    line,
                    reason: "expected a date line alone on its line".into(),
                });
            }
        };
        let title = match blocks.next() {
            Some((_, title)) if title.len() == 1 && date_line(title[0]).is_none() => title[0].to_owned(),
            Some((title_line, title)) if title.len() > 1 => {
                return Err(PageError {
                    line: title_line,
                    reason: "a title must be a single line, followed by a blank line".into(),
                });
            }
            _ => {
                return Err(PageError {
                    line,
                    reason: "this bulletin has no title after its date".into(),
                });
            }
        };
        let mut paragraphs = Vec::new();
        while let Some((_, next)) = blocks.peek() {
            if next.len() == 1 && date_line(next[0]).is_some() {
                break;
            }
            if let Some((_, paragraph)) = blocks.next() {
                paragraphs.push(paragraph.join("\n"));
            }
        }
        if paragraphs.is_empty() {
            return Err(PageError {
                line,
                reason: format!("the bulletin `{title}` has no text after its title"),
            });
        }
        bulletins.push(PageBulletin {
            line,
            published_on: date,
            title,
            paragraphs,
        });
    }
    if bulletins.is_empty() {
        return Err(PageError {
            line: 1,
            reason: "the page holds no bulletin".into(),
        });
    }
    Ok(bulletins)
}

/// The dateline at the start of a first paragraph (`Tijuana, Mexico, February 28, 2019. …` gives
/// `Tijuana, Mexico`), when it opens with a place and a country.
fn dateline(paragraph: &str) -> Option<String> {
    let head: String = paragraph.chars().take(80).collect();
    let country = CountryCode::mentioned_in(&head).into_iter().next()?;
    let name = country.name(Language::En);
    let at = head.find(name)?;
    let place = head[..at].strip_suffix(", ")?;
    let is_place = !place.is_empty()
        && place.len() <= 40
        && place.starts_with(char::is_uppercase)
        && !place.contains(['.', ',', ';', ':']);
    is_place.then(|| format!("{place}, {name}"))
}

/// The first sentence of a paragraph, for lists; the whole paragraph when it has a single sentence.
fn summary(paragraph: &str) -> String {
    let mut end = paragraph.len();
    let bytes = paragraph.as_bytes();
    for (index, _) in paragraph.match_indices(". ") {
        // Skip abbreviations and datelines: a sentence ends at a period after a lower-case word of 3+ letters.
        let word_start = paragraph[..index].rfind(' ').map_or(0, |s| s + 1);
        let word = &paragraph[word_start..index];
        if index > 40 && word.len() >= 3 && bytes.get(word_start).is_some_and(u8::is_ascii_lowercase) {
            end = index + 1;
            break;
        }
    }
    paragraph[..end].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "8 March, 2019\n\nIOM promotes labor integration of migrants in Tijuana\n\nTijuana, Mexico, February 28, 2019.  33 migrants have been hired.  18 businesses took part. \n\n5 March, 2019\n\nA course\n\n  • First point.  \n  • Second point.\n\nLast paragraph.\n";

    #[test]
    fn reads_dates_titles_and_paragraphs() {
        let page = parse_page(PAGE).expect("the sample page parses");
        assert_eq!(page.len(), 2);
        assert_eq!(
            page[0].published_on,
            NaiveDate::from_ymd_opt(2019, 3, 8).unwrap_or_default()
        );
        assert_eq!(page[0].title, "IOM promotes labor integration of migrants in Tijuana");
        assert_eq!(page[1].line, 7);
        assert_eq!(
            page[1].paragraphs,
            ["• First point.\n• Second point.", "Last paragraph."]
        );
    }

    #[test]
    fn derives_slug_dateline_countries_and_summary() {
        let page = parse_page(PAGE).expect("the sample page parses");
        let bulletin = page[0]
            .to_new_bulletin(BulletinStatus::Published)
            .expect("a valid bulletin");
        assert_eq!(
            bulletin.slug().as_str(),
            "iom-promotes-labor-integration-of-migrants-in-tijuana"
        );
        assert_eq!(bulletin.dateline(), Some("Tijuana, Mexico"));
        assert_eq!(
            bulletin.countries(),
            [CountryCode::parse("MX").expect("a valid country code")]
        );
        assert_eq!(
            bulletin.texts()[0].summary,
            "Tijuana, Mexico, February 28, 2019.  33 migrants have been hired."
        );
    }

    #[test]
    fn datelines_need_a_place_and_a_country() {
        assert_eq!(
            dateline("San José, Costa Rica The International Organization").as_deref(),
            Some("San José, Costa Rica")
        );
        assert_eq!(
            dateline("Santo Domingo, Dominican Republic. The Minister").as_deref(),
            Some("Santo Domingo, Dominican Republic")
        );
        assert_eq!(dateline("The Secretariat of Guatemala and IOM"), None);
    }

    #[test]
    fn reads_other_date_forms() {
        assert_eq!(
            date_line("March 8, 2019"),
            Some(Ok(NaiveDate::from_ymd_opt(2019, 3, 8).unwrap_or_default()))
        );
        assert_eq!(
            date_line("2019-03-08"),
            Some(Ok(NaiveDate::from_ymd_opt(2019, 3, 8).unwrap_or_default()))
        );
        assert_eq!(date_line("IOM promotes labor"), None);
    }

    fn error_of(text: &str) -> PageError {
        match parse_page(text) {
            Err(e) => e,
            Ok(page) => panic!("expected an error, read {page:?}"),
        }
    }

    #[test]
    fn malformed_pages_name_the_line() {
        assert_eq!(error_of("Hello\n\n8 March, 2019\n\nT\n\nBody").line, 1);
        assert_eq!(
            error_of("8 March, 2019\n\nTitle\n\nBody\n\n31 February, 2019\n\nT\n\nB").line,
            7
        );
        let no_title = error_of("8 March, 2019\n\n");
        assert_eq!((no_title.line, no_title.reason.contains("no title")), (1, true));
        let no_body = error_of("8 March, 2019\n\nTitle\n\n7 March, 2019\n\nT2\n\nBody");
        assert_eq!((no_body.line, no_body.reason.contains("no text")), (1, true));
        assert_eq!(error_of("8 March, 2019\n\nTitle on\ntwo lines\n\nBody").line, 3);
        assert_eq!(error_of("").line, 1);
        assert!(error_of("32 March, 2019\n\nT\n\nB").reason.contains("not a real date"));
    }
}
