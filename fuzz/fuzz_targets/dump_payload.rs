//! Any bytes as a RESTORE payload: decoded or refused, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tessera::persist::rdb::{dump::decode_dump_payload, read::LoadLimits};

fuzz_target!(|data: &[u8]| {
    let _ = decode_dump_payload(data, &LoadLimits::default());
});
