"""Operating the agent: graceful stop and resume, configuration errors, fencing of a second agent with the
same name, an unreachable database at start, and the `tributary offsets show|reset` commands."""

from __future__ import annotations

import json
import random
import signal
import socket
import string
import subprocess
import time

import pytest

import e2erobust_support as support
from harness import (
    assert_exactly_once, change, committed_events, slot_state, unwrap, wait_committed_events, wait_until,
)


def _create_table(pg, table: str) -> None:
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, v text NOT NULL)")


def _insert(pg, table: str, ids, tag: str = "v") -> list[tuple]:
    """One transaction per row; returns the expected changes."""
    expected = []
    with pg.cursor() as cur:
        for i in ids:
            cur.execute(f"INSERT INTO public.{table} (id, v) VALUES (%s, %s)", (i, f"{tag}{i}"))
            expected.append(change("c", table, after={"id": i, "v": f"{tag}{i}"}))
    return expected


def _wait_changes(kafka, names, count: int, timeout: float = 60) -> list:
    def enough():
        events = [e for e in committed_events(names.prefix, names.agent_name, output=kafka) if not e.tombstone]
        return events if len(events) >= count else None

    return wait_until(enough, timeout, message=f"{count} committed changes")


def _assert_slot_at_last_offset(pg, names, kafka) -> int:
    """After a graceful stop: the slot's confirmed_flush_lsn is exactly the last committed offset's lsn."""
    confirmed = support.confirmed_flush(pg, names.slot)
    # The dev broker's record file is an asynchronous tap: give it time to catch up under load.
    deadline = time.monotonic() + 15
    while True:
        support.settle_record_file(kafka, quiet=0.3)
        last = support.max_offset_lsn(names.agent_name, kafka)
        if last == confirmed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert confirmed == last, (f"slot confirmed_flush_lsn {support.lsn_text(confirmed)} != last committed offset "
                               f"{support.lsn_text(last)}")
    return confirmed


# MARK: - Graceful stop and resume


def test_sigterm_confirms_the_last_offset_and_restart_resumes_without_loss_or_duplicates(pg, names, agent, kafka):
    _create_table(pg, names.table)
    first = agent()  # snapshot.mode initial on an empty table
    first.wait_streaming(pg)
    expected = _insert(pg, names.table, range(1, 6))
    _wait_changes(kafka, names, 5)
    assert first.stop() == 0, first.log_tail()
    assert "stopped: confirmed position sent" in first.log_text()
    stopped_at = _assert_slot_at_last_offset(pg, names, kafka)

    # Written while no agent runs: the slot keeps them.
    expected += _insert(pg, names.table, range(6, 11))
    second = agent()
    second.wait_streaming(pg)
    expected += _insert(pg, names.table, range(11, 16))
    _wait_changes(kafka, names, 15)
    assert second.stop() == 0, second.log_tail()
    assert "resuming after committed offset" in second.log_text()
    assert support.lsn_text(stopped_at) in second.log_text(), "the resume line names the committed offset"
    _assert_slot_at_last_offset(pg, names, kafka)

    events = wait_committed_events(names.prefix, names.agent_name, len(expected), output=kafka)
    assert_exactly_once(events, expected)
    assert [e.key for e in events] == [{"id": i} for i in range(1, 16)]


def test_sigterm_finishes_the_transaction_in_flight(pg, names, agent, kafka):
    rows = 20_000
    _create_table(pg, names.table)
    config = {"snapshot.mode": "no_data", "schemas.enable": False}
    process = agent(**config)
    process.wait_streaming(pg)
    with pg.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT txid_current()")
        xid = int(cur.fetchone()[0]) & 0xFFFFFFFF
        cur.execute(f"INSERT INTO public.{names.table} SELECT g, 'v' || g FROM generate_series(1, {rows}) g")
        cur.execute("COMMIT")

    def first_record():
        for record in kafka.records(lambda t: t == names.topic()):
            value = unwrap(record.value_json)
            if isinstance(value, dict) and value["source"].get("txId") == xid:
                return record
        return None

    wait_until(first_record, timeout=60, interval=0.01, message="first record of the transaction")
    process.process.send_signal(signal.SIGTERM)
    in_flight = not any(o.get("txId") == xid for o in support.offset_records(names.agent_name, kafka))
    try:
        code = process.process.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no exit 30 s after SIGTERM:\n{process.log_tail()}")
    print(f"\nSIGTERM {'while the transaction was in flight' if in_flight else 'after its unit was committed'}")
    assert code == 0, process.log_tail()
    _assert_slot_at_last_offset(pg, names, kafka)
    events = wait_committed_events(names.prefix, names.agent_name, rows, output=kafka)
    assert_exactly_once(events, [change("c", names.table, after={"id": i, "v": f"v{i}"}) for i in range(1, rows + 1)])


# MARK: - Configuration errors


def _valid_config(names) -> dict:
    return {
        "name": names.agent_name,
        "topic.prefix": names.prefix,
        "database.hostname": "127.0.0.1",
        "database.port": 5432,
        "database.dbname": "tributary",
        "slot.name": names.slot,
        "kafka.bootstrap.servers": "127.0.0.1:9",
    }


@pytest.mark.parametrize("case", ["unknown key", "bad enum", "unknown environment variable", "bad --set value"])
def test_invalid_configuration_exits_2_and_stderr_names_the_key(case, names, tributary_bin, tmp_path):
    config, env, extra_args = _valid_config(names), {}, []
    if case == "unknown key":
        config["snapshot.mod"] = "initial"
        needles = ["snapshot.mod", "unknown key"]
    elif case == "bad enum":
        config["snapshot.mode"] = "sometimes"
        needles = ["snapshot.mode", "sometimes"]
    elif case == "unknown environment variable":
        env["TRIBUTARY_SNAPSHOT_MODEE"] = "initial"
        needles = ["TRIBUTARY_SNAPSHOT_MODEE"]
    else:
        extra_args = ["--set", "decimal.handling.mode=exact"]
        needles = ["decimal.handling.mode", "exact"]

    # The same file without the fault is valid (--print-config validates and exits 0).
    good = support.write_config(tmp_path / "good.yaml", _valid_config(names))
    ok = support.run_cli(tributary_bin, ["run", "--config", str(good), "--print-config"], timeout=30)
    assert ok.returncode == 0, ok.stderr

    path = support.write_config(tmp_path / "bad.yaml", config)
    result = support.run_cli(tributary_bin, ["run", "--config", str(path), *extra_args], env=env, timeout=30)
    assert result.returncode == 2, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    for needle in needles:
        assert needle in result.stderr, f"stderr does not name {needle!r}: {result.stderr}"


# MARK: - Fencing


def test_second_agent_with_the_same_name_does_not_disturb_the_first_and_takes_over(pg, names, agent, kafka):
    """A second agent with the same `name` (same slot, offsets and transactional.id) started while the first
    runs. The contract says the first is fenced (exit 5); the dev broker cannot show that: librdkafka
    2.0.2's mock cluster lets a producer keep committing after another producer initialised the same
    transactional.id. What is observable: the second agent cannot take the slot, says so and keeps
    retrying; the first keeps streaming; once the first stops, the second resumes from the committed offset:
    no loss, no duplicate."""
    _create_table(pg, names.table)
    config = {"snapshot.mode": "no_data", "errors.retry.delay.max.ms": 1000}
    first = agent(**config)
    first.wait_streaming(pg)
    expected = _insert(pg, names.table, range(1, 4))
    _wait_changes(kafka, names, 3)
    first_pid = harness_slot_pid(pg, names.slot)

    second = agent(**config)
    wait_until(lambda: "is in use" in second.log_text() or not second.alive(), timeout=20,
               message="the second agent to report the slot in use")
    assert second.alive(), f"second agent exited with {second.returncode}:\n{second.log_tail()}"
    line = next(l for l in second.log_text().splitlines() if "is in use" in l)
    print(f"\nsecond agent: {line}")
    assert names.slot in line and "retrying" in line

    # The first agent keeps streaming and committing.
    expected += _insert(pg, names.table, range(4, 7))
    _wait_changes(kafka, names, 6)
    assert first.alive() and harness_slot_pid(pg, names.slot) == first_pid
    assert second.alive(), second.log_tail()

    # The first stops; the second takes the slot and resumes after the first's last offset.
    assert first.stop() == 0, first.log_tail()
    _assert_slot_at_last_offset(pg, names, kafka)
    def second_streaming():
        assert second.alive(), (f"the second agent exited with {second.returncode} instead of taking over "
                                f"after the first stopped:\n{second.log_tail(4)}")
        return (harness_slot_pid(pg, names.slot) or first_pid) != first_pid

    wait_until(second_streaming, timeout=30, message="the second agent to take the slot")
    expected += _insert(pg, names.table, range(7, 10))
    _wait_changes(kafka, names, 9)
    assert second.stop() == 0, second.log_tail()
    _assert_slot_at_last_offset(pg, names, kafka)
    assert_exactly_once(wait_committed_events(names.prefix, names.agent_name, len(expected), output=kafka), expected)


def harness_slot_pid(pg, slot: str):
    state = slot_state(pg, slot) or {}
    return state.get("active_pid") if state.get("active") else None


# MARK: - Start-up with a crowded TMPDIR


def test_start_survives_a_crowded_spill_directory(pg, names, agent, kafka, tmp_path):
    """At every start the agent scans TMPDIR (default /tmp) for stale spill files of its slot. A busy /tmp
    (entries named like the `TemporaryDirectory.XXXXXX` folders Swift tools leave there) must not matter:
    three starts with 1200, 2400 and 4800 entries each stream and stop cleanly. (A directory scan that reads
    past the end of a `readdir` entry crashes only when the buffer ends near unmapped memory, so on such an
    agent this test fails often but not always.)"""
    _create_table(pg, names.table)
    alphabet = string.ascii_letters + string.digits
    expected = []
    for run, count in enumerate((1200, 2400, 4800)):
        crowded = tmp_path / f"tmpdir{count}"
        crowded.mkdir()
        rng = random.Random(count)
        for _ in range(count):
            (crowded / ("TemporaryDirectory." + "".join(rng.choice(alphabet) for _ in range(6)))).touch()
        process = agent(env={"TMPDIR": str(crowded)}, **{"snapshot.mode": "no_data"})
        process.wait_streaming(pg)
        expected += _insert(pg, names.table, [run + 1])
        _wait_changes(kafka, names, run + 1)
        assert process.stop() == 0, process.log_tail()
    assert_exactly_once(wait_committed_events(names.prefix, names.agent_name, len(expected), output=kafka), expected)


# MARK: - Unreachable database


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_postgres_at_start_is_retried_and_sigterm_still_stops(names, agent):
    port = _closed_port()
    process = agent(**{"database.port": port, "snapshot.mode": "no_data",
                       "errors.retry.delay.max.ms": 1000})

    def retry_lines():
        assert process.alive(), f"agent exited with {process.returncode}:\n{process.log_tail()}"
        return [line for line in process.log_text().splitlines() if "retrying" in line] or None

    first = wait_until(retry_lines, timeout=20, message="a retry log line")
    time.sleep(5)
    assert process.alive(), f"the agent gave up (exit {process.returncode}):\n{process.log_tail()}"
    lines = retry_lines()
    print(f"\n{len(lines)} retry lines in ~5 s, e.g.: {first[0]}")
    assert len(lines) >= 2
    assert str(port) in process.log_text() or "connect" in process.log_text().lower()

    # A graceful stop must not wait for the database to come back.
    t0 = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    try:
        code = process.process.wait(10)
    except subprocess.TimeoutExpired:
        tail = process.log_tail(6)
        process.kill()
        raise AssertionError(f"SIGTERM while retrying the connection: no exit within 10 s (still retrying); "
                             f"log tail:\n{tail}")
    print(f"exit {code} {time.monotonic() - t0:.2f}s after SIGTERM")
    assert code == 0, process.log_tail()


# MARK: - offsets show / reset


def test_offsets_show_and_reset_then_no_data_restart_starts_fresh(pg, names, agent, kafka, tributary_bin):
    _create_table(pg, names.table)
    config = {"snapshot.mode": "no_data"}
    first = agent(**config)
    first.wait_streaming(pg)
    expected = _insert(pg, names.table, range(1, 4))
    _wait_changes(kafka, names, 3)
    assert first.stop() == 0, first.log_tail()
    confirmed = _assert_slot_at_last_offset(pg, names, kafka)

    shown = support.run_cli(tributary_bin, ["offsets", "show", "--config", str(first.config_path)])
    assert shown.returncode == 0, shown.stderr
    offset = json.loads(shown.stdout)
    last_record = support.offset_records(names.agent_name, kafka)[-1]
    assert offset == last_record
    assert offset["lsn"] == confirmed and offset["source"] == "postgresql"
    assert {"lsn", "lsn_commit", "txId", "ts_usec", "unit", "version", "time"} <= set(offset)

    reset = support.run_cli(tributary_bin, ["offsets", "reset", "--yes", "--config", str(first.config_path)])
    assert reset.returncode == 0, reset.stderr
    assert "reset" in reset.stdout
    after_reset = support.run_cli(tributary_bin, ["offsets", "show", "--config", str(first.config_path)])
    assert after_reset.returncode == 0, after_reset.stderr
    assert "no committed offset" in after_reset.stdout, after_reset.stdout
    # Without --yes and without a terminal it refuses.
    refused = support.run_cli(tributary_bin, ["offsets", "reset", "--config", str(first.config_path)])
    assert refused.returncode != 0 and "--yes" in (refused.stdout + refused.stderr)

    expected += _insert(pg, names.table, [4, 5])  # while stopped: still in the slot
    second = agent(**config)
    second.wait_streaming(pg)
    assert "no committed offset: starting fresh" in second.log_text()
    expected += _insert(pg, names.table, [6, 7])
    _wait_changes(kafka, names, 7)
    assert second.stop() == 0, second.log_tail()
    _assert_slot_at_last_offset(pg, names, kafka)

    events = wait_committed_events(names.prefix, names.agent_name, len(expected), output=kafka)
    assert_exactly_once(events, expected)
    assert all(e.op == "c" for e in events), "no snapshot after the reset with snapshot.mode=no_data"
    new = json.loads(support.run_cli(tributary_bin, ["offsets", "show", "--config", str(second.config_path)]).stdout)
    assert new["lsn"] > confirmed and new["unit"] != offset["unit"]
