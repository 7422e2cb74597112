//! The combined differential test's modules: the key space and vocabulary, the seeded
//! generator with one module per command family, transactions and WATCH races, the reply
//! comparisons, and the runner that talks to both servers.
//!
//! Nothing here may make a reply depend on timing or on a server's internal choices unless the
//! command's `Check` says how it is compared (see `gen.rs` for the rules).

pub mod check;
pub mod family;
pub mod gen;
pub mod keyspace;
pub mod runner;
pub mod txn;
pub mod vocab;
