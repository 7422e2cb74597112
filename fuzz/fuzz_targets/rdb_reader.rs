//! Any bytes as a dump.rdb: loading returns Ok or an error, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tessera::persist::rdb::{file::load_shard, read::LoadLimits};
use tessera::store::Store;

fuzz_target!(|data: &[u8]| {
    let mut store = Store::new(16);
    let _ = load_shard(data, 0, 1, &LoadLimits::default(), 0, &mut store);
});
