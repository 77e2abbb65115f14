"""Helpers for Tributary's end-to-end tests: the agent process, the committed Kafka output, and the
position-based exactly-once check.

Environment (set by deploy/local/test.sh):
  TRIBUTARY_BIN                    the agent binary (default <repo>/.build/release/tributary)
  TRIBUTARY_TEST_PG_URL            postgresql://postgres@127.0.0.1:55432/tributary
  TRIBUTARY_TEST_KAFKA_BOOTSTRAP   bootstrap list the agent produces to
  TRIBUTARY_TEST_KAFKA_RECORD      the dev broker's record file (one JSON line per message)
  KAFKA_BOOTSTRAP_SERVERS          a real broker: read it with a read_committed consumer instead
  CI                               "true": a missing server fails the test instead of skipping it
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional
from urllib.parse import unquote, urlparse

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("TRIBUTARY_STATE_DIR", REPO_ROOT / ".tributary"))

# The header every record of a commit unit carries; its value is the `unit` field of the offset record
# written in the same Kafka transaction (TributaryCore `ChangeSink.beginUnit`, `Offset.unit`).
UNIT_HEADER = "tributary.unit"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def require(condition: Any, reason: str) -> None:
    """Skips the test when a prerequisite is missing; in CI (CI=true) fails it instead."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: missing servers fail the run)", pytrace=False)
    pytest.skip(reason)


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
               message: Optional[str] = None) -> Any:
    """Calls `predicate` until it returns a truthy value, which is returned. Raises AssertionError after
    `timeout` seconds, naming `message` (or the predicate) and the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last value: {last!r})")
        time.sleep(interval)


# MARK: - Database


@dataclass(frozen=True)
class PgTarget:
    """Where the test database is, parsed from TRIBUTARY_TEST_PG_URL."""
    url: str
    host: str
    port: int
    user: str
    dbname: str

    @staticmethod
    def from_url(url: str) -> "PgTarget":
        parsed = urlparse(url)
        return PgTarget(
            url=url,
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=unquote(parsed.username or "postgres"),
            dbname=unquote(parsed.path.lstrip("/")) or "tributary",
        )


def slot_state(conn, slot: str) -> Optional[dict]:
    """The slot's row in pg_replication_slots, or None."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT active, active_pid, confirmed_flush_lsn::text, restart_lsn::text "
            "FROM pg_replication_slots WHERE slot_name = %s",
            (slot,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return {"active": row[0], "active_pid": row[1], "confirmed_flush_lsn": row[2], "restart_lsn": row[3]}


# MARK: - Kafka output


@dataclass
class KafkaRecord:
    """One message as a consumer saw it. Key and value are UTF-8 strings (None: null)."""
    topic: str
    partition: int
    offset: int
    key: Optional[str]
    value: Optional[str]
    headers: dict[str, Optional[str]] = field(default_factory=dict)

    @property
    def key_json(self) -> Any:
        return None if self.key is None else json.loads(self.key)

    @property
    def value_json(self) -> Any:
        return None if self.value is None else json.loads(self.value)


class RecordFileOutput:
    """The dev broker's tap file: every message of every topic as one JSON line
    `{"topic","partition","offset","key","value","headers"}`, in the order the tap read them. The mock
    cluster does not hide aborted transactions, so this is everything produced, committed or not."""

    def __init__(self, path: Path, bootstrap: Optional[str] = None, catch_up_timeout: float = 20.0):
        self.path = Path(path)
        self._position = 0
        self._inode: Optional[int] = None
        self._records: list[KafkaRecord] = []
        # With the dev broker's bootstrap list, `records` first waits until the tap has recorded every
        # partition of the matching topics up to the broker's high watermark: the tap reads partitions
        # independently and asynchronously, so without this a reader can see one partition lag behind.
        self.bootstrap = bootstrap
        self.catch_up_timeout = catch_up_timeout
        self._max_offset: dict[tuple[str, int], int] = {}
        self._consumer = None

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._position, self._inode, self._records = 0, None, []
            return
        if stat.st_ino != self._inode or stat.st_size < self._position:
            # A restarted dev broker starts a new file.
            self._position, self._inode, self._records = 0, stat.st_ino, []
            self._max_offset = {}
        with open(self.path, "rb") as f:
            f.seek(self._position)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # only complete lines; the tap may be mid-write
        for line in chunk[:end].splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            record = KafkaRecord(
                topic=item["topic"], partition=int(item["partition"]), offset=int(item["offset"]),
                key=item.get("key"), value=item.get("value"), headers=dict(item.get("headers") or {}),
            )
            self._records.append(record)
            slot = (record.topic, record.partition)
            if record.offset > self._max_offset.get(slot, -1):
                self._max_offset[slot] = record.offset
        self._position += end

    def _high_watermarks(self, topic_filter: Callable[[str], bool]) -> dict[tuple[str, int], int]:
        from confluent_kafka import Consumer, TopicPartition  # the test venv has it

        if self._consumer is None:
            self._consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "tributary-e2e-tap-check",
                                       "enable.auto.commit": False, "log_level": 3})
        marks: dict[tuple[str, int], int] = {}
        for name, topic in self._consumer.list_topics(timeout=5).topics.items():
            if name.startswith("__") or not topic_filter(name):
                continue
            for partition in topic.partitions:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(name, partition), timeout=5,
                                                               cached=False)
                if high > 0:
                    marks[(name, partition)] = high
        return marks

    def _catch_up(self, topic_filter: Callable[[str], bool]) -> None:
        try:
            marks = self._high_watermarks(topic_filter)
        except Exception:  # the broker is gone (e.g. after the session): read what the file has
            return
        deadline = time.monotonic() + self.catch_up_timeout
        while any(self._max_offset.get(slot, -1) < high - 1 for slot, high in marks.items()):
            if time.monotonic() >= deadline:
                return
            time.sleep(0.05)
            self._refresh()

    def records(self, topic_filter: Callable[[str], bool]) -> list[KafkaRecord]:
        self._refresh()
        if self.bootstrap:
            self._catch_up(topic_filter)
        return [r for r in self._records if topic_filter(r.topic)]


class BrokerOutput:
    """A real Kafka cluster, read with `isolation.level=read_committed` from the beginning of every
    partition of the matching topics up to their end (partition EOF)."""

    def __init__(self, bootstrap: str, read_timeout: float = 15.0):
        self.bootstrap = bootstrap
        self.read_timeout = read_timeout

    def records(self, topic_filter: Callable[[str], bool]) -> list[KafkaRecord]:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

        consumer = Consumer({
            "bootstrap.servers": self.bootstrap,
            "group.id": f"tributary-e2e-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        })
        try:
            metadata = consumer.list_topics(timeout=10)
            partitions = [
                TopicPartition(topic, p, OFFSET_BEGINNING)
                for topic, meta in metadata.topics.items() if topic_filter(topic)
                for p in meta.partitions
            ]
            pending = set()
            for tp in partitions:
                low, high = consumer.get_watermark_offsets(tp, timeout=10)
                if high > low:
                    pending.add((tp.topic, tp.partition))
            if not pending:
                return []
            consumer.assign(partitions)
            out: list[KafkaRecord] = []
            deadline = time.monotonic() + self.read_timeout
            while pending and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        pending.discard((message.topic(), message.partition()))
                        continue
                    raise KafkaException(message.error())
                out.append(KafkaRecord(
                    topic=message.topic(), partition=message.partition(), offset=message.offset(),
                    key=_utf8(message.key()), value=_utf8(message.value()),
                    headers={name: _utf8(value) for name, value in (message.headers() or [])},
                ))
            return out
        finally:
            consumer.close()


def _utf8(data: Optional[bytes]) -> Optional[str]:
    return None if data is None else data.decode("utf-8")


def kafka_bootstrap() -> Optional[str]:
    """The bootstrap list the agent under test produces to."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("TRIBUTARY_TEST_KAFKA_BOOTSTRAP")


_default_output = None


def default_output():
    """The committed-output reader for this environment: a real broker when KAFKA_BOOTSTRAP_SERVERS is
    set, else the dev broker's record file."""
    global _default_output
    if _default_output is None:
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            _default_output = BrokerOutput(os.environ["KAFKA_BOOTSTRAP_SERVERS"])
        else:
            path = os.environ.get("TRIBUTARY_TEST_KAFKA_RECORD") or str(STATE_DIR / "broker-record.jsonl")
            _default_output = RecordFileOutput(Path(path), bootstrap=os.environ.get("TRIBUTARY_TEST_KAFKA_BOOTSTRAP"))
    return _default_output


# MARK: - Events and the exactly-once rule


def unwrap(document: Any) -> Any:
    """JsonConverter framing: with `schemas.enable` true a key or value is `{"schema":…,"payload":…}`."""
    if isinstance(document, dict) and set(document) == {"schema", "payload"}:
        return document["payload"]
    return document


@dataclass
class ChangeEvent:
    """A committed change record of a data topic, key and value unwrapped from their framing."""
    record: KafkaRecord
    key: Any
    value: Optional[dict]

    @property
    def topic(self) -> str:
        return self.record.topic

    @property
    def tombstone(self) -> bool:
        return self.value is None

    @property
    def op(self) -> Optional[str]:
        return None if self.value is None else self.value.get("op")

    @property
    def before(self) -> Optional[dict]:
        return None if self.value is None else self.value.get("before")

    @property
    def after(self) -> Optional[dict]:
        return None if self.value is None else self.value.get("after")

    @property
    def source(self) -> dict:
        return {} if self.value is None else (self.value.get("source") or {})

    @property
    def unit(self) -> Optional[str]:
        return self.record.headers.get(UNIT_HEADER)

    @property
    def position(self) -> Optional[tuple[int, int]]:
        """`(source.commit_lsn, source.event_seq)`: Tributary's exact source position of the change."""
        commit_lsn, event_seq = self.source.get("commit_lsn"), self.source.get("event_seq")
        if commit_lsn is None or event_seq is None:
            return None
        return int(commit_lsn), int(event_seq)

    def __repr__(self) -> str:
        return (f"ChangeEvent({self.topic}[{self.record.partition}]@{self.record.offset} op={self.op} "
                f"key={self.key!r} position={self.position} unit={self.unit})")


def committed_units(agent_name: str, output=None, offsets_topic: Optional[str] = None) -> set[str]:
    """The `unit` fields of the offset records in `<agent_name>.offsets`."""
    output = output or default_output()
    topic = offsets_topic or f"{agent_name}.offsets"
    units = set()
    for record in output.records(lambda t: t == topic):
        value = record.value_json
        if isinstance(value, dict) and value.get("unit"):
            units.add(value["unit"])
    return units


def committed_events(prefix: str, agent_name: str, output=None, offsets_topic: Optional[str] = None,
                     include_topics: Optional[Callable[[str], bool]] = None) -> list[ChangeEvent]:
    """The committed change events (tombstones included) of the data topics `<prefix>.*`, in source order.

    Committed, position-based: the mock cluster does not hide aborted transactions, so a record counts
    only if its `tributary.unit` header names a unit whose offset record is in `<agent_name>.offsets`
    (the offset record is written in the same Kafka transaction as the unit's records). Against a real
    broker the read_committed consumer already hides aborted records and the rule changes nothing.
    (Under the mock, an offset record of a transaction that was aborted after it was produced is visible
    too; the agent's own resume reads the same, so both sides agree on what "committed" means there.)

    The offsets, transaction-metadata and heartbeat topics are excluded. Order: by
    (commit_lsn, event_seq), a delete before the create of a key-changing update, each tombstone right
    after the record that precedes it in its partition.
    """
    output = output or default_output()
    offsets = offsets_topic or f"{agent_name}.offsets"
    units = committed_units(agent_name, output, offsets)
    excluded = {offsets, f"{prefix}.transaction"}

    def is_data_topic(topic: str) -> bool:
        if not topic.startswith(prefix + ".") or topic in excluded:
            return False
        return include_topics(topic) if include_topics else True

    records = [r for r in output.records(is_data_topic) if r.headers.get(UNIT_HEADER) in units]
    events = [ChangeEvent(record=r, key=unwrap(r.key_json), value=unwrap(r.value_json)) for r in records]

    # Sort keys: (0, commit_lsn, event_seq, delete-first rank, tombstone flag); events without a
    # position keep their read order after all others (assert_exactly_once reports them).
    keys: dict[int, tuple] = {}
    last_in_partition: dict[tuple[str, int], tuple] = {}
    for index, event in sorted(enumerate(events), key=lambda ie: (ie[1].topic, ie[1].record.partition,
                                                                   ie[1].record.offset)):
        partition = (event.topic, event.record.partition)
        if event.tombstone:
            previous = last_in_partition.get(partition)
            keys[index] = previous[:4] + (1, index) if previous else (2, 0, 0, 0, 1, index)
        elif event.position is not None:
            keys[index] = (0, *event.position, 0 if event.op == "d" else 1, 0, index)
        else:
            keys[index] = (1, 0, 0, 0, 0, index)
        last_in_partition[partition] = keys[index]
    return [events[i] for i in sorted(range(len(events)), key=lambda i: keys[i])]


def wait_committed_events(prefix: str, agent_name: str, count: int, output=None, timeout: float = 30.0,
                          offsets_topic: Optional[str] = None) -> list["ChangeEvent"]:
    """`committed_events` once at least `count` committed non-tombstone events are visible, or the last read
    after `timeout`. The dev broker's record file is an asynchronous tap that reads partitions independently,
    so right after an agent stops one partition may still lag; waiting never hides a loss or a duplicate (the
    caller asserts on the returned events)."""
    deadline = time.monotonic() + timeout
    while True:
        events = committed_events(prefix, agent_name, output=output, offsets_topic=offsets_topic)
        if sum(1 for e in events if not e.tombstone) >= count or time.monotonic() >= deadline:
            return events
        time.sleep(0.2)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def change(op: str, table: str, before: Optional[dict] = None, after: Optional[dict] = None) -> tuple:
    """One expected change for `assert_exactly_once`: op, table (`source.table`), before and after row."""
    return (op, table, _freeze(before), _freeze(after))


def change_of(event: ChangeEvent, columns: Optional[Iterable[str]] = None) -> tuple:
    """The change an event carries, restricted to `columns` when given (for values a test cannot predict)."""
    def project(row):
        if row is None or columns is None:
            return row
        return {c: row.get(c) for c in columns}
    return change(event.op, event.source.get("table"), project(event.before), project(event.after))


def assert_exactly_once(events: list[ChangeEvent], expected_changes: Iterable[tuple],
                        columns: Optional[Iterable[str]] = None) -> None:
    """Exactly once, proven from positions: every committed non-tombstone event has a source position,
    each `(source.commit_lsn, source.event_seq, op)` appears exactly once (the op is part of the identity
    because a key-changing update is one source change emitted as a delete and a create at the same
    position), and the multiset of changes equals `expected_changes` (built with `change`)."""
    columns = list(columns) if columns is not None else None
    changes = [e for e in events if not e.tombstone]
    missing = [e for e in changes if e.position is None]
    assert not missing, f"events without source.commit_lsn/source.event_seq: {missing[:5]}"

    counts = collections.Counter((*e.position, e.op) for e in changes)
    duplicates = {pos: n for pos, n in counts.items() if n > 1}
    if duplicates:
        detail = [e for e in changes if counts[(*e.position, e.op)] > 1][:10]
        raise AssertionError(f"duplicated positions (commit_lsn, event_seq, op) → count: {duplicates}; "
                             f"events: {detail}")

    actual = collections.Counter(change_of(e, columns) for e in changes)
    expected = collections.Counter(expected_changes)
    if actual != expected:
        raise AssertionError(
            "committed changes differ from the expected ones\n"
            f"  missing:    {list((expected - actual).elements())}\n"
            f"  unexpected: {list((actual - expected).elements())}"
        )


# MARK: - The agent process


def agent_environment(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The test process's environment without TRIBUTARY_* variables other than TRIBUTARY_TEST_*: the
    agent reads `TRIBUTARY_<KEY>` as configuration and rejects unknown keys such as TRIBUTARY_BIN."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRIBUTARY_") or k.startswith("TRIBUTARY_TEST_")}
    env.update(extra or {})
    return env


class Agent:
    """One `tributary run --config FILE` process, logging to a file."""

    def __init__(self, binary: Path, config: dict[str, Any], workdir: Path, label: str,
                 env: Optional[dict[str, str]] = None):
        self.binary = Path(binary)
        self.config = dict(config)
        self.config_path = workdir / f"{label}.yaml"
        self.log_path = workdir / f"{label}.log"
        self.env = env or {}
        self.process: Optional[subprocess.Popen] = None
        self.peak_rss_kb: Optional[int] = None

    def start(self) -> "Agent":
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False, default_flow_style=False))
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [str(self.binary), "run", "--config", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=agent_environment(self.env), start_new_session=True,
            )
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "agent not started"
        return self.process.pid

    @property
    def returncode(self) -> Optional[int]:
        return None if self.process is None else self.process.poll()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def status_kb(self, field_name: str) -> Optional[int]:
        """A `kB` field of /proc/<pid>/status (VmHWM = peak RSS, VmRSS = current), None once exited."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(field_name + ":"):
                        return int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            return None
        return None

    def read_peak_rss(self) -> Optional[int]:
        """Peak resident set size so far (VmHWM, kB); remembered, so it stays readable after exit."""
        value = self.status_kb("VmHWM")
        if value is not None:
            self.peak_rss_kb = max(value, self.peak_rss_kb or 0)
        return self.peak_rss_kb

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _check_alive(self, what: str) -> None:
        if not self.alive():
            raise AssertionError(f"agent exited with {self.returncode} while waiting for {what}; log tail:\n"
                                 f"{self.log_tail()}")

    def wait_streaming(self, conn, timeout: float = 60.0) -> None:
        """Waits until the agent holds its replication slot (the slot is active): changes committed after
        this are streamed, not snapshotted."""
        slot = self.config["slot.name"]

        def streaming():
            self._check_alive(f"slot {slot} to become active")
            state = slot_state(conn, slot)
            return state is not None and state["active"]

        wait_until(streaming, timeout, message=f"replication slot {slot} active")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: returns the exit code. Fails (after a SIGKILL) if it does not exit in time."""
        assert self.process is not None, "agent not started"
        if self.process.poll() is None:
            self.read_peak_rss()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"agent did not exit within {timeout:.0f}s of SIGTERM; log tail:\n"
                                     f"{self.log_tail()}")
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL (a crash) and wait: returns the exit code (-9)."""
        assert self.process is not None, "agent not started"
        if self.process.poll() is None:
            self.read_peak_rss()
            self.process.kill()
        return self.process.wait()
