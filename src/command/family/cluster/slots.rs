//! CLUSTER subcommands about slots: ADDSLOTS, ADDSLOTSRANGE, DELSLOTS, DELSLOTSRANGE and
//! FLUSHSLOTS (slot ownership, changed on shard 0), KEYSLOT, COUNTKEYSINSLOT and GETKEYSINSLOT
//! (answered by the shard owning the slot's keys).
//!
//! Argument checks and errors are Redis 7.0's, in Redis's order; nothing changes unless every
//! argument passed. Never routes data commands or touches the config file directly.

use futures::FutureExt;

use super::{disabled, on_state, owned, with_key_count};
use crate::cluster::slot::{key_slot, owner_shard};
use crate::cluster::state::ClusterState;
use crate::command::args::parse_i64;
use crate::command::spec::ConnResult;
use crate::error;
use crate::limits::SLOT_COUNT;
use crate::resp::Out;
use crate::shard::ShardState;

/// A slot argument as Redis's `getSlotOrReply`.
fn parse_slot(arg: &[u8]) -> Result<u16, String> {
    match parse_i64(arg) {
        Ok(v) if (0..SLOT_COUNT as i64).contains(&v) => Ok(v as u16),
        _ => Err("ERR Invalid or out of range slot".into()),
    }
}

/// Checks slots `start..=end` for ADD/DELSLOTS[RANGE] (`checkSlotAssignmentsOrReply`).
fn check_slots(cs: &ClusterState, marked: &mut [bool], del: bool, start: u16, end: u16) -> Result<(), String> {
    for slot in start..=end {
        let assigned = cs.slot_owner(slot).is_some();
        if del && !assigned {
            return Err(format!("ERR Slot {slot} is already unassigned"));
        }
        if !del && assigned {
            return Err(format!("ERR Slot {slot} is already busy"));
        }
        match marked.get_mut(slot as usize) {
            Some(m) if *m => return Err(format!("ERR Slot {slot} specified multiple times")),
            Some(m) => *m = true,
            None => return Err("ERR Invalid or out of range slot".into()),
        }
    }
    Ok(())
}

/// CLUSTER ADDSLOTS|DELSLOTS|ADDSLOTSRANGE|DELSLOTSRANGE on the state: everything is checked
/// before anything changes, errors in Redis's order.
pub fn update_slots(cs: &mut ClusterState, args: &[Vec<u8>]) -> Result<(), String> {
    let sub = args.get(1).map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    let del = sub.starts_with(b"del");
    let range = sub.ends_with(b"range");
    let mut marked = vec![false; SLOT_COUNT];
    let rest = args.get(2..).unwrap_or(&[]);
    if range {
        if !args.len().is_multiple_of(2) {
            return Err(error::wrong_arity(format!("cluster|{}", String::from_utf8_lossy(&sub)).as_bytes()));
        }
        for pair in rest.chunks(2) {
            let start = parse_slot(&pair[0])?;
            let end = parse_slot(pair.get(1).map(|v| v.as_slice()).unwrap_or(b""))?;
            if start > end {
                return Err(format!("ERR start slot number {start} is greater than end slot number {end}"));
            }
            check_slots(cs, &mut marked, del, start, end)?;
        }
    } else {
        let slots = rest.iter().map(|a| parse_slot(a)).collect::<Result<Vec<u16>, String>>()?;
        for s in slots {
            check_slots(cs, &mut marked, del, s, s)?;
        }
    }
    for (slot, _) in marked.iter().enumerate().filter(|(_, m)| **m) {
        let slot = slot as u16;
        if del {
            cs.del_slot(slot);
        } else {
            cs.importing_from.remove(&slot);
            let added = cs.add_slot(slot, 0);
            debug_assert!(added, "slot {slot} was checked free");
        }
    }
    Ok(())
}

pub(super) fn addslots(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let args = owned(args);
    on_state(st, out, move |cs, out| match update_slots(cs, &args) {
        Ok(()) => {
            out.ok();
            true
        }
        Err(e) => {
            out.error(&e);
            false
        }
    })
}

pub(super) fn flushslots(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    with_key_count(st, out, |cs, keys, out| {
        if keys != 0 {
            out.error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
            return false;
        }
        cs.del_node_slots(0);
        out.ok();
        true
    })
}

pub(super) fn keyslot(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !disabled(st, out) {
        out.int(key_slot(args[2]) as i64);
    }
    ConnResult::Done
}

pub(super) fn countkeysinslot(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let slot = match parse_i64(args[2]) {
        Ok(s) if (0..SLOT_COUNT as i64).contains(&s) => s as u16,
        Ok(_) => {
            out.error("ERR Invalid slot");
            return ConnResult::Done;
        }
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    let count = move |s: &mut ShardState| s.store.dbs.first().map_or(0, |d| d.slot_len(slot)) as i64;
    let owner = owner_shard(slot, st.nshards);
    if owner == st.id {
        out.int(count(st));
        return ConnResult::Done;
    }
    let (h, resp3) = (st.handle.clone(), out.resp3);
    ConnResult::Later(
        async move {
            let n = h.call(owner, None, count).await;
            let mut buf = Vec::new();
            Out::new(&mut buf, resp3).int(n);
            buf
        }
        .boxed_local(),
    )
}

pub(super) fn getkeysinslot(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let (slot, max) = match (parse_i64(args[2]), parse_i64(args[3])) {
        (Err(e), _) | (_, Err(e)) => {
            out.error(e);
            return ConnResult::Done;
        }
        (Ok(s), Ok(m)) if !(0..SLOT_COUNT as i64).contains(&s) || m < 0 => {
            out.error("ERR Invalid slot or number of keys");
            return ConnResult::Done;
        }
        (Ok(s), Ok(m)) => (s as u16, m as usize),
    };
    let collect = move |s: &mut ShardState| -> Vec<Vec<u8>> {
        let Some(t) = s.store.dbs.first().and_then(|d| d.slot_table(slot)) else {
            return Vec::new();
        };
        t.keys().take(max).map(|k| k.as_slice().to_vec()).collect()
    };
    let reply = |keys: &[Vec<u8>], out: &mut Out| {
        out.array(keys.len());
        keys.iter().for_each(|k| out.bulk(k));
    };
    let owner = owner_shard(slot, st.nshards);
    if owner == st.id {
        reply(&collect(st), out);
        return ConnResult::Done;
    }
    let (h, resp3) = (st.handle.clone(), out.resp3);
    ConnResult::Later(
        async move {
            let keys = h.call(owner, None, collect).await;
            let mut buf = Vec::new();
            reply(&keys, &mut Out::new(&mut buf, resp3));
            buf
        }
        .boxed_local(),
    )
}
