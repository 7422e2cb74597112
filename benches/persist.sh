#!/usr/bin/env bash
# benches/persist.sh: BGSAVE and RDB loading, Tessera next to redis-server on this machine,
# in one run, same data, same writers. Prints a markdown report (and keeps it in the work dir
# when asked with --keep); benches/RESULTS.md records it.
#
# Owns: starting/stopping its own servers (by pid), the measurement loop, the report.
# Never: touches servers it did not start, reuses a port something else listens on, or
# leaves a process behind (trap on EXIT/INT/TERM stops every pid it started).
#
# Servers (unpinned: Redis's forked save child and Tessera's shards all get every core):
#   redis      redis-server (a forked child writes the dump)
#   tessera1   tessera-server --shards 1
#   tessera2   tessera-server --shards 2
# Per server and repeat, on a fresh server:
#   1. 1,000,000 keys of VALUE bytes, written once with tessera-loadgen (-P 16, sequential).
#   2. Writers alone: tessera-loadgen, 50 connections, open loop at RATE SET/s over the same
#      keys for WRITE_S seconds: p99.9 and max latency without a save (the baseline).
#   3. The same writers again; SAVE_AFTER_S seconds in, benches/persist_probe.py sends BGSAVE and
#      samples every 10 ms: seconds until INFO says rdb_bgsave_in_progress:0, VmRSS before and
#      at peak, and Pss of the server plus its children (Redis's fork child shares pages with
#      its parent: Pss counts a shared page once). Writers' p99.9 and max over the run.
#   4. Load time: a server started on a copy of that dump.rdb, from spawn to the first PONG
#      (10 ms polling), and its DBSIZE checked.
#
# Usage: benches/persist.sh [--quick] [--no-build] [--keep]
#   --quick     1 repeat, 300,000 keys (validation); default: 3 repeats of 1,000,000 keys
#   --no-build  use the binaries already in target/release
#   --keep      keep the work directory (logs, dumps, raw rows) and print its path
# Environment: BASE_PORT (first port tried, default 7841), RATE (default 20000), VALUE (32).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=full; BUILD=1; KEEP=0
for arg in "$@"; do
  case $arg in
    --quick) MODE=quick ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "persist.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
RATE=${RATE:-20000}; VALUE=${VALUE:-32}; CLIENTS=50
if [ $MODE = quick ]; then REPEATS=1; KEYS=300000; WRITE_S=6; else REPEATS=3; KEYS=1000000; WRITE_S=10; fi
SAVE_AFTER_S=2
RUN_TIMEOUT_S=300

die() { echo "persist.sh: $*" >&2; exit 1; }
for tool in redis-server redis-cli python3 timeout; do
  command -v $tool >/dev/null || die "$tool not found"
done
if [ $BUILD = 1 ]; then
  cargo build --release -q -p tessera -p tessera-loadgen || die "cargo build failed (retry, or --no-build)"
fi
BIN=${CARGO_TARGET_DIR:-target}/release/tessera-server
LOADGEN=${CARGO_TARGET_DIR:-target}/release/tessera-loadgen
[ -x "$BIN" ] && [ -x "$LOADGEN" ] || die "$BIN or $LOADGEN missing"
PROBE=benches/persist_probe.py

WORK=$(mktemp -d /tmp/tessera-persist.XXXXXX)
ROWS=$WORK/rows.tsv; : >"$ROWS"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')

# ---- processes ------------------------------------------------------------------------
pids=()
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }
stop_pid() { # SIGTERM, then SIGKILL after 10 s; always reaps
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then echo "pid $pid ignored SIGTERM for 10 s; SIGKILL" >&2; kill -9 "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
  local keep=() q
  for q in "${pids[@]}"; do [ "$q" = "$pid" ] || keep+=("$q"); done
  pids=("${keep[@]}")
}
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do alive "$p" && stop_pid "$p"; done
  if [ $rc = 0 ] && [ $KEEP = 0 ]; then rm -rf "$WORK"; else echo "persist.sh: work dir kept in $WORK" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NEXT_PORT=${BASE_PORT:-7841}
pick_port() { # sets PORT to a port nobody listens on
  local p=$NEXT_PORT
  while :; do
    [ $p -lt 65000 ] || die "no free port"
    if python3 -c 'import socket,sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' $p 2>/dev/null \
       && ! timeout 2 redis-cli -p $p ping >/dev/null 2>&1; then break; fi
    p=$((p + 1))
  done
  PORT=$p; NEXT_PORT=$((p + 1))
}

# start_server WHO DIR: starts WHO with its data in DIR on a fresh PORT; sets SPID and
# READY_MS (spawn to first PONG, which includes loading a dump.rdb found in DIR).
start_server() {
  local who=$1 dir=$2 t0
  pick_port
  local cmd
  case $who in
    redis) cmd=(redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir") ;;
    tessera1) cmd=("$BIN" --port "$PORT" --bind 127.0.0.1 --save '' --dir "$dir" --shards 1) ;;
    tessera2) cmd=("$BIN" --port "$PORT" --bind 127.0.0.1 --save '' --dir "$dir" --shards 2) ;;
    *) die "unknown server $who" ;;
  esac
  [ -n "${LOGGED[$who]:-}" ] || { echo "$who: ${cmd[*]}" | sed "s|$WORK|\$WORK|g; s|$PORT|\$PORT|" >>"$WORK/commands.txt"; LOGGED[$who]=1; }
  t0=$(date +%s%N)
  "${cmd[@]}" >"$dir/server.log" 2>&1 &
  SPID=$!
  pids+=("$SPID")
  for _ in $(seq 6000); do
    if timeout 2 redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; then
      READY_MS=$((($(date +%s%N) - t0) / 1000000)); return 0
    fi
    alive "$SPID" || { cat "$dir/server.log" >&2; die "$who exited at start"; }
    sleep 0.01
  done
  die "$who never answered PING on port $PORT"
}
declare -A LOGGED

loadgen() { # loadgen JSON ARGS...: one tessera-loadgen run against PORT
  local json=$1; shift
  timeout -k 5 $RUN_TIMEOUT_S "$LOADGEN" --port "$PORT" -t 1 -q --json "$json" "$@" >"$WORK/loadgen.out" 2>&1 \
    || die "loadgen $* failed: $(tail -3 "$WORK/loadgen.out")"
}
lat() { # lat JSON: "p99.9 max errors" in us
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; l=t["latency_us"]; print(l["p99_9"], l["max"], t["errors"])' "$1"
}

# ---- the runs -------------------------------------------------------------------------
echo "persist.sh: $MODE run, $KEYS keys of $VALUE bytes, $CLIENTS writers at $RATE SET/s, $REPEATS repeat(s); work dir $WORK"
for rep in $(seq $REPEATS); do
  for who in redis tessera1 tessera2; do
    dir=$WORK/$who-$rep; mkdir -p "$dir"
    start_server "$who" "$dir"
    loadgen "$WORK/fill.json" -c $CLIENTS -P 16 -w set --distribution sequential --keys $KEYS -n $KEYS --value-size $VALUE
    n=$(redis-cli -p "$PORT" dbsize)
    [ "$n" = $KEYS ] || die "$who holds $n keys after the fill, expected $KEYS"
    writers=(-c $CLIENTS -w set --keys $KEYS --value-size $VALUE --rate $RATE -d ${WRITE_S}s)
    loadgen "$WORK/base.json" "${writers[@]}"
    read -r base_p999 base_max base_err < <(lat "$WORK/base.json")
    loadgen "$WORK/save.json" "${writers[@]}" &
    lg=$!
    sleep $SAVE_AFTER_S
    probe=$(python3 $PROBE "$PORT" "$SPID") || die "probe failed against $who"
    wait $lg || die "writers failed against $who during the save"
    read -r save_p999 save_max save_err < <(lat "$WORK/save.json")
    read -r secs rss0 rss1 pss0 pss1 status < <(python3 -c '
import json,sys; j=json.loads(sys.argv[1])
print(j["seconds"], j["rss_before_kb"], j["rss_peak_kb"], j["pss_before_kb"], j["pss_peak_kb"], j["status"])' "$probe")
    [ "$status" = ok ] || die "$who: BGSAVE ended with status $status"
    # The writers keep going after the save ends; wait for nothing else before stopping.
    stop_pid "$SPID"
    ldir=$WORK/$who-$rep-load; mkdir -p "$ldir"
    cp "$dir/dump.rdb" "$ldir/dump.rdb"
    dump_mb=$(python3 -c 'import os,sys; print("%.1f" % (os.path.getsize(sys.argv[1]) / 1e6))' "$ldir/dump.rdb")
    start_server "$who" "$ldir"
    load_ms=$READY_MS
    n=$(redis-cli -p "$PORT" dbsize)
    [ "$n" = $KEYS ] || die "$who loaded $n keys, expected $KEYS"
    stop_pid "$SPID"
    [ $KEEP = 1 ] || rm -rf "$dir" "$ldir"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$who" "$rep" "$secs" "$rss0" "$rss1" "$pss0" "$pss1" \
      "$base_p999" "$base_max" "$save_p999" "$save_max" "$((base_err + save_err))" "$load_ms" "$dump_mb" >>"$ROWS"
    printf '  rep %s %-9s BGSAVE %6.2f s  RSS %7s -> %7s kB  Pss %7s -> %7s kB  writers p99.9/max %6s/%6s us (no save %s/%s)  load %5s ms  dump %s MB\n' \
      "$rep" "$who" "$secs" "$rss0" "$rss1" "$pss0" "$pss1" "$save_p999" "$save_max" "$base_p999" "$base_max" "$load_ms" "$dump_mb"
  done
done

# ---- report ---------------------------------------------------------------------------
python3 - "$ROWS" "$DATE" "$KEYS" "$VALUE" "$CLIENTS" "$RATE" "$WRITE_S" "$REPEATS" "$WORK/commands.txt" <<'PY'
import statistics, sys
rows_path, date, keys, value, clients, rate, write_s, repeats, cmds = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(rows_path) if l.strip()]
cols = ["who", "rep", "secs", "rss0", "rss1", "pss0", "pss1", "bp999", "bmax", "sp999", "smax", "err", "load_ms", "dump_mb"]
rows = [dict(zip(cols, r)) for r in rows]
who_order = ["redis", "tessera1", "tessera2"]
med = lambda xs: statistics.median(xs)
print(f"### BGSAVE and RDB load ({date}; benches/persist.sh)\n")
print(f"{int(keys):,} keys of {value} bytes; {clients} writers, open loop at {int(rate):,} SET/s for {write_s} s "
      f"with BGSAVE sent 2 s in; medians of {repeats} repeat(s).\n")
print("| server | BGSAVE s | peak RSS / RSS before | peak Pss (with children) / before | writers p99.9 / max us, during save | same, no save | load s | dump MB |")
print("|---|---|---|---|---|---|---|---|")
for w in who_order:
    rs = [r for r in rows if r["who"] == w]
    if not rs:
        continue
    f = lambda k: med([float(r[k]) for r in rs])
    rss = med([float(r["rss1"]) / float(r["rss0"]) for r in rs])
    pss = med([float(r["pss1"]) / float(r["pss0"]) for r in rs])
    print(f"| {w} | {f('secs'):.2f} | {rss:.3f} | {pss:.3f} | {f('sp999'):.0f} / {f('smax'):.0f} | "
          f"{f('bp999'):.0f} / {f('bmax'):.0f} | {f('load_ms') / 1000:.2f} | {f('dump_mb'):.1f} |")
print("\nEvery run (who rep secs rss0_kb rss1_kb pss0_kb pss1_kb base_p999 base_max save_p999 save_max errors load_ms dump_mb):\n")
print("```")
for r in rows:
    print(" ".join(r[c] for c in cols))
print("```\n\nServers:\n\n```")
print(open(cmds).read().rstrip())
print("```")
PY
