//! Developer tools, for scale tests and benchmarks rather than for serving: [`generate`] builds a deterministic
//! synthetic catalogue (`boletin generate`), and [`bench`] times the queries that matter at scale through a
//! schema, with the database's plan of every statement (`boletin bench`). The `boletin` binary runs them; the
//! server library does not contain them.

pub mod bench;
pub mod generate;
