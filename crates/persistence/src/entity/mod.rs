//! sea-orm entities, one per table. They never leave this crate: the store converts them to domain types.

pub mod bulletin_countries;
pub mod bulletin_partners;
pub mod bulletin_programs;
pub mod bulletin_themes;
pub mod bulletin_translations;
pub mod bulletins;
pub mod indicator_dimensions;
pub mod indicator_translations;
pub mod indicators;
pub mod observation_countries;
pub mod observation_disaggregations;
pub mod observations;
pub mod partner_translations;
pub mod partners;
pub mod program_countries;
pub mod program_partners;
pub mod program_translations;
pub mod programs;
