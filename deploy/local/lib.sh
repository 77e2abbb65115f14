# shellcheck shell=bash
# Shared helpers for the deploy/local scripts. Source it, do not run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Defines:
#   REPO_ROOT        the repository root (this file's ../..)
#   STATE            ${TRIBUTARY_STATE_DIR:-$REPO_ROOT/.tributary}, created on first use (gitignored)
#   SCRATCH_PATH     ${TRIBUTARY_SCRATCH_PATH:-$REPO_ROOT/.build} (SwiftPM --scratch-path)
#   TRIBUTARY_BIN    ${TRIBUTARY_BIN:-$SCRATCH_PATH/release/tributary}
#   agent_env_unset, run_agent_env  run a command without the scripts' own TRIBUTARY_* variables
#   die, log, log_tail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${TRIBUTARY_STATE_DIR:-$REPO_ROOT/.tributary}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
SCRATCH_PATH="${TRIBUTARY_SCRATCH_PATH:-$REPO_ROOT/.build}"
TRIBUTARY_BIN="${TRIBUTARY_BIN:-$SCRATCH_PATH/release/tributary}"

die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

log() {
    echo "[${0##*/}] $*" >&2
}

# The agent reads every `TRIBUTARY_<KEY>` environment variable as a configuration override and rejects
# unknown keys; the scripts' own variables (TRIBUTARY_BIN, TRIBUTARY_STATE_DIR, TRIBUTARY_PG_PORT, …) are
# not configuration, so they are removed from the agent's environment. TRIBUTARY_TEST_* stays (the agent
# ignores it by contract). For a background command, where `$!` must be the command's own pid:
#   agent_env_unset; env "${AGENT_ENV_UNSET[@]}" cmd … &
agent_env_unset() {
    AGENT_ENV_UNSET=()
    local name
    for name in $(compgen -e); do
        case "$name" in
            TRIBUTARY_TEST_*) ;;
            TRIBUTARY_*) AGENT_ENV_UNSET+=(-u "$name") ;;
        esac
    done
}

run_agent_env() {
    agent_env_unset
    env "${AGENT_ENV_UNSET[@]}" "$@"
}

# Prints the last lines of a log file, framed, to stderr.
log_tail() {
    local file="$1" lines="${2:-40}"
    if [[ -f "$file" ]]; then
        echo "----- last $lines lines of $file -----" >&2
        tail -n "$lines" "$file" >&2
        echo "-----" >&2
    else
        echo "(no log file $file)" >&2
    fi
}
