//! The seed dataset: the office's starting content, as read from a data file, and the rules that tie it
//! together (every reference resolves, every figure names the bulletin it came from).

use crate::DomainError;
use crate::bulletin::NewBulletin;
use crate::indicator::NewIndicator;
use crate::observation::NewObservation;
use crate::partner::NewPartner;
use crate::program::NewProgram;
use crate::slug::Slug;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// A whole catalogue to load at once, in the order it must be written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// Organisations, written first.
    pub partners: Vec<NewPartner>,
    /// Programs; a parent is listed before its children.
    pub programs: Vec<NewProgram>,
    /// What is counted.
    pub indicators: Vec<NewIndicator>,
    /// The bulletins.
    pub bulletins: Vec<NewBulletin>,
    /// The figures, each naming its source bulletin.
    pub observations: Vec<NewObservation>,
}

impl Dataset {
    /// Checks every record's own rules and every reference between records, reporting the first problem with
    /// its path, e.g. `observations[2].program`.
    pub fn validate(&self) -> Result<(), DomainError> {
        let partners = unique_keys("partners", self.partners.iter().map(|p| &p.slug))?;
        for (index, partner) in self.partners.iter().enumerate() {
            partner
                .validate()
                .map_err(|e| e.within(&format!("partners[{index}]")))?;
        }

        let mut programs = HashSet::new();
        for (index, program) in self.programs.iter().enumerate() {
            let path = format!("programs[{index}]");
            program.validate().map_err(|e| e.within(&path))?;
            if let Some(parent) = &program.parent
                && !programs.contains(parent)
            {
                return Err(DomainError::invalid(
                    format!("{path}.parent"),
                    format!("`{parent}` is not a program listed before this one"),
                ));
            }
            for (p, link) in program.partners.iter().enumerate() {
                known(
                    &partners,
                    &link.partner,
                    &format!("{path}.partners[{p}].partner"),
                    "partner",
                )?;
            }
            if !programs.insert(&program.slug) {
                return Err(DomainError::Conflict {
                    message: format!("two programs have the slug `{}`", program.slug),
                });
            }
        }

        let mut indicators: HashMap<&str, &NewIndicator> = HashMap::new();
        for (index, indicator) in self.indicators.iter().enumerate() {
            indicator
                .validate()
                .map_err(|e| e.within(&format!("indicators[{index}]")))?;
            if indicators.insert(&indicator.code, indicator).is_some() {
                return Err(DomainError::Conflict {
                    message: format!("two indicators have the code `{}`", indicator.code),
                });
            }
        }

        let bulletins = unique_keys("bulletins", self.bulletins.iter().map(|b| &b.slug))?;
        for (index, bulletin) in self.bulletins.iter().enumerate() {
            let path = format!("bulletins[{index}]");
            bulletin.validate().map_err(|e| e.within(&path))?;
            for (p, program) in bulletin.programs.iter().enumerate() {
                known(&programs, program, &format!("{path}.programs[{p}]"), "program")?;
            }
            for (p, link) in bulletin.partners.iter().enumerate() {
                known(
                    &partners,
                    &link.partner,
                    &format!("{path}.partners[{p}].partner"),
                    "partner",
                )?;
            }
        }

        for (index, observation) in self.observations.iter().enumerate() {
            let path = format!("observations[{index}]");
            let indicator = indicators.get(observation.indicator.as_str()).ok_or_else(|| {
                DomainError::invalid(
                    format!("{path}.indicator"),
                    format!("no indicator has the code `{}`", observation.indicator),
                )
            })?;
            observation
                .validate(&indicator.dimensions)
                .map_err(|e| e.within(&path))?;
            known(&bulletins, &observation.source, &format!("{path}.source"), "bulletin")?;
            known(&programs, &observation.program, &format!("{path}.program"), "program")?;
            if let Some(partner) = &observation.partner {
                known(&partners, partner, &format!("{path}.partner"), "partner")?;
            }
        }
        Ok(())
    }
}

fn unique_keys<'a>(entity: &str, slugs: impl Iterator<Item = &'a Slug>) -> Result<HashSet<&'a Slug>, DomainError> {
    let mut seen = HashSet::new();
    for slug in slugs {
        if !seen.insert(slug) {
            return Err(DomainError::Conflict {
                message: format!("two {entity} have the slug `{slug}`"),
            });
        }
    }
    Ok(seen)
}

fn known(keys: &HashSet<&Slug>, slug: &Slug, field: &str, entity: &str) -> Result<(), DomainError> {
    if keys.contains(slug) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("no {entity} has the slug `{slug}`"),
        ))
    }
}
