"""Helpers of the delivery-guarantee and operations e2e tests (test_exactly_once, test_large_transaction,
test_heartbeat, test_operations): LSN arithmetic, the slot's confirmed position, the committed offset
records, a private dev broker, and running `tributary` CLI commands with stdout and stderr kept apart.
They build on harness.py and add nothing to it."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Optional

import harness


# MARK: - LSNs and the slot


def lsn_int(text: Optional[str]) -> Optional[int]:
    """`16/B374D848` → its 64-bit value (None stays None)."""
    if text is None:
        return None
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def lsn_text(value: Optional[int]) -> str:
    if value is None:
        return "-"
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def wal_insert_lsn(conn) -> int:
    """The WAL insert position (with synchronous_commit=off the flush position may lag behind it)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_current_wal_insert_lsn()::text")
        return lsn_int(cur.fetchone()[0])


def confirmed_flush(conn, slot: str) -> Optional[int]:
    state = harness.slot_state(conn, slot)
    return None if state is None else lsn_int(state["confirmed_flush_lsn"])


def wait_slot_inactive(conn, slot: str, timeout: float = 15.0) -> None:
    """After the agent died: its walsender notices the closed socket and releases the slot."""
    harness.wait_until(lambda: not (harness.slot_state(conn, slot) or {}).get("active"), timeout,
                       message=f"slot {slot} inactive")


def wait_confirmed(conn, slot: str, lsn: int, agent: Optional[harness.Agent] = None,
                   timeout: float = 60.0) -> int:
    """Waits until the slot's confirmed_flush_lsn reaches `lsn` (fails early when the agent exits)."""
    def reached():
        if agent is not None and not agent.alive():
            raise AssertionError(f"agent exited with {agent.returncode} while waiting for confirmed_flush_lsn "
                                 f"{lsn_text(lsn)}; log tail:\n{agent.log_tail()}")
        value = confirmed_flush(conn, slot)
        return value if value is not None and value >= lsn else None

    return harness.wait_until(reached, timeout, interval=0.05,
                              message=f"slot {slot} confirmed_flush_lsn >= {lsn_text(lsn)} "
                                      f"(now {lsn_text(confirmed_flush(conn, slot))})")


class SlotSampler:
    """Samples the slot's confirmed_flush_lsn every `interval` seconds on a thread of its own."""

    def __init__(self, url: str, slot: str, interval: float = 0.05):
        self.url, self.slot, self.interval = url, slot, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"slot-sampler-{slot}", daemon=True)
        self.error: Optional[BaseException] = None

    def _run(self) -> None:
        import psycopg2

        try:
            conn = psycopg2.connect(self.url, connect_timeout=5)
            conn.autocommit = True
            try:
                while not self._stop.is_set():
                    value = confirmed_flush(conn, self.slot)
                    if value is not None and (not self.samples or self.samples[-1][1] != value):
                        self.samples.append((time.monotonic(), value))
                    self._stop.wait(self.interval)
            finally:
                conn.close()
        except BaseException as error:  # reported by stop()
            self.error = error

    def __enter__(self) -> "SlotSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        if self.error is not None:
            raise AssertionError(f"slot sampler failed: {self.error!r}")

    @property
    def values(self) -> list[int]:
        return [v for _, v in self.samples]


# MARK: - Offset records


def offset_records(agent_name: str, output=None, topic: Optional[str] = None) -> list[dict]:
    """The offset records of `<agent_name>.offsets` (tombstones left out), in the order they were read.
    Under the mock cluster this includes the offset record of a Kafka transaction that was produced but
    not committed before a crash (the agent's own resume reads it the same way)."""
    output = output or harness.default_output()
    topic = topic or f"{agent_name}.offsets"
    out = []
    for record in output.records(lambda t: t == topic):
        if record.key is not None and record.key != agent_name:
            continue
        value = record.value_json
        if isinstance(value, dict):
            out.append(value)
    return out


def offset_lsns(agent_name: str, output=None) -> list[int]:
    return [int(r["lsn"]) for r in offset_records(agent_name, output) if r.get("lsn") is not None]


def max_offset_lsn(agent_name: str, output=None) -> Optional[int]:
    lsns = offset_lsns(agent_name, output)
    return max(lsns) if lsns else None


def wait_offset_at_least(agent_name: str, lsn: int, output=None, timeout: float = 30.0) -> int:
    def reached():
        value = max_offset_lsn(agent_name, output)
        return value if value is not None and value >= lsn else None

    return harness.wait_until(reached, timeout, interval=0.1,
                              message=f"an offset record of {agent_name} with lsn >= {lsn_text(lsn)}")


def settle_record_file(output=None, quiet: float = 1.0, timeout: float = 30.0) -> None:
    """Waits until the dev broker's tap wrote nothing new for `quiet` seconds: everything the (stopped or
    killed) agent produced is in the record file. No-op against a real broker."""
    output = output or harness.default_output()
    if not isinstance(output, harness.RecordFileOutput):
        return
    deadline = time.monotonic() + timeout
    last = -1
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        try:
            size = output.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size != last:
            last, last_change = size, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return
        time.sleep(0.05)


# MARK: - CLI and private broker


def run_cli(binary: Path, args: list[str], timeout: float = 60.0,
            env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Runs `tributary ARGS…` to completion with stdout and stderr captured separately."""
    return subprocess.run([str(binary), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, env=harness.agent_environment(env))


def write_config(path: Path, config: dict[str, Any]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False, default_flow_style=False))
    return path


class PrivateBroker:
    """A dev broker of the test's own (`tributary dev-broker`, no record tap unless `record` is given): for
    volumes that must not go through the shared broker's record file."""

    def __init__(self, binary: Path, workdir: Path, brokers: int = 1, record: Optional[Path] = None):
        self.binary, self.workdir, self.brokers, self.record = Path(binary), Path(workdir), brokers, record
        self.process: Optional[subprocess.Popen] = None
        self.bootstrap: Optional[str] = None
        self.log_path = self.workdir / "private-broker.log"

    def start(self, timeout: float = 30.0) -> "PrivateBroker":
        bootstrap_file = self.workdir / "private-broker.bootstrap"
        bootstrap_file.unlink(missing_ok=True)  # a stale file would name a dead broker
        args = [str(self.binary), "dev-broker", "--brokers", str(self.brokers), "--bootstrap-file",
                str(bootstrap_file)]
        if self.record is not None:
            args += ["--record", str(self.record)]
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=harness.agent_environment(), start_new_session=True)
        finally:
            log.close()

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"private dev broker exited with {self.process.returncode}: "
                                     f"{self.log_path.read_text(errors='replace')[-2000:]}")
            text = bootstrap_file.read_text().strip() if bootstrap_file.exists() else ""
            return text if ":" in text else None

        self.bootstrap = harness.wait_until(ready, timeout, message="private dev broker bootstrap file")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def read_offset_topic(bootstrap: str, agent_name: str, timeout: float = 20.0) -> list[dict]:
    """The offset records of `<agent_name>.offsets` on any broker, read with confluent-kafka from the
    beginning to the end of every partition (small topic)."""
    output = harness.BrokerOutput(bootstrap, read_timeout=timeout)
    topic = f"{agent_name}.offsets"
    out = []
    for record in output.records(lambda t: t == topic):
        value = record.value_json
        if isinstance(value, dict):
            out.append(value)
    return out


def connect(url: str):
    import psycopg2

    conn = psycopg2.connect(url, connect_timeout=5)
    conn.autocommit = True
    return conn
