//! Test support: the data-command harness shared by the families' unit tests (`harness`,
//! compiled for tests only) and the deterministic cluster simulator (`sim`: many cluster state
//! machines, a fake clock and a seeded faulty network), whose property tests run with
//! `cargo test --lib testing::sim` (`TESSERA_SEED=N` replays one seed).

#[cfg(test)]
pub mod harness;
pub mod sim;
