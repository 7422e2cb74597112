#!/usr/bin/env bash
# benches/compare.sh: Tessera next to redis-server on this machine, in one run, same profiles,
# same clients, interleaved repeats; rewrites benches/RESULTS.md (machine, exact commands,
# medians, Tessera/Redis ratios, every single run). See benches/README.md.
#
# Owns: starting/stopping its own servers (by pid), the measurement loop, the report.
# Never: touches servers it did not start, reuses a port something else listens on, or
# leaves a process behind (trap on EXIT/INT/TERM stops every pid it started).
#
# Three servers run side by side (idle servers cost no CPU, so the runs can interleave):
#   redis      redis-server            pinned to SERVER_CPU (default 1)
#   tessera    tessera-server --shards 1 pinned to SERVER_CPU
#   tessera2   tessera-server --shards 2 unpinned (owns every core; its client is unpinned too)
# Clients for redis/tessera are pinned to CLIENT_CPU (default 0).
# Phase 1 (100,000 keys, 3-byte values): SET/GET at -P 1 and -P 16, 50 connections, with
#   redis-benchmark and with tessera-loadgen.
# Phase 2 (fresh servers, 1,000,000 keys, 16-byte values): memory per key after the load,
#   then tessera-loadgen mixed 1:10 SET:GET, zipf 0.99, closed loop at -P 1 and -P 16, and
#   open loop at a fixed 50,000 ops/s (latency from the intended send time).
# Phase 3 (fresh servers): memory per element of hashes, lists, sets (strings and integers),
#   sorted sets and streams, 20,000 keys x 8 elements and 8 keys x 20,000 elements, loaded with
#   redis-cli --pipe, with OBJECT ENCODING of a sample key; then redis-benchmark HSET HGET LPUSH
#   LPOP ZADD ZRANGE SADD XADD at -P 1 and -P 16 (XADD skipped where COMMAND INFO xadd is empty).
# Optional (--ceiling): ../shared/tools/netceil/ceiling.sh, pasted verbatim.
#
# Usage: benches/compare.sh [--quick] [--ceiling] [--no-build]
#   --quick     1 repeat, short runs (validation, about 4 minutes); default: 3 repeats (~20 min)
#   --ceiling   also run the netceil ceiling script (a few more minutes)
#   --no-build  use the binaries already in target/release
# Environment: SERVER_CPU, CLIENT_CPU, BASE_PORT (first port tried, default 7741).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=full; CEILING=0; BUILD=1
for arg in "$@"; do
  case $arg in
    --quick) MODE=quick ;;
    --ceiling) CEILING=1 ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

SERVER_CPU=${SERVER_CPU:-1}; CLIENT_CPU=${CLIENT_CPU:-0}
CLIENTS=50; RATE=50000
KEYS_SMALL=100000            # phase 1 key space (redis-benchmark -r, loadgen --keys)
KEYS_BIG=1000000; VALUE_BIG=16
SMALL_KEYS=20000; SMALL_ELEMS=8   # phase 3 memory: many small objects (listpack/intset encodings)
LARGE_KEYS=8; LARGE_ELEMS=20000   # and a few large ones (hashtable/quicklist/skiplist encodings)
if [ $MODE = quick ]; then
  REPEATS=1; N1=50000; N16=500000; MIXED_S=3; OPEN_S=5
else
  REPEATS=3; N1=200000; N16=1000000; MIXED_S=8; OPEN_S=20
fi
RUN_TIMEOUT_S=300            # a client that hangs (dead server) fails its run instead of the script

die() { echo "compare.sh: $*" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || die "needs at least 2 cpus (server and client on separate cores)"
for tool in redis-server redis-cli redis-benchmark taskset python3 timeout; do
  command -v $tool >/dev/null || die "$tool not found"
done
if [ $BUILD = 1 ]; then
  cargo build --release -q -p tessera -p tessera-loadgen || die "cargo build failed (retry, or --no-build)"
fi
BIN=target/release/tessera-server
LOADGEN=target/release/tessera-loadgen
[ -x $BIN ] && [ -x $LOADGEN ] || die "$BIN or $LOADGEN missing"

WORK=$(mktemp -d /tmp/tessera-compare.XXXXXX)
RUNS=$WORK/runs.tsv; MEM=$WORK/mem.tsv; CMDS=$WORK/commands.txt; PROBLEMS=$WORK/problems.txt
TMEM=$WORK/typemem.tsv
: >"$RUNS"; : >"$MEM"; : >"$CMDS"; : >"$PROBLEMS"; : >"$TMEM"
T_START=$(date +%s); DATE=$(date -u '+%Y-%m-%d %H:%M UTC'); LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
TCK=$(getconf CLK_TCK)

# ---- processes ------------------------------------------------------------------------
pids=()
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }
stop_pid() { # SIGTERM, then SIGKILL after 5 s; always reaps
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    echo "pid $pid ignored SIGTERM for 5 s; SIGKILL" | tee -a "$PROBLEMS" >&2
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  local keep=() q   # forget it: a reused pid must never be signalled by cleanup
  for q in "${pids[@]}"; do [ "$q" = "$pid" ] || keep+=("$q"); done
  pids=("${keep[@]}")
}
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do alive "$p" && stop_pid "$p"; done
  if [ $rc = 0 ]; then rm -rf "$WORK"; else echo "compare.sh failed; logs kept in $WORK" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NEXT_PORT=${BASE_PORT:-7741}
pick_port() { # sets PORT to a port nobody listens on (a bind test first: SO_REUSEPORT servers
  # would share a port with us silently; then PING as the brief asks)
  local p=$NEXT_PORT
  while :; do
    [ $p -lt 65000 ] || die "no free port"
    if python3 -c 'import socket,sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' $p 2>/dev/null \
       && ! timeout 2 redis-cli -p $p ping >/dev/null 2>&1; then break; fi
    p=$((p + 1))
  done
  PORT=$p; NEXT_PORT=$((p + 1))
}

on_cpu() { local c=$1; shift; if [ "$c" = - ]; then "$@"; else taskset -c "$c" "$@"; fi; }
logcmd() { # logcmd PORT CMD...: the exact command, port as $PORT and temp paths shortened
  local port=$1 a line=""; shift
  for a in "$@"; do
    if [ "$a" = "$port" ]; then a='$PORT'; elif [[ $a == "$WORK"/* ]]; then a=${a#"$WORK"/}; else a=$(printf '%q' "$a"); fi
    line+="$a "
  done
  echo "${line% }" >>"$CMDS"
}

declare -A SPID SPORT CCPU DEAD
start_server() { # start_server WHO CPU CMD... (PORT must be set; CMD contains it)
  local who=$1 cpu=$2; shift 2
  logcmd "$PORT" $([ "$cpu" = - ] || echo taskset -c "$cpu") "$@"
  # A simple command, not a function: $! must be the server's own pid (taskset execs it),
  # or the CPU and RSS figures read a subshell and stopping it would orphan the server.
  if [ "$cpu" = - ]; then "$@" >"$WORK/$who.log" 2>&1 & else taskset -c "$cpu" "$@" >"$WORK/$who.log" 2>&1 & fi
  local pid=$!
  pids+=("$pid"); SPID[$who]=$pid; SPORT[$who]=$PORT; DEAD[$who]=""
  CCPU[$who]=$([ "$cpu" = - ] && echo - || echo "$CLIENT_CPU")
  for _ in $(seq 200); do
    timeout 2 redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && return 0
    alive "$pid" || { cat "$WORK/$who.log" >&2; die "$who exited at start"; }
    sleep 0.1
  done
  die "$who never answered PING on port $PORT"
}
start_all() {
  pick_port; start_server redis "$SERVER_CPU" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
  pick_port; start_server tessera "$SERVER_CPU" $BIN --port "$PORT" --bind 127.0.0.1 --shards 1 --save ''
  pick_port; start_server tessera2 - $BIN --port "$PORT" --bind 127.0.0.1 --shards 2 --save ''
}
stop_all() { # a panic (or Redis's own warnings) in a server log is worth a line in the report
  local w
  for w in redis tessera tessera2; do
    stop_pid "${SPID[$w]}"
    grep -i -m3 -e panic -e 'fatal' "$WORK/$w.log" | sed "s/^/$w log: /" >>"$PROBLEMS" || true
  done
}
check_alive() { # after a failed run: a dead server is a finding, its later runs are skipped
  local who=$1
  if ! alive "${SPID[$who]}"; then
    DEAD[$who]=1
    { echo "$who (pid ${SPID[$who]}) died; last log lines:"; tail -5 "$WORK/$who.log"; } | tee -a "$PROBLEMS" >&2
  fi
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
order() { # servers in rep order: reversed on even reps so drift hits both sides alike
  if [ $(($1 % 2)) = 1 ]; then echo redis tessera tessera2; else echo tessera2 tessera redis; fi
}

# ---- one run = one row of runs.tsv ----------------------------------------------------
# columns: tool profile who rep ops_per_sec server_us_per_req p50_us p99_us p999_us max_us errors
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RUNS"; }

run_rb() { # run_rb WHO REP TEST P N [COMMAND ARGS...]: the built-in test -t TEST, or the command given
  local who=$1 rep=$2 t=$3 P=$4 N=$5 port=${SPORT[$1]} spid=${SPID[$1]} c0 c1 out rps us
  shift 5
  [ -z "${DEAD[$who]}" ] || return 0
  local cmd=(redis-benchmark -p "$port" -t "$t" -n "$N" -P "$P" -c $CLIENTS -r $KEYS_SMALL --csv)
  [ $# = 0 ] || cmd=(redis-benchmark -p "$port" -n "$N" -P "$P" -c $CLIENTS -r $KEYS_SMALL --csv "$@")
  [ "$rep" = 1 ] && logcmd "$port" $([ "${CCPU[$who]}" = - ] || echo taskset -c "${CCPU[$who]}") "${cmd[@]}"
  c0=$(ticks "$spid")
  out=$(on_cpu "${CCPU[$who]}" timeout -k 5 $RUN_TIMEOUT_S "${cmd[@]}" 2>"$WORK/client.err") || true
  c1=$(ticks "$spid")
  rps=$(awk -F'"' 'NR>1{print $4; exit}' <<<"$out")
  if [ -z "$rps" ]; then
    echo "redis-benchmark $t -P $P against $who failed: $(head -c 300 "$WORK/client.err")" | tee -a "$PROBLEMS" >&2
    row redis-benchmark "$t-P$P" "$who" "$rep" nan nan nan nan nan nan fail; check_alive "$who"; return 0
  fi
  us=$(python3 -c "print('%.3f' % (($c1 - $c0) * 1e6 / $TCK / $N))")
  # redis-benchmark's CSV latencies are ms, measured per pipeline batch (see README).
  read -r p50 p99 mx < <(awk -F'"' 'NR>1{printf "%.0f %.0f %.0f\n", $10*1000, $14*1000, $16*1000; exit}' <<<"$out")
  row redis-benchmark "$t-P$P" "$who" "$rep" "$rps" "$us" "$p50" "$p99" nan "$mx" -
  printf '  rep %s  redis-benchmark %-10s %-9s %10.0f ops/s %7s us/req\n' "$rep" "$t-P$P" "$who" "$rps" "$us"
}

run_lg() { # run_lg WHO REP PROFILE LOADGEN-ARGS...
  local who=$1 rep=$2 profile=$3 port=${SPORT[$1]} spid=${SPID[$1]} c0 c1 rc=0 vals
  shift 3
  [ -z "${DEAD[$who]}" ] || return 0
  local cmd=($LOADGEN --port "$port" -t 1 -c $CLIENTS -q --json "$WORK/report.json" "$@")
  [ "$rep" = 1 ] && logcmd "$port" $([ "${CCPU[$who]}" = - ] || echo taskset -c "${CCPU[$who]}") "${cmd[@]}"
  rm -f "$WORK/report.json"
  c0=$(ticks "$spid")
  on_cpu "${CCPU[$who]}" timeout -k 5 $RUN_TIMEOUT_S "${cmd[@]}" >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
  c1=$(ticks "$spid")
  if [ $rc != 0 ] || [ ! -s "$WORK/report.json" ]; then
    echo "loadgen $profile against $who failed (exit $rc): $(head -c 300 "$WORK/client.err")" | tee -a "$PROBLEMS" >&2
    row loadgen "$profile" "$who" "$rep" nan nan nan nan nan nan fail; check_alive "$who"; return 0
  fi
  # ops/s, server CPU per request (ticks over the whole run / requests answered), latencies, errors
  vals=$(python3 - "$WORK/report.json" "$c0" "$c1" "$TCK" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); t = j["totals"]; l = t["latency_us"]
c0, c1, tck = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
us = (c1 - c0) * 1e6 / tck / t["ops"] if t["ops"] else float("nan")
err = t["errors"] + j.get("connection_errors", 0)
print("%.1f %.3f %d %d %d %d %d" % (t["ops_per_sec"], us, l["p50"], l["p99"], l["p99_9"], l["max"], err))
PY
) || vals=""
  if [ -z "$vals" ]; then
    echo "loadgen $profile against $who: unreadable report.json" | tee -a "$PROBLEMS" >&2
    row loadgen "$profile" "$who" "$rep" nan nan nan nan nan nan fail; return 0
  fi
  read -r ops us p50 p99 p999 mx err <<<"$vals"
  row loadgen "$profile" "$who" "$rep" "$ops" "$us" "$p50" "$p99" "$p999" "$mx" "$err"
  printf '  rep %s  loadgen %-14s %-9s %10.0f ops/s %7s us/req  p50 %6s p99 %6s p99.9 %6s us  errors %s\n' \
    "$rep" "$profile" "$who" "$ops" "$us" "$p50" "$p99" "$p999" "$err"
  [ "$err" = 0 ] || echo "loadgen $profile against $who: $err errors ($(grep -m3 -i err "$WORK/client.out" | tr '\n' ' '))" >>"$PROBLEMS"
}

preload() { # preload WHO KEYS VALUE_SIZE: every key 0..KEYS-1 written once, then checked
  local who=$1 keys=$2 vsize=$3 port=${SPORT[$1]} rc=0 n
  local cmd=($LOADGEN --port "$port" -t 1 -c $CLIENTS -P 16 -q -w set --distribution sequential
             --keys "$keys" -n "$keys" --value-size "$vsize")
  logcmd "$port" $([ "${CCPU[$who]}" = - ] || echo taskset -c "${CCPU[$who]}") "${cmd[@]}"
  on_cpu "${CCPU[$who]}" timeout -k 5 $RUN_TIMEOUT_S "${cmd[@]}" >/dev/null 2>"$WORK/client.err" || rc=$?
  n=$(timeout 10 redis-cli -p "$port" dbsize 2>/dev/null || echo "?")
  if [ $rc != 0 ] || [ "$n" != "$keys" ]; then
    echo "preload of $keys keys into $who: exit $rc, DBSIZE $n" | tee -a "$PROBLEMS" >&2; check_alive "$who"
  fi
}
info_field() { timeout 10 redis-cli -p "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1==f{print $2}'; }
rss_bytes() { awk '/VmRSS/{print $2 * 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }

echo "== compare.sh ($MODE, $REPEATS repeat(s)); work dir $WORK"

# ---- phase 1: SET/GET, 100k keys ------------------------------------------------------
echo "== phase 1: SET/GET at -P 1 and -P 16 (redis-benchmark and tessera-loadgen)"
start_all
# loadgen's GETs should hit: write its 100k keys once (redis-benchmark's GETs hit what its SETs wrote).
for who in redis tessera tessera2; do preload $who $KEYS_SMALL 3; done
for rep in $(seq $REPEATS); do
  for P in 1 16; do
    N=$([ $P = 1 ] && echo $N1 || echo $N16)
    for t in set get; do
      for who in $(order "$rep"); do
        run_rb "$who" "$rep" "$t" "$P" "$N"
        run_lg "$who" "$rep" "$t-P$P" -w "$t" -P "$P" -n "$N" --keys $KEYS_SMALL
      done
    done
  done
done
stop_all

# ---- phase 2: 1M keys: memory, mixed zipf, open loop ----------------------------------
echo "== phase 2: 1,000,000 keys: memory, mixed 1:10 zipf 0.99, open loop at $RATE ops/s"
start_all
for who in redis tessera tessera2; do
  u0=$(info_field "${SPORT[$who]}" used_memory); r0=$(rss_bytes "${SPID[$who]}")
  preload $who $KEYS_BIG $VALUE_BIG
  u1=$(info_field "${SPORT[$who]}" used_memory); r1=$(rss_bytes "${SPID[$who]}")
  n=$(timeout 10 redis-cli -p "${SPORT[$who]}" dbsize 2>/dev/null || echo 0)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$who" "$n" "${u0:-nan}" "${u1:-nan}" "$r0" "$r1" >>"$MEM"
  echo "  $who: $n keys, used_memory +$(( (${u1:-0} - ${u0:-0}) / 1000000 )) MB, RSS +$(( (r1 - r0) / 1000000 )) MB"
done
MIX=(-w mixed --ratio 1:10 --keys $KEYS_BIG --distribution zipf:0.99 --value-size $VALUE_BIG)
for rep in $(seq $REPEATS); do
  for P in 1 16; do
    for who in $(order "$rep"); do run_lg "$who" "$rep" "mixed-P$P" "${MIX[@]}" -P "$P" -d "${MIXED_S}s"; done
  done
  for who in $(order "$rep"); do run_lg "$who" "$rep" open-50k "${MIX[@]}" -P 1 --rate $RATE -d "${OPEN_S}s"; done
done
stop_all

# ---- phase 3: data types: memory per element, then throughput -------------------------
# RESP files written once and fed to every server with `redis-cli --pipe` (the load takes
# about a second): the memory shapes, then the keys the throughput tests read.
echo "== phase 3: data types: memory per element (small and large objects), throughput at -P 1 and -P 16"
RESP_DIR=$WORK/resp; mkdir -p "$RESP_DIR"
python3 - "$RESP_DIR" $SMALL_KEYS $SMALL_ELEMS $LARGE_KEYS $LARGE_ELEMS $KEYS_SMALL <<'PY'
import sys
d, sk, se, lk, le, nfields = sys.argv[1], *map(int, sys.argv[2:7])
CHUNK = 100  # elements per command for the large objects, as an application would batch them

def resp(args):
    a = [x.encode() for x in args]
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)

# element j of each type: strings are 8 bytes, integers small enough for a 16-bit intset.
ELEM = {
    "hash": ("HSET", lambda j: ["e:%06d" % j, "v:%06d" % j]),
    "list": ("RPUSH", lambda j: ["e:%06d" % j]),
    "set": ("SADD", lambda j: ["e:%06d" % j]),
    "intset": ("SADD", lambda j: [str(j)]),
    "zset": ("ZADD", lambda j: [str(j), "e:%06d" % j]),
}
PREFIX = {"hash": "h", "list": "l", "set": "s", "intset": "i", "zset": "z", "stream": "x"}

def write(ty, shape, keys, elems):
    with open("%s/%s-%s.resp" % (d, ty, shape), "wb") as f:
        for k in range(keys):
            key = ("%s:%05d" % (PREFIX[ty], k)) if shape == "small" else ("%s:%d" % (PREFIX[ty].upper(), k))
            if ty == "stream":  # one entry per XADD, as producers write them
                f.write(b"".join(resp(["XADD", key, "*", "f", "v:%06d" % j]) for j in range(elems)))
                continue
            name, el = ELEM[ty]
            step = elems if shape == "small" else CHUNK
            for j0 in range(0, elems, step):
                args = [name, key]
                for j in range(j0, min(elems, j0 + step)):
                    args += el(j)
                f.write(resp(args))

for ty in ("hash", "list", "set", "intset", "zset", "stream"):
    write(ty, "small", sk, se)
    write(ty, "large", lk, le)
# throughput: the fields HGET asks for (as redis-benchmark's HSET names them) and ZRANGE's zset
with open(d + "/bench.resp", "wb") as f:
    for i0 in range(0, nfields, 1000):
        args = ["HSET", "myhash"]
        for i in range(i0, min(nfields, i0 + 1000)):
            args += ["element:%012d" % i, "xxx"]
        f.write(resp(args))
    f.write(resp(["ZADD", "zr100"] + [x for i in range(100) for x in (str(i), "m:%03d" % i)]))
PY

has_cmd() { timeout 10 redis-cli -p "$1" command info "$2" 2>/dev/null | grep -qix "$2"; }
pipe_load() { # pipe_load WHO FILE: redis-cli --pipe from the client cpu; fails unless every reply came and none was an error
  local who=$1 file=$2 port=${SPORT[$1]} rc=0
  logcmd "$port" $([ "${CCPU[$who]}" = - ] || echo taskset -c "${CCPU[$who]}") redis-cli -p "$port" --pipe
  sed -i '$ s|$| < '"${file#"$WORK"/}"'|' "$CMDS"
  on_cpu "${CCPU[$who]}" timeout -k 5 $RUN_TIMEOUT_S redis-cli -p "$port" --pipe <"$file" >"$WORK/pipe.out" 2>&1 || rc=$?
  [ $rc = 0 ] && grep -q '^errors: 0,' "$WORK/pipe.out" && return 0
  echo "redis-cli --pipe < ${file#"$WORK"/} into $who: exit $rc, $(tail -1 "$WORK/pipe.out")" | tee -a "$PROBLEMS" >&2
  check_alive "$who"; return 1
}
declare -A PFX=([hash]=h [list]=l [set]=s [intset]=i [zset]=z [stream]=x)   # as in the generator
declare -A LEN_CMD=([hash]=hlen [list]=llen [set]=scard [intset]=scard [zset]=zcard [stream]=xlen)
declare -A NOXADD
start_all
for who in redis tessera tessera2; do
  if ! has_cmd "${SPORT[$who]}" xadd; then
    NOXADD[$who]=1
    echo "$who: COMMAND INFO xadd is empty (no stream commands in this build): XADD and the stream memory rows skipped" \
      | tee -a "$PROBLEMS" >&2
  fi
done
# columns: server type shape keys elements used_memory_before used_memory_after encoding status
for who in redis tessera tessera2; do
  port=${SPORT[$who]}
  for ty in hash list set intset zset stream; do
    for shape in small large; do
      # the sample key: the first key of the shape, named as the generator names it
      if [ $shape = small ]; then keys=$SMALL_KEYS; el=$SMALL_ELEMS; sample=${PFX[$ty]}:00000
      else keys=$LARGE_KEYS; el=$LARGE_ELEMS; sample=${PFX[$ty]^^}:0; fi
      line=(-1 -1 -1 -1 -1)
      if [ -n "${DEAD[$who]}" ]; then status=dead
      elif [ $ty = stream ] && [ -n "${NOXADD[$who]:-}" ]; then status=skipped
      else
        timeout 60 redis-cli -p "$port" flushall sync >/dev/null 2>&1 || true
        u0=$(info_field "$port" used_memory)
        if pipe_load "$who" "$RESP_DIR/$ty-$shape.resp"; then
          sleep 0.3   # the loader's connection closed and its buffers freed on the server
          u1=$(info_field "$port" used_memory)
          n=$(timeout 10 redis-cli -p "$port" dbsize 2>/dev/null || echo "?")
          len=$(timeout 10 redis-cli -p "$port" "${LEN_CMD[$ty]}" "$sample" 2>/dev/null || echo "?")
          enc=$(timeout 10 redis-cli -p "$port" object encoding "$sample" 2>/dev/null | tr ' ' _ || echo "?")
          status=ok
          if [ "$n" != "$keys" ] || [ "$len" != "$el" ]; then
            status=bad-count
            echo "$ty $shape in $who: DBSIZE $n (want $keys), ${LEN_CMD[$ty]} $sample $len (want $el)" | tee -a "$PROBLEMS" >&2
          fi
          line=("$keys" $((keys * el)) "${u0:-nan}" "${u1:-nan}" "${enc:-?}")
          printf '  %-9s %-7s %-6s %7d elements  %6.1f bytes/element  %s\n' "$who" "$ty" "$shape" $((keys * el)) \
            "$(python3 -c "print(($u1 - $u0) / $((keys * el)))" 2>/dev/null || echo nan)" "$enc"
        else status=load-failed; fi
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$who" "$ty" "$shape" "${line[@]}" "$status" >>"$TMEM"
    done
  done
  # the keys the throughput tests read; a failed load is a problem line, the runs still go
  timeout 60 redis-cli -p "$port" flushall sync >/dev/null 2>&1 || true
  [ -n "${DEAD[$who]}" ] || pipe_load "$who" "$RESP_DIR/bench.resp" || true
  got="$(timeout 10 redis-cli -p "$port" hlen myhash 2>/dev/null) $(timeout 10 redis-cli -p "$port" zcard zr100 2>/dev/null)"
  [ "$got" = "$KEYS_SMALL 100" ] || echo "throughput preload of $who: HLEN myhash, ZCARD zr100 = $got" | tee -a "$PROBLEMS" >&2
done
# test name -> redis-benchmark arguments (built-in test where Redis 7.0's redis-benchmark has one)
declare -A TYPE_TEST=(
  [hset]="-t hset" [hget]="HGET myhash element:__rand_int__" [lpush]="-t lpush" [lpop]="-t lpop"
  [zadd]="-t zadd" [zrange]="ZRANGE zr100 0 9" [sadd]="-t sadd" [xadd]="XADD mystream * myfield xxx")
for rep in $(seq $REPEATS); do
  for P in 1 16; do
    N=$([ $P = 1 ] && echo $N1 || echo $N16)
    for t in hset hget lpush lpop zadd zrange sadd xadd; do
      read -r -a targs <<<"${TYPE_TEST[$t]}"   # read splits words without globbing XADD's '*'
      [ "${targs[0]}" = -t ] && targs=()
      for who in $(order "$rep"); do
        [ $t = xadd ] && [ -n "${NOXADD[$who]:-}" ] && continue
        run_rb "$who" "$rep" "$t" "$P" "$N" "${targs[@]}"
      done
    done
  done
done
stop_all

# ---- optional: the network-path ceiling -----------------------------------------------
CEIL_TXT=$WORK/ceiling.txt; : >"$CEIL_TXT"
CEIL_CMD=(../shared/tools/netceil/ceiling.sh target/release/tessera-server --port 7705 --shards 1 --save '')
if [ $CEILING = 1 ]; then
  echo "== ceiling: ${CEIL_CMD[*]}"
  busy=""
  for p in 7701 7702 7703 7704 7705; do
    python3 -c 'import socket,sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' $p 2>/dev/null || busy+=" $p"
  done
  if [ -n "$busy" ]; then
    echo "(not run: ceiling.sh needs ports 7701-7705, busy:$busy)" >"$CEIL_TXT"
    echo "ceiling.sh not run: ports busy:$busy" >>"$PROBLEMS"
  elif [ ! -x ../shared/tools/netceil/ceiling.sh ]; then
    echo "(not run: ../shared/tools/netceil/ceiling.sh not found)" >"$CEIL_TXT"
  else
    "${CEIL_CMD[@]}" 2>&1 | tee "$CEIL_TXT" || echo "ceiling.sh exited non-zero" >>"$PROBLEMS"
  fi
fi

# ---- report ---------------------------------------------------------------------------
export MODE REPEATS N1 N16 MIXED_S OPEN_S RATE CLIENTS KEYS_SMALL KEYS_BIG VALUE_BIG SERVER_CPU CLIENT_CPU
export SMALL_KEYS SMALL_ELEMS LARGE_KEYS LARGE_ELEMS
export DATE LOAD_START CEILING
export LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg) ELAPSED_S=$(( $(date +%s) - T_START ))
export CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
export NPROC=$(nproc) KERNEL=$(uname -r) MEM_GB=$(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)
export REDIS_VERSION=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
export GIT_REV="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -n "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (uncommitted changes)')"
export CEIL_CMD_TXT=$(printf '%q ' "${CEIL_CMD[@]}")
python3 - "$RUNS" "$MEM" "$CMDS" "$PROBLEMS" "$CEIL_TXT" benches/RESULTS.md.new "$TMEM" <<'PY'
import collections, math, os, statistics, sys

runs_f, mem_f, cmds_f, prob_f, ceil_f, out_f, tmem_f = sys.argv[1:8]
E = os.environ
NAN = float("nan")
FIELDS = ("ops", "us", "p50", "p99", "p999", "max")
raw = [l.rstrip("\n") for l in open(runs_f) if l.strip()]
runs = collections.defaultdict(list)  # (tool, profile, who) -> [dict]
for line in raw:
    f = line.split("\t")
    d = {k: (float(v) if v not in ("-", "fail") else NAN) for k, v in zip(FIELDS, f[4:10])}
    d["errors"] = f[10]
    runs[(f[0], f[1], f[2])].append(d)

def med(tool, prof, who, field):
    v = [r[field] for r in runs.get((tool, prof, who), []) if not math.isnan(r[field])]
    return statistics.median(v) if v else NAN

def num(v, fmt="{:,.0f}"):
    return "n/a" if math.isnan(v) else fmt.format(v)

def ratio(a, b):
    return "n/a" if math.isnan(a) or math.isnan(b) or b == 0 else "%.2f" % (a / b)

def pair(tool, prof, who):
    return "%s / %s" % (num(med(tool, prof, who, "p50")), num(med(tool, prof, who, "p99")))

quick = E["MODE"] == "quick"
o = []
w = o.append
w("# Benchmark results")
w("")
if quick:
    w("> **QUICK RUN** (`benches/compare.sh --quick`: 1 repeat, short runs, on a machine busy with")
    w("> other jobs): it validates the script end to end. Do not quote these numbers; run")
    w("> `benches/compare.sh` (3 repeats, ~20 minutes) on a quiet machine for that.")
    w("")
w("Generated by `benches/compare.sh%s%s` on %s in %s s." % (
    " --quick" if quick else "", " --ceiling" if E["CEILING"] == "1" else "", E["DATE"], E["ELAPSED_S"]))
w("")
w("- Machine: %s cpus, %s, %s GiB RAM, Linux %s; load average %s at the start, %s at the end." % (
    E["NPROC"], E["CPU_MODEL"], E["MEM_GB"], E["KERNEL"], E["LOAD_START"], E["LOAD_END"]))
w("- Redis %s (`redis-server`); Tessera at git %s (`cargo build --release`)." % (E["REDIS_VERSION"], E["GIT_REV"]))
w("- `redis-server` and `tessera-server --shards 1` each pinned to cpu %s, their clients to cpu %s;"
  % (E["SERVER_CPU"], E["CLIENT_CPU"]))
w("  `tessera-server --shards 2` unpinned (its shards take both cores) and its clients unpinned too.")
w("  The three servers run side by side (an idle server uses no CPU); each repeat runs every profile")
w("  against the three in turn, in reverse order on even repeats. Medians of %s repeat(s)." % E["REPEATS"])
w("- Ratios are Tessera/Redis: above 1 means more ops/s for Tessera; for latencies, below 1 means")
w("  Tessera is faster. The `--shards 2` ratio is against the single-core Redis.")
w("- µs/req: server CPU time (utime+stime from `/proc/PID/stat`) per request answered.")
w("- Latencies: tessera-loadgen records each request's own reply time (HdrHistogram, µs);")
w("  redis-benchmark records, for every request of a pipeline batch, the time to the batch's first reply.")
w("")

w("## SET and GET, %s connections, %s random keys, 3-byte values" % (E["CLIENTS"], "{:,}".format(int(E["KEYS_SMALL"]))))
w("")
w("-P 1: %s requests per run; -P 16: %s requests per run. Before the loop each server gets the" % (
    "{:,}".format(int(E["N1"])), "{:,}".format(int(E["N16"]))))
w("100,000 loadgen keys once, so loadgen's GETs hit; redis-benchmark's GETs hit what its SETs wrote.")
w("")
w("| test | client | Redis ops/s | Tessera 1 shard ops/s | ratio | Redis µs/req | Tessera µs/req | Tessera 2 shards ops/s | ratio |")
w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for P in ("1", "16"):
    for t in ("set", "get"):
        prof = "%s-P%s" % (t, P)
        for tool in ("redis-benchmark", "loadgen"):
            r, t1, t2 = (med(tool, prof, x, "ops") for x in ("redis", "tessera", "tessera2"))
            w("| %s -P %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                t.upper(), P, "redis-benchmark" if tool == "redis-benchmark" else "tessera-loadgen",
                num(r), num(t1), ratio(t1, r), num(med(tool, prof, "redis", "us"), "{:.2f}"),
                num(med(tool, prof, "tessera", "us"), "{:.2f}"), num(t2), ratio(t2, r)))
w("")
w("tessera-loadgen latencies of the same runs, p50 / p99 in µs:")
w("")
w("| test | Redis | Tessera 1 shard | Tessera 2 shards |")
w("|---|---:|---:|---:|")
for P in ("1", "16"):
    for t in ("set", "get"):
        prof = "%s-P%s" % (t, P)
        w("| %s -P %s | %s | %s | %s |" % (t.upper(), P, *(pair("loadgen", prof, x) for x in ("redis", "tessera", "tessera2"))))
w("")

w("## Mixed 1:10 SET:GET, zipf 0.99 over 1,000,000 keys, closed loop")
w("")
w("tessera-loadgen, %s connections, %s s per run, %s-byte values, on servers preloaded with all" % (E["CLIENTS"], E["MIXED_S"], E["VALUE_BIG"]))
w("1,000,000 keys. Latencies p50 / p99 in µs.")
w("")
w("| pipeline | Redis ops/s | Tessera 1 shard ops/s | ratio | Redis µs/req | Tessera µs/req | Redis p50 / p99 | Tessera p50 / p99 | Tessera 2 shards ops/s | ratio | 2 shards p50 / p99 |")
w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for P in ("1", "16"):
    prof = "mixed-P" + P
    r, t1, t2 = (med("loadgen", prof, x, "ops") for x in ("redis", "tessera", "tessera2"))
    w("| -P %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        P, num(r), num(t1), ratio(t1, r), num(med("loadgen", prof, "redis", "us"), "{:.2f}"),
        num(med("loadgen", prof, "tessera", "us"), "{:.2f}"), pair("loadgen", prof, "redis"),
        pair("loadgen", prof, "tessera"), num(t2), ratio(t2, r), pair("loadgen", prof, "tessera2")))
w("")

w("## Open loop: %s ops/s for %s s (same mixed workload)" % ("{:,}".format(int(E["RATE"])), E["OPEN_S"]))
w("")
w("tessera-loadgen `--rate %s`, %s connections, pipeline 1. Each request's latency is measured" % (E["RATE"], E["CLIENTS"]))
w("from its intended send time, so a server that falls behind shows its queueing (coordinated")
w("omission corrected). \"achieved\" below the target rate means the schedule was not kept.")
w("")
w("| server | achieved ops/s | p50 µs | p99 µs | p99.9 µs | max µs | server µs/req | errors |")
w("|---|---:|---:|---:|---:|---:|---:|---:|")
names = {"redis": "Redis", "tessera": "Tessera 1 shard", "tessera2": "Tessera 2 shards"}
for who in ("redis", "tessera", "tessera2"):
    errs = [r["errors"] for r in runs.get(("loadgen", "open-50k", who), [])]
    w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        names[who], *(num(med("loadgen", "open-50k", who, f)) for f in ("ops", "p50", "p99", "p999", "max")),
        num(med("loadgen", "open-50k", who, "us"), "{:.2f}"), " ".join(errs) or "n/a"))
w("| Tessera 1 shard / Redis | %s | %s | %s | %s | %s | %s | |" % tuple(
    ratio(med("loadgen", "open-50k", "tessera", f), med("loadgen", "open-50k", "redis", f))
    for f in ("ops", "p50", "p99", "p999", "max", "us")))
w("")

w("## Memory: 1,000,000 keys with 16-byte values")
w("")
w("Growth of INFO `used_memory` and of the process RSS (`VmRSS`) from the fresh server to the")
w("server holding the 1,000,000 keys `key:0` .. `key:999999` (written once each by the preload;")
w("keys of 5 to 10 bytes, so not comparable with figures for longer keys).")
w("")
w("| server | keys | used_memory MB | bytes/key | RSS MB | RSS bytes/key | bytes/key vs Redis |")
w("|---|---:|---:|---:|---:|---:|---:|")
mem = {}
for line in open(mem_f):
    f = line.split()
    if len(f) == 6:
        who, n = f[0], float(f[1])
        u = float(f[3]) - float(f[2]) if "nan" not in f[2:4] else NAN
        rss = float(f[5]) - float(f[4])
        mem[who] = (n, u, rss)
for who in ("redis", "tessera", "tessera2"):
    if who in mem:
        n, u, rss = mem[who]
        per = u / n if n else NAN
        rper = mem["redis"][1] / mem["redis"][0] if "redis" in mem and mem["redis"][0] else NAN
        w("| %s | %s | %s | %s | %s | %s | %s |" % (names[who], num(n), num(u / 1e6, "{:.1f}"), num(per),
          num(rss / 1e6, "{:.1f}"), num(rss / n if n else NAN), ratio(per, rper)))
w("")

def thousands(name):
    return "{:,}".format(int(E[name]))

w("## Data types: throughput, %s connections" % E["CLIENTS"])
w("")
w("redis-benchmark with `-r %s` (`__rand_int__` is a 12-digit number below %s), its built-in test" % (E["KEYS_SMALL"], thousands("KEYS_SMALL")))
w("where Redis 7.0's redis-benchmark has one, else the command line shown; -P 1: %s requests per run," % thousands("N1"))
w("-P 16: %s. Before the loop each server gets `myhash` with the %s fields HGET asks for" % (thousands("N16"), thousands("KEYS_SMALL")))
w("(3-byte values) and `zr100`, a zset of 100 members (`m:000` .. `m:099`, scores 0 .. 99). Every test")
w("uses one key, so on the 2-shard server all its requests go to the shard owning that key. Each LPOP run")
w("follows the LPUSH run of the same size on the same server, so every LPOP finds an element; XADD")
w("appends to one stream that grows through the runs.")
w("")
TYPE_TESTS = (
    ("hset", "HSET", "`-t hset`: `HSET myhash element:__rand_int__ xxx`"),
    ("hget", "HGET", "`HGET myhash element:__rand_int__`"),
    ("lpush", "LPUSH", "`-t lpush`: `LPUSH mylist xxx`"),
    ("lpop", "LPOP", "`-t lpop`: `LPOP mylist`"),
    ("zadd", "ZADD", "`-t zadd`: `ZADD myzset __rand_int__ element:__rand_int__`"),
    ("zrange", "ZRANGE", "`ZRANGE zr100 0 9`"),
    ("sadd", "SADD", "`-t sadd`: `SADD myset element:__rand_int__`"),
    ("xadd", "XADD", "`XADD mystream * myfield xxx`"),
)
for P in ("1", "16"):
    w("-P %s:" % P)
    w("")
    w("| test | requests | Redis ops/s | Tessera 1 shard ops/s | ratio | Redis µs/req | Tessera µs/req | Tessera 2 shards ops/s | ratio |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for t, name, sent in TYPE_TESTS:
        prof = "%s-P%s" % (t, P)
        r, t1, t2 = (med("redis-benchmark", prof, x, "ops") for x in ("redis", "tessera", "tessera2"))
        w("| %s -P %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, P, sent, num(r), num(t1), ratio(t1, r), num(med("redis-benchmark", prof, "redis", "us"), "{:.2f}"),
            num(med("redis-benchmark", prof, "tessera", "us"), "{:.2f}"), num(t2), ratio(t2, r)))
    w("")

tmem = {}  # (who, type, shape) -> (keys, elements, used_before, used_after, encoding, status)
for line in open(tmem_f):
    f = line.rstrip("\n").split("\t")
    if len(f) == 9:
        tmem[tuple(f[0:3])] = (float(f[3]), float(f[4]), f[5], f[6], f[7], f[8])
skipped = sorted({names[who] for (who, ty, _), v in tmem.items() if ty == "stream" and v[5] == "skipped"})
if skipped:
    w("XADD not run against %s: `COMMAND INFO xadd` is empty there (no stream commands in that build)." % ", ".join(skipped))
    w("")

def per_elem(who, ty, shape):
    v = tmem.get((who, ty, shape))
    if not v or v[5] != "ok" or "nan" in (v[2], v[3]) or not v[1]:
        return NAN
    return (float(v[3]) - float(v[2])) / v[1]

def encoding(who, ty, shape):
    v = tmem.get((who, ty, shape))
    if not v:
        return "n/a"
    return v[4] if v[5] in ("ok", "bad-count") else v[5]

w("## Memory per element: small and large objects of each type")
w("")
w("Fresh servers; for each row `FLUSHALL SYNC`, INFO `used_memory`, the load with `redis-cli --pipe`,")
w("INFO `used_memory` again. Bytes per element = growth / elements, keys and per-object overhead")
w("included (a small object's share of its key counts). Small: %s keys × %s elements (`h:00000` .." % (
    thousands("SMALL_KEYS"), E["SMALL_ELEMS"]))
w("`h:%05d`, one command per key); large: %s keys × %s elements (`H:0` .. `H:%d`, 100 elements per" % (
    int(E["SMALL_KEYS"]) - 1, E["LARGE_KEYS"], thousands("LARGE_ELEMS"), int(E["LARGE_KEYS"]) - 1))
w("command). Element j (j from 0, `NNNNNN` its 6 digits): hash field `e:NNNNNN` with value `v:NNNNNN`")
w("(one field-value pair is one element), list and set member `e:NNNNNN`, integer set member j, zset")
w("member `e:NNNNNN` with score j, stream entry `XADD key * f v:NNNNNN` (one entry per command; the")
w("other types' keys are named `l:`, `s:`, `i:`, `z:`, `x:` like `h:`). Encodings are `OBJECT ENCODING` of")
w("the first key of each row (`h:00000`, `H:0`, ...), so equal encodings mean like was compared with like.")
w("")
w("| type | objects | Redis encoding | Tessera encoding | Redis bytes/element | Tessera 1 shard bytes/element | ratio | Tessera 2 shards bytes/element | ratio |")
w("|---|---|---|---|---:|---:|---:|---:|---:|")
TYPE_NAMES = (("hash", "hash"), ("list", "list"), ("set", "set of strings"), ("intset", "set of integers"),
              ("zset", "sorted set"), ("stream", "stream"))
over = []
for shape in ("small", "large"):
    objects = "%s × %s" % ((thousands("SMALL_KEYS"), E["SMALL_ELEMS"]) if shape == "small"
                           else (E["LARGE_KEYS"], thousands("LARGE_ELEMS")))
    for ty, tname in TYPE_NAMES:
        r, t1, t2 = (per_elem(x, ty, shape) for x in ("redis", "tessera", "tessera2"))
        renc, tenc, tenc2 = (encoding(x, ty, shape) for x in ("redis", "tessera", "tessera2"))
        measured = all(tmem.get((x, ty, shape), ("",) * 6)[5] in ("ok", "bad-count") for x in ("redis", "tessera"))
        shown = "%s (≠ Redis)" % tenc if measured and tenc != renc else tenc
        if tenc2 != tenc:
            shown += "; 2 shards: %s" % tenc2
        w("| %s %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            shape, tname, objects, renc, shown, num(r, "{:.1f}"), num(t1, "{:.1f}"), ratio(t1, r),
            num(t2, "{:.1f}"), ratio(t2, r)))
        if shape == "small" and not (math.isnan(r) or math.isnan(t1)) and t1 > r:
            over.append("%s %s" % (tname, ratio(t1, r)))
w("")
if over:
    w("Small objects above Redis's memory per element (issue 5 asks for at most Redis's), Tessera 1 shard / Redis: %s."
      % ", ".join(over))
else:
    w("Small objects: Tessera 1 shard uses at most Redis's memory per element for every type measured.")
w("")

w("## Problems seen during the run")
w("")
probs = [l.rstrip() for l in open(prob_f) if l.strip()]
for who in ("redis", "tessera", "tessera2"):
    got = med("loadgen", "open-50k", who, "ops")
    if not math.isnan(got) and got < 0.95 * float(E["RATE"]):
        probs.append("open loop: %s kept only %s of the %s ops/s schedule; its latencies are mostly backlog"
                     % (names[who], num(got), "{:,}".format(int(E["RATE"]))))
for (tool, prof, who), rs in sorted(runs.items()):
    bad = [r["errors"] for r in rs if r["errors"] not in ("-", "0")]
    if bad:
        probs.append("%s %s against %s: errors per run %s" % (tool, prof, who, " ".join(bad)))
w("\n".join("- " + p for p in probs) if probs else "None: every run completed and tessera-loadgen reported 0 errors.")
w("")

w("## Network-path ceiling")
w("")
if E["CEILING"] == "1":
    w("`%s`, verbatim (ops/s and server CPU µs per request; null servers, Redis and Tessera each pinned" % E["CEIL_CMD_TXT"].strip())
    w("to cpu 1, redis-benchmark -c 50 on cpu 0):")
    w("")
    w("```")
    w(open(ceil_f).read().rstrip())
    w("```")
else:
    w("Not run (pass `--ceiling`).")
w("")

w("## Commands")
w("")
w("Exactly as run (`$PORT` is the server's port; the `--shards 2` server's clients are unpinned):")
w("")
w("```")
seen = set()
for c in (l.rstrip("\n") for l in open(cmds_f)):
    if c and c not in seen:
        seen.add(c)
        w(c)
w("```")
w("")
w("## Every run")
w("")
w("```")
w("tool\tprofile\tserver\trep\tops/s\tus/req\tp50_us\tp99_us\tp99.9_us\tmax_us\terrors")
w("\n".join(raw))
w("```")
open(out_f, "w").write("\n".join(o) + "\n")
PY
# Keep the sections other scripts own (benches/cluster.sh, aof.sh, aof_always.sh, persist.sh).
for owner in cluster.sh aof.sh aof_always.sh persist.sh; do
  if [ -f benches/RESULTS.md ] && grep -q "<!-- $owner begin -->" benches/RESULTS.md; then
    { echo; sed -n "/<!-- $owner begin -->/,/<!-- $owner end -->/p" benches/RESULTS.md; } >>benches/RESULTS.md.new
  fi
done
mv benches/RESULTS.md.new benches/RESULTS.md
echo "== wrote benches/RESULTS.md"
cat benches/RESULTS.md
