#!/usr/bin/env bash
# Usage: deploy/local/demo.sh [--keep] [--no-build]
#
# THE demo: PostgreSQL changes → Tributary → Kafka (the dev broker), in one command. It
#   1. installs missing packages and builds the agent (swift build -c release --product tributary)
#   2. starts the throwaway PostgreSQL (pg.sh) and a fresh dev broker (broker.sh; a running one is restarted
#      so that the demo's topics and offsets start empty)
#   3. (re)creates public.customers in database `demo` (REPLICA IDENTITY FULL) and writes $STATE/demo.yaml
#   4. starts `tributary run --config $STATE/demo.yaml` in the background (log: $STATE/demo-agent.log)
#   5. inserts 3 rows, changes an email, changes a primary key, deletes a row, and runs one transaction of
#      several statements
#   6. waits (60 s at most) for the committed events in $STATE/broker-record.jsonl and prints each event of
#      topic demo.public.customers as `op key → before/after summary`
#   7. stops the agent with SIGTERM, then the servers it started
#
#   --keep   leave PostgreSQL and the dev broker running afterwards (look around with
#            `deploy/local/pg.sh psql -d demo` and `kcat -b "$(deploy/local/broker.sh bootstrap)" -L`)
#   --no-build   use the existing $TRIBUTARY_BIN instead of building
#
# Environment: TRIBUTARY_STATE_DIR, TRIBUTARY_PG_PORT, TRIBUTARY_BIN, TRIBUTARY_SCRATCH_PATH (see test.sh).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$REPO_ROOT/deploy/local"

keep=false
build=true
for arg in "$@"; do
    case "$arg" in
        --keep) keep=true ;;
        --no-build) build=false ;;
        -h | --help)
            sed -n '2,22p' "$0"
            exit 0
            ;;
        *) die "unknown argument: $arg (see --help)" ;;
    esac
done

NAME=demo
TOPIC="$NAME.public.customers"
SLOT=demo
PUBLICATION=demo_publication
CONFIG="$STATE/demo.yaml"
AGENT_LOG="$STATE/demo-agent.log"
RECORD_FILE="$STATE/broker-record.jsonl"
EXPECTED_CHANGES=10
TIMEOUT_S=60

demo_psql() {
    "$HERE/pg.sh" psql -d demo -q "$@"
}

# MARK: - Cleanup

agent_pid=""
started_pg=false
started_broker=false
cleanup() {
    local rc=$?
    if [[ -n "$agent_pid" ]] && kill -0 "$agent_pid" 2>/dev/null; then
        kill -TERM "$agent_pid" 2>/dev/null || true
        wait "$agent_pid" 2>/dev/null || true
    fi
    if [[ "$keep" == false ]]; then
        if [[ "$started_broker" == true ]]; then "$HERE/broker.sh" stop || true; fi
        if [[ "$started_pg" == true ]]; then "$HERE/pg.sh" stop || true; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail_with_agent_log() {
    log_tail "$AGENT_LOG" 40
    die "$@"
}

# MARK: - Build and servers

"$HERE/install-deps.sh"
cd "$REPO_ROOT"
swift_scratch=()
if [[ -n "${TRIBUTARY_SCRATCH_PATH:-}" ]]; then swift_scratch=(--scratch-path "$SCRATCH_PATH"); fi
if [[ "$build" == true ]]; then
    log "building the agent (release)"
    swift build "${swift_scratch[@]}" -c release --product tributary || die "release build failed"
fi
[[ -x "$TRIBUTARY_BIN" ]] || die "the release build did not produce $TRIBUTARY_BIN"
export TRIBUTARY_BIN

if ! "$HERE/pg.sh" status >/dev/null 2>&1; then started_pg=true; fi
"$HERE/pg.sh" start
"$HERE/broker.sh" stop
started_broker=true
"$HERE/broker.sh" start
BOOTSTRAP="$("$HERE/broker.sh" bootstrap)"

# MARK: - Database and configuration

log "preparing database demo"
demo_psql -o /dev/null <<SQL
SET client_min_messages = warning;
SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '$SLOT' AND active;
SELECT pg_sleep(0.2);
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$SLOT';
DROP PUBLICATION IF EXISTS $PUBLICATION;
DROP TABLE IF EXISTS public.customers;
CREATE TABLE public.customers (
    id serial PRIMARY KEY,
    email text NOT NULL,
    balance numeric(10,2),
    created_at timestamptz DEFAULT now()
);
ALTER TABLE public.customers REPLICA IDENTITY FULL;
SQL

PG_PORT="${TRIBUTARY_PG_PORT:-55432}"
cat >"$CONFIG" <<EOF
# Written by deploy/local/demo.sh. Keys are Debezium connector property names.
name: $NAME
topic.prefix: $NAME
database.hostname: 127.0.0.1
database.port: $PG_PORT
database.user: postgres
database.dbname: demo
slot.name: $SLOT
publication.name: $PUBLICATION
table.include.list: public.customers
kafka.bootstrap.servers: "$BOOTSTRAP"
EOF
log "wrote $CONFIG"

# MARK: - Agent

log "starting: $TRIBUTARY_BIN run --config $CONFIG (log: $AGENT_LOG)"
agent_env_unset
env "${AGENT_ENV_UNSET[@]}" "$TRIBUTARY_BIN" run --config "$CONFIG" >"$AGENT_LOG" 2>&1 </dev/null &
agent_pid=$!

deadline=$((SECONDS + TIMEOUT_S))
until [[ "$(demo_psql -tAc "SELECT active FROM pg_replication_slots WHERE slot_name = '$SLOT'")" == t ]]; do
    kill -0 "$agent_pid" 2>/dev/null || {
        wait "$agent_pid" && rc=0 || rc=$?
        agent_pid=""
        fail_with_agent_log "the agent exited (code $rc) before it started streaming"
    }
    ((SECONDS < deadline)) || fail_with_agent_log "the agent did not start streaming (slot $SLOT) within ${TIMEOUT_S}s"
    sleep 0.2
done
log "the agent is streaming (slot $SLOT active)"

# MARK: - Changes

log "making changes in demo.public.customers"
demo_psql <<'SQL'
-- 3 inserts (one statement, one transaction): ids 1, 2, 3
INSERT INTO customers (email, balance) VALUES
    ('alice@example.com', 100.00), ('bob@example.com', 250.50), ('carol@example.com', 0);
-- an update that changes the email
UPDATE customers SET email = 'alice@example.org' WHERE id = 1;
-- an update that changes the primary key: delete + tombstone on key 2, create on key 20
UPDATE customers SET id = 20 WHERE id = 2;
-- a delete (+ tombstone)
DELETE FROM customers WHERE id = 3;
-- one transaction of several statements
BEGIN;
INSERT INTO customers (email, balance) VALUES ('dave@example.com', 42.00);
UPDATE customers SET balance = balance - 10.25 WHERE id = 1;
DELETE FROM customers WHERE id = 20;
COMMIT;
SQL

# MARK: - Events

if ! python3 "$HERE/demo_events.py" --record "$RECORD_FILE" --topic "$TOPIC" --offsets-topic "$NAME.offsets" \
    --expect "$EXPECTED_CHANGES" --timeout "$TIMEOUT_S"; then
    fail_with_agent_log "the events did not arrive in Kafka within ${TIMEOUT_S}s"
fi

log "stopping the agent (SIGTERM)"
kill -TERM "$agent_pid"
wait "$agent_pid" && rc=0 || rc=$?
agent_pid=""
((rc == 0)) || fail_with_agent_log "the agent exited with code $rc after SIGTERM"
log "the agent stopped cleanly"

if [[ "$keep" == true ]]; then
    echo "Servers left running: deploy/local/pg.sh psql -d demo; kcat -b $BOOTSTRAP -C -t $TOPIC -e"
    echo "Stop them with: deploy/local/broker.sh stop; deploy/local/pg.sh stop"
fi
