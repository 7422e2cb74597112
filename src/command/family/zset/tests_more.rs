//! More unit tests of the sorted-set family (ranges, stores, pops, set operations, scans),
//! expected replies taken from redis-server 7.0.15.

use super::tests::Harness;

#[test]
fn zrange_by_rank() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd z 1 a 2 b 3 c 4 d 5 e 6 f"), ":6\r\n");
    assert_eq!(h.run("zrange z 0 -1"), "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n");
    assert_eq!(
        h.run("zrange z -3 -1 withscores"),
        "*6\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n"
    );
    assert_eq!(h.run("zrange z 2 1"), "*0\r\n");
    assert_eq!(h.run("zrange z -100 100"), "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n");
    assert_eq!(h.run("zrange z 5 100"), "*1\r\n$1\r\nf\r\n");
    assert_eq!(h.run("zrange z 6 100"), "*0\r\n");
    assert_eq!(h.run("zrange z 0 -1 rev"), "*6\r\n$1\r\nf\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n");
    assert_eq!(h.run("zrange z 0 1 rev withscores"), "*4\r\n$1\r\nf\r\n$1\r\n6\r\n$1\r\ne\r\n$1\r\n5\r\n");
    assert_eq!(h.run("zrevrange z 0 1 withscores"), "*4\r\n$1\r\nf\r\n$1\r\n6\r\n$1\r\ne\r\n$1\r\n5\r\n");
    assert_eq!(h.run("zrevrange z -2 -1"), "*2\r\n$1\r\nb\r\n$1\r\na\r\n");
    assert_eq!(
        h.run("zrange z 0 -1 limit 0 -1"),
        "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
    );
    assert_eq!(h.run("zrange nokey 0 -1"), "*0\r\n");
    assert_eq!(
        h.run("zrange z -9223372036854775808 9223372036854775807"),
        "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
    );
}

#[test]
fn zrange_by_score_with_limit() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd z 1 a 2 b 3 c 4 d 5 e 6 f"), ":6\r\n");
    assert_eq!(h.run("zrange z 2 5 byscore"), "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n");
    assert_eq!(h.run("zrange z 5 2 byscore rev"), "*4\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zrange z (2 (5 byscore withscores"), "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n");
    assert_eq!(h.run("zrange z -inf +inf byscore limit 1 2"), "*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
    assert_eq!(h.run("zrange z +inf -inf byscore rev limit 1 2"), "*2\r\n$1\r\ne\r\n$1\r\nd\r\n");
    assert_eq!(h.run("zrange z -inf +inf byscore limit 10 2"), "*0\r\n");
    assert_eq!(h.run("zrange z -inf +inf byscore limit 5 10"), "*1\r\n$1\r\nf\r\n");
    assert_eq!(h.run("zrange z -inf +inf byscore limit 6 10"), "*0\r\n");
    assert_eq!(h.run("zrange z -inf +inf byscore limit 0 0"), "*0\r\n");
    assert_eq!(h.run("zrange z -inf +inf byscore limit -1 5"), "*0\r\n");
    assert_eq!(
        h.run("zrange z -inf +inf byscore limit 0 -5"),
        "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
    );
    assert_eq!(h.run("zrange z +inf -inf byscore rev limit 4 10"), "*2\r\n$1\r\nb\r\n$1\r\na\r\n");
    assert_eq!(h.run("zrange z +inf -inf byscore rev limit 5 10"), "*1\r\n$1\r\na\r\n");
    assert_eq!(h.run("zrangebyscore z 2 4 withscores limit 1 1"), "*2\r\n$1\r\nc\r\n$1\r\n3\r\n");
    assert_eq!(
        h.run("zrevrangebyscore z 4 2 withscores"),
        "*6\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(h.run("zrevrangebyscore z 4 2 limit 1 5"), "*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zrangebyscore z (1 (1"), "*0\r\n");
    assert_eq!(h.run("zrangebyscore z 3 1"), "*0\r\n");
    assert_eq!(h.run("zrangebyscore z ( (3"), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zrangebyscore z 1e999 +inf"), "*0\r\n");
    assert_eq!(h.run("zrangebyscore z (4 1e999"), "*2\r\n$1\r\ne\r\n$1\r\nf\r\n");
    assert_eq!(h.run("zrangebyscore z 2 4 LIMIT 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrangebyscore z 2 4 limit a 1"), "-ERR value is not an integer or out of range\r\n");
}

#[test]
fn zrange_by_score_resp3() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("zadd z 1 a 2 b 3.5 c"), ":3\r\n");
    assert_eq!(
        h.run("zrange z 0 -1 withscores"),
        "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3.5\r\n"
    );
    assert_eq!(h.run("zrangebyscore z 2 +inf withscores"), "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3.5\r\n");
    assert_eq!(h.run("zrevrange z 0 0 withscores"), "*1\r\n*2\r\n$1\r\nc\r\n,3.5\r\n");
    assert_eq!(h.run("zrange z 0 -1"), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    assert_eq!(h.run("zrange nokey 0 -1 withscores"), "*0\r\n");
}

#[test]
fn zrange_by_lex() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd l 0 a 0 b 0 c 0 d 0 e 0 f 0 g"), ":7\r\n");
    assert_eq!(h.run("zrange l [b [e bylex"), "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n");
    assert_eq!(h.run("zrange l [e [b bylex rev"), "*4\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zrange l - + bylex limit 2 3"), "*3\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n");
    assert_eq!(h.run("zrange l + - bylex rev limit 2 3"), "*3\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n");
    assert_eq!(h.run("zrangebylex l (a (c"), "*1\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zrevrangebylex l (c (a"), "*1\r\n$1\r\nb\r\n");
    assert_eq!(
        h.run("zrangebylex l - +"),
        "*7\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n"
    );
    assert_eq!(h.run("zrangebylex l + -"), "*0\r\n");
    assert_eq!(h.run("zrangebylex l [z +"), "*0\r\n");
    assert_eq!(h.run("zrangebylex l - [A"), "*0\r\n");
    assert_eq!(h.run("zrangebylex l [b [b"), "*1\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zrangebylex l (b [b"), "*0\r\n");
    assert_eq!(h.run("zrangebylex l - + limit 1 1"), "*1\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zrevrangebylex l + - limit 0 2"), "*2\r\n$1\r\ng\r\n$1\r\nf\r\n");
    assert_eq!(h.run("zrangebylex l a b"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zrangebylex l [a b"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zrangebylex l +a +"), "-ERR min or max not valid string range item\r\n");
}

/// A listpack is scanned linearly, so lex ranges over mixed scores answer as Redis's do.
#[test]
fn zrange_lex_over_mixed_scores_in_a_listpack() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd m 1 b 2 a 3 c 4 aa"), ":4\r\n");
    assert_eq!(h.run("zrangebylex m [a [b"), "*2\r\n$1\r\nb\r\n$1\r\na\r\n");
    assert_eq!(h.run("zrevrangebylex m [b [a"), "*4\r\n$2\r\naa\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(h.run("zlexcount m [a [b"), ":2\r\n");
    assert_eq!(h.run("zrangebylex m - +"), "*4\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$2\r\naa\r\n");
    assert_eq!(h.run("zrangebylex m (a +"), "*4\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$2\r\naa\r\n");
    assert_eq!(h.run("zremrangebylex m [a [b"), ":2\r\n");
    assert_eq!(h.run("zrange m 0 -1"), "*2\r\n$1\r\nc\r\n$2\r\naa\r\n");
}

#[test]
fn zrange_argument_errors() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a"), ":1\r\n");
    assert_eq!(
        h.run("zrange k 0 -1 limit 0 1"),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    assert_eq!(
        h.run("zrange k a b bylex withscores"),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        h.run("zrangebylex k - + withscores"),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(h.run("zrangebyscore k 0 1 rev"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrange k 0 1 byscore bylex"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrange k 0 1 bylex byscore"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrange k 0 1 rev rev"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrevrange k 0 1 rev"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrevrange k 0 1 byscore"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrangebyscore k 0 1 byscore"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrange k 1 a byscore"), "-ERR min or max is not a float\r\n");
    assert_eq!(h.run("zrange k a b bylex"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zrange k [a a bylex"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zrange k - +x bylex"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zrange k abc 1"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("zrange k 0 1 foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrange k 0 1 limit 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrange k 0 1 withscores withscores"), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(h.run("zrange nokey a b"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("zrange nokey 0 1 foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrangestore d k 0 1 withscores"), "-ERR syntax error\r\n");
}

#[test]
fn zrangestore_results() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd m 1 x 2 y 3 z"), ":3\r\n");
    assert_eq!(h.run("zrangestore dst m 0 1"), ":2\r\n");
    assert_eq!(h.run("zrange dst 0 -1 withscores"), "*4\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n");
    assert_eq!(h.run("zrangestore dst m 0 -1 rev"), ":3\r\n");
    assert_eq!(h.run("zrangestore dst m +inf -inf byscore rev limit 0 2"), ":2\r\n");
    assert_eq!(h.run("zrange dst 0 -1 withscores"), "*4\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n");
    assert_eq!(h.run("zrangestore dst m [y + bylex"), ":2\r\n");
    assert_eq!(h.run("zrangestore dst m (0 (0 byscore"), ":0\r\n");
    assert_eq!(h.run("zcard dst"), ":0\r\n");
    assert_eq!(h.run("zrangestore dst nokey 0 -1"), ":0\r\n");
    assert_eq!(h.run("zrangestore m m 1 1"), ":1\r\n");
    assert_eq!(h.run("zrange m 0 -1 withscores"), "*2\r\n$1\r\ny\r\n$1\r\n2\r\n");
}

#[test]
fn zremrange_family() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd z 1 a 2 b 3 c 4 d 5 e 6 f"), ":6\r\n");
    assert_eq!(h.run("zremrangebyscore z (5 +inf"), ":1\r\n");
    assert_eq!(h.run("zremrangebyrank z 0 0"), ":1\r\n");
    assert_eq!(
        h.run("zrange z 0 -1 withscores"),
        "*8\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"
    );
    assert_eq!(h.run("zremrangebyrank z -1 -1"), ":1\r\n");
    assert_eq!(h.run("zremrangebyrank z 5 1"), ":0\r\n");
    assert_eq!(h.run("zremrangebyrank z 10 20"), ":0\r\n");
    assert_eq!(h.run("zremrangebyrank z a 1"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("zremrangebyscore z a 1"), "-ERR min or max is not a float\r\n");
    assert_eq!(h.run("zremrangebyscore z 3 3"), ":1\r\n");
    assert_eq!(h.run("zrange z 0 -1"), "*2\r\n$1\r\nb\r\n$1\r\nd\r\n");
    assert_eq!(h.run("zremrangebyrank z 0 100"), ":2\r\n");
    assert_eq!(h.run("zcard z"), ":0\r\n");
    assert_eq!(h.run("zremrangebyrank nokey 0 1"), ":0\r\n");
    assert_eq!(h.run("zadd l 0 a 0 b 0 c 0 d"), ":4\r\n");
    assert_eq!(h.run("zremrangebylex l [b (d"), ":2\r\n");
    assert_eq!(h.run("zrange l 0 -1"), "*2\r\n$1\r\na\r\n$1\r\nd\r\n");
    assert_eq!(h.run("zremrangebylex l a b"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zremrangebylex l - +"), ":2\r\n");
    assert_eq!(h.run("zcard l"), ":0\r\n");
}

#[test]
fn zpop_resp2() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a 2 b 3 c 4 d"), ":4\r\n");
    assert_eq!(h.run("zpopmin k"), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(h.run("zpopmax k"), "*2\r\n$1\r\nd\r\n$1\r\n4\r\n");
    assert_eq!(h.run("zpopmin k 0"), "*0\r\n");
    assert_eq!(h.run("zpopmin k 1"), "*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(h.run("zpopmax k 5"), "*2\r\n$1\r\nc\r\n$1\r\n3\r\n");
    assert_eq!(h.run("zpopmin k"), "*0\r\n");
    assert_eq!(h.run("zpopmin k -1"), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(h.run("zpopmin k abc"), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(h.run("zpopmin k 1 2"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zpopmin nokey 0"), "*0\r\n");
    assert_eq!(h.run("zpopmin nokey"), "*0\r\n");
}

#[test]
fn zpop_resp3() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("zadd k 1 a 2 b 3 c 4 d"), ":4\r\n");
    assert_eq!(h.run("zpopmin k"), "*2\r\n$1\r\na\r\n,1\r\n");
    assert_eq!(h.run("zpopmax k 1"), "*1\r\n*2\r\n$1\r\nd\r\n,4\r\n");
    assert_eq!(h.run("zpopmin k 5"), "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n");
    assert_eq!(h.run("zpopmin k"), "*0\r\n");
    assert_eq!(h.run("zpopmax k 2"), "*0\r\n");
}

#[test]
fn zmpop_replies_and_errors() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a 2 b 3 c"), ":3\r\n");
    assert_eq!(h.run("zmpop 0 k min"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("zmpop -1 k min"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("zmpop abc k min"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("zmpop 1 k"), "-ERR wrong number of arguments for 'zmpop' command\r\n");
    assert_eq!(h.run("zmpop 1 k foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zmpop 1 k min count 0"), "-ERR count should be greater than 0\r\n");
    assert_eq!(h.run("zmpop 1 k min count abc"), "-ERR count should be greater than 0\r\n");
    assert_eq!(h.run("zmpop 1 k min count 1 count 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zmpop 2 k min"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zmpop 9223372036854775807 k min"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zmpop 1 nokey min"), "*-1\r\n");
    assert_eq!(h.run("zmpop 2 nokey k min"), "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        h.run("zmpop 2 nokey k max count 10"),
        "*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(h.run("zcard k"), ":0\r\n");
    assert_eq!(h.run("zmpop 1 k MAX"), "*-1\r\n");
}

#[test]
fn zmpop_resp3() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("zadd k 1 a 2 b 3 c"), ":3\r\n");
    assert_eq!(h.run("zmpop 1 k min"), "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
    assert_eq!(
        h.run("zmpop 1 k max count 10"),
        "*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(h.run("zmpop 1 k max count 10"), "_\r\n");
}

#[test]
fn set_operations() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd m 1 x 2 y 3 z"), ":3\r\n");
    assert_eq!(h.run("zadd n 10 y 20 z 30 w"), ":3\r\n");
    assert_eq!(
        h.run("zunion 2 m n withscores"),
        "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"
    );
    assert_eq!(h.run("zinter 2 m n withscores"), "*4\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n");
    assert_eq!(h.run("zdiff 2 m n withscores"), "*2\r\n$1\r\nx\r\n$1\r\n1\r\n");
    assert_eq!(h.run("zdiff 2 n m withscores"), "*2\r\n$1\r\nw\r\n$2\r\n30\r\n");
    assert_eq!(
        h.run("zunion 2 m n weights 2 3 withscores"),
        "*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$2\r\n34\r\n$1\r\nz\r\n$2\r\n66\r\n$1\r\nw\r\n$2\r\n90\r\n"
    );
    assert_eq!(
        h.run("zunion 2 m n weights 2 3 aggregate min withscores"),
        "*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$1\r\n4\r\n$1\r\nz\r\n$1\r\n6\r\n$1\r\nw\r\n$2\r\n90\r\n"
    );
    assert_eq!(
        h.run("zunion 2 m n aggregate max withscores"),
        "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n$1\r\nw\r\n$2\r\n30\r\n"
    );
    assert_eq!(h.run("zinter 2 m n aggregate min withscores"), "*4\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n");
    assert_eq!(h.run("zinter 2 m nokey withscores"), "*0\r\n");
    assert_eq!(
        h.run("zunion 3 m nokey n withscores"),
        "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"
    );
    assert_eq!(h.run("zunion 2 m n"), "*4\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nw\r\n");
    assert_eq!(h.run("zunionstore dst 2 m n"), ":4\r\n");
    assert_eq!(
        h.run("zrange dst 0 -1 withscores"),
        "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"
    );
    assert_eq!(h.run("zinterstore dst 2 m n weights 1 -1"), ":2\r\n");
    assert_eq!(h.run("zrange dst 0 -1 withscores"), "*4\r\n$1\r\nz\r\n$3\r\n-17\r\n$1\r\ny\r\n$2\r\n-8\r\n");
    assert_eq!(h.run("zdiffstore dst 2 m m"), ":0\r\n");
    assert_eq!(h.run("zcard dst"), ":0\r\n");
    assert_eq!(
        h.run("zunion 1 m weights inf withscores"),
        "*6\r\n$1\r\nx\r\n$3\r\ninf\r\n$1\r\ny\r\n$3\r\ninf\r\n$1\r\nz\r\n$3\r\ninf\r\n"
    );
    assert_eq!(h.run("zadd inf1 inf a"), ":1\r\n");
    assert_eq!(h.run("zadd inf2 -inf a"), ":1\r\n");
    assert_eq!(h.run("zunion 2 inf1 inf2 withscores"), "*2\r\n$1\r\na\r\n$1\r\n0\r\n");
    assert_eq!(h.run("zinter 2 inf1 inf2 withscores"), "*2\r\n$1\r\na\r\n$1\r\n0\r\n");
    assert_eq!(h.run("zinter 2 inf1 inf2 weights 0 1 withscores"), "*2\r\n$1\r\na\r\n$4\r\n-inf\r\n");
    assert_eq!(
        h.run("zunion 1 m weights 0 withscores"),
        "*6\r\n$1\r\nx\r\n$1\r\n0\r\n$1\r\ny\r\n$1\r\n0\r\n$1\r\nz\r\n$1\r\n0\r\n"
    );
    assert_eq!(h.run("zunion 1 inf1 weights 0 withscores"), "*2\r\n$1\r\na\r\n$1\r\n0\r\n");
}

#[test]
fn set_operation_errors() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a"), ":1\r\n");
    assert_eq!(h.run("set s v"), "+OK\r\n");
    assert_eq!(h.run("zunion 0 k"), "-ERR at least 1 input key is needed for 'zunion' command\r\n");
    assert_eq!(h.run("zunion -1 k"), "-ERR at least 1 input key is needed for 'zunion' command\r\n");
    assert_eq!(h.run("zunion abc k"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("zunion 2 k"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zunionstore d 0 k"), "-ERR at least 1 input key is needed for 'zunionstore' command\r\n");
    assert_eq!(h.run("zinterstore d 0 k"), "-ERR at least 1 input key is needed for 'zinterstore' command\r\n");
    assert_eq!(h.run("zdiffstore d 0 k"), "-ERR at least 1 input key is needed for 'zdiffstore' command\r\n");
    assert_eq!(h.run("zintercard 0 k"), "-ERR at least 1 input key is needed for 'zintercard' command\r\n");
    assert_eq!(h.run("zintercard 1 k limit -1"), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(h.run("zintercard 1 k limit abc"), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(h.run("zintercard 1 k withscores"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zunion 1 k weights a"), "-ERR weight value is not a float\r\n");
    assert_eq!(h.run("zunion 1 k weights 1 2"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zunion 1 k aggregate foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zunion 1 s weights a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zdiff 1 k weights 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zdiff 1 k aggregate sum"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zunionstore d 1 k withscores"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zinter 2 k s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zunion 1 k withscores withscores"), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(h.run("zunion 1 k aggregate"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zunion 2 k k weights 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zunionstore s 1 nokey"), ":0\r\n");
    assert_eq!(h.run("zunionstore k 1 k weights 2"), ":1\r\n");
    assert_eq!(h.run("zrange k 0 -1 withscores"), "*2\r\n$1\r\na\r\n$1\r\n2\r\n");
}

#[test]
fn zintercard_counts() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd m 1 x 2 y 3 z"), ":3\r\n");
    assert_eq!(h.run("zadd n 10 y 20 z 30 w"), ":3\r\n");
    assert_eq!(h.run("zintercard 2 m n"), ":2\r\n");
    assert_eq!(h.run("zintercard 2 m n limit 1"), ":1\r\n");
    assert_eq!(h.run("zintercard 2 m n limit 0"), ":2\r\n");
    assert_eq!(h.run("zintercard 2 m n limit 100"), ":2\r\n");
    assert_eq!(h.run("zintercard 2 m nokey"), ":0\r\n");
    assert_eq!(h.run("zintercard 1 m"), ":3\r\n");
}

#[test]
fn setops_resp3() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("zadd m 1 x 2 y"), ":2\r\n");
    assert_eq!(h.run("zadd n 3 y"), ":1\r\n");
    assert_eq!(h.run("zunion 2 m n withscores"), "*2\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,5\r\n");
    assert_eq!(h.run("zinter 2 m n withscores"), "*1\r\n*2\r\n$1\r\ny\r\n,5\r\n");
    assert_eq!(h.run("zdiff 2 m n withscores"), "*1\r\n*2\r\n$1\r\nx\r\n,1\r\n");
    assert_eq!(h.run("zunion 2 m n"), "*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
    assert_eq!(h.run("zinter 2 m nokey withscores"), "*0\r\n");
}

#[test]
fn zscan_listpack() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a 2.5 b 3 c 0.1 d"), ":4\r\n");
    assert_eq!(h.run("zscan k 0"), "*2\r\n$1\r\n0\r\n*8\r\n$1\r\nd\r\n$19\r\n0.10000000000000001\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n$1\r\nc\r\n$1\r\n3\r\n");
    assert_eq!(h.run("zscan k 0 match [ab]"), "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n");
    assert_eq!(h.run("zscan k 0 count 1"), "*2\r\n$1\r\n0\r\n*8\r\n$1\r\nd\r\n$19\r\n0.10000000000000001\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n$1\r\nc\r\n$1\r\n3\r\n");
    assert_eq!(h.run("zscan k abc"), "-ERR invalid cursor\r\n");
    assert_eq!(h.run("zscan k 0 count 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zscan k 0 count abc"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("zscan k -1"), "*2\r\n$1\r\n0\r\n*8\r\n$1\r\nd\r\n$19\r\n0.10000000000000001\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n$1\r\nc\r\n$1\r\n3\r\n");
    assert_eq!(h.run("zscan k 0 match"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zscan k 0 type zset"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zscan nokey 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(h.run("zscan nokey 0 count 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(h.run("zscan nokey x"), "-ERR invalid cursor\r\n");
}

#[test]
fn zrandmember_shapes_and_errors() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a"), ":1\r\n");
    assert_eq!(h.run("zrandmember k"), "$1\r\na\r\n");
    assert_eq!(h.run("zrandmember k 1"), "*1\r\n$1\r\na\r\n");
    assert_eq!(h.run("zrandmember k -3"), "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n");
    assert_eq!(h.run("zrandmember k 5 withscores"), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(h.run("zrandmember k 0"), "*0\r\n");
    assert_eq!(
        h.run("zrandmember k -9223372036854775808"),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(h.run("zrandmember k 9223372036854775807 withscores"), "-ERR value is out of range\r\n");
    assert_eq!(h.run("zrandmember k 1 foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrandmember k 1 withscores x"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrandmember k abc"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("zrandmember nokey"), "$-1\r\n");
    assert_eq!(h.run("zrandmember nokey 5"), "*0\r\n");
    assert_eq!(h.run("zrandmember nokey 5 withscores"), "*0\r\n");
}

#[test]
fn zrandmember_resp3() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("zadd k 1.5 a"), ":1\r\n");
    assert_eq!(h.run("zrandmember k 2 withscores"), "*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n");
    assert_eq!(h.run("zrandmember k -2 withscores"), "*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\na\r\n,1.5\r\n");
    assert_eq!(h.run("zrandmember k"), "$1\r\na\r\n");
    assert_eq!(h.run("zrandmember nokey"), "_\r\n");
}

/// The pieces the blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) build on.
#[test]
fn blocking_pop_building_blocks() {
    use crate::command::family::zset::{generic_zpop, parse_mpop, ready_zset_key, MpopArgs};
    use crate::command::spec::DataCtx;
    use crate::resp::Out;
    let mut h = Harness::new();
    h.run("zadd k2 1 a 2 b");
    h.run("set s v");
    let args: Vec<&[u8]> = vec![b"bzmpop", b"0", b"2", b"k1", b"k2", b"max", b"count", b"5"];
    assert_eq!(parse_mpop(&args, 2), Ok(MpopArgs { keys: 3..5, max: true, count: 5 }));
    assert_eq!(parse_mpop(&args[..6], 2).map(|a| a.count), Ok(1));
    let mut ctx = DataCtx { store: &mut h.store, dbi: 0, now_ms: h.now_ms, cfg: &h.cfg, rng: &mut h.rng };
    assert_eq!(ready_zset_key(&mut ctx, &[b"k1", b"k2"]), Ok(Some(1)));
    assert_eq!(ready_zset_key(&mut ctx, &[b"k1"]), Ok(None));
    assert_eq!(ready_zset_key(&mut ctx, &[b"s", b"k2"]), Err(crate::error::WRONGTYPE));
    // BZPOPMIN's reply: key, member, score (flat in both protocols).
    let mut buf = Vec::new();
    assert!(generic_zpop(&mut ctx, &[b"k2"], false, true, -1, false, false, &mut Out::new(&mut buf, true)));
    assert_eq!(buf, b"*3\r\n$2\r\nk2\r\n$1\r\na\r\n,1\r\n");
    let mut buf = Vec::new();
    assert!(generic_zpop(&mut ctx, &[b"k2"], true, true, 3, true, true, &mut Out::new(&mut buf, false)));
    assert_eq!(buf, b"*2\r\n$2\r\nk2\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    let mut buf = Vec::new();
    assert!(!generic_zpop(&mut ctx, &[b"k2"], true, true, 3, true, true, &mut Out::new(&mut buf, false)));
    assert_eq!(buf, b"*-1\r\n");
}
