#!/usr/bin/env bash
# Compares tessera-loadgen with redis-benchmark on one client core against the same
# redis-server (pinned to another core): throughput and client CPU time per request.
#
# Usage: loadgen/scripts/compare-redis-benchmark.sh [REPEATS] [REQUESTS_P1] [REQUESTS_P16]
# Prints every run, then the median of each (test, pipeline, tool) over the repeats.
# KEYS=1 (default) uses one key for both tools, as plain `redis-benchmark -t set,get` does;
# KEYS=N uses N random keys (`redis-benchmark -r N`, `tessera-loadgen --keys N`).
# Needs redis-server and redis-benchmark on PATH and at least 2 cores.
set -euo pipefail

REPEATS=${1:-5}
REQUESTS_P1=${2:-200000}
REQUESTS_P16=${3:-1000000}
CLIENT_CORE=${CLIENT_CORE:-0}
SERVER_CORE=${SERVER_CORE:-1}
KEYS=${KEYS:-1}
RANDOM_KEYS=()
[ "$KEYS" -gt 1 ] && RANDOM_KEYS=(-r "$KEYS")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

cargo build -q -p tessera-loadgen --release --manifest-path "$ROOT/Cargo.toml"
LOADGEN="$ROOT/target/release/tessera-loadgen"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)

taskset -c "$SERVER_CORE" redis-server --port "$PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
cleanup() { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

# Prints "<ops/s> <client cpu seconds>" for one run.
run_benchmark() { # test pipeline requests
    local cpu rps
    rps=$( { /usr/bin/time -f '%U %S' -o "$WORK/time" taskset -c "$CLIENT_CORE" \
        redis-benchmark -p "$PORT" -t "$1" -n "$3" -P "$2" -c 50 "${RANDOM_KEYS[@]}" -q; } 2>&1 \
        | tr '\r' '\n' | awk '/requests per second/ {print $2}' | tail -1)
    cpu=$(awk '{print $1 + $2}' "$WORK/time")
    echo "$rps $cpu"
}
run_loadgen() { # test pipeline requests
    local cpu rps
    /usr/bin/time -f '%U %S' -o "$WORK/time" taskset -c "$CLIENT_CORE" "$LOADGEN" \
        --port "$PORT" --threads 1 --connections 50 --pipeline "$2" -n "$3" \
        -w "$1" --keys "$KEYS" -q --json "$WORK/report.json" >/dev/null
    rps=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["totals"]["ops_per_sec"], 2))' "$WORK/report.json")
    cpu=$(awk '{print $1 + $2}' "$WORK/time")
    echo "$rps $cpu"
}

printf '%-6s %-3s %-4s %-16s %12s %10s %12s\n' test P rep tool ops/s cpu_s cpu_us/op | tee "$WORK/runs"
for rep in $(seq "$REPEATS"); do
    for pipeline in 1 16; do
        requests=$REQUESTS_P1
        [ "$pipeline" = 16 ] && requests=$REQUESTS_P16
        for test in set get; do
            for tool in redis-benchmark tessera-loadgen; do
                if [ "$tool" = redis-benchmark ]; then
                    read -r rps cpu < <(run_benchmark "$test" "$pipeline" "$requests")
                else
                    read -r rps cpu < <(run_loadgen "$test" "$pipeline" "$requests")
                fi
                per_op=$(python3 -c "print(round($cpu * 1e6 / $requests, 3))")
                printf '%-6s %-3s %-4s %-16s %12s %10s %12s\n' \
                    "$test" "$pipeline" "$rep" "$tool" "$rps" "$cpu" "$per_op" | tee -a "$WORK/runs"
            done
        done
    done
done

echo
echo "medians over $REPEATS repeats (keys: $KEYS)"
python3 - "$WORK/runs" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]).read().split("\n")[1:]:
    f = line.split()
    if len(f) == 7:
        rows.setdefault((f[0], f[1], f[3]), []).append((float(f[4]), float(f[6])))
print(f"{'test':<6} {'P':<3} {'tool':<16} {'ops/s':>12} {'cpu_us/op':>10}")
for (test, p, tool), runs in sorted(rows.items(), key=lambda kv: (int(kv[0][1]), kv[0][0], kv[0][2])):
    print(f"{test:<6} {p:<3} {tool:<16} {statistics.median(r[0] for r in runs):>12.0f} "
          f"{statistics.median(r[1] for r in runs):>10.2f}")
PY
