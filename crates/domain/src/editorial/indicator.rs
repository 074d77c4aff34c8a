//! Editing indicators: what an editor types to create one, and the changes an update accepts.

use super::{AuditedKind, Editable, Patch, RawRecord};
use crate::indicator::{Aggregation, Indicator, IndicatorText, NewIndicator, NewIndicatorParts, Unit};
use crate::{DomainError, DomainResult};

impl Editable for NewIndicator {
    const KIND: AuditedKind = AuditedKind::Indicator;
    const NAME: &'static str = "indicator";
    /// Indicators are known by their code.
    type Key = String;
    type Stored = Indicator;
}

/// An indicator as an editor typed it: its fields need no parsing beyond their types, so these are the
/// record's parts, not yet checked.
#[derive(Debug, Clone)]
pub struct RawNewIndicator(pub NewIndicatorParts);

impl RawRecord for RawNewIndicator {
    type Record = NewIndicator;

    fn parse(self) -> DomainResult<NewIndicator> {
        NewIndicator::new(self.0)
    }
}

/// The changes `updateIndicator` accepts: every field left `None` keeps its value. Changing the code changes
/// how dashboards ask for the indicator; dimensions its figures use cannot be removed (the store checks).
#[derive(Debug, Clone, Default)]
pub struct IndicatorPatch {
    /// A new code.
    pub code: Option<String>,
    /// A new unit.
    pub unit: Option<Unit>,
    /// A new rule for combining figures.
    pub aggregation: Option<Aggregation>,
    /// The dimensions, replacing the list.
    pub dimensions: Option<Vec<String>>,
    /// The names and definitions, replacing the stored ones.
    pub texts: Option<Vec<IndicatorText>>,
}

impl Patch<NewIndicator> for IndicatorPatch {
    const OPERATION: &'static str = "update";

    fn apply(self, indicator: NewIndicator) -> DomainResult<NewIndicator> {
        let mut indicator = indicator.into_parts();
        if let Some(code) = self.code {
            indicator.code = code;
        }
        if let Some(unit) = self.unit {
            indicator.unit = unit;
        }
        if let Some(aggregation) = self.aggregation {
            indicator.aggregation = aggregation;
        }
        if let Some(dimensions) = self.dimensions {
            indicator.dimensions = dimensions;
        }
        if let Some(texts) = self.texts {
            indicator.texts = texts;
        }
        NewIndicator::new(indicator).map_err(|e: DomainError| e.within("input"))
    }
}
