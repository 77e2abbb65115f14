"""Fixtures for Tributary's end-to-end tests (run by deploy/local/test.sh; see harness.py for the
environment variables). Each test gets unique names (`t<random>`) for its slot, publication, tables,
topics and agent, so tests never see each other's data and the dev broker can be shared."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

import harness
from harness import Agent, PgTarget, require


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# MARK: - Servers


@pytest.fixture(scope="session")
def pg_target() -> PgTarget:
    url = os.environ.get("TRIBUTARY_TEST_PG_URL")
    require(url, "TRIBUTARY_TEST_PG_URL is not set (run deploy/local/test.sh)")
    return PgTarget.from_url(url)


@pytest.fixture
def pg(pg_target):
    """A psycopg2 connection to the test database, autocommit."""
    import psycopg2

    try:
        conn = psycopg2.connect(pg_target.url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        require(False, f"PostgreSQL at {pg_target.url} is not reachable: {error}".strip())
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = harness.kafka_bootstrap()
    require(bootstrap, "no Kafka: neither KAFKA_BOOTSTRAP_SERVERS nor TRIBUTARY_TEST_KAFKA_BOOTSTRAP is set")
    return bootstrap


@pytest.fixture(scope="session")
def kafka(kafka_bootstrap):
    """The committed-output reader: a read_committed consumer on a real broker (KAFKA_BOOTSTRAP_SERVERS),
    else the dev broker's record file."""
    output = harness.default_output()
    if isinstance(output, harness.RecordFileOutput):
        # The tap may create the file only with its first message; its directory must exist.
        require(output.path.parent.is_dir(), f"no dev broker state directory {output.path.parent}")
    return output


@pytest.fixture(scope="session")
def tributary_bin() -> Path:
    path = Path(os.environ.get("TRIBUTARY_BIN") or harness.REPO_ROOT / ".build" / "release" / "tributary")
    require(path.is_file() and os.access(path, os.X_OK),
            f"agent binary {path} not found (swift build -c release --product tributary)")
    return path


# MARK: - Names


@dataclass(frozen=True)
class Names:
    """Unique names for one test. `prefix` is the topic prefix, the agent name, the slot name and the
    default table name; topics are `<prefix>.<schema>.<table>`."""
    prefix: str

    @property
    def agent_name(self) -> str:
        return self.prefix

    @property
    def slot(self) -> str:
        return self.prefix

    @property
    def publication(self) -> str:
        return f"{self.prefix}_pub"

    @property
    def table(self) -> str:
        return self.prefix

    def topic(self, table: Optional[str] = None, schema: str = "public") -> str:
        return f"{self.prefix}.{schema}.{table or self.table}"

    @property
    def offsets_topic(self) -> str:
        return f"{self.agent_name}.offsets"


@pytest.fixture
def names() -> Names:
    return Names(prefix=f"t{secrets.token_hex(4)}")


# MARK: - Agent


@pytest.fixture
def agent(request, names, pg, pg_target, kafka_bootstrap, tributary_bin, tmp_path):
    """Factory: `agent(**extra_config)` writes a YAML config (Debezium key names) and starts
    `tributary run --config FILE`. Keys of `extra` override the defaults below; pass `env={...}` for
    extra environment variables. Calling it again with the same names restarts "the same" agent (same
    name, slot and offsets), e.g. after `kill()`.

    Teardown: stops agents still running (SIGTERM, then SIGKILL), prints their log tails when the test
    failed, drops the slot, the publication and the tables named `<prefix>*`."""
    started: list[Agent] = []

    def start(env: Optional[dict[str, str]] = None, **extra: Any) -> Agent:
        config: dict[str, Any] = {
            "name": names.agent_name,
            "topic.prefix": names.prefix,
            "database.hostname": pg_target.host,
            "database.port": pg_target.port,
            "database.user": pg_target.user,
            "database.dbname": pg_target.dbname,
            "slot.name": names.slot,
            "publication.name": names.publication,
            "table.include.list": f"public.{names.table}",
            "kafka.bootstrap.servers": kafka_bootstrap,
        }
        # Python identifiers cannot contain dots: `snapshot__mode="no_data"` means `snapshot.mode`
        # (so does `**{"snapshot.mode": "no_data"}`).
        config.update({key.replace("__", "."): value for key, value in extra.items()})
        process = Agent(tributary_bin, config, tmp_path, label=f"agent{len(started) + 1}", env=env)
        started.append(process)
        return process.start()

    yield start

    for process in started:
        if process.alive():
            try:
                process.stop(timeout=15)
            except AssertionError:
                pass
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in started:
            print(f"\n===== {process.log_path} (exit {process.returncode}) =====\n{process.log_tail(80)}")
    _drop_test_objects(pg, names)


def _drop_test_objects(conn, names: Names) -> None:
    with conn.cursor() as cur:
        # The slot may still be held for a moment by a walsender that is shutting down.
        for _ in range(50):
            state = harness.slot_state(conn, names.slot)
            if state is None:
                break
            if state["active"]:
                cur.execute("SELECT pg_terminate_backend(%s)", (state["active_pid"],))
                time.sleep(0.1)
                continue
            try:
                cur.execute("SELECT pg_drop_replication_slot(%s)", (names.slot,))
                break
            except Exception:  # became active again or already dropped: retry
                time.sleep(0.1)
        cur.execute(f'DROP PUBLICATION IF EXISTS "{names.publication}"')
        cur.execute("SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
                    "WHERE tablename LIKE %s", (names.prefix + "%",))
        for (table,) in cur.fetchall():
            cur.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
