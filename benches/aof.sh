#!/usr/bin/env bash
# benches/aof.sh: SET throughput and latency with the append-only file, Tessera next to
# redis-server in one run: no persistence, appendfsync no, everysec and always.
#
# Per repeat, per mode, per server (interleaved so drift hits both alike): a fresh server in a
# fresh directory, `redis-benchmark -t set -c CLIENTS -n N -r 1000000 -d 16 --csv` (request/
# response, no pipelining: each client waits for its reply, which is what `always` holds
# back). Servers pinned to cpu 1, the client to cpu 0 when there are 2+ cpus. Medians.
#
# Owns: its servers (started here, stopped by pid, on free ports) and their temp directories.
# Never: touches other processes. Rewrites the "Append-only file" section of
# benches/RESULTS.md (between its markers) and leaves the rest alone.
#
# Usage: benches/aof.sh [--repeats N] [--requests N] [--clients N] [--shards N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=3
REQUESTS=100000
CLIENTS=50
SHARDS=1
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) REPEATS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: benches/aof.sh [--repeats N] [--requests N] [--clients N] [--shards N] [--no-build]" >&2; exit 2 ;;
  esac
done
# shellcheck source=benches/lib.sh
. benches/lib.sh
bench_setup aof-bench

mode_args() { # mode_args MODE -> server flags
  case "$1" in
    none) echo "--appendonly no --save ''" ;;
    no) echo "--appendonly yes --appendfsync no --save ''" ;;
    everysec) echo "--appendonly yes --appendfsync everysec --save ''" ;;
    always) echo "--appendonly yes --appendfsync always --save ''" ;;
  esac
}

ROWS="$WORK/rows.tsv"
: >"$ROWS"
for rep in $(seq 1 "$REPEATS"); do
  for mode in none no everysec always; do
    for who in redis tessera; do
      dir="$WORK/$who-$mode-$rep"; mkdir -p "$dir"
      port=$(free_port)
      if [ "$who" = redis ]; then
        eval "exec ${SRV_PIN[*]} redis-server --port $port --bind 127.0.0.1 --dir $dir $(mode_args $mode) --daemonize no" >"$dir/log" 2>&1 &
      else
        eval "exec ${SRV_PIN[*]} $TESSERA --port $port --bind 127.0.0.1 --shards $SHARDS --dir $dir $(mode_args $mode)" >"$dir/log" 2>&1 &
      fi
      PID=$!
      wait_ping "$port" || { echo "$who did not start:"; cat "$dir/log"; exit 1; }
      line=$("${CLI_PIN[@]}" redis-benchmark -p "$port" -t set -c "$CLIENTS" -n "$REQUESTS" -r 1000000 -d 16 --csv 2>/dev/null | tail -1)
      kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
      # "SET","rps","avg","min","p50","p95","p99","max"
      IFS=, read -r _ rps avg _ p50 _ p99 _ <<<"$(echo "$line" | tr -d '"')"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$who" "$mode" "$rep" "$rps" "$p50" "$p99" >>"$ROWS"
      echo "rep $rep $mode $who: $rps ops/s p50 $p50 ms p99 $p99 ms"
    done
  done
done

python3 - "$ROWS" "$REPEATS" "$REQUESTS" "$CLIENTS" "$SHARDS" <<'EOF'
import platform, re, statistics, subprocess, sys
rows_f, repeats, requests, clients, shards = sys.argv[1:6]
rows = [l.rstrip("\n").split("\t") for l in open(rows_f) if l.strip()]
def med(who, mode, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == who and r[1] == mode)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
ncpu = open("/proc/cpuinfo").read().count("processor\t")
rv = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
lines = ["## Append-only file: SET throughput by appendfsync (benches/aof.sh)", "",
         f"Machine: {cpu}, {ncpu} cpus, {platform.release()}; {rv}. The AOF directory is on the root disk.",
         f"Command: `benches/aof.sh --repeats {repeats} --requests {requests} --clients {clients} --shards {shards}`:",
         f"`redis-benchmark -t set -c {clients} -n {requests} -r 1000000 -d 16` (no pipelining), a fresh server per run,",
         "servers on cpu 1 and the client on cpu 0. Medians over the repeats; every run below.", "",
         "| mode | Redis ops/s | Tessera ops/s | Tessera/Redis | Redis p50/p99 ms | Tessera p50/p99 ms | each vs its own no-persistence |",
         "|---|---:|---:|---:|---:|---:|---:|"]
names = {"none": "no persistence", "no": "appendfsync no", "everysec": "appendfsync everysec", "always": "appendfsync always"}
for mode in ("none", "no", "everysec", "always"):
    r, t = med("redis", mode, 3), med("tessera", mode, 3)
    rn, tn = med("redis", "none", 3), med("tessera", "none", 3)
    lines.append(f"| {names[mode]} | {r:,.0f} | {t:,.0f} | {t / r:.2f} | {med('redis', mode, 4):.3f} / {med('redis', mode, 5):.3f} | "
                 f"{med('tessera', mode, 4):.3f} / {med('tessera', mode, 5):.3f} | Redis {r / rn:.2f}, Tessera {t / tn:.2f} |")
lines += ["", "| server | mode | rep | ops/s | p50 ms | p99 ms |", "|---|---|---:|---:|---:|---:|"]
lines += [f"| {r[0]} | {r[1]} | {r[2]} | {float(r[3]):,.0f} | {r[4]} | {r[5]} |" for r in rows]
sys.path.insert(0, "benches")
from results_section import write_section
write_section("aof.sh", lines)
EOF
