//! Unit tests of GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family: option parsing and its
//! error order, sorting, COUNT and ANY, the stores, and the legacy forms. Expected replies were
//! taken from redis-server 7.0.15 byte for byte.

use crate::testing::harness::Harness;

fn sicily() -> Harness {
    let mut h = Harness::new();
    assert_eq!(h.run("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2"), ":4\r\n");
    h
}

/// GEOSEARCH: shapes, sorting, COUNT [ANY], WITH* options, and every argument error.
#[test]
fn geosearch_replies_and_errors() {
    let mut h = sicily();
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC"),
        "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC WITHDIST"),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH"), "*4\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*4\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n:3481342659049484\r\n*2\r\n$20\r\n17.24151045083999634\r\n$20\r\n38.78813451624225195\r\n*4\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n:3479273021651468\r\n*2\r\n$19\r\n12.7584877610206604\r\n$20\r\n38.78813451624225195\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km WITHDIST"), "*3\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n");
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 300 300 mi WITHDIST COUNT 2"),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n56.7939\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 500 km COUNT 1 ANY"), "*1\r\n$7\r\nPalermo\r\n");
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 500 km COUNT 2 ANY DESC"),
        "*2\r\n$5\r\nedge1\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 500 km ANY"),
        "-ERR the ANY argument requires COUNT argument\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 500 km COUNT 0"), "-ERR COUNT must be > 0\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 500 km COUNT -3"), "-ERR COUNT must be > 0\r\n");
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 500 km COUNT x"),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 500 km COUNT"), "-ERR syntax error\r\n");
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMMEMBER nope BYRADIUS 500 km"),
        "-ERR could not decode requested zset member\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 1 2 BYRADIUS 500 km"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 FROMMEMBER Palermo BYRADIUS 500 km"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYRADIUS 500 km BYBOX 1 1 km"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily BYRADIUS 500 km"), "-ERR wrong number of arguments for 'geosearch' command\r\n");
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMLONLAT 1 2 WITHDIST"),
        "-ERR wrong number of arguments for 'geosearch' command\r\n"
    );
    assert_eq!(
        h.run("geoSearch Sicily BYRADIUS 500 km COUNT 3"),
        "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geoSearch\r\n"
    );
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMLONLAT 200 2 BYRADIUS 500 km"),
        "-ERR invalid longitude,latitude pair 200.000000,2.000000\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYRADIUS -1 km"), "-ERR radius cannot be negative\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYRADIUS x km"), "-ERR need numeric radius\r\n");
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYRADIUS 1 yd"),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYBOX x 1 km"), "-ERR need numeric width\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYBOX 1 x km"), "-ERR need numeric height\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYBOX -1 1 km"), "-ERR height or width cannot be negative\r\n");
    assert_eq!(
        h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYBOX 1 1 yd"),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYBOX 1 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYRADIUS 1 km STORE x"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 1 2 BYRADIUS 1 km STOREDIST"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km"), "*0\r\n");
    assert_eq!(h.run("GEOSEARCH nokey FROMMEMBER x BYRADIUS x km"), "-ERR need numeric radius\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km"), "*0\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS inf km WITHDIST"), "*4\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 0 km WITHDIST"), "*0\r\n");
    assert_eq!(h.run("GEOSEARCH Sicily FROMMEMBER Catania BYRADIUS 0 m WITHDIST WITHCOORD"), "*1\r\n*3\r\n$7\r\nCatania\r\n$6\r\n0.0000\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n");
}

/// GEOSEARCHSTORE: hashes or distances as scores, deletion on an empty result.
#[test]
fn geosearchstore() {
    let mut h = sicily();
    assert_eq!(h.run("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km"), ":2\r\n");
    assert_eq!(
        h.run("ZRANGE dst 0 -1 WITHSCORES"),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(h.run("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST ASC COUNT 1"), ":1\r\n");
    assert_eq!(h.run("ZRANGE dst 0 -1 WITHSCORES"), "*2\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n");
    assert_eq!(
        h.run("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST"),
        "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(h.run("GEOSEARCHSTORE dst Sicily FROMLONLAT 0 0 BYRADIUS 1 km"), ":0\r\n");
    assert_eq!(h.run("EXISTS dst"), ":0\r\n");
    assert_eq!(h.run("GEOSEARCHSTORE dst nokey FROMLONLAT 0 0 BYRADIUS 1 km"), ":0\r\n");
    assert_eq!(h.run("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x"), "-ERR syntax error\r\n");
}

/// GEORADIUS, GEORADIUSBYMEMBER and the _RO forms, STORE and STOREDIST, wrong types.
#[test]
fn georadius_family() {
    let mut h = sicily();
    assert_eq!(h.run("GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD ASC"), "*2\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n");
    assert_eq!(h.run("GEORADIUS Sicily 15 37 200 km COUNT 1"), "*1\r\n$7\r\nCatania\r\n");
    assert_eq!(
        h.run("GEORADIUS Sicily 15 37 200 km STORE d2 WITHDIST"),
        "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(h.run("GEORADIUS Sicily 15 37 200 km STORE d2"), ":2\r\n");
    assert_eq!(h.run("GEORADIUS Sicily 15 37 200 km STOREDIST d2 STORE d3"), ":2\r\n");
    assert_eq!(
        h.run("ZRANGE d3 0 -1 WITHSCORES"),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(h.run("GEORADIUS_RO Sicily 15 37 200 km STORE d2"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEORADIUS_RO Sicily 15 37 200 km"), "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n");
    assert_eq!(h.run("GEORADIUS Sicily 15 37 200 km FROMLONLAT 1 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("GEORADIUS Sicily 15 37 -1 km"), "-ERR radius cannot be negative\r\n");
    assert_eq!(h.run("GEORADIUS Sicily 15 x 1 km"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("GEORADIUS nokey 15 37 200 km"), "*0\r\n");
    assert_eq!(h.run("GEORADIUS nokey 15 37 200 km STORE d3"), ":0\r\n");
    assert_eq!(
        h.run("GEORADIUS nokey 15 137 200 km STORE d3"),
        "-ERR invalid longitude,latitude pair 15.000000,137.000000\r\n"
    );
    assert_eq!(h.run("GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST"), "*3\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n");
    assert_eq!(
        h.run("GEORADIUSBYMEMBER Sicily nope 200 km WITHDIST"),
        "-ERR could not decode requested zset member\r\n"
    );
    assert_eq!(h.run("GEORADIUSBYMEMBER Sicily Palermo x km"), "-ERR need numeric radius\r\n");
    assert_eq!(h.run("GEORADIUSBYMEMBER nokey Palermo x km"), "*0\r\n");
    assert_eq!(h.run("GEORADIUSBYMEMBER nokey Palermo x km STORE d"), ":0\r\n");
    assert_eq!(h.run("GEORADIUSBYMEMBER nokey Palermo x km bogus"), "-ERR syntax error\r\n");
    assert_eq!(
        h.run("GEORADIUSBYMEMBER_RO Sicily Palermo 100 km ASC WITHHASH"),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n:3479099956230698\r\n*2\r\n$5\r\nedge1\r\n:3479273021651468\r\n"
    );
    assert_eq!(h.run("GEORADIUSBYMEMBER_RO Sicily Palermo 100 km STOREDIST x"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SET str v"), "+OK\r\n");
    assert_eq!(
        h.run("GEOSEARCH str FROMLONLAT 1 2 BYRADIUS x km"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        h.run("GEOSEARCHSTORE d str FROMLONLAT 1 2 BYRADIUS 1 km"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(h.run("GEOSEARCHSTORE str Sicily FROMLONLAT 15 37 BYRADIUS 200 km"), ":2\r\n");
    assert_eq!(h.run("TYPE str"), "+zset\r\n");
    assert_eq!(h.run("GEORADIUS str 200 37 200 km"), "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n");
}
