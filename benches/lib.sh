# benches/lib.sh: shell helpers the bench scripts share (sourced, not run).
#   SRV_PIN / CLI_PIN: taskset prefixes putting servers on cpu 1 and clients on cpu 0 when
#     there are 2+ cpus (empty otherwise);
#   free_port: a TCP port free on 127.0.0.1 now;
#   wait_ping PORT: waits up to 10 s for a PONG;
#   bench_setup NAME: builds the server unless BUILD=0, sets TESSERA, and makes $WORK, a temp
#     directory removed on exit, when the server in $PID (kill -9) and the client in $BG are
#     stopped too.
NCPU=$(nproc)
SRV_PIN=(); CLI_PIN=()
if [ "$NCPU" -ge 2 ]; then SRV_PIN=(taskset -c 1); CLI_PIN=(taskset -c 0); fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() { for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
bench_setup() {
  TESSERA=target/release/tessera-server
  if [ "${BUILD:-1}" = 1 ]; then cargo build --release --quiet --bin tessera-server; fi
  WORK=$(mktemp -d "/tmp/tessera-$1.XXXXXX")
  PID=""
  BG=""
  trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
  if [ -n "$BG" ]; then kill "$BG" 2>/dev/null || true; fi
  if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
