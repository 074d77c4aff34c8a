//! boletin's domain: the model of bulletins, programs, partners, indicators and observations, the rules
//! every record obeys, the read use cases the API offers, and the storage traits those use cases need.
//!
//! This crate knows nothing of SQL, HTTP or GraphQL: `boletin-persistence` implements [`store::CatalogStore`],
//! `boletin-graphql` presents [`catalog::Catalog`], and the server wires the two together.

#[macro_use]
mod codes;

pub mod auth;
pub mod bulletin;
pub mod catalog;
pub mod changes;
pub mod country;
pub mod editorial;
pub mod error;
pub mod facets;
pub mod id;
pub mod import;
pub mod indicator;
pub mod language;
pub mod live;
pub mod observation;
pub mod page;
pub mod partner;
pub mod program;
pub mod search;
pub mod seed;
pub mod slug;
pub mod statistics;
pub mod store;

pub use error::{DomainError, DomainResult, parse_each};
