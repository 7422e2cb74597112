//! HyperLogLog in Redis's byte layout (the `HYLL` header, sparse and dense registers), kept in
//! a string value so GET/DUMP/RDB carry it unchanged. Pure functions over bytes.
