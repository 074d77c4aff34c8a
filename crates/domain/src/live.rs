//! Live updates: a bulletin published, a figure recorded, announced to subscribers the moment the change
//! commits, on every server sharing the store.
//!
//! The store announces [`Event`]s: ids only, never content. A subscription turns each into the record as the
//! public sees it *now*, through the same published-only reads as every query, so a subscriber never sees a
//! draft, and an event whose record was hidden again before it was read is skipped.

use crate::bulletin::{Bulletin, BulletinFilter, Visibility};
use crate::catalog::Catalog;
use crate::id::{BulletinId, IndicatorId, ObservationId};
use crate::indicator::{Indicator, validate_code};
use crate::observation::Observation;
use crate::{DomainError, DomainResult};
use std::sync::Arc;

/// Something the public can now see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A bulletin became public (a draft or an archived bulletin was published).
    BulletinPublished(BulletinId),
    /// A figure became public or changed: recorded or corrected on a published bulletin, or sourced from a
    /// bulletin just published.
    ObservationRecorded {
        /// The figure.
        observation: ObservationId,
        /// What it counts.
        indicator: IndicatorId,
    },
}

impl Event {
    /// The event as a short text, for carrying between servers (`bulletin_published:12`,
    /// `observation_recorded:40:3`).
    pub fn encode(self) -> String {
        match self {
            Self::BulletinPublished(id) => format!("bulletin_published:{id}"),
            Self::ObservationRecorded { observation, indicator } => {
                format!("observation_recorded:{observation}:{indicator}")
            }
        }
    }

    /// Reads a text made by [`Event::encode`].
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let event = match (parts.next()?, parts.next()?, parts.next()) {
            ("bulletin_published", id, None) => Self::BulletinPublished(BulletinId(id.parse().ok()?)),
            ("observation_recorded", id, Some(indicator)) => Self::ObservationRecorded {
                observation: ObservationId(id.parse().ok()?),
                indicator: IndicatorId(indicator.parse().ok()?),
            },
            _ => return None,
        };
        parts.next().is_none().then_some(event)
    }
}

/// One subscriber's events, in the order they were announced.
#[async_trait::async_trait]
pub trait EventStream: Send {
    /// The next event; `None` once the source has closed (the server is shutting down).
    async fn next(&mut self) -> Option<Event>;
}

/// Where events come from: `boletin-persistence` implements it (PostgreSQL's LISTEN/NOTIFY across servers, or
/// in-process for SQLite).
pub trait EventSource: Send + Sync {
    /// A new subscriber's stream, starting with the next event announced.
    fn subscribe(&self) -> Box<dyn EventStream>;
}

/// The live-update use cases.
#[derive(Clone)]
pub struct Live {
    catalog: Catalog,
    events: Arc<dyn EventSource>,
}

impl Live {
    /// Live updates of `catalog`'s records, heard from `events`.
    pub fn new(catalog: Catalog, events: Arc<dyn EventSource>) -> Self {
        Self { catalog, events }
    }

    /// A subscription to bulletins as they are published, narrowed by `filter` (whose statuses must be left
    /// empty: only published bulletins are announced).
    pub fn bulletins_published(&self, filter: BulletinFilter) -> DomainResult<PublishedBulletins> {
        filter.validate()?;
        if filter.visibility() != Visibility::Public {
            return Err(DomainError::invalid("filter", "only published bulletins are announced"));
        }
        Ok(PublishedBulletins {
            catalog: self.catalog.clone(),
            events: self.events.subscribe(),
            filter,
        })
    }

    /// A subscription to figures as they are recorded or become public, of the indicator `code` or of every
    /// indicator. An unknown code is `NotFound`.
    pub async fn observations_recorded(&self, code: Option<&str>) -> DomainResult<RecordedObservations> {
        // Subscribe first, so no figure recorded while the indicator is looked up is missed.
        let events = self.events.subscribe();
        let indicator = match code {
            Some(code) => {
                validate_code(code).map_err(|e| e.at("indicator"))?;
                let indicator = self
                    .catalog
                    .store()
                    .indicator_by_code(code)
                    .await?
                    .ok_or_else(|| DomainError::not_found("indicator", code))?;
                Some(indicator)
            }
            None => None,
        };
        Ok(RecordedObservations {
            catalog: self.catalog.clone(),
            events,
            indicator,
        })
    }
}

/// A subscription's records, one per event that concerns it.
#[async_trait::async_trait]
pub trait Feed: Send {
    /// What it delivers.
    type Item: Send;
    /// The next record, as the public sees it; `None` when the source closed. A store error is returned (the
    /// subscription goes on).
    async fn next(&mut self) -> Option<DomainResult<Self::Item>>;
}

/// A subscription to published bulletins.
pub struct PublishedBulletins {
    catalog: Catalog,
    events: Box<dyn EventStream>,
    filter: BulletinFilter,
}

/// The bulletins published that match the filter.
#[async_trait::async_trait]
impl Feed for PublishedBulletins {
    type Item = Bulletin;

    async fn next(&mut self) -> Option<DomainResult<Bulletin>> {
        loop {
            let Event::BulletinPublished(id) = self.events.next().await? else {
                continue;
            };
            match self.catalog.store().bulletins_matching(&[id], &self.filter).await {
                Ok(found) => {
                    if let Some(bulletin) = found.into_iter().next() {
                        return Some(Ok(bulletin));
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// A subscription to recorded figures.
pub struct RecordedObservations {
    catalog: Catalog,
    events: Box<dyn EventStream>,
    indicator: Option<Indicator>,
}

/// The figures recorded, of the indicator asked for.
#[async_trait::async_trait]
impl Feed for RecordedObservations {
    type Item = Observation;

    async fn next(&mut self) -> Option<DomainResult<Observation>> {
        loop {
            let Event::ObservationRecorded { observation, indicator } = self.events.next().await? else {
                continue;
            };
            if self.indicator.as_ref().is_some_and(|i| i.id != indicator) {
                continue;
            }
            match self
                .catalog
                .store()
                .observations_by_ids(&[observation], Visibility::Public)
                .await
            {
                Ok(found) => {
                    if let Some(figure) = found.into_iter().next() {
                        return Some(Ok(figure));
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_as_text_and_garbage_is_refused() {
        for event in [
            Event::BulletinPublished(BulletinId(12)),
            Event::ObservationRecorded {
                observation: ObservationId(40),
                indicator: IndicatorId(3),
            },
        ] {
            assert_eq!(Event::decode(&event.encode()), Some(event));
        }
        for bad in [
            "",
            "bulletin_published",
            "bulletin_published:x",
            "bulletin_published:1:2",
            "other:1",
        ] {
            assert_eq!(Event::decode(bad), None, "{bad}");
        }
    }
}
