#!/usr/bin/env bash
# Usage: deploy/local/pg.sh start|stop|status|url [DB]|psql [PSQL ARGS...]
#
# A throwaway PostgreSQL 15 cluster for tests and the demo, started by hand (no systemd):
#   start    initdb on first use, (re)write its settings, start it (already running: ok; a stale pid
#            file left by a crash is removed first), create the databases `tributary` and `demo`
#   stop     pg_ctl -m fast stop (not running: ok)
#   status   prints the state; exit 0 when running, 3 when stopped
#   url      prints postgresql://postgres@127.0.0.1:<port>/<DB> (DB defaults to tributary)
#   psql     runs psql on database tributary (pass -d DB to choose another) with the given arguments
#
# Environment:
#   TRIBUTARY_STATE_DIR  state directory (default <repo>/.tributary); the cluster lives in $STATE/pg
#                        (data/, run/ = unix socket directory, postgres.log)
#   TRIBUTARY_PG_PORT    TCP port on 127.0.0.1 (default 55432)
#   TRIBUTARY_PG_BIN     PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user and every
# server command runs through `runuser -u postgres`. When that user cannot reach $STATE (a clone under
# /root, mode 700) or the socket path would be too long, the cluster goes to /var/tmp/tributary-pg-<hash>
# and $STATE/pg is a symlink to it.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${TRIBUTARY_PG_PORT:-55432}"
PG_USER=postgres
DATABASES=(tributary demo)

if [[ -n "${TRIBUTARY_PG_BIN:-}" ]]; then
    PG_BIN="$TRIBUTARY_PG_BIN"
elif [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
    PG_BIN=/usr/lib/postgresql/15/bin
else
    PG_BIN="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)"
fi
[[ -n "$PG_BIN" && -x "$PG_BIN/pg_ctl" ]] ||
    die "PostgreSQL server binaries not found (run deploy/local/install-deps.sh or set TRIBUTARY_PG_BIN)"

# Runs a command as the cluster owner, from / so that an unreadable working directory does not matter.
as_owner() {
    if ((EUID == 0)); then
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

# Decides where the cluster lives (sets PG_HOME, PGDATA_DIR, SOCKET_DIR, PG_LOG).
resolve_home() {
    local link="$STATE/pg"
    if [[ -L "$link" ]]; then
        PG_HOME="$(readlink "$link")"
    else
        PG_HOME="$link"
        local socket="$PG_HOME/run/.s.PGSQL.$PG_PORT"
        local reachable=true
        if ((EUID == 0)) && ! runuser -u "$PG_USER" -- test -x "$STATE" 2>/dev/null; then
            reachable=false
        fi
        if [[ "$reachable" == false || ${#socket} -gt 100 ]]; then
            if [[ -d "$link" ]]; then
                die "$link exists but user $PG_USER cannot use it (permissions or socket path length); remove it"
            fi
            PG_HOME="/var/tmp/tributary-pg-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)"
            mkdir -p "$PG_HOME"
            ln -s "$PG_HOME" "$link"
        fi
    fi
    PGDATA_DIR="$PG_HOME/data"
    SOCKET_DIR="$PG_HOME/run"
    PG_LOG="$PG_HOME/postgres.log"
}

# Prints the postmaster pid when this cluster's postmaster is alive. A pid file alone is not proof:
# after a crash its pid may belong to an unrelated process, so the process's working directory (the
# postmaster chdirs into its data directory) must be our data directory.
running_pid() {
    local pidfile="$PGDATA_DIR/postmaster.pid" pid cwd
    [[ -f "$pidfile" ]] || return 1
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -d "/proc/$pid" ]] || return 1
    cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
    [[ "$cwd" == "$PGDATA_DIR" ]] || return 1
    echo "$pid"
}

psql_cmd() {
    "$PG_BIN/psql" -X -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$@"
}

write_settings() {
    local conf="$PGDATA_DIR/tributary.conf"
    as_owner tee "$conf" >/dev/null <<EOF
# Written by deploy/local/pg.sh on every start: throwaway settings for tests and the demo.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCKET_DIR'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
wal_sender_timeout = 60s
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if ! grep -q "^include 'tributary.conf'" "$PGDATA_DIR/postgresql.conf"; then
        echo "include 'tributary.conf'" | as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
    fi
    as_owner tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<'EOF'
# Written by deploy/local/pg.sh: a throwaway cluster on loopback, no passwords.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
host    replication  all   127.0.0.1/32   trust
local   replication  all                  trust
EOF
}

init_cluster() {
    mkdir -p "$PG_HOME"
    if ((EUID == 0)); then
        chown "$PG_USER:" "$PG_HOME"
    fi
    as_owner mkdir -p "$SOCKET_DIR"
    if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
        # An interrupted initdb leaves a partial directory: start over.
        rm -rf "$PGDATA_DIR"
        log "initdb $PGDATA_DIR"
        as_owner "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$STATE/pg-initdb.log" 2>&1 || {
            log_tail "$STATE/pg-initdb.log"
            die "initdb failed"
        }
    fi
}

create_databases() {
    local db
    for db in "${DATABASES[@]}"; do
        if [[ "$(psql_cmd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
            psql_cmd -d postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
        fi
    done
}

cmd_start() {
    init_cluster
    write_settings
    local pid
    if pid="$(running_pid)"; then
        # Settings may have changed since it started; a reload applies what can be reloaded.
        as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null
        log "already running (pid $pid, port $PG_PORT)"
    else
        # Left by a crash (kill -9, machine reset): the pid file and the socket lock file would make the
        # postmaster refuse to start if their pid now belongs to another process.
        rm -f "$PGDATA_DIR/postmaster.pid" "$SOCKET_DIR/.s.PGSQL.$PG_PORT" "$SOCKET_DIR/.s.PGSQL.$PG_PORT.lock"
        log "starting PostgreSQL on 127.0.0.1:$PG_PORT ($PGDATA_DIR)"
        if ! as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null; then
            log_tail "$PG_LOG"
            die "PostgreSQL did not start (is port $PG_PORT in use? set TRIBUTARY_PG_PORT)"
        fi
    fi
    create_databases
}

cmd_stop() {
    if running_pid >/dev/null; then
        as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
        log "stopped"
    else
        log "not running"
    fi
}

cmd_status() {
    local pid
    if pid="$(running_pid)"; then
        echo "running (pid $pid) on 127.0.0.1:$PG_PORT, data $PGDATA_DIR"
    else
        echo "stopped (data $PGDATA_DIR)"
        exit 3
    fi
}

resolve_home
case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) echo "postgresql://$PG_USER@127.0.0.1:$PG_PORT/${2:-tributary}" ;;
    psql)
        shift
        args=("$@")
        has_db=false
        for arg in "${args[@]}"; do
            case "$arg" in -d | --dbname | --dbname=* | -d?*) has_db=true ;; esac
        done
        if [[ "$has_db" == false ]]; then
            args=(-d tributary "${args[@]}")
        fi
        psql_cmd "${args[@]}"
        ;;
    *)
        sed -n '2,21p' "$0" >&2
        exit 2
        ;;
esac
