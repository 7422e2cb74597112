//! Unit tests of GEOADD, GEODIST, GEOHASH and GEOPOS and of the geohash arithmetic, run
//! through the real command table on a plain `Store`. Expected replies were taken from
//! redis-server 7.0.15 byte for byte.

use super::geohash::{decode_score, encode_wgs84, geohash_string, neighbours, score_bits, HashBits};
use super::{fmt_coord, fmt_distance, georadius_keys, georadiusbymember_keys};
use crate::testing::harness::Harness;

/// Options, argument checks, CH, and the reply of ZADD underneath.
#[test]
fn geoadd_options_and_errors() {
    let mut h = Harness::new();
    assert_eq!(h.run("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"), ":2\r\n");
    assert_eq!(h.run("GEOADD Sicily 13.361389 38.115556 Palermo"), ":0\r\n");
    assert_eq!(h.run("GEOADD Sicily CH 13.36 38.115556 Palermo"), ":1\r\n");
    assert_eq!(h.run("GEOADD Sicily xx ch 13.361389 38.115556 Palermo 1 1 new"), ":1\r\n");
    assert_eq!(h.run("GEOADD Sicily nx 1 1 Palermo 2 2 other"), ":1\r\n");
    assert_eq!(h.run("GEOADD Sicily nx xx 1 1 a"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOADD Sicily ch ch"), "-ERR wrong number of arguments for 'geoadd' command\r\n");
    assert_eq!(h.run("GEOADD Sicily 1 2"), "-ERR wrong number of arguments for 'geoadd' command\r\n");
    assert_eq!(h.run("GEOADD Sicily 1 2 a 3"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOADD Sicily gt 1 2 a"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOADD Sicily nx ch ch"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOADD nokey xx 1 1 a"), ":0\r\n");
    assert_eq!(h.run("EXISTS nokey"), ":0\r\n");
}

/// Coordinate checks (`%f` in the error), Mercator limits, and positions at the edges.
#[test]
fn geoadd_coordinates_and_geopos_geohash() {
    let mut h = Harness::new();
    assert_eq!(h.run("GEOADD Sicily 200 10 x"), "-ERR invalid longitude,latitude pair 200.000000,10.000000\r\n");
    assert_eq!(h.run("GEOADD Sicily 10 85.06 x"), "-ERR invalid longitude,latitude pair 10.000000,85.060000\r\n");
    assert_eq!(h.run("GEOADD Sicily abc 100 x"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("GEOADD Sicily 1 abc x"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("GEOADD Sicily 1 2 ok 200 0 bad"), "-ERR invalid longitude,latitude pair 200.000000,0.000000\r\n");
    assert_eq!(h.run("ZCARD Sicily"), ":0\r\n");
    assert_eq!(
        h.run("GEOADD Sicily 180.0078125 -0.0 x"),
        "-ERR invalid longitude,latitude pair 180.007812,-0.000000\r\n"
    );
    assert_eq!(h.run("GEOADD Sicily 1 1e-400 x"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("GEOADD Sicily inf 0 x"), "-ERR invalid longitude,latitude pair inf,0.000000\r\n");
    assert_eq!(h.run("GEOADD Sicily 0x10 1e1 hex"), ":1\r\n");
    assert_eq!(h.run("GEOADD k 180 85.05112878 a -180 -85.05112878 b 0 0 c"), ":3\r\n");
    assert_eq!(
        h.run("ZRANGE k 0 -1 WITHSCORES"),
        "*6\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$16\r\n3377699720527872\r\n$1\r\na\r\n$17\r\n13510798882111488\r\n"
    );
    assert_eq!(h.run("GEOPOS k a b c nope"), "*4\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$19\r\n0.00000268220901489\r\n$19\r\n0.00000126736058093\r\n*-1\r\n");
    assert_eq!(
        h.run("GEOHASH k a b c nope"),
        "*4\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n$11\r\ns0000000000\r\n$-1\r\n"
    );
    assert_eq!(h.run("SET str v"), "+OK\r\n");
    assert_eq!(h.run("GEOADD str 1 1 a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("GEOADD str 200 1 a"), "-ERR invalid longitude,latitude pair 200.000000,1.000000\r\n");
    assert_eq!(h.run("GEOPOS str a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("GEOHASH str"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("GEOPOS nokey a b"), "*2\r\n*-1\r\n*-1\r\n");
    assert_eq!(h.run("GEOHASH nokey a"), "*1\r\n$-1\r\n");
    assert_eq!(h.run("GEOPOS k"), "*0\r\n");
    assert_eq!(h.run_bytes(&[b"GEOADD", b"k", b" 1", b"1", b"sp"]), "-ERR value is not a valid float\r\n");
}

/// Units, the 4-decimal format, missing members and keys, and scores no GEOADD wrote.
#[test]
fn geodist_and_foreign_scores() {
    let mut h = Harness::new();
    assert_eq!(h.run("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"), ":2\r\n");
    assert_eq!(h.run("SET str v"), "+OK\r\n");
    assert_eq!(h.run("GEODIST Sicily Palermo Catania"), "$11\r\n166274.1516\r\n");
    assert_eq!(h.run("GEODIST Sicily Palermo Catania km"), "$8\r\n166.2742\r\n");
    assert_eq!(h.run("GEODIST Sicily Palermo Catania MI"), "$8\r\n103.3182\r\n");
    assert_eq!(h.run("GEODIST Sicily Palermo Catania Ft"), "$11\r\n545518.8700\r\n");
    assert_eq!(
        h.run("GEODIST Sicily Palermo Catania yd"),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(h.run("GEODIST Sicily Palermo Catania km x"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEODIST Sicily Palermo nope"), "$-1\r\n");
    assert_eq!(h.run("GEODIST nokey a b"), "$-1\r\n");
    assert_eq!(h.run("GEODIST str a b"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("GEODIST str a b yd"), "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n");
    assert_eq!(h.run("GEODIST Sicily Palermo Palermo"), "$6\r\n0.0000\r\n");
    assert_eq!(h.run("ZADD weird -1 neg 1e300 huge 1.5 frac 4503599627370496 big"), ":4\r\n");
    assert_eq!(h.run("GEOPOS weird neg huge frac big"), "*4\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112497791824921\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$19\r\n85.0511287799999991\r\n");
    assert_eq!(
        h.run("GEOHASH weird neg huge frac big"),
        "*4\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n$11\r\n00bh0hbj210\r\n$11\r\nbp05b5048p0\r\n"
    );
    assert_eq!(h.run("GEODIST weird neg huge"), "$13\r\n18919844.5891\r\n");
}

/// RESP3: coordinates are doubles, distances and hashes stay bulk strings, nulls are `_`.
#[test]
fn resp3_shapes() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"), ":2\r\n");
    assert_eq!(
        h.run("GEOPOS Sicily Palermo nope"),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
    assert_eq!(h.run("GEODIST Sicily Palermo Catania"), "$11\r\n166274.1516\r\n");
    assert_eq!(h.run("GEODIST Sicily Palermo nope"), "_\r\n");
    assert_eq!(h.run("GEOHASH Sicily nope Catania"), "*2\r\n_\r\n$11\r\nsqdtr74hyu0\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD WITHDIST WITHHASH ASC"), "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km WITHCOORD"), "*0\r\n");
    assert_eq!(h.run("GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 1 km WITHCOORD"), "*0\r\n");
}

/// GEOADD raises ZADD's `zadd` once per call that changed something; the stores raise
/// `georadiusstore` / `geosearchstore`, or `del` when an empty result deletes the target.
#[test]
fn keyspace_events() {
    use crate::store::events::class;
    let mut h = Harness::new();
    h.cfg.notify_keyspace_events = class::ALL | class::KEYSPACE | class::KEYEVENT;
    let events = |h: &mut Harness, line: &str| {
        h.run(line);
        let got: Vec<(u32, &str, Vec<u8>)> = h.store.events.drain(..).map(|e| (e.class, e.event, e.key)).collect();
        got
    };
    assert_eq!(
        events(&mut h, "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
        vec![(class::ZSET, "zadd", b"g".to_vec())]
    );
    assert_eq!(events(&mut h, "GEOADD g 13.361389 38.115556 Palermo"), vec![]);
    assert_eq!(events(&mut h, "GEOADD g ch 13.36 38.115556 Palermo"), vec![(class::ZSET, "zadd", b"g".to_vec())]);
    assert_eq!(events(&mut h, "GEOADD g 200 38 bad"), vec![]);
    assert_eq!(
        events(&mut h, "GEORADIUS g 15 37 200 km STORE d"),
        vec![(class::ZSET, "georadiusstore", b"d".to_vec())]
    );
    assert_eq!(
        events(&mut h, "GEORADIUSBYMEMBER g Palermo 200 km STOREDIST d"),
        vec![(class::ZSET, "georadiusstore", b"d".to_vec())]
    );
    assert_eq!(
        events(&mut h, "GEOSEARCHSTORE d2 g FROMMEMBER Palermo BYRADIUS 500 km"),
        vec![(class::ZSET, "geosearchstore", b"d2".to_vec())]
    );
    assert_eq!(events(&mut h, "GEORADIUS g 15 37 1 km STORE d"), vec![(class::GENERIC, "del", b"d".to_vec())]);
    assert_eq!(events(&mut h, "GEORADIUS g 15 37 1 km STORE d"), vec![]);
    assert_eq!(
        events(&mut h, "GEOSEARCHSTORE d2 nokey FROMMEMBER Palermo BYRADIUS 500 km"),
        vec![(class::GENERIC, "del", b"d2".to_vec())]
    );
    assert_eq!(events(&mut h, "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 500 km"), vec![]);
}

/// Dirty counts: ZADD's for GEOADD, the number stored for the stores, 1 for a deletion.
#[test]
fn dirty_counts() {
    let mut h = Harness::new();
    let dirty = |h: &mut Harness, line: &str| {
        let before = h.store.dirty;
        h.run(line);
        h.store.dirty - before
    };
    assert_eq!(dirty(&mut h, "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"), 2);
    assert_eq!(dirty(&mut h, "GEOADD g 13.361389 38.115556 Palermo"), 0);
    assert_eq!(dirty(&mut h, "GEOSEARCHSTORE d g FROMMEMBER Palermo BYRADIUS 500 km"), 2);
    assert_eq!(dirty(&mut h, "GEOSEARCHSTORE d g FROMMEMBER Palermo BYRADIUS 500 km COUNT 1"), 1);
    assert_eq!(dirty(&mut h, "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 m"), 1);
    assert_eq!(dirty(&mut h, "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 m"), 0);
}

/// Key positions as Redis 7.0's COMMAND GETKEYS reports them (key specs: the first STORE and
/// the first STOREDIST after the fixed arguments), plus the key really written when it differs.
#[test]
fn georadius_key_positions() {
    let keys = |line: &str| {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        if line.starts_with("GEORADIUSBYMEMBER") {
            georadiusbymember_keys(&args)
        } else {
            georadius_keys(&args)
        }
    };
    assert_eq!(keys("GEORADIUS k 1 2 3 km"), vec![1]);
    assert_eq!(keys("GEORADIUS k 1 2 3 km STORE d"), vec![1, 7]);
    assert_eq!(keys("GEORADIUS k 1 2 3 km store d storedist e"), vec![1, 7, 9]);
    assert_eq!(keys("GEORADIUS k 1 2 3 km ASC STORE"), vec![1]);
    assert_eq!(keys("GEORADIUS k 1 2 3 store d"), vec![1]);
    assert_eq!(keys("GEORADIUS k 1 2 3 km COUNT STORE a"), vec![1, 8]);
    assert_eq!(keys("GEORADIUSBYMEMBER k m 3 km ASC STORE x"), vec![1, 7]);
    assert_eq!(keys("GEORADIUSBYMEMBER k m 3 km STOREDIST d"), vec![1, 6]);
    // Redis lists only the first STORE; the command writes the last one.
    assert_eq!(keys("GEORADIUS k 1 2 3 km STORE a STORE b"), vec![1, 7, 9]);
}

#[test]
fn number_formats() {
    assert_eq!(fmt_coord(180.0), "180");
    assert_eq!(fmt_coord(-0.0), "0");
    assert_eq!(fmt_coord(-1e-30), "0");
    assert_eq!(fmt_coord(0.5), "0.5");
    assert_eq!(fmt_coord(85.05112878), "85.0511287799999991");
    assert_eq!(fmt_distance(0.0), "0.0000");
    assert_eq!(fmt_distance(1e-9), "0.0000");
    assert_eq!(fmt_distance(0.0065), "0.0065");
    // 0.00945 * 10^4 rounds to 94.5 exactly, then to the even 94 (`%.4f` would say 0.0095).
    assert_eq!(fmt_distance(0.00945), "0.0094");
    assert_eq!(fmt_distance(166274.15156960033), "166274.1516");
    assert_eq!(fmt_distance(f64::NAN), "-922337203685477.5808");
}

#[test]
fn score_conversion_and_geohash_strings() {
    assert_eq!(score_bits(-1.0), u64::MAX);
    assert_eq!(score_bits(1.5), 1);
    assert_eq!(score_bits(1e300), 0);
    assert_eq!(score_bits(f64::NEG_INFINITY), 1 << 63);
    assert_eq!(score_bits(9_223_372_036_854_775_808.0), 1 << 63);
    assert_eq!(score_bits(12_000_000_000_000_000_000.0), 12_000_000_000_000_000_000);
    assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
    assert_eq!(&geohash_string(0.0), b"00bh0hbj200");
    let (lon, lat) = decode_score(3479099956230698.0);
    assert_eq!(
        (fmt_coord(lon), fmt_coord(lat)),
        ("13.36138933897018433".to_string(), "38.11555639549629859".to_string())
    );
    assert_eq!(encode_wgs84(13.361389, 38.115556).map(|h| h.align52()), Some(3479099956230698));
    assert_eq!(encode_wgs84(180.0, 85.05112878).map(|h| h.align52()), Some(13510798882111488));
    assert_eq!(encode_wgs84(180.1, 0.0), None);
}

/// Neighbours wrap around the globe in longitude and from pole to pole in latitude.
#[test]
fn neighbour_cells() {
    // Step 1: two cells per axis; bits are [lon][lat].
    let sw = HashBits { bits: 0b00, step: 1 };
    let n = neighbours(sw);
    assert_eq!(n.north, HashBits { bits: 0b01, step: 1 });
    assert_eq!(n.south, HashBits { bits: 0b01, step: 1 });
    assert_eq!(n.east, HashBits { bits: 0b10, step: 1 });
    assert_eq!(n.west, HashBits { bits: 0b10, step: 1 });
    assert_eq!(n.north_east, HashBits { bits: 0b11, step: 1 });
    let c = HashBits { bits: 0b0011, step: 2 };
    let n = neighbours(c);
    assert_eq!(n.north, HashBits { bits: 0b0110, step: 2 });
    assert_eq!(n.east, HashBits { bits: 0b1001, step: 2 });
    assert_eq!(n.west, HashBits { bits: 0b0001, step: 2 });
    assert_eq!(n.south, HashBits { bits: 0b0010, step: 2 });
}
