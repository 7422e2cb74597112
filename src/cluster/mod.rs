//! Cluster: hash slots (`slot`), the slot-map snapshot shards route with (`view`), and the
//! node's cluster state with its config file (`state`), and the bus that gossips it (`bus`).

pub mod bus;
pub mod slot;
pub mod state;
pub mod view;
