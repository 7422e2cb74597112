#!/usr/bin/env bash
# benches/cluster.sh: how fast a 3-master cluster of Tessera nodes forms and detects a dead
# node, next to a 3-master cluster of redis-server nodes, measured the same way in one run.
#
# Per repeat and per kind (redis, tessera):
#   create  time from launching `redis-cli --cluster create ... --cluster-yes` until every node
#           answers cluster_state:ok and all three CLUSTER NODES agree (ids, roles, epochs, slots)
#   fail    time from SIGKILL of the third node until both survivors flag it `fail` (not `fail?`)
#   downed  time from the same SIGKILL until both survivors answer cluster_state:fail
# with cluster-node-timeout 5000 ms (the deployment default of our users' guide). Polls every
# 20 ms, so times are +-20 ms. Medians over the repeats.
#
# Owns: its servers (started here, stopped by pid, on free ports whose +10000 bus port is free
# too). Never: touches other processes. Rewrites the "Cluster formation and failure detection"
# section of benches/RESULTS.md (between its markers) and leaves the rest of the file alone.
#
# Usage: benches/cluster.sh [--repeats N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=3
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) REPEATS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: benches/cluster.sh [--repeats N] [--no-build]" >&2; exit 2 ;;
  esac
done
NODE_TIMEOUT_MS=5000
TESSERA=target/release/tessera-server
[ "$BUILD" = 1 ] && cargo build --release --quiet --bin tessera-server
WORK=$(mktemp -d /tmp/tessera-cluster-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { # a port free for clients and for the bus (+10000)
  python3 - <<'EOF'
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p > 55000: continue
    try:
        b = socket.socket(); b.bind(("127.0.0.1", p + 10000)); b.close()
    except OSError:
        continue
    print(p); break
EOF
}
now_ms() { date +%s%3N; }
cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$@" 2>/dev/null || true; }

start_node() { # start_node KIND DIR PORT -> pid on stdout
  local kind=$1 dir=$2 port=$3
  mkdir -p "$dir"
  if [ "$kind" = redis ]; then
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout $NODE_TIMEOUT_MS \
      >"$dir/log" 2>&1 &
  else
    "$TESSERA" --port "$port" --bind 127.0.0.1 --save '' --dir "$dir" --shards 2 \
      --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout $NODE_TIMEOUT_MS \
      >"$dir/log" 2>&1 &
  fi
  echo $!
}

topology() { # the agreed part of CLUSTER NODES: id addr role epoch slots
  cli "$1" cluster nodes | awk '{f=$3; sub("myself,","",f); s=""; for(i=9;i<=NF;i++) s=s" "$i; print $1, $2, f, $7, s}' | sort
}

agreed() { # agreed PORT... : all ok and equal topologies of the expected size
  local first; first=$(topology "$1")
  [ "$(printf '%s\n' "$first" | grep -c .)" = "$#" ] || return 1
  for p in "$@"; do
    [ "$(cli "$p" cluster info | tr -d '\r' | awk -F: '$1=="cluster_state"{print $2}')" = ok ] || return 1
    [ "$(topology "$p")" = "$first" ] || return 1
  done
}

flag_of() { cli "$1" cluster nodes | awk -v a="127.0.0.1:$2@" 'index($2,a)==1{print $3}'; }
state_of() { cli "$1" cluster info | tr -d '\r' | awk -F: '$1=="cluster_state"{print $2}'; }

RESULTS_TSV="$WORK/runs.tsv"
: >"$RESULTS_TSV"
measure() { # measure KIND REP
  local kind=$1 rep=$2 ports=() pids=() i t0 t1 deadline
  for i in 0 1 2; do
    ports[i]=$(free_port)
    pids[i]=$(start_node "$kind" "$WORK/$kind-$rep-$i" "${ports[i]}")
    PIDS+=("${pids[i]}")
  done
  for p in "${ports[@]}"; do
    deadline=$(( $(now_ms) + 20000 ))
    until [ "$(cli "$p" ping)" = PONG ]; do [ "$(now_ms)" -lt "$deadline" ] || { echo "$kind node $p did not start" >&2; return 1; }; sleep 0.02; done
  done
  t0=$(now_ms)
  redis-cli --cluster create "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]}" "127.0.0.1:${ports[2]}" \
    --cluster-replicas 0 --cluster-yes >"$WORK/create-$kind-$rep.log" 2>&1
  deadline=$(( t0 + 60000 ))
  until agreed "${ports[@]}"; do [ "$(now_ms)" -lt "$deadline" ] || { echo "$kind: no agreement" >&2; return 1; }; sleep 0.02; done
  t1=$(now_ms)
  local create_ms=$(( t1 - t0 ))
  kill -9 "${pids[2]}"
  t0=$(now_ms)
  local fail_ms="" down_ms=""
  deadline=$(( t0 + 60000 ))
  while [ -z "$fail_ms" ] || [ -z "$down_ms" ]; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "$kind: no FAIL within 60 s" >&2; return 1; }
    local f0 f1
    f0=$(flag_of "${ports[0]}" "${ports[2]}"); f1=$(flag_of "${ports[1]}" "${ports[2]}")
    if [ -z "$fail_ms" ] && [[ $f0 == *fail* && $f0 != *fail\?* && $f1 == *fail* && $f1 != *fail\?* ]]; then
      fail_ms=$(( $(now_ms) - t0 ))
    fi
    if [ -z "$down_ms" ] && [ "$(state_of "${ports[0]}")" = fail ] && [ "$(state_of "${ports[1]}")" = fail ]; then
      down_ms=$(( $(now_ms) - t0 ))
    fi
    sleep 0.02
  done
  kill "${pids[0]}" "${pids[1]}" 2>/dev/null || true
  wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$rep" "$create_ms" "$fail_ms" "$down_ms" | tee -a "$RESULTS_TSV"
}

echo "kind	rep	create_ms	fail_ms	downed_ms"
for rep in $(seq 1 "$REPEATS"); do
  if [ $((rep % 2)) = 1 ]; then order="redis tessera"; else order="tessera redis"; fi
  for kind in $order; do measure "$kind" "$rep"; done
done

python3 - "$RESULTS_TSV" "$REPEATS" "$NODE_TIMEOUT_MS" <<'EOF'
import re, statistics, subprocess, sys, platform
runs, repeats, timeout = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(runs) if l.strip()]
med = {}
for kind in ("redis", "tessera"):
    rs = [r for r in rows if r[0] == kind]
    med[kind] = [statistics.median(int(r[i]) for r in rs) for i in (2, 3, 4)]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
rv = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
lines = ["## Cluster formation and failure detection (benches/cluster.sh)", "",
         f"Machine: {cpu}, {len(open('/proc/cpuinfo').read().split('processor')) - 1} cpus, {platform.release()}; {rv}.",
         f"Command: `benches/cluster.sh --repeats {repeats}`. Three masters per cluster, `--cluster-node-timeout {timeout}`,",
         "Tessera nodes with `--shards 2`; polls every 20 ms. Medians over the repeats; every run below.", "",
         "| measure | Redis | Tessera | Tessera/Redis |", "|---|---:|---:|---:|"]
names = ["`redis-cli --cluster create` to full agreement (ms)", "SIGKILL to FAIL on both survivors (ms)",
         "SIGKILL to `cluster_state:fail` on both survivors (ms)"]
for i, n in enumerate(names):
    r, t = med["redis"][i], med["tessera"][i]
    lines.append(f"| {n} | {r:.0f} | {t:.0f} | {t / r:.2f} |")
lines += ["", "Gossip bandwidth per node at rest, from the cluster simulator (`cargo test --lib testing::sim`,",
          "node timeout 15 s, all masters): 10 nodes 6,095 B/s, 100 nodes 74,393 B/s, 500 nodes 659,079 B/s",
          "(`cargo test --release --lib -- --ignored gossip_bandwidth_500`).", "",
          "| kind | rep | create ms | fail ms | downed ms |", "|---|---:|---:|---:|---:|"]
lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} |" for r in rows]
sys.path.insert(0, "benches")
from results_section import write_section
write_section("cluster.sh", lines)
EOF
