#!/usr/bin/env bash
# benches/cross_shard.sh: multi-key writes whose keys live on several shards, Tessera next to
# redis-server in one run. `redis-benchmark -t mset` sets 10 random keys per command: with two
# shards nearly every MSET is an atomic cross-shard command (frozen shards, keys fetched to the
# coordinator, states written back, commands arriving together batched under one freeze:
# shard/coord.rs), with one shard it never is. Then MULTI/EXEC of two INCRs whose keys sit on
# different shards of a 2-shard Tessera (benches/exec_probe.py, 10 connections): cross-shard
# transactions, batched per coordinating shard under one freeze (shard/txn.rs, shard/batch.rs).
#
# Per repeat, per setup (interleaved so drift hits all alike), a fresh server in a fresh
# directory, without AOF and with `appendonly yes` + `appendfsync everysec`, then `always`:
#   redis-server; tessera --shards 1; tessera --shards 2.
# `redis-benchmark -t mset -c 50 -n N -r 100000`, then the probe for 3 s. Servers pinned to
# cpu 1 (both of Tessera's shards share it), clients to cpu 0 when there are 2+ cpus. Medians
# over repeats.
#
# Owns: its servers (started here, stopped by pid, on free ports) and their temp directories.
# Never: touches other processes. Rewrites the "cross-shard" section of benches/RESULTS.md
# (between its markers) and leaves the rest alone.
#
# Usage: benches/cross_shard.sh [--repeats N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=3
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) REPEATS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: benches/cross_shard.sh [--repeats N] [--no-build]" >&2; exit 2 ;;
  esac
done
# shellcheck source=benches/lib.sh
. benches/lib.sh
bench_setup cross-shard

start_server() { # start_server SETUP AOF DIR PORT
  local aof=(--appendonly no)
  [ "$2" != none ] && aof=(--appendonly yes --appendfsync "$2")
  case "$1" in
    redis) "${SRV_PIN[@]}" redis-server --port "$4" --bind 127.0.0.1 --dir "$3" "${aof[@]}" --save '' \
      --daemonize no >"$3/log" 2>&1 & ;;
    tessera1) "${SRV_PIN[@]}" "$TESSERA" --port "$4" --bind 127.0.0.1 --shards 1 --dir "$3" "${aof[@]}" --save '' \
      >"$3/log" 2>&1 & ;;
    tessera2) "${SRV_PIN[@]}" "$TESSERA" --port "$4" --bind 127.0.0.1 --shards 2 --dir "$3" "${aof[@]}" --save '' \
      >"$3/log" 2>&1 & ;;
  esac
  PID=$!
  wait_ping "$4" || { echo "$1 did not start:"; cat "$3/log"; exit 1; }
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
csv_field() { echo "$1" | tr -d '"' | cut -d, -f"$2"; }

ROWS="$WORK/rows.tsv"
: >"$ROWS"
for rep in $(seq 1 "$REPEATS"); do
  for aof in none everysec always; do
    for who in redis tessera1 tessera2; do
      dir="$WORK/$who-$aof-$rep"; mkdir -p "$dir"
      port=$(free_port)
      start_server "$who" "$aof" "$dir" "$port"
      n=100000; [ "$who" = tessera2 ] && n=30000
      [ "$aof" = always ] && n=$((n / 4))
      line=$("${CLI_PIN[@]}" redis-benchmark -p "$port" -t mset -c 50 -n "$n" -r 100000 --csv 2>/dev/null | tail -1)
      tx=$("${CLI_PIN[@]}" python3 benches/exec_probe.py "$port" 10 3)
      stop_server
      read -r tps tp50 tp99 < <(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["tx_per_s"], j["p50_ms"], j["p99_ms"])' "$tx")
      # "MSET (10 keys)","rps","avg","min","p50","p95","p99","max"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$aof" "$who" "$rep" "$(csv_field "$line" 2)" "$(csv_field "$line" 5)" \
        "$(csv_field "$line" 7)" "$tps" "$tp50" "$tp99" >>"$ROWS"
      echo "rep $rep $who aof=$aof: $(csv_field "$line" 2) MSET/s p99 $(csv_field "$line" 7) ms; $tps EXEC/s p50 $tp50 p99 $tp99 ms"
    done
  done
done

python3 - "$ROWS" "$REPEATS" <<'PY'
import platform, re, statistics, subprocess, sys
rows_f, repeats = sys.argv[1:3]
rows = [l.rstrip("\n").split("\t") for l in open(rows_f) if l.strip()]
def med(aof, who, col):
    return statistics.median(float(r[col]) for r in rows if r[0] == aof and r[1] == who)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
cpu = re.sub(r"\s+\d+-Core Processor$", "", cpu)
rv = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
ncpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
lines = ["## Cross-shard multi-key writes: MSET of 10 keys, MULTI/EXEC of two keys (benches/cross_shard.sh)", "",
         f"Machine: {cpu}, {ncpu} cpus, {platform.release()}; {rv}.",
         f"Command: `benches/cross_shard.sh --repeats {repeats}`; `redis-benchmark -t mset -c 50 -r 100000`;",
         "servers on cpu 1 (both Tessera shards share it), clients on cpu 0; medians over the repeats.",
         "With 2 shards nearly every MSET holds keys of both and runs as an atomic cross-shard command.", "",
         "| AOF | Redis MSET/s | Tessera 1 shard | 1 shard / Redis | Tessera 2 shards | 2 shards / Redis | Redis p99 ms | 1 shard p99 ms | 2 shards p99 ms |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
for aof in ("none", "everysec", "always"):
    r, t1, t2 = med(aof, "redis", 3), med(aof, "tessera1", 3), med(aof, "tessera2", 3)
    lines.append(f"| {aof} | {r:,.0f} | {t1:,.0f} | {t1 / r:.2f} | {t2:,.0f} | {t2 / r:.2f} | "
                 f"{med(aof, 'redis', 5):.3f} | {med(aof, 'tessera1', 5):.3f} | {med(aof, 'tessera2', 5):.3f} |")
lines += ["", "MULTI, INCR a, INCR b, EXEC sent in one write from 10 connections (`benches/exec_probe.py`, 3 s);",
          "`a` and `b` sit on different shards of a 2-shard Tessera, so every EXEC there spans both.", "",
          "| AOF | Redis EXEC/s | Tessera 1 shard | 1 shard / Redis | Tessera 2 shards | 2 shards / Redis | Redis p50/p99 ms | 1 shard p50/p99 ms | 2 shards p50/p99 ms |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
for aof in ("none", "everysec", "always"):
    r, t1, t2 = med(aof, "redis", 6), med(aof, "tessera1", 6), med(aof, "tessera2", 6)
    pl = lambda who: f"{med(aof, who, 7):.2f} / {med(aof, who, 8):.2f}"
    lines.append(f"| {aof} | {r:,.0f} | {t1:,.0f} | {t1 / r:.2f} | {t2:,.0f} | {t2 / r:.2f} | {pl('redis')} | {pl('tessera1')} | {pl('tessera2')} |")
lines += ["", "| AOF | server | rep | MSET/s | p50 ms | p99 ms | EXEC/s | EXEC p50 ms | EXEC p99 ms |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
lines += [f"| {r[0]} | {r[1]} | {r[2]} | {float(r[3]):,.0f} | {r[4]} | {r[5]} | {float(r[6]):,.0f} | {r[7]} | {r[8]} |" for r in rows]
sys.path.insert(0, "benches")
from results_section import write_section
write_section("cross_shard.sh", lines)
PY
