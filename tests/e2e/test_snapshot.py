"""Snapshot bootstrap at scale: a 1,000,000-row table snapshotted in parallel chunks while a writer changes it,
and a snapshot killed mid-way and resumed.

Volumes: a million snapshot events (~700 bytes each in the record file) would push everything else out of the
shared dev broker (the mock keeps ~5 MiB per partition) and bloat the shared record file, so these tests run
their own dev broker (`PrivateBroker`) and read its record file incrementally (`RecordStream`), checking that
the tap lost nothing (offsets contiguous from 0 in every partition, up to the high watermark).

The agent runs at nice 19 here and the recording broker at nice -10 (when root), both as process nice and as
scheduler-autogroup nice (each runs in a session of its own, and with autogroups a process nice only counts
inside its session): on two cores a full-speed agent starves the broker's record tap, which then falls more
than 5 MiB behind and loses records (seen: ~48k of 1M at equal priority, and in 4 of 9 runs of this file while
other suites loaded the machine, before the autogroup nice). The throughput figures are measured with the
plain binary and a broker without a tap.
"""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path

import pytest

import harness
from e2esnap_support import (
    PrivateBroker, RecordStream, Writer, diff_tables, drop_slot, log_value, precreate_topics, rebuild,
    set_autogroup_nice, table_rows, time_copy_to_stdout, wait_for_exit,
)
from harness import wait_until

ROWS = 1_000_000
# Settings of agents whose output is checked through the record tap: small messages, and larger producer
# batches (the mock returns one message set per partition per fetch, so fewer, larger sets let the tap
# catch up in fewer round trips than librdkafka's default 5 ms linger gives at full speed).
RECORDED = {"schemas.enable": False, "kafka.linger.ms": 100}


@pytest.fixture
def real_tributary_bin(tributary_bin) -> Path:
    """The agent binary itself (`tributary_bin` is overridden below with a nice-19 wrapper; requesting it
    keeps conftest's check that the binary exists)."""
    return Path(os.environ.get("TRIBUTARY_BIN") or harness.REPO_ROOT / ".build" / "release" / "tributary")


@pytest.fixture
def tributary_bin(tributary_bin, tmp_path) -> Path:
    """Overrides conftest's: the `agent` factory of this module starts the agent through `nice -n 19`, so the
    record tap of the private broker keeps up (see the module docstring). `exec` keeps the agent's pid."""
    wrapper = tmp_path / "tributary-nice"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n 19 "{tributary_bin}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture
def brokers(real_tributary_bin, tmp_path):
    """Factory of private dev brokers; stops them and deletes their record files at teardown."""
    started: list[PrivateBroker] = []

    def start(label: str, record: bool = True) -> PrivateBroker:
        broker = PrivateBroker(real_tributary_bin, tmp_path, label, record=record).start()
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()
        broker.remove_files()


def start_low_priority(agent, **settings) -> harness.Agent:
    """`agent(**settings)` (through the nice-19 wrapper), with its session's autogroup at nice 19 as well."""
    process = agent(**settings)
    set_autogroup_nice(process.pid, 19)
    return process


def create_table(pg, table: str, rows: int) -> None:
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, v integer NOT NULL, s text)")
        cur.execute(f"INSERT INTO public.{table} SELECT g, g %% 1000, md5(g::text) FROM generate_series(1, %s) g",
                    (rows,))
        cur.execute(f"VACUUM ANALYZE public.{table}")


def report(capsys, line: str) -> None:
    with capsys.disabled():
        print(f"\n[e2esnap] {line}", flush=True)


def agent_config(names, pg_target, bootstrap: str, **extra) -> dict:
    config = {
        "name": names.agent_name, "topic.prefix": names.prefix,
        "database.hostname": pg_target.host, "database.port": pg_target.port, "database.user": pg_target.user,
        "database.dbname": pg_target.dbname, "slot.name": names.slot, "publication.name": names.publication,
        "table.include.list": f"public.{names.table}", "kafka.bootstrap.servers": bootstrap,
        "schemas.enable": False,
    }
    config.update(extra)
    return config


def measure_snapshot(binary: Path, config: dict, workdir: Path, label: str, rows: int) -> tuple[float, float]:
    """Runs `snapshot.mode: initial_only` to completion: (rows/s from the agent's `snapshot finished` line,
    wall seconds from start to exit)."""
    process = harness.Agent(binary, config, workdir, label)
    start = time.monotonic()
    process.start()
    code = wait_for_exit(process, timeout=300)
    wall = time.monotonic() - start
    assert code == 0, f"initial_only run exited with {code}; log tail:\n{process.log_tail()}"
    text = process.log_text()
    assert log_value(text, "snapshot finished", "snapshot.rows") == str(rows), process.log_tail()
    duration = float(log_value(text, "snapshot finished", "snapshot.duration"))
    return rows / duration, wall


def test_million_row_snapshot_with_concurrent_writer_rebuilds_the_exact_table(
        pg, pg_target, names, agent, brokers, real_tributary_bin, tmp_path, capsys):
    table = f"public.{names.table}"
    create_table(pg, names.table, ROWS)

    # Throughput: COPY itself, then 1 and 2 snapshot workers (plain binary, broker without a tap, no writer).
    copy_seconds = time_copy_to_stdout(pg_target.url, table)
    quiet = brokers("quiet", record=False)
    rates = {}
    for threads in (1, 2):
        label = f"{names.prefix}_m{threads}"
        config = agent_config(names, pg_target, quiet.bootstrap, **{
            "name": label, "topic.prefix": label, "slot.name": label, "snapshot.mode": "initial_only",
            "snapshot.max.threads": threads})
        try:
            rates[threads] = measure_snapshot(real_tributary_bin, config, tmp_path, f"measure{threads}", ROWS)
        finally:
            drop_slot(pg, label)
    quiet.stop()
    report(capsys, f"{ROWS} rows: COPY {table} TO STDOUT {copy_seconds:.2f}s ({ROWS / copy_seconds:,.0f} rows/s); "
                   + "; ".join(f"snapshot with {t} worker(s): {r:,.0f} rows/s (run {w:.1f}s wall incl. start-up)"
                               for t, (r, w) in rates.items()))

    # Correctness: 2 workers, 50k-row chunks, a concurrent writer during the snapshot and after it.
    broker = brokers("recorded")
    precreate_topics(broker.bootstrap, [names.topic(), names.offsets_topic])
    stream = RecordStream(broker.record_path, names.prefix, names.agent_name)
    process = start_low_priority(agent, **{"kafka.bootstrap.servers": broker.bootstrap, **RECORDED,
                       "snapshot.max.threads": 2, "snapshot.chunk.size": 50_000})
    writer = Writer(pg_target.url, table, max_id=ROWS, next_id=ROWS + 1, max_transactions=20_000)
    writer.start()
    try:
        wait_until(lambda: (process._check_alive("the snapshot to finish"),
                            "snapshot finished" in process.log_text())[1],
                   timeout=300, interval=0.2, message="snapshot finished")
        process.wait_streaming(pg)
        time.sleep(1.0)  # keep writing while streaming too
    finally:
        writer.stop()
    with pg.cursor() as cur:  # a last transaction: once its event is committed, every earlier one is
        cur.execute(f"INSERT INTO {table} (id, v, s) VALUES (0, 0, 'marker')")

    def marker_committed():
        process._check_alive("the marker event")
        stream.refresh()
        units = stream.committed_units()
        return any(r.key == {"id": 0} and r.op == "c" and r.unit in units for r in stream.data)

    wait_until(marker_committed, timeout=180, interval=0.5, message="the marker insert committed")
    assert process.stop() == 0, f"exit code after SIGTERM; log tail:\n{process.log_tail()}"
    stream.wait_caught_up(broker.bootstrap)

    committed = stream.committed()
    reads = [r for r in committed if r.op == "r"]
    changes = [r for r in committed if r.op in ("c", "u", "d")]
    snapshot_rate = log_value(process.log_text(), "snapshot of table finished", "snapshot.rows_per_second")
    report(capsys, f"with a concurrent writer ({writer.transactions} transactions, {len(writer.touched)} keys "
                   f"touched): {len(reads)} snapshot events at {snapshot_rate} rows/s, {len(changes)} streamed "
                   f"change events, {len(stream.data)} records recorded, no tap gap")

    # Snapshot events: one per row, taken at one consistent point, first/last marked once.
    per_key = collections.Counter(r.key["id"] for r in reads)
    assert len(reads) > ROWS * 0.99 and max(per_key.values()) == 1, \
        f"{len(reads)} snapshot events; keys read twice: {[k for k, n in per_key.items() if n > 1][:10]}"
    assert {r.lsn for r in reads} == {r.commit_lsn for r in reads} and len({r.lsn for r in reads}) == 1
    point = reads[0].lsn
    markers = collections.Counter(r.snapshot for r in reads)
    assert markers["first"] == 1 and markers["last"] == 1 and markers["true"] == len(reads) - 2, markers
    # Streamed changes: after the consistent point, each source change once.
    assert changes and all(r.commit_lsn > point for r in changes)
    positions = collections.Counter((r.commit_lsn, r.event_seq, r.op) for r in changes)
    assert max(positions.values()) == 1, [p for p, n in positions.items() if n > 1][:10]

    rebuilt = rebuild(committed)
    expected = table_rows(pg, table)
    assert rebuilt == expected, diff_tables(rebuilt, expected)


def test_snapshot_killed_mid_way_resumes_after_the_committed_chunks(
        pg, pg_target, names, agent, brokers, capsys):
    table = f"public.{names.table}"
    create_table(pg, names.table, ROWS)
    broker = brokers("recorded")
    precreate_topics(broker.bootstrap, [names.topic(), names.offsets_topic])
    stream = RecordStream(broker.record_path, names.prefix, names.agent_name)
    settings = {"kafka.bootstrap.servers": broker.bootstrap, **RECORDED,
                "snapshot.max.threads": 2, "snapshot.chunk.size": 50_000}
    touched: set[int] = set()

    # Run 1: a light writer; SIGKILL once at least 3 chunks are committed.
    first = start_low_priority(agent, **settings)
    writer = Writer(pg_target.url, table, max_id=ROWS, next_id=ROWS + 1, seed=1, pause=0.01)
    writer.start()

    def chunks_committed():
        first._check_alive("snapshot progress")
        done = [len((o.snapshot or {}).get("completed_chunks", {}).get(f"public.{names.table}", []))
                for o in stream.peek_offsets() if o.snapshot]
        return max(done, default=0) >= 3

    try:
        wait_until(chunks_committed, timeout=120, interval=0.05, message="3 committed snapshot chunks")
        assert first.kill() == -9
    finally:
        writer.stop()
    touched |= writer.touched
    stream.wait_caught_up(broker.bootstrap)
    progress_record = stream.latest_offset()
    assert progress_record is not None and progress_record.snapshot is not None, \
        f"the snapshot was not interrupted (last offset record: {progress_record})"
    progress = progress_record.snapshot
    done_chunks = progress["completed_chunks"].get(f"public.{names.table}", [])
    assert progress["completed_tables"] == [] and len(done_chunks) >= 3, progress
    units_run1 = stream.committed_units()
    run1_reads = {r.key["id"] for r in stream.data if r.op == "r" and r.unit in units_run1}
    assert run1_reads, "no committed snapshot rows before the kill"

    # Between the runs: more changes (the slot keeps them since the consistent point).
    between = Writer(pg_target.url, table, max_id=ROWS, next_id=writer.next_id, seed=2)
    between.start()
    time.sleep(0.5)
    between.stop()
    touched |= between.touched

    # Run 2: same name and slot: resumes the snapshot, then streams from the original consistent point.
    second = start_low_priority(agent, **settings)
    late = Writer(pg_target.url, table, max_id=ROWS, next_id=between.next_id, seed=3, pause=0.01)
    late.start()
    try:
        wait_until(lambda: (second._check_alive("the resumed snapshot"), "snapshot finished" in second.log_text())[1],
                   timeout=300, interval=0.2, message="the resumed snapshot to finish")
        second.wait_streaming(pg)
    finally:
        late.stop()
    touched |= late.touched
    assert "resuming the interrupted snapshot" in second.log_text(), second.log_tail()
    with pg.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id, v, s) VALUES (0, 0, 'marker')")

    def marker_committed():
        second._check_alive("the marker event")
        stream.refresh()
        units = stream.committed_units()
        return any(r.key == {"id": 0} and r.op == "c" and r.unit in units for r in stream.data)

    wait_until(marker_committed, timeout=180, interval=0.5, message="the marker insert committed")
    assert second.stop() == 0, f"exit code after SIGTERM; log tail:\n{second.log_tail()}"
    stream.wait_caught_up(broker.bootstrap)

    committed = stream.committed()
    run2_units = stream.committed_units() - units_run1
    reads = [r for r in committed if r.op == "r"]
    run2_reads = [r for r in reads if r.unit in run2_units]
    per_key = collections.Counter(r.key["id"] for r in reads)
    assert run2_reads, "the resumed run committed no snapshot rows"
    report(capsys, f"killed after {len(done_chunks)} committed chunks ({len(run1_reads)} rows); the resumed run read "
                   f"{len(run2_reads)} rows; {len(touched)} keys touched by writers")

    # Finished chunks are not read again: a row untouched by the writers has exactly one snapshot event, and
    # no row of run 1's committed chunks is read by run 2 unless a writer moved it.
    reread = sorted(k for k in (r.key["id"] for r in run2_reads) if k in run1_reads and k not in touched)
    assert not reread, f"{len(reread)} rows of committed chunks were snapshotted again: {reread[:10]}"
    twice = sorted(k for k, n in per_key.items() if n > 1 and k not in touched)
    assert not twice, f"{len(twice)} untouched rows have more than one snapshot event: {twice[:10]}"
    untouched_missing = [k for k in range(1, ROWS + 1) if k not in touched and per_key[k] != 1]
    assert not untouched_missing, f"untouched rows without a snapshot event: {untouched_missing[:10]}"
    # Both runs' snapshot events carry the original consistent point; run 2 marks no second `first`.
    assert len({r.lsn for r in reads}) == 1 and progress["lsn"] == reads[0].lsn
    assert collections.Counter(r.snapshot for r in reads)["first"] == 1

    rebuilt = rebuild(committed)
    expected = table_rows(pg, table)
    assert rebuilt == expected, diff_tables(rebuilt, expected)
