//! Test fixtures shared by the command families (compiled for tests only).

#[cfg(test)]
pub mod harness;
