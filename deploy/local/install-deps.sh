#!/usr/bin/env bash
# Usage: deploy/local/install-deps.sh [--with-mariadb]
#
# Installs the Debian 12 packages Tributary's build, tests and demo need, and only the missing ones:
# every package is checked with `dpkg-query` first, so a machine that has them all returns in about a
# second without touching the network. `apt-get update` runs only when something is missing.
# Runs as root (or through sudo when it is available). Never starts services: the local servers are
# started by hand by pg.sh and broker.sh.
#
#   --with-mariadb   also install the MariaDB server and client library (for the MySQL source and its tests)
#
# The Swift toolchain is not a Debian package: this script only checks that `swift` is on PATH.
set -euo pipefail

# Needed now: PostgreSQL 15 (server, contrib, libpq headers), librdkafka + kcat (Kafka client and CLI),
# python3-venv (the e2e harness venv), pkg-config (SwiftPM's .systemLibrary targets).
PACKAGES=(postgresql postgresql-contrib libpq-dev librdkafka-dev kcat python3-venv pkg-config)

# MariaDB: the MySQL/MariaDB source lands later. Its packages go here; they are installed with
# --with-mariadb until the MySQL source and its integration tests make them part of PACKAGES.
MARIADB_PACKAGES=(mariadb-server default-libmysqlclient-dev)

with_mariadb=false
for arg in "$@"; do
    case "$arg" in
        --with-mariadb) with_mariadb=true ;;
        -h | --help)
            sed -n '2,12p' "$0"
            exit 0
            ;;
        *)
            echo "install-deps.sh: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done
if [[ "$with_mariadb" == true ]]; then
    PACKAGES+=("${MARIADB_PACKAGES[@]}")
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} > 0)); then
    echo "install-deps: installing ${missing[*]}"
    sudo_cmd=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1; then
            sudo_cmd=(sudo -n)
        else
            echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -q
    "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}" </dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: the Swift toolchain (6.x) is not on PATH; install it from https://www.swift.org/install/" >&2
    exit 1
fi
