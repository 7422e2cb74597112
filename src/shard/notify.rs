//! Publishing keyspace events: the events commands recorded on the store (and the keys expiry
//! removed) become pub/sub messages on `__keyspace@<db>__:<key>` (payload: the event) and
//! `__keyevent@<db>__:<event>` (payload: the key), delivered to subscribers on every shard of
//! the node. Runs once per loop iteration, so a command's events go out in the order it
//! recorded them, and one shard's events reach every other shard in order (mesh order).

use crate::command::family::pubsub::deliver_here;
use crate::store::events::class;

use super::ShardState;

/// Publishes the events waiting on this shard's store. Cheap when there are none.
pub fn publish_pending(st: &mut ShardState) {
    st.store.sync_notify(st.cfg.notify_keyspace_events);
    if !st.store.collect_events() {
        return;
    }
    let flags = st.cfg.notify_keyspace_events;
    let events = std::mem::take(&mut st.store.events);
    let mut msgs: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(events.len() * 2);
    for e in events {
        // Events recorded under older settings are dropped if their class is off now.
        if !crate::store::events::wanted(flags, e.class) {
            continue;
        }
        if flags & class::KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{}__:", e.db).into_bytes();
            ch.extend_from_slice(&e.key);
            msgs.push((ch, e.event.as_bytes().to_vec()));
        }
        if flags & class::KEYEVENT != 0 {
            msgs.push((format!("__keyevent@{}__:{}", e.db, e.event).into_bytes(), e.key));
        }
    }
    if msgs.is_empty() {
        return;
    }
    for (ch, payload) in &msgs {
        deliver_here(st, false, ch, payload);
    }
    if st.nshards > 1 {
        // A copy per shard rather than one shared list: each copy is freed where it is
        // delivered, and carries its memory count there (`memory::Carried`).
        for dest in (0..st.nshards).filter(|&d| d != st.id) {
            let msgs = crate::store::memory::Carried::pack(|| msgs.clone());
            st.handle.post(dest, false, move |s: &mut ShardState| {
                for (ch, payload) in msgs.unpack().iter() {
                    deliver_here(s, false, ch, payload);
                }
            });
        }
    }
}
