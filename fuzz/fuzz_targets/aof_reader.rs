//! Any bytes as an incremental AOF file (replayed, as the last file, with and without
//! aof-load-truncated) and as a manifest: errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tessera::config::Config;
use tessera::persist::aof::{manifest::Manifest, replay::replay_incr};
use tessera::store::Store;

fuzz_target!(|data: &[u8]| {
    for truncated_ok in [false, true] {
        let mut cfg = Config::default();
        cfg.aof_load_truncated = truncated_ok;
        let mut store = Store::new(16);
        let _ = replay_incr(std::path::Path::new("fuzz.aof"), data, true, &cfg, &mut store, &mut 0);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Manifest::parse(text);
    }
});
