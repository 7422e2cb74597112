//! Keyspace events of the hash commands: for each path, the events redis-server 7.0.15 raises
//! with `notify-keyspace-events KEAn` (`new` included), in its order.

use crate::command::family::events_test::{harness, harness_with, steps};

#[test]
fn hash_writes() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("hset h f v", "new:h hset:h"),
            ("hset h f v", "hset:h"),
            ("hset h f v2 g w", "hset:h"),
            ("hset h f", ""),
            ("hmset h f v", "hset:h"),
            ("hmset h2 f v", "new:h2 hset:h2"),
            ("hsetnx h f v", ""),
            ("hsetnx h z v", "hset:h"),
            ("hsetnx h3 z v", "new:h3 hset:h3"),
            ("hdel h nofield", ""),
            ("hdel h f g", "hdel:h"),
            ("hdel h z", "hdel:h del:h"),
            ("hdel h z", ""),
            ("hdel nokey z", ""),
            ("hincrby hi f 1", "new:hi hincrby:hi"),
            ("hincrby hi f 1", "hincrby:hi"),
            ("hincrbyfloat hf f 1.5", "new:hf hincrbyfloat:hf"),
            ("hincrbyfloat hf f 1.5", "hincrbyfloat:hf"),
            ("hset hs f x", "new:hs hset:hs"),
            ("hincrby hs f 1", ""),
            ("hincrbyfloat hs f 1", ""),
            ("hincrby newh f x", ""),
            ("hincrbyfloat newh f x", ""),
            ("hincrby newh2 f 9223372036854775807", "new:newh2 hincrby:newh2"),
            ("hincrby newh2 f 1", ""),
            ("set str v", "new:str set:str"),
            ("hset str f v", ""),
            ("hdel str f", ""),
            ("hget hi f", ""),
            ("hgetall hi", ""),
            ("hrandfield hi", ""),
            ("hscan hi 0", ""),
        ],
    );
}

#[test]
fn big_hash_deleted_with_its_last_field() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("hset big f xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "new:big hset:big"),
            ("hdel big f", "hdel:big del:big"),
        ],
    );
}

/// `keymiss` (class `m`): raised by read lookups that find nothing, never by write lookups.
#[test]
fn read_misses() {
    let mut h = harness_with("KEm");
    steps(
        &mut h,
        &[
            ("hget nokey f", "keymiss:nokey"),
            ("hmget nokey f g", "keymiss:nokey"),
            ("hgetall nokey", "keymiss:nokey"),
            ("hexists nokey f", "keymiss:nokey"),
            ("hlen nokey", "keymiss:nokey"),
            ("hstrlen nokey f", "keymiss:nokey"),
            ("hkeys nokey", "keymiss:nokey"),
            ("hvals nokey", "keymiss:nokey"),
            ("hrandfield nokey", "keymiss:nokey"),
            ("hrandfield nokey 2", "keymiss:nokey"),
            ("hscan nokey 0", "keymiss:nokey"),
            ("hset h f v", ""),
            ("hget h f", ""),
            ("hget h nofield", ""),
            ("hdel nokey f", ""),
            ("hincrby nokey2 f 1", ""),
            ("hsetnx nokey3 f v", ""),
        ],
    );
}
