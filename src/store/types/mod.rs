//! The aggregate Redis types, one module each: the data structure of every encoding Redis
//! uses for the type, and the conversions between them (small → large as Redis converts).

pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;

#[cfg(test)]
mod conversions;
