//! The cluster bus: Redis 7.0's binary message format and the gossip protocol that drives
//! `ClusterState` from it. Sans-IO: bytes in, actions out; the event loop moves the bytes.
