#!/usr/bin/env bash
# Usage: deploy/local/bench-snapshot.sh [ROWS] [THREADS...]
#
# Snapshot throughput against the raw limit on the same table in the same run: loads ROWS rows (default
# 1,000,000) into a 5-column table, times `psql -c "COPY t TO STDOUT" > /dev/null`, then times the release agent
# (`snapshot.mode: initial_only`, so it exits 0 once every snapshot chunk is committed) for each THREADS value
# (default "1 2"), once with the Kafka sink (private dev broker, no record tap) and once writing to /dev/null.
# Prints rows/s, the ratio to COPY and the agent's peak RSS.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$REPO_ROOT/deploy/local"
ROWS=${1:-1000000}
shift || true
THREADS=("$@")
((${#THREADS[@]} > 0)) || THREADS=(1 2)
BIN=$TRIBUTARY_BIN
[[ -x "$BIN" ]] || die "no release build at $BIN (swift build -c release --product tributary)"
"$HERE/pg.sh" start >/dev/null
PGURL=$("$HERE/pg.sh" url)
RUN="snapbench$$"
psql() { command psql "$PGURL" -v ON_ERROR_STOP=1 -qtAX "$@"; }
agent_env_unset
BROKER_FILE="$STATE/$RUN.bootstrap"
env "${AGENT_ENV_UNSET[@]}" "$BIN" dev-broker --brokers 3 --bootstrap-file "$BROKER_FILE" >/dev/null 2>"$STATE/$RUN-broker.log" &
BROKER_PID=$!
cleanup() {
    kill "$BROKER_PID" 2>/dev/null || true
    rm -f "$BROKER_FILE"
    psql -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '${RUN}%' AND NOT active" >/dev/null 2>&1 || true
    psql -c "DROP PUBLICATION IF EXISTS ${RUN}_pub; DROP TABLE IF EXISTS public.$RUN" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 100); do [[ -s "$BROKER_FILE" ]] && break; sleep 0.1; done
BOOTSTRAP=$(head -1 "$BROKER_FILE")

psql -c "CREATE TABLE public.$RUN (id bigint PRIMARY KEY, name text, amount numeric(12,2), created timestamptz, flag boolean)"
psql -c "INSERT INTO public.$RUN SELECT g, 'name-' || g, g * 1.25, now(), g % 2 = 0 FROM generate_series(1, $ROWS) g"
psql -c "VACUUM ANALYZE public.$RUN"
now() { date +%s.%N; }
t0=$(now)
psql -c "COPY public.$RUN TO STDOUT" >/dev/null
t1=$(now)
copy_s=$(echo "$t1 - $t0" | bc -l)
printf 'COPY TO STDOUT: %9.0f rows/s (%.2f s)\n' "$(echo "$ROWS / $copy_s" | bc -l)" "$copy_s"

for sink in kafka null; do
    for threads in "${THREADS[@]}"; do
        name="${RUN}_${sink}_$threads"
        config="$STATE/$name.yaml"
        {
            echo "name: $name"
            echo "topic.prefix: $name"
            echo "database.hostname: 127.0.0.1"
            echo "database.port: $(echo "$PGURL" | sed -E 's#.*:([0-9]+)/.*#\1#')"
            echo "database.dbname: $(echo "$PGURL" | sed -E 's#.*/##')"
            echo "slot.name: $name"
            echo "publication.name: ${RUN}_pub"
            echo "publication.autocreate.mode: filtered"
            echo "table.include.list: public.$RUN"
            echo "snapshot.mode: initial_only"
            echo "snapshot.max.threads: $threads"
            echo "log.level: warning"
            if [[ "$sink" == null ]]; then
                printf 'sink.type: file\nsink.file.path: /dev/null\noffset.storage: file\noffset.storage.file.filename: %s\n' "$STATE/$name.offset"
            else
                echo "kafka.bootstrap.servers: $BOOTSTRAP"
            fi
        } >"$config"
        t2=$(now)
        env "${AGENT_ENV_UNSET[@]}" "$BIN" run --config "$config" 2>"$STATE/$name.log" &
        pid=$!
        peak=0
        while kill -0 "$pid" 2>/dev/null; do
            hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
            ((hwm > peak)) && peak=$hwm
            sleep 0.05
        done
        wait "$pid" || die "agent failed: $(tail -5 "$STATE/$name.log")"
        t3=$(now)
        s=$(echo "$t3 - $t2" | bc -l)
        printf 'agent %-5s sink, %d worker(s): %9.0f rows/s (%.2f s), ratio to COPY %.2f, peak RSS %d MiB\n' \
            "$sink" "$threads" "$(echo "$ROWS / $s" | bc -l)" "$s" "$(echo "$copy_s / $s" | bc -l)" "$((peak / 1024))"
    done
done
