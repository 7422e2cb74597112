#!/usr/bin/env bash
# benches/memory_small.sh: memory per element of small objects (the shapes of compare.sh
# phase 3) and bytes per key of 1,000,000 short strings (phase 2's shape: keys `key:0` ..
# `key:999999`, 16-byte values), plus the large hash of phase 3 (8 keys x 20,000 fields, 100 per
# command), Tessera next to redis-server, in about ten seconds.
#
# For each row: FLUSHALL SYNC, INFO used_memory, load with `redis-cli --pipe`, INFO used_memory
# again; growth / elements. Prints one line per row with both servers and the ratio.
#
# Usage: benches/memory_small.sh [TESSERA_BINARY]   (default target/release/tessera-server)
# Environment: BASE_PORT (first port tried, default 7841), SHARDS (Tessera --shards, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/tessera-server}
[ -x "$BIN" ] || { echo "memory_small.sh: no binary at $BIN" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

free_port() {
  local p=$1
  while (echo >/dev/tcp/127.0.0.1/"$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
wait_up() { for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
used() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory"{print $2}'; }

RPORT=$(free_port "${BASE_PORT:-7841}")
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --dir "$WORK" >/dev/null 2>&1 &
PIDS+=($!)
TPORT=$(free_port $((RPORT + 1)))
"$BIN" --port "$TPORT" --bind 127.0.0.1 --shards "${SHARDS:-1}" --save '' --dir "$WORK" >"$WORK/tessera.log" 2>&1 &
PIDS+=($!)
wait_up "$RPORT" && wait_up "$TPORT" || { echo "memory_small.sh: a server did not start" >&2; exit 1; }

python3 - "$WORK" <<'PY'
import sys
d = sys.argv[1]

def resp(args):
    a = [x.encode() for x in args]
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)

ELEM = {
    "hash": ("HSET", lambda j: ["e:%06d" % j, "v:%06d" % j]),
    "list": ("RPUSH", lambda j: ["e:%06d" % j]),
    "set": ("SADD", lambda j: ["e:%06d" % j]),
    "intset": ("SADD", lambda j: [str(j)]),
    "zset": ("ZADD", lambda j: [str(j), "e:%06d" % j]),
}
PREFIX = {"hash": "h", "list": "l", "set": "s", "intset": "i", "zset": "z"}
for ty, (name, el) in ELEM.items():
    with open("%s/%s.resp" % (d, ty), "wb") as f:
        for k in range(20000):
            args = [name, "%s:%05d" % (PREFIX[ty], k)]
            for j in range(8):
                args += el(j)
            f.write(resp(args))
with open(d + "/large_hash.resp", "wb") as f:
    for k in range(8):
        for b in range(200):
            args = ["HSET", "H:%d" % k]
            for j in range(b * 100, b * 100 + 100):
                args += ELEM["hash"][1](j)
            f.write(resp(args))
with open(d + "/string.resp", "wb") as f:
    f.write(b"".join(resp(["SET", "key:%d" % k, "x" * 16]) for k in range(1000000)))
PY

printf '%-10s %10s %12s %12s %7s\n' row elements redis tessera ratio
for row in hash list set intset zset large_hash string; do
  if [ $row = string ]; then n=1000000; else n=160000; fi
  declare -A per
  for port in "$RPORT" "$TPORT"; do
    redis-cli -p "$port" flushall sync >/dev/null
    u0=$(used "$port")
    redis-cli -p "$port" --pipe <"$WORK/$row.resp" >"$WORK/pipe.out" 2>&1
    grep -q '^errors: 0,' "$WORK/pipe.out" || { echo "load of $row into $port failed" >&2; exit 1; }
    sleep 0.3
    u1=$(used "$port")
    per[$port]=$(python3 -c "print('%.2f' % (($u1 - $u0) / $n))")
  done
  printf '%-10s %10d %12s %12s %7s\n' "$row" "$n" "${per[$RPORT]}" "${per[$TPORT]}" \
    "$(python3 -c "print('%.2f' % (${per[$TPORT]} / ${per[$RPORT]}))")"
done
