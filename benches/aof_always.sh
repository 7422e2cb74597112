#!/usr/bin/env bash
# benches/aof_always.sh: `appendfsync always` in detail, Tessera next to redis-server in one
# run: SET throughput as the number of clients grows, and how reads fare while writers wait
# for their fsync.
#
# Per repeat, per server (interleaved so drift hits both alike), a fresh server in a fresh
# directory with `--appendonly yes --appendfsync always`:
#   - scaling: `redis-benchmark -t set -c C -n N -r 1000000 -d 16` for C in 1 10 50 200
#     (request/response: each client waits for the fsync that covers its write);
#   - mixed: 50 such writers and, at the same time, 5 readers (`-t get -c 5`): reads need no
#     fsync, so their latency shows whether they wait behind the writers' fsyncs.
# Servers pinned to cpu 1, clients to cpu 0 when there are 2+ cpus. Medians over repeats.
# The disk's fdatasync time (a 4 KiB append + fdatasync loop in the same directory) is printed
# with the results: it bounds what any server can do here.
#
# Owns: its servers (started here, stopped by pid, on free ports) and their temp directories.
# Never: touches other processes. Rewrites the "appendfsync always" section of
# benches/RESULTS.md (between its markers) and leaves the rest alone.
#
# Usage: benches/aof_always.sh [--repeats N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=3
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) REPEATS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: benches/aof_always.sh [--repeats N] [--no-build]" >&2; exit 2 ;;
  esac
done
# shellcheck source=benches/lib.sh
. benches/lib.sh
bench_setup aof-always

FSYNC_US=$(python3 - "$WORK" <<'EOF'
import os, sys, time
p = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
block = b"x" * 4096
times = []
for _ in range(300):
    os.write(fd, block)
    t = time.perf_counter()
    os.fdatasync(fd)
    times.append(time.perf_counter() - t)
os.close(fd)
os.unlink(p)
times.sort()
print(f"{times[len(times) // 2] * 1e6:.0f}")
EOF
)
echo "fdatasync median: ${FSYNC_US} us"

start_server() { # start_server WHO DIR PORT
  if [ "$1" = redis ]; then
    "${SRV_PIN[@]}" redis-server --port "$3" --bind 127.0.0.1 --dir "$2" --appendonly yes --appendfsync always \
      --save '' --daemonize no >"$2/log" 2>&1 &
  else
    "${SRV_PIN[@]}" "$TESSERA" --port "$3" --bind 127.0.0.1 --shards 1 --dir "$2" --appendonly yes --appendfsync always \
      --save '' >"$2/log" 2>&1 &
  fi
  PID=$!
  wait_ping "$3" || { echo "$1 did not start:"; cat "$2/log"; exit 1; }
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
# csv_field LINE N: the Nth field (1-based) of a redis-benchmark --csv line.
csv_field() { echo "$1" | tr -d '"' | cut -d, -f"$2"; }

ROWS="$WORK/rows.tsv"
: >"$ROWS"
for rep in $(seq 1 "$REPEATS"); do
  for who in redis tessera; do
    for clients in 1 10 50 200; do
      dir="$WORK/$who-c$clients-$rep"; mkdir -p "$dir"
      port=$(free_port)
      start_server "$who" "$dir" "$port"
      n=$((clients * 1000)); [ "$n" -lt 5000 ] && n=5000
      line=$("${CLI_PIN[@]}" redis-benchmark -p "$port" -t set -c "$clients" -n "$n" -r 1000000 -d 16 --csv 2>/dev/null | tail -1)
      stop_server
      # "SET","rps","avg","min","p50","p95","p99","max"
      printf 'scale\t%s\t%s\t%s\t%s\t%s\t%s\n' "$who" "$clients" "$rep" "$(csv_field "$line" 2)" \
        "$(csv_field "$line" 5)" "$(csv_field "$line" 7)" >>"$ROWS"
      echo "rep $rep $who c=$clients: $(csv_field "$line" 2) SET/s p99 $(csv_field "$line" 7) ms"
    done
    dir="$WORK/$who-mixed-$rep"; mkdir -p "$dir"
    port=$(free_port)
    start_server "$who" "$dir" "$port"
    "${CLI_PIN[@]}" redis-benchmark -p "$port" -t set -c 50 -n 1000000 -r 1000000 -d 16 --csv >"$dir/writers.csv" 2>/dev/null &
    BG=$!
    sleep 0.5
    line=$("${CLI_PIN[@]}" redis-benchmark -p "$port" -t get -c 5 -n 20000 -r 1000000 --csv 2>/dev/null | tail -1)
    kill "$BG" 2>/dev/null || true; wait "$BG" 2>/dev/null || true; BG=""
    stop_server
    printf 'mixed\t%s\t5\t%s\t%s\t%s\t%s\n' "$who" "$rep" "$(csv_field "$line" 2)" "$(csv_field "$line" 5)" \
      "$(csv_field "$line" 7)" >>"$ROWS"
    echo "rep $rep $who mixed: $(csv_field "$line" 2) GET/s p50 $(csv_field "$line" 5) p99 $(csv_field "$line" 7) ms"
  done
done

python3 - "$ROWS" "$REPEATS" "$FSYNC_US" <<'EOF'
import platform, re, statistics, subprocess, sys
rows_f, repeats, fsync_us = sys.argv[1:4]
rows = [l.rstrip("\n").split("\t") for l in open(rows_f) if l.strip()]
def med(kind, who, clients, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == kind and r[1] == who and r[2] == clients)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
ncpu = open("/proc/cpuinfo").read().count("processor\t")
rv = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
lines = ["## appendfsync always: clients and reads (benches/aof_always.sh)", "",
         f"Machine: {cpu}, {ncpu} cpus, {platform.release()}; {rv}. The AOF directory is on the root disk,",
         f"whose fdatasync of a 4 KiB append takes {fsync_us} µs (median).",
         f"Command: `benches/aof_always.sh --repeats {repeats}`; Tessera with 1 shard; servers on cpu 1, clients on",
         "cpu 0; medians over the repeats.", "",
         "SET throughput (`redis-benchmark -t set -c C -r 1000000 -d 16`, no pipelining). `/ 1 fsync per SET`",
         f"divides by {1e6 / float(fsync_us):,.0f} SET/s, what one fsync per command would allow on this disk: group commit",
         "is what lifts a server above 1.", "",
         "| clients | Redis SET/s | Tessera SET/s | Tessera/Redis | Redis / 1 fsync per SET | Tessera / 1 fsync per SET | Redis p99 ms | Tessera p99 ms |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|"]
bound = 1e6 / float(fsync_us)
for c in ("1", "10", "50", "200"):
    r, t = med("scale", "redis", c, 4), med("scale", "tessera", c, 4)
    lines.append(f"| {c} | {r:,.0f} | {t:,.0f} | {t / r:.2f} | {r / bound:.1f} | {t / bound:.1f} | {med('scale', 'redis', c, 6):.3f} | {med('scale', 'tessera', c, 6):.3f} |")
r, t = med("mixed", "redis", "5", 4), med("mixed", "tessera", "5", 4)
lines += ["", "Reads during writes: 5 GET clients while 50 SET clients run:", "",
          "| | Redis | Tessera | Tessera/Redis |", "|---|---:|---:|---:|",
          f"| GET/s | {r:,.0f} | {t:,.0f} | {t / r:.2f} |",
          f"| GET p50 ms | {med('mixed', 'redis', '5', 5):.3f} | {med('mixed', 'tessera', '5', 5):.3f} | |",
          f"| GET p99 ms | {med('mixed', 'redis', '5', 6):.3f} | {med('mixed', 'tessera', '5', 6):.3f} | |"]
lines += ["", "| run | server | clients | rep | ops/s | p50 ms | p99 ms |", "|---|---|---:|---:|---:|---:|---:|"]
lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {float(r[4]):,.0f} | {r[5]} | {r[6]} |" for r in rows]
sys.path.insert(0, "benches")
from results_section import write_section
write_section("aof_always.sh", lines)
EOF
