#!/usr/bin/env bash
# benches/big_keys.sh: what a snapshot costs other clients when the dataset holds huge keys,
# Tessera next to redis-server in one run. A set, a hash, a sorted set and a list of
# 1,000,000 elements each plus 100,000 strings; per round, BGSAVE (or BGREWRITEAOF) and at once one
# write to a huge key, while another connection GETs a string in a loop
# (benches/big_keys_probe.py). Redis forks: its pages are copied by the kernel as the parent
# writes them. Tessera shares the huge values' chunks with the snapshot (store/cow_vec.rs) and
# writes them out a slice at a time (persist/snapshot/big.rs); a list is copied and regrouped
# into Redis's nodes a slice at a time.
#
# Per repeat, per server (interleaved so drift hits all alike), a fresh server in a fresh
# directory: redis-server, tessera --shards 1; once for BGSAVE (AOF off) and once for
# BGREWRITEAOF (appendonly yes, everysec). Servers on cpu 1, the probe on cpu 0 when there are
# 2+ cpus. Medians over repeats. Then each server's last BGSAVE dump is loaded by both servers,
# timed from spawn to the first PONG.
#
# Owns: its servers (started here, stopped by pid, on free ports) and their temp directories.
# Never: touches other processes. Rewrites the "big_keys.sh" section of benches/RESULTS.md
# (between its markers) and leaves the rest alone.
#
# Usage: benches/big_keys.sh [--repeats N] [--elements N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=3
ELEMENTS=1000000
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) REPEATS=$2; shift 2 ;;
    --elements) ELEMENTS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: benches/big_keys.sh [--repeats N] [--elements N] [--no-build]" >&2; exit 2 ;;
  esac
done
# shellcheck source=benches/lib.sh
. benches/lib.sh
bench_setup big-keys

start_server() { # start_server WHO MODE DIR PORT
  local aof=(--appendonly no)
  [ "$2" = bgrewriteaof ] && aof=(--appendonly yes --appendfsync everysec)
  case "$1" in
    redis) "${SRV_PIN[@]}" redis-server --port "$4" --bind 127.0.0.1 --dir "$3" "${aof[@]}" --save '' \
      --daemonize no >"$3/log" 2>&1 & ;;
    tessera) "${SRV_PIN[@]}" "$TESSERA" --port "$4" --bind 127.0.0.1 --shards 1 --dir "$3" "${aof[@]}" --save '' \
      >"$3/log" 2>&1 & ;;
  esac
  PID=$!
  wait_ping "$4" || { echo "$1 did not start:"; cat "$3/log"; exit 1; }
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
# load_row WHO DUMP_BY REP: starts WHO on a copy of the dump DUMP_BY wrote in round REP and
# appends how long it took to answer PONG (loading included) to ROWS.
load_row() {
  local dir="$WORK/load" port t0 ms
  rm -rf "$dir"; mkdir -p "$dir"; cp "$WORK/dump-$2-$3.rdb" "$dir/dump.rdb"
  port=$(free_port)
  t0=$(date +%s%N)
  start_server "$1" load "$dir" "$port"
  until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do sleep 0.005; done
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$(redis-cli -p "$port" zcard big:zset)" = "$((ELEMENTS + 1))" ] || { echo "$1 loaded a wrong big:zset"; exit 1; }
  stop_server
  echo "{\"who\": \"$1\", \"mode\": \"load\", \"rep\": $3, \"key\": \"$2\", \"load_ms\": $ms}" | tee -a "$ROWS"
}

ROWS="$WORK/rows.jsonl"
: >"$ROWS"
for rep in $(seq 1 "$REPEATS"); do
  for mode in bgsave bgrewriteaof; do
    for who in redis tessera; do
      dir="$WORK/$who-$mode-$rep"; mkdir -p "$dir"
      port=$(free_port)
      start_server "$who" "$mode" "$dir" "$port"
      "${CLI_PIN[@]}" python3 benches/big_keys_probe.py "$port" "$mode" "$ELEMENTS" |
        while read -r line; do
          echo "{\"who\": \"$who\", \"mode\": \"$mode\", \"rep\": $rep, ${line#\{}" | tee -a "$ROWS"
        done
      stop_server
      [ "$mode" = bgsave ] && mv "$dir/dump.rdb" "$WORK/dump-$who-$rep.rdb"
      rm -rf "$dir"
    done
  done
  for by in redis tessera; do
    for who in redis tessera; do load_row "$who" "$by" "$rep"; done
  done
done

python3 - "$ROWS" "$REPEATS" "$ELEMENTS" <<'PY'
import json, platform, re, statistics, subprocess, sys
rows_f, repeats, elements = sys.argv[1:4]
rows = [json.loads(l) for l in open(rows_f) if l.strip()]
def med(who, mode, key, col):
    return statistics.median(r[col] for r in rows if r["who"] == who and r["mode"] == mode and r["key"] == key)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
cpu = re.sub(r"\s+\d+-Core Processor$", "", cpu)
rv = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
ncpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
lines = ["## Snapshots of huge keys: latency of other clients (benches/big_keys.sh)", "",
         f"Machine: {cpu}, {ncpu} cpus, {platform.release()}; {rv}.",
         f"Command: `benches/big_keys.sh --repeats {repeats} --elements {elements}`: a set, a hash, a sorted set and a list of",
         f"{int(elements):,} elements and 100,000 strings; per round BGSAVE (AOF off) or BGREWRITEAOF (everysec),",
         "one write to the huge key right after it, and another connection GETting a string in a loop until the",
         "snapshot ends. Tessera `--shards 1`; servers on cpu 1, the probe on cpu 0; medians over the repeats.", "",
         "| snapshot | write to | Redis write ms | Tessera write ms | Redis worst GET ms | Tessera worst GET ms | Redis p99 GET ms | Tessera p99 GET ms |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
for mode in ("bgsave", "bgrewriteaof"):
    for key in ("big:set", "big:hash", "big:zset", "big:list", "none"):
        lines.append(f"| {mode.upper()} | {key} | {med('redis', mode, key, 'write_ms'):.2f} | {med('tessera', mode, key, 'write_ms'):.2f} | "
                     f"{med('redis', mode, key, 'get_max_ms'):.2f} | {med('tessera', mode, key, 'get_max_ms'):.2f} | "
                     f"{med('redis', mode, key, 'get_p99_ms'):.2f} | {med('tessera', mode, key, 'get_p99_ms'):.2f} |")
lines += ["", "Loading the last BGSAVE's dump (the four huge keys and the strings): spawn to first PONG, ms. Redis writes",
          "sorted sets highest first, so that loading inserts each member at the head; so does Tessera.", "",
          "| dump written by | Redis loads it | Tessera loads it |", "|---|---:|---:|"]
for by in ("redis", "tessera"):
    lines.append(f"| {by} | {med('redis', 'load', by, 'load_ms'):.0f} | {med('tessera', 'load', by, 'load_ms'):.0f} |")
sys.path.insert(0, "benches")
from results_section import write_section
write_section("big_keys.sh", lines)
PY
