"""Connection loss mid-stream and start-up warnings.

- The server terminates the agent's walsender while it streams: the agent logs a retry, reconnects from its
  committed offset and goes on; the committed output holds every change exactly once.
- Start-up warnings: a captured table whose REPLICA IDENTITY gives no full before-image, and a captured table
  the (pre-existing) publication does not contain."""

from __future__ import annotations

from harness import assert_exactly_once, change, slot_state, wait_committed_events, wait_until
from test_replay import create, events_of, execute, wait_events


def test_terminated_walsender_is_retried_without_loss_or_duplicates(pg, names, agent, kafka):
    table = f"public.{names.table}"
    create(pg, table, 0)
    a = agent(**{"snapshot.mode": "no_data", "errors.retry.delay.max.ms": 1000})
    a.wait_streaming(pg)
    for i in range(1, 6):
        execute(pg, f"INSERT INTO {table} VALUES ({i}, 'row {i}')")
    wait_events(names, kafka, lambda ev: len(ev) >= 5, "5 inserts")
    pid = (slot_state(pg, names.slot) or {}).get("active_pid")
    assert pid, "the agent's walsender"
    execute(pg, f"SELECT pg_terminate_backend({pid})")
    for i in range(6, 11):
        execute(pg, f"INSERT INTO {table} VALUES ({i}, 'row {i}')")
    wait_events(names, kafka, lambda ev: len(ev) >= 10, "10 inserts after the reconnect")
    wait_until(lambda: (slot_state(pg, names.slot) or {}).get("active_pid") not in (None, pid), timeout=30,
               message="a new walsender")
    assert a.alive(), a.log_tail()
    assert a.stop() == 0, a.log_tail()
    assert "retrying after a recoverable error" in a.log_text()
    expected = [change("c", names.table, after={"id": i, "name": f"row {i}"}) for i in range(1, 11)]
    assert_exactly_once(wait_committed_events(names.prefix, names.agent_name, len(expected), output=kafka), expected)


def test_start_up_warns_about_replica_identity_and_a_publication_missing_a_table(pg, names, agent, kafka):
    table = f"public.{names.table}"
    other = f"public.{names.table}_other"
    create(pg, table, 0)
    create(pg, other, 0)
    execute(pg, f"CREATE PUBLICATION {names.publication} FOR TABLE {other}")
    a = agent(**{"snapshot.mode": "no_data", "publication.autocreate.mode": "disabled",
                 "table.include.list": f"{table},{other}"})
    a.wait_streaming(pg)
    assert a.stop() == 0, a.log_tail()
    log = a.log_text()
    assert f"pg.table={table}" in log and "is not in the publication" in log
    assert f"pg.table={other}" in log and "REPLICA IDENTITY DEFAULT" in log
