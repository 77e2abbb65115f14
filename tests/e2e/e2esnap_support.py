"""Helpers of the snapshot, snapshot-mode and replay end-to-end tests (test_snapshot.py,
test_snapshot_modes.py, test_replay.py).

- `PrivateBroker`: a `tributary dev-broker` of the test's own, with or without a record file, so that a
  million-row snapshot neither bloats the shared record file nor pushes other tests' records out of the mock.
- `RecordStream`: an incremental, low-memory reader of a record file for one agent (data topics of its
  prefix and its offsets topic), with the tap's gap check (offsets of every partition contiguous from 0).
- `rebuild`: the table a consumer rebuilds from the committed events (last event per key wins, deletes and
  tombstones remove the key).
- `Writer`: a concurrent writer thread (updates, deletes, inserts, key changes) that remembers the keys it
  touched.
- `offsets_cli`, `lsn_to_int`, `wait_for_exit`, `log_value`, `drop_slot`.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import harness
from harness import wait_until

UNIT_HEADER = harness.UNIT_HEADER


# MARK: - LSNs and processes


def lsn_to_int(text: str) -> int:
    """`16/B374D848` → 0x16_B374D848."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def int_to_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def current_lsn(conn) -> str:
    """The WAL insert position (with synchronous_commit=off the flush position can lag behind commits)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cur.fetchone()[0]


def wait_for_exit(process: harness.Agent, timeout: float) -> int:
    """Waits for the agent to exit by itself; fails (after a SIGKILL) when it does not within `timeout`."""
    assert process.process is not None
    try:
        return process.process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.process.kill()
        process.process.wait()
        raise AssertionError(f"agent did not exit within {timeout:.0f}s; log tail:\n{process.log_tail()}")


def log_value(log_text: str, message: str, key: str) -> Optional[str]:
    """The value of metadata `key` on the last log line containing `message` (text log format:
    `key=value` pairs before the message)."""
    value = None
    for line in log_text.splitlines():
        if message in line:
            match = re.search(rf"(?:^|\s){re.escape(key)}=(\S+)", line)
            if match:
                value = match.group(1)
    return value


def offsets_cli(binary: Path, action: str, config_path: Path, *args: str,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs `tributary offsets <action> --config FILE ARGS…` (stdin closed, so no confirmation prompt)."""
    return subprocess.run(
        [str(binary), "offsets", action, "--config", str(config_path), *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
        env=harness.agent_environment())


def drop_slot(conn, slot: str, timeout: float = 15.0) -> None:
    """Drops a replication slot (terminating a walsender that still holds it); no error when missing."""
    deadline = time.monotonic() + timeout
    with conn.cursor() as cur:
        while True:
            state = harness.slot_state(conn, slot)
            if state is None:
                return
            try:
                if state["active"]:
                    cur.execute("SELECT pg_terminate_backend(%s)", (state["active_pid"],))
                    time.sleep(0.1)
                    continue
                cur.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def set_autogroup_nice(pid: int, value: int) -> bool:
    """Sets the scheduler autogroup nice of `pid`'s session (Linux `sched_autogroup_enabled`). With autogroups a
    process's own nice value only weighs against processes of its session, and the agent and the brokers
    run in sessions of their own; this weighs their whole session against the rest of the machine.
    Returns False when not possible (no autogroup support, or not permitted for a negative value)."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(value))
        return True
    except OSError:
        return False


def table_rows(conn, table: str, key: str = "id") -> dict[Any, dict]:
    """SELECT * as {key value: row dict}."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cur.description]
        return {row[names.index(key)]: dict(zip(names, row)) for row in cur.fetchall()}


def psql_binary() -> Optional[str]:
    return shutil.which("psql") or next(
        (p for p in ("/usr/lib/postgresql/15/bin/psql",) if os.access(p, os.X_OK)), None)


def time_copy_to_stdout(url: str, table: str) -> float:
    """Seconds `psql -c "COPY t TO STDOUT" > /dev/null` takes (psycopg2 copy_expert when psql is missing)."""
    psql = psql_binary()
    start = time.monotonic()
    if psql:
        with open(os.devnull, "wb") as null:
            subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", f"COPY {table} TO STDOUT"],
                           stdout=null, check=True, timeout=300)
    else:
        import psycopg2

        class Null:
            def write(self, data):
                return len(data)

        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.copy_expert(f"COPY {table} TO STDOUT", Null())
    return time.monotonic() - start


# MARK: - Private dev broker


class PrivateBroker:
    """`tributary dev-broker --brokers 1` in `workdir`, recording into `workdir/<label>-record.jsonl` when asked.

    A recording broker runs at nice -10 (process and autogroup) when the tests run as root, else at the default
    priority: its record tap must keep within the mock's ~5 MiB per partition of the producer, also when other
    work competes for the CPU."""

    def __init__(self, binary: Path, workdir: Path, label: str, record: bool = True):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.bootstrap_file = self.workdir / f"{label}.bootstrap"
        self.record_path: Optional[Path] = self.workdir / f"{label}-record.jsonl" if record else None
        self.log_path = self.workdir / f"{label}.log"
        self.process: Optional[subprocess.Popen] = None
        self.bootstrap = ""

    def start(self, timeout: float = 30.0) -> "PrivateBroker":
        command = [str(self.binary), "dev-broker", "--brokers", "1", "--bootstrap-file", str(self.bootstrap_file),
                   "--log-level", "info"]  # info: the tap logs records purged before it read them
        if self.record_path is not None:
            command += ["--record", str(self.record_path)]
            if os.geteuid() == 0 and shutil.which("nice"):
                command = ["nice", "-n", "-10", *command]  # nice execs the broker: same pid
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=harness.agent_environment(), start_new_session=True)
        if self.record_path is not None:
            set_autogroup_nice(self.process.pid, -10)

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"dev broker exited with {self.process.returncode}: "
                                     f"{self.log_path.read_text(errors='replace')[-2000:]}")
            text = self.bootstrap_file.read_text().strip() if self.bootstrap_file.exists() else ""
            return text if ":" in text else None

        self.bootstrap = wait_until(ready, timeout, message="private dev broker bootstrap file")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove_files(self) -> None:
        for path in (self.record_path, self.bootstrap_file):
            if path is not None:
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass


def precreate_topics(bootstrap: str, topics: Iterable[str]) -> None:
    """Creates topics through a metadata request (the mock auto-creates them) before the agent writes, so
    the record tap starts their partitions at offset 0 before the first burst arrives."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for topic in topics:
        metadata = producer.list_topics(topic=topic, timeout=10)
        assert metadata.topics[topic].error is None, f"cannot create {topic}: {metadata.topics[topic].error}"
    producer.flush(1)


def high_watermarks(bootstrap: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """(topic, partition) → high watermark."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "e2esnap-watermarks",
                         "enable.auto.commit": False})
    try:
        marks = {}
        metadata = consumer.list_topics(timeout=10)
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None:
                continue
            for partition in meta.partitions:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                marks[(topic, partition)] = high
        return marks
    finally:
        consumer.close()


# MARK: - Reading a record file


@dataclass(frozen=True, slots=True)
class DataRecord:
    """One data-topic message, reduced to what the checks need."""
    topic: str
    partition: int
    offset: int
    unit: Optional[str]
    key: Any              # unwrapped key payload (dict) or None
    op: Optional[str]     # None: tombstone
    after: Optional[dict]
    snapshot: Optional[str]
    commit_lsn: Optional[int]
    event_seq: Optional[int]
    lsn: Optional[int]

    @property
    def run(self) -> Optional[str]:
        """The agent run that wrote it: a unit id is `<run id>-<sequence>`."""
        return None if self.unit is None else self.unit.rsplit("-", 1)[0]


@dataclass(frozen=True)
class OffsetRecord:
    partition: int
    offset: int
    value: Optional[dict]

    @property
    def unit(self) -> Optional[str]:
        return (self.value or {}).get("unit")

    @property
    def snapshot(self) -> Optional[dict]:
        return (self.value or {}).get("snapshot")


class RecordStream:
    """Reads the record file incrementally, keeping only the data topics `<prefix>.*` (not the transaction
    topic) and the offsets topic `<agent>.offsets`, and checks that every partition's offsets are contiguous
    from 0: a gap means the tap fell behind and the mock purged records before they were recorded."""

    def __init__(self, path: Path, prefix: str, agent_name: str):
        self.path = Path(path)
        self.prefix = prefix
        self.offsets_topic = f"{agent_name}.offsets"
        self._data_marker = b'{"topic":"' + (prefix + ".").encode()
        self._offsets_marker = b'{"topic":"' + self.offsets_topic.encode() + b'"'
        self._position = 0
        self.data: list[DataRecord] = []
        self.offsets: list[OffsetRecord] = []
        self.next_offset: dict[tuple[str, int], int] = {}
        self.gaps: list[tuple[str, int, int, int]] = []  # topic, partition, expected, got
        self._peek_position = 0
        self._peeked: list[OffsetRecord] = []

    def refresh(self, block: int = 32 << 20) -> "RecordStream":
        """Reads what the tap appended since the last call (complete lines only), in blocks of `block` bytes."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return self
        with open(self.path, "rb") as f:
            while size > self._position:
                f.seek(self._position)
                chunk = f.read(min(block, size - self._position))
                end = chunk.rfind(b"\n") + 1
                if end == 0:
                    if len(chunk) < block:
                        break  # an incomplete last line: the tap is writing it
                    raise AssertionError(f"a line longer than {block} bytes in {self.path}")
                self._position += end
                self._parse(chunk[:end])
        return self

    def _parse(self, lines: bytes) -> None:
        transaction_topic = f"{self.prefix}.transaction"
        for line in lines.split(b"\n"):
            if line.startswith(self._offsets_marker):
                item = json.loads(line)
                self._check(item)
                value = None if item["value"] is None else json.loads(item["value"])
                self.offsets.append(OffsetRecord(int(item["partition"]), int(item["offset"]), value))
            elif line.startswith(self._data_marker):
                item = json.loads(line)
                if item["topic"] == transaction_topic:
                    continue
                self._check(item)
                key = None if item["key"] is None else harness.unwrap(json.loads(item["key"]))
                value = None if item["value"] is None else harness.unwrap(json.loads(item["value"]))
                source = (value or {}).get("source") or {}
                self.data.append(DataRecord(
                    topic=item["topic"], partition=int(item["partition"]), offset=int(item["offset"]),
                    unit=(item.get("headers") or {}).get(UNIT_HEADER), key=key,
                    op=None if value is None else value.get("op"),
                    after=None if value is None else value.get("after"),
                    snapshot=source.get("snapshot"), commit_lsn=source.get("commit_lsn"),
                    event_seq=source.get("event_seq"), lsn=source.get("lsn")))

    def peek_offsets(self) -> list[OffsetRecord]:
        """The offset records written so far, found by a fast scan that parses only offsets-topic lines (to
        follow a fast snapshot without parsing every data record); independent of `refresh`."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        position, found = self._peek_position, self._peeked
        if size > position:
            with open(self.path, "rb") as f:
                f.seek(position)
                chunk = f.read(size - position)
            end = chunk.rfind(b"\n") + 1
            self._peek_position = position + end
            start = 0
            marker = b"\n" + self._offsets_marker
            view = b"\n" + chunk[:end]
            while True:
                index = view.find(marker, start)
                if index < 0:
                    break
                line_end = view.find(b"\n", index + 1)
                item = json.loads(view[index + 1:line_end])
                value = None if item["value"] is None else json.loads(item["value"])
                found.append(OffsetRecord(int(item["partition"]), int(item["offset"]), value))
                start = line_end
        return list(found)

    def _check(self, item: dict) -> None:
        partition = (item["topic"], int(item["partition"]))
        expected = self.next_offset.get(partition, 0)
        offset = int(item["offset"])
        if offset != expected:
            self.gaps.append((partition[0], partition[1], expected, offset))
        self.next_offset[partition] = offset + 1

    def committed_units(self) -> set[str]:
        return {o.unit for o in self.offsets if o.unit}

    def committed(self) -> list[DataRecord]:
        """Data records of committed units, in (topic, partition, offset) order."""
        units = self.committed_units()
        return sorted((r for r in self.data if r.unit in units), key=lambda r: (r.topic, r.partition, r.offset))

    def latest_offset(self) -> Optional[OffsetRecord]:
        """The last offset record (what the agent resumes from)."""
        return max(self.offsets, key=lambda o: (o.partition, o.offset), default=None)

    def wait_caught_up(self, bootstrap: str, timeout: float = 60.0) -> None:
        """Waits until the tap recorded every partition of the data and offsets topics up to its high
        watermark, then asserts that it lost nothing on the way (no offset gaps)."""
        topics = {r.topic for r in self.data} | {self.offsets_topic}
        marks = high_watermarks(bootstrap, topics)

        def caught_up():
            self.refresh()
            behind = {p: (self.next_offset.get(p, 0), high) for p, high in marks.items()
                      if self.next_offset.get(p, 0) < high}
            return True if not behind else None

        wait_until(caught_up, timeout, interval=0.2, message=f"the record tap to reach the high watermarks {marks}")
        assert not self.gaps, (f"the record tap fell behind: the mock purged records before they were recorded "
                               f"(topic, partition, expected offset, next recorded offset): {self.gaps[:10]}")


def rebuild(records: Iterable[DataRecord], key_field: str = "id") -> dict[Any, dict]:
    """The table a consumer rebuilds from committed records in partition order: per key the last event wins,
    a delete or a tombstone removes the key."""
    table: dict[Any, dict] = {}
    for record in records:
        if record.key is None:
            raise AssertionError(f"record without a key: {record}")
        key = record.key[key_field]
        if record.op is None or record.op == "d":
            table.pop(key, None)
        elif record.op in ("c", "u", "r"):
            table[key] = record.after
        else:
            raise AssertionError(f"unexpected op {record.op!r} in {record}")
    return table


def diff_tables(rebuilt: dict, expected: dict, limit: int = 10) -> str:
    missing = [k for k in expected if k not in rebuilt]
    extra = [k for k in rebuilt if k not in expected]
    different = [k for k in expected if k in rebuilt and rebuilt[k] != expected[k]]
    return (f"rebuilt {len(rebuilt)} rows, table has {len(expected)}: "
            f"{len(missing)} missing {sorted(missing)[:limit]}, "
            f"{len(extra)} extra {sorted(extra)[:limit]}, {len(different)} different "
            f"{[(k, rebuilt[k], expected[k]) for k in sorted(different)[:limit]]}")


# MARK: - Concurrent writer


class Writer(threading.Thread):
    """Small transactions against `table (id integer PRIMARY KEY, v integer, s text)`: updates of random rows,
    deletes, inserts of new ids above `next_id`, and key-changing updates, until stopped (or after
    `max_transactions`). Remembers every key it touched (old and new keys of key changes)."""

    def __init__(self, url: str, table: str, max_id: int, next_id: int, seed: int = 7,
                 ops_per_transaction: int = 4, pause: float = 0.0, max_transactions: Optional[int] = None):
        super().__init__(daemon=True, name=f"writer-{table}")
        self.url = url
        self.table = table
        self.max_id = max_id
        self.next_id = next_id
        self.random = random.Random(seed)
        self.ops_per_transaction = ops_per_transaction
        self.pause = pause
        self.max_transactions = max_transactions
        self.touched: set[int] = set()
        self.transactions = 0
        self.stop_event = threading.Event()
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        import psycopg2

        try:
            conn = psycopg2.connect(self.url)
            conn.autocommit = False
            with conn.cursor() as cur:
                while not self.stop_event.is_set() and self.transactions != self.max_transactions:
                    for _ in range(self.ops_per_transaction):
                        self._one(cur)
                    conn.commit()
                    self.transactions += 1
                    if self.pause:
                        time.sleep(self.pause)
            conn.close()
        except BaseException as error:  # reported by stop()
            self.error = error

    def _one(self, cur) -> None:
        choice = self.random.random()
        key = self.random.randint(1, self.max_id)
        if choice < 0.55:
            cur.execute(f"UPDATE {self.table} SET v = v + 1, s = %s WHERE id = %s", (f"u{self.transactions}", key))
            self.touched.add(key)
        elif choice < 0.75:
            cur.execute(f"DELETE FROM {self.table} WHERE id = %s", (key,))
            self.touched.add(key)
        elif choice < 0.95:
            new = self.next_id
            self.next_id += 1
            cur.execute(f"INSERT INTO {self.table} (id, v, s) VALUES (%s, %s, %s)", (new, -new, "new"))
            self.touched.add(new)
        else:
            new = self.next_id
            self.next_id += 1
            cur.execute(f"UPDATE {self.table} SET id = %s WHERE id = %s", (new, key))
            self.touched.update((key, new))

    def stop(self) -> None:
        self.stop_event.set()
        self.join(30)
        assert not self.is_alive(), "the writer thread did not stop"
        if self.error is not None:
            raise AssertionError(f"the concurrent writer failed: {self.error!r}")
