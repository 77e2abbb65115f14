"""`tributary run --start-lsn X`: one run replays from an operator's LSN instead of the committed offset.
Replaying old changes needs a slot that can still serve them (here a copy of the agent's slot taken before the
changes); an LSN behind the slot's confirmed_flush_lsn is refused with exit 3 and a message naming the fix."""

from __future__ import annotations

import signal
import subprocess
import time

from e2esnap_support import current_lsn, drop_slot
from harness import agent_environment, committed_units
from test_replay import create, events_of, execute, wait_events


def run_with_start_lsn(tributary_bin, config_path, lsn: str, log_path) -> subprocess.Popen:
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(
            [str(tributary_bin), "run", "--config", str(config_path), "--start-lsn", lsn],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=agent_environment(),
            start_new_session=True)
    finally:
        log.close()


def wait_for_exit(process: subprocess.Popen, timeout: float) -> int:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"agent did not exit within {timeout:.0f}s")


def test_start_lsn_replays_exactly_the_later_changes_and_refuses_an_lsn_behind_the_slot(
        pg, names, agent, kafka, tributary_bin, request, tmp_path):
    table = f"public.{names.table}"
    create(pg, table, 0)
    first = agent(**{"snapshot.mode": "no_data"})
    first.wait_streaming(pg)
    replay_slot = f"{names.slot}_again"
    request.addfinalizer(lambda: drop_slot(pg, replay_slot))
    execute(pg, f"SELECT pg_copy_logical_replication_slot('{names.slot}', '{replay_slot}')")
    after = {}
    for i in range(1, 9):
        execute(pg, f"INSERT INTO {table} VALUES ({i}, 'row {i}')")
        after[i] = current_lsn(pg)
    wait_events(names, kafka, lambda ev: len(ev) >= 8, "8 streamed inserts")
    assert first.stop() == 0, first.log_tail()
    first_units = committed_units(names.agent_name, kafka)

    # Replay from after transaction 4 through the copied slot: exactly 5..8 again.
    config = first.config_path.read_text().replace(f"slot.name: {names.slot}", f"slot.name: {replay_slot}")
    replay_config = tmp_path / "replay.yaml"
    replay_config.write_text(config)
    process = run_with_start_lsn(tributary_bin, replay_config, after[4], tmp_path / "replay.log")
    wait_events(names, kafka, lambda ev: len(ev) >= 12, "the 4 replayed inserts")
    process.send_signal(signal.SIGTERM)
    assert wait_for_exit(process, 30) == 0, (tmp_path / "replay.log").read_text()[-3000:]
    time.sleep(1.0)
    replayed = [e for e in events_of(names, kafka) if e.unit not in first_units]
    assert sorted(e.key["id"] for e in replayed) == [5, 6, 7, 8]

    # The agent's own slot has confirmed everything: an LSN behind it cannot be served.
    process = run_with_start_lsn(tributary_bin, first.config_path, after[2], tmp_path / "refused.log")
    code = wait_for_exit(process, 60)
    log = (tmp_path / "refused.log").read_text()
    assert code == 3, log[-3000:]
    assert "is behind slot" in log and "offsets set --lsn" in log and "when_needed" in log
