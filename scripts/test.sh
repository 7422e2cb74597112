#!/usr/bin/env bash
# Runs everything: installs what the tests need if it is missing (redis-server, redis-cli,
# redis-benchmark, pip, redis-py, pytest), then cargo fmt --check, clippy with -D warnings, the
# release build, cargo test (integration tests drive the release binary through TESSERA_BIN), and
# the Python client tests. Every step runs even if an earlier one failed; the script exits
# non-zero if any failed and ends with one summary line: "test.sh: N passed, M failed" (tests
# passed/failed, plus one failure per failed check step).
#
# Knobs: TESSERA_TEST_PROFILE=debug runs the integration and Python tests against the debug
# binary (debug assertions on) instead of the release one; PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
export PYTHONDONTWRITEBYTECODE=1
PROFILE="${TESSERA_TEST_PROFILE:-release}"
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tessera-test-sh.XXXXXX")"
trap 'rm -rf "$LOG_DIR"' EXIT

say() { printf '\n==> %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
fi

apt_updated=0
apt_install() {
    # apt-get update only when the package lists are missing or an install fails without it.
    if [ "$apt_updated" -eq 0 ] && ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
        $SUDO apt-get update -q
        apt_updated=1
    fi
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; then
        if [ "$apt_updated" -eq 1 ]; then
            return 1
        fi
        $SUDO apt-get update -q
        apt_updated=1
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
    fi
}

install_prerequisites() {
    local need=()
    command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
    if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
        need+=(redis-tools)
    fi
    if ! command -v "$PY" >/dev/null 2>&1; then
        need+=(python3)
        PY=python3
    fi
    if [ "${#need[@]}" -gt 0 ]; then
        say "installing ${need[*]}"
        apt_install "${need[@]}" || return 1
    fi
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        say "installing python3-pip"
        apt_install python3-pip || return 1
    fi
    if ! "$PY" - <<'EOF' >/dev/null 2>&1; then
import sys
import pytest  # noqa: F401
import redis
sys.exit(0 if int(redis.__version__.split(".")[0]) >= 5 else 1)
EOF
        say "installing redis-py and pytest"
        local out
        if ! out="$("$PY" -m pip install --quiet 'redis>=5' pytest 2>&1)"; then
            if grep -q "externally-managed-environment" <<<"$out"; then
                "$PY" -m pip install --quiet --break-system-packages 'redis>=5' pytest || return 1
            else
                printf '%s\n' "$out" >&2
                return 1
            fi
        fi
    fi
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        say "installing rustfmt and clippy"
        rustup component add rustfmt clippy || return 1
    fi
}

passed=0
failed=0
results=()

# Runs one check step; a failed step counts as one failure.
check() {
    local name="$1"
    shift
    say "$name: $*"
    local t0=$SECONDS
    if "$@"; then
        results+=("ok      $name ($((SECONDS - t0)) s)")
        passed=$((passed + 1))
    else
        results+=("FAILED  $name ($((SECONDS - t0)) s)")
        failed=$((failed + 1))
    fi
}

# Sums the "test result:" lines of cargo test output in file $1 into t_passed / t_failed.
count_cargo() {
    t_passed=$( (grep -E '^test result:' "$1" || true) | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
    t_failed=$( (grep -E '^test result:' "$1" || true) | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
}

# Reads pytest's closing line in file $1 into t_passed / t_failed (errors count as failures).
count_pytest() {
    local line
    line=$(grep -E '[0-9]+ (passed|failed|error)' "$1" | tail -n 1 || true)
    t_passed=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
    t_failed=$(($(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0) + $(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || echo 0)))
}

# Runs a test suite (cargo or pytest), adding its test counts; a suite that fails without
# reporting a failed test (compile error, crash, no tests collected) counts as one failure.
suite() {
    local name="$1" kind="$2"
    shift 2
    local log="$LOG_DIR/$name.log" rc=0 t0=$SECONDS
    say "$name: $*"
    "$@" 2>&1 | tee "$log" || rc=$?
    local took="$((SECONDS - t0)) s"
    if [ "$kind" = cargo ]; then count_cargo "$log"; else count_pytest "$log"; fi
    passed=$((passed + t_passed))
    failed=$((failed + t_failed))
    if [ "$rc" -ne 0 ] && [ "$t_failed" -eq 0 ]; then
        failed=$((failed + 1))
    fi
    if [ "$rc" -eq 0 ] && [ "$t_passed" -eq 0 ]; then
        echo "$name ran no test" >&2
        failed=$((failed + 1))
        rc=1
    fi
    if [ "$rc" -eq 0 ]; then
        results+=("ok      $name ($t_passed passed, $took)")
    else
        results+=("FAILED  $name ($t_passed passed, $t_failed failed, exit $rc, $took)")
    fi
}

started=$(date +%s)
check prerequisites install_prerequisites
check fmt cargo fmt --all -- --check
check clippy cargo clippy --workspace --all-targets -- -D warnings
check build-release cargo build --release --workspace

if [ "$PROFILE" = debug ]; then
    check build-debug cargo build --workspace
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export TESSERA_BIN="$TARGET_DIR/$PROFILE/tessera-server"
suite cargo-test cargo cargo test --workspace --no-fail-fast
suite pytest pytest env TESSERA_BIN="$TESSERA_BIN" "$PY" -m pytest -q -p no:cacheprovider tests/python

say "summary ($(($(date +%s) - started)) s, server binary: $TESSERA_BIN)"
printf '  %s\n' "${results[@]}"
echo "test.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
