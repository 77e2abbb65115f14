#!/usr/bin/env bash
# Usage: deploy/local/test.sh [--unit-only | --swift-only | --e2e-only] [-k EXPR] [--keep] [--no-build]
#
# THE test command. From a fresh clone on Debian 12 (as root):
#   1. installs missing packages (install-deps.sh)
#   2. creates/refreshes the e2e venv tests/.venv from tests/requirements.txt (pip runs only when that
#      file or the Python version changed)
#   3. builds the agent: swift build -c release --product tributary
#   4. starts the throwaway PostgreSQL (pg.sh) and the dev broker (broker.sh), and stops on exit, failure or
#      interrupt whatever this run started (servers already running are reused and left running)
#   5. runs all Swift tests, unit and integration (swift test --no-parallel), and prints their summary
#   6. runs the Python end-to-end tests: tests/.venv/bin/pytest -v tests/e2e
# Exits non-zero when either suite fails and prints one final summary line.
#
# Options:
#   --unit-only   Swift unit tests only (swift test --skip IntegrationTests): no servers, no release build
#   --swift-only  Swift unit + integration tests, no e2e
#   --e2e-only    the Python e2e tests only
#   -k EXPR       passed to pytest (select e2e tests by name)
#   --keep        leave the servers running afterwards
#   --no-build    use the existing $TRIBUTARY_BIN instead of the release build (swift test still builds)
#
# Environment (read):
#   KAFKA_BOOTSTRAP_SERVERS  a real Kafka cluster to test against instead of the dev broker
#   CI                       passed through; CI=true makes a missing server fail the tests instead of skipping
#   TRIBUTARY_STATE_DIR, TRIBUTARY_PG_PORT, TRIBUTARY_BIN  see pg.sh / broker.sh
#   TRIBUTARY_SCRATCH_PATH   SwiftPM --scratch-path for the build and the Swift tests (default .build)
# Exported to the tests: TRIBUTARY_TEST_PG_URL, TRIBUTARY_TEST_KAFKA_BOOTSTRAP, TRIBUTARY_TEST_KAFKA_RECORD
# (dev broker only: the record file), TRIBUTARY_BIN, CI.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$REPO_ROOT/deploy/local"

run_swift=true
run_integration=true
run_e2e=true
keep=false
build=true
pytest_k=()
while (($# > 0)); do
    case "$1" in
        --unit-only)
            run_integration=false
            run_e2e=false
            ;;
        --swift-only) run_e2e=false ;;
        --e2e-only) run_swift=false ;;
        -k)
            (($# >= 2)) || die "-k needs an expression"
            pytest_k=(-k "$2")
            shift
            ;;
        --keep) keep=true ;;
        --no-build) build=false ;;
        -h | --help)
            sed -n '2,32p' "$0"
            exit 0
            ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

swift_scratch=()
if [[ -n "${TRIBUTARY_SCRATCH_PATH:-}" ]]; then
    swift_scratch=(--scratch-path "$SCRATCH_PATH")
fi
needs_servers=false
if [[ "$run_e2e" == true || ("$run_swift" == true && "$run_integration" == true) ]]; then
    needs_servers=true
fi

# MARK: - Cleanup

started_pg=false
started_broker=false
cleanup() {
    local rc=$?
    if [[ "$keep" == false ]]; then
        if [[ "$started_broker" == true ]]; then "$HERE/broker.sh" stop || true; fi
        if [[ "$started_pg" == true ]]; then "$HERE/pg.sh" stop || true; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# MARK: - Dependencies

"$HERE/install-deps.sh"

ensure_venv() {
    local venv="$REPO_ROOT/tests/.venv" requirements="$REPO_ROOT/tests/requirements.txt" python want
    python="$(command -v /usr/bin/python3 || command -v python3)" || die "python3 not found"
    want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"
    if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
        log "creating $venv"
        rm -rf "$venv"
        "$python" -m venv "$venv"
    fi
    if [[ "$(cat "$venv/.requirements.stamp" 2>/dev/null || true)" != "$want" ]]; then
        log "installing tests/requirements.txt into tests/.venv"
        "$venv/bin/pip" install --disable-pip-version-check --no-input -q -r "$requirements"
        echo "$want" >"$venv/.requirements.stamp"
    fi
}
if [[ "$run_e2e" == true ]]; then
    ensure_venv
fi

# MARK: - Build and servers

cd "$REPO_ROOT"
if [[ "$needs_servers" == true ]]; then
    if [[ "$build" == true ]]; then
        log "building the agent (release)"
        swift build "${swift_scratch[@]}" -c release --product tributary || die "release build failed"
    fi
    [[ -x "$TRIBUTARY_BIN" ]] || die "the release build did not produce $TRIBUTARY_BIN"
    export TRIBUTARY_BIN

    if ! "$HERE/pg.sh" status >/dev/null 2>&1; then started_pg=true; fi
    "$HERE/pg.sh" start
    TRIBUTARY_TEST_PG_URL="$("$HERE/pg.sh" url)"
    export TRIBUTARY_TEST_PG_URL

    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        log "using the Kafka cluster at $KAFKA_BOOTSTRAP_SERVERS (KAFKA_BOOTSTRAP_SERVERS)"
        TRIBUTARY_TEST_KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP_SERVERS"
        unset TRIBUTARY_TEST_KAFKA_RECORD
    else
        if ! "$HERE/broker.sh" status >/dev/null 2>&1; then started_broker=true; fi
        "$HERE/broker.sh" start
        TRIBUTARY_TEST_KAFKA_BOOTSTRAP="$("$HERE/broker.sh" bootstrap)"
        export TRIBUTARY_TEST_KAFKA_RECORD="$STATE/broker-record.jsonl"
    fi
    export TRIBUTARY_TEST_KAFKA_BOOTSTRAP
fi
if [[ -n "${CI:-}" ]]; then export CI; fi

# MARK: - Tests

swift_status="skipped"
e2e_status="skipped"
failed=false

if [[ "$run_swift" == true ]]; then
    swift_filter=()
    if [[ "$run_integration" == false ]]; then swift_filter=(--skip IntegrationTests); fi
    swift_log="$STATE/swift-test.log"
    log "swift test (log: $swift_log)"
    set +e
    swift test "${swift_scratch[@]}" --no-parallel "${swift_filter[@]}" 2>&1 | tee "$swift_log"
    swift_rc=${PIPESTATUS[0]}
    set -e
    echo "===== Swift test summary ====="
    grep -E 'Test run with [0-9]+ tests?|Executed [0-9]+ tests?' "$swift_log" | tail -n 4 || echo "(no summary line: see $swift_log)"
    if ((swift_rc == 0)); then swift_status="passed"; else swift_status="FAILED (exit $swift_rc)"; failed=true; fi
fi

if [[ "$run_e2e" == true ]]; then
    log "pytest tests/e2e"
    set +e
    "$REPO_ROOT/tests/.venv/bin/pytest" -v -ra "${pytest_k[@]}" --junitxml="$STATE/e2e-junit.xml" "$REPO_ROOT/tests/e2e"
    e2e_rc=$?
    set -e
    if ((e2e_rc == 0)); then e2e_status="passed"; else e2e_status="FAILED (exit $e2e_rc)"; failed=true; fi
fi

echo "test.sh: swift tests: $swift_status; e2e tests: $e2e_status"
if [[ "$failed" == true ]]; then exit 1; fi
