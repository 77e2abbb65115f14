#!/usr/bin/env bash
# Usage: deploy/local/bench.sh [ROWS] [--txn-rows N]
#
# Throughput benchmark of the streaming path, measured against the raw limit on the same WAL in the same run:
#   1. creates two slots (agent's and pg_recvlogical's) before the load, so both decode the same WAL;
#   2. loads ROWS rows (default 1,000,000) into a 5-column table in transactions of N rows (default: one);
#   3. times `pg_recvlogical` (pgoutput, proto 1, to /dev/null) up to the end LSN: the raw decode limit;
#   4. times the release agent (Kafka sink, dev broker) until the slot's confirmed_flush_lsn reaches the end
#      LSN, i.e. until every event is committed to Kafka; records the agent's peak RSS (VmHWM).
#      BENCH_SINK=null writes the events to /dev/null instead (the agent's own capacity, without the mock
#      broker); BENCH_EXTRA_CONFIG adds YAML lines; BENCH_PERF=FILE records a CPU profile.
# Prints rows/s for both, the ratio agent ÷ pg_recvlogical, and the peak RSS. Uses the throwaway servers of
# pg.sh (started if needed), a private dev broker (no record tap) and the release build.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$REPO_ROOT/deploy/local"
ROWS=${1:-1000000}
TXN_ROWS=$ROWS
if [[ "${2:-}" == "--txn-rows" ]]; then TXN_ROWS=${3:?}; fi

BIN=$TRIBUTARY_BIN
[[ -x "$BIN" ]] || die "no release build at $BIN (swift build -c release --product tributary)"
"$HERE/pg.sh" start >/dev/null
PGURL=$("$HERE/pg.sh" url)
# A private dev broker without the record tap (which would double the broker's work).
BROKER_FILE="$STATE/bench$$.bootstrap"
agent_env_unset
env "${AGENT_ENV_UNSET[@]}" "$BIN" dev-broker --brokers 3 --bootstrap-file "$BROKER_FILE" >/dev/null 2>"$STATE/bench-broker.log" &
BROKER_PID=$!
for _ in $(seq 100); do [[ -s "$BROKER_FILE" ]] && break; sleep 0.1; done
BOOTSTRAP=$(head -1 "$BROKER_FILE")
PGBIN=/usr/lib/postgresql/15/bin
RUN="bench$$"
psql() { command psql "$PGURL" -v ON_ERROR_STOP=1 -qtAX "$@"; }

psql -c "DROP TABLE IF EXISTS public.$RUN; CREATE TABLE public.$RUN (id bigint PRIMARY KEY, name text, amount numeric(12,2), created timestamptz, flag boolean)"
psql -c "CREATE PUBLICATION ${RUN}_pub FOR TABLE public.$RUN"
psql -c "SELECT pg_create_logical_replication_slot('${RUN}_agent', 'pgoutput')" >/dev/null
psql -c "SELECT pg_create_logical_replication_slot('${RUN}_raw', 'pgoutput')" >/dev/null
cleanup() {
    [[ -n "${AGENT_PID:-}" ]] && kill "$AGENT_PID" 2>/dev/null || true
    kill "$BROKER_PID" 2>/dev/null || true
    rm -f "$BROKER_FILE"
    psql -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '${RUN}_%' AND NOT active" >/dev/null 2>&1 || true
    psql -c "DROP PUBLICATION IF EXISTS ${RUN}_pub; DROP TABLE IF EXISTS public.$RUN" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "loading $ROWS rows in transactions of $TXN_ROWS rows"
done_rows=0
while ((done_rows < ROWS)); do
    n=$((ROWS - done_rows < TXN_ROWS ? ROWS - done_rows : TXN_ROWS))
    psql -c "INSERT INTO public.$RUN SELECT g, 'name-' || g, g * 1.25, now(), g % 2 = 0 FROM generate_series($((done_rows + 1)), $((done_rows + n))) g"
    done_rows=$((done_rows + n))
done
END_LSN=$(psql -c "SELECT pg_current_wal_insert_lsn()")
echo "end LSN $END_LSN"

now() { date +%s.%N; }
t0=$(now)
"$PGBIN/pg_recvlogical" -d "$PGURL" --slot "${RUN}_raw" --start -o proto_version=1 -o "publication_names=${RUN}_pub" \
    --endpos "$END_LSN" -f /dev/null --no-loop
t1=$(now)
raw_s=$(echo "$t1 - $t0" | bc -l)

CONFIG="$STATE/$RUN.yaml"
cat >"$CONFIG" <<YAML
name: $RUN
topic.prefix: $RUN
database.hostname: 127.0.0.1
database.port: $(echo "$PGURL" | sed -E 's#.*:([0-9]+)/.*#\1#')
database.user: postgres
database.dbname: $(echo "$PGURL" | sed -E 's#.*/##')
slot.name: ${RUN}_agent
publication.name: ${RUN}_pub
publication.autocreate.mode: disabled
snapshot.mode: no_data
table.include.list: public.$RUN
$(if [[ "${BENCH_SINK:-kafka}" == null ]]; then
    printf 'sink.type: file\nsink.file.path: /dev/null\noffset.storage: file\noffset.storage.file.filename: %s\n' "$STATE/$RUN.offset"
else
    printf 'kafka.bootstrap.servers: %s\n' "$BOOTSTRAP"
fi)
log.level: warning
${BENCH_EXTRA_CONFIG:-}
YAML
t2=$(now)
agent_env_unset
PROFILE=()
# BENCH_PERF=FILE records a CPU profile of the agent (perf, software clock) into FILE.
[[ -n "${BENCH_PERF:-}" ]] && PROFILE=(perf record -e cpu-clock -F 999 -g -o "$BENCH_PERF" --)
env "${AGENT_ENV_UNSET[@]}" "${PROFILE[@]}" "$BIN" run --config "$CONFIG" 2>"$STATE/$RUN.log" &
AGENT_PID=$!
peak=0
while :; do
    confirmed=$(psql -c "SELECT confirmed_flush_lsn >= '$END_LSN'::pg_lsn FROM pg_replication_slots WHERE slot_name = '${RUN}_agent'")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status" 2>/dev/null || echo 0)
    ((hwm > peak)) && peak=$hwm
    [[ "$confirmed" == "t" ]] && break
    kill -0 "$AGENT_PID" 2>/dev/null || { tail -20 "$STATE/$RUN.log"; die "agent exited early"; }
    sleep 0.05
done
t3=$(now)
agent_cpu=$(awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$AGENT_PID/stat")
broker_pid=$(cat "$STATE/broker.pid" 2>/dev/null || echo)
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=
agent_s=$(echo "$t3 - $t2" | bc -l)
printf 'pg_recvlogical: %8.0f rows/s (%.2f s)\n' "$(echo "$ROWS / $raw_s" | bc -l)" "$raw_s"
printf 'tributary:      %8.0f events/s (%.2f s, includes start-up and Kafka commit)\n' "$(echo "$ROWS / $agent_s" | bc -l)" "$agent_s"
printf 'ratio agent/pg_recvlogical: %.2f\n' "$(echo "$raw_s / $agent_s" | bc -l)"
printf 'agent peak RSS: %d MiB\n' "$((peak / 1024))"
printf 'agent CPU time: %s s\n' "$agent_cpu"
