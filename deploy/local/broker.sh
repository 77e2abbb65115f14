#!/usr/bin/env bash
# Usage: deploy/local/broker.sh start|stop|status|bootstrap
#
# The development Kafka backbone: `tributary dev-broker`, which hosts librdkafka's mock cluster (3 brokers)
# and taps every topic into $STATE/broker-record.jsonl (one JSON line per message:
# {"topic","partition","offset","key","value","headers"}). No Kafka broker is installable here; see
# /work/shared/ENVIRONMENT.md for what the mock cluster does and does not do.
#   start      starts it in the background (already running: ok), waits for its bootstrap list,
#              writes $STATE/broker.pid; logs go to $STATE/broker.log. A new start is a new, empty cluster,
#              so the previous record file is removed.
#   stop       SIGTERM, then SIGKILL after 15 s (not running: ok)
#   status     prints the state; exit 0 when running, 3 when stopped
#   bootstrap  prints the bootstrap list (host:port,...); fails when not running
#
# Environment:
#   TRIBUTARY_STATE_DIR  state directory (default <repo>/.tributary)
#   TRIBUTARY_BIN        the agent binary (default <repo>/.build/release/tributary)
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PID_FILE="$STATE/broker.pid"
BOOTSTRAP_FILE="$STATE/broker.bootstrap"
RECORD_FILE="$STATE/broker-record.jsonl"
LOG_FILE="$STATE/broker.log"
BROKERS=3
START_TIMEOUT_S=30
STOP_TIMEOUT_S=15

# Whether the process lives (a zombie does not: without a reaping init it can linger after exit).
alive() {
    local state
    state="$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z ]]
}

# Prints the broker's pid when the process in the pid file is alive and really is a dev broker (a pid
# file left by a crash may name a reused pid).
running_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(<"$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- 'dev-broker' || return 1
    echo "$pid"
}

cmd_start() {
    local pid
    if pid="$(running_pid)"; then
        log "already running (pid $pid): $(<"$BOOTSTRAP_FILE")"
        return 0
    fi
    [[ -x "$TRIBUTARY_BIN" ]] ||
        die "agent binary $TRIBUTARY_BIN not found: run 'swift build -c release --product tributary' or set TRIBUTARY_BIN"
    rm -f "$PID_FILE" "$BOOTSTRAP_FILE" "$RECORD_FILE"
    # setsid: its own session, so a Ctrl-C meant for the calling script does not reach it before the
    # script's own cleanup stops it. Not a process group leader here, so setsid execs in place and $!
    # is the broker's pid.
    agent_env_unset
    env "${AGENT_ENV_UNSET[@]}" setsid "$TRIBUTARY_BIN" dev-broker --brokers "$BROKERS" \
        --bootstrap-file "$BOOTSTRAP_FILE" --record "$RECORD_FILE" >"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
    # The kernel schedules each session as one group (autogroup): give the broker's group more weight than
    # the agents' (each in its own session) so its record tap keeps up with them. Best effort, needs root.
    echo -10 >"/proc/$pid/autogroup" 2>/dev/null || true
    local deadline=$((SECONDS + START_TIMEOUT_S))
    until [[ -s "$BOOTSTRAP_FILE" ]] && grep -q ':' "$BOOTSTRAP_FILE"; do
        if ! alive "$pid"; then
            rm -f "$PID_FILE"
            log_tail "$LOG_FILE"
            die "dev broker exited during start"
        fi
        if ((SECONDS >= deadline)); then
            kill -TERM "$pid" 2>/dev/null || true
            rm -f "$PID_FILE"
            log_tail "$LOG_FILE"
            die "dev broker wrote no bootstrap file within ${START_TIMEOUT_S}s"
        fi
        sleep 0.1
    done
    log "started (pid $pid): $(<"$BOOTSTRAP_FILE")"
}

cmd_stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            log "no exit ${STOP_TIMEOUT_S}s after SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    local pid
    if pid="$(running_pid)"; then
        echo "running (pid $pid): $(<"$BOOTSTRAP_FILE")"
    else
        echo "stopped"
        exit 3
    fi
}

cmd_bootstrap() {
    running_pid >/dev/null || die "dev broker is not running (deploy/local/broker.sh start)"
    head -n 1 "$BOOTSTRAP_FILE"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    bootstrap) cmd_bootstrap ;;
    *)
        sed -n '2,19p' "$0" >&2
        exit 2
        ;;
esac
