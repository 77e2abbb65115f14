"""A slot invalidated by max_slot_wal_keep_size (wal_status 'lost') while the agent was stopped: with
snapshot.mode initial the agent refuses to start (exit 3) naming the fix; with when_needed it drops and
recreates the slot and takes a new snapshot, so nothing is silently lost."""

from __future__ import annotations

from harness import wait_until
from test_replay import create, events_of, execute, wait_events


def fill_and_checkpoint(pg) -> None:
    """Writes several WAL segments past the slot and checkpoints, so the slot's WAL is removed."""
    execute(pg, "CREATE TABLE IF NOT EXISTS public.tributary_walfill (id int, v text)")
    for _ in range(4):
        execute(pg, "INSERT INTO public.tributary_walfill SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g",
                "SELECT pg_switch_wal()")
    execute(pg, "CHECKPOINT")


def wal_status(pg, slot: str):
    with pg.cursor() as cur:
        cur.execute("SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        row = cur.fetchone()
    return row[0] if row else None


def test_invalidated_slot_is_refused_by_initial_and_resnapshotted_by_when_needed(pg, names, agent, kafka, request):
    table = f"public.{names.table}"
    create(pg, table, 3)
    first = agent()  # snapshot.mode initial
    wait_events(names, kafka, lambda ev: len([e for e in ev if e.op == "r"]) >= 3, "3 snapshot rows")
    first.wait_streaming(pg)
    assert first.stop() == 0, first.log_tail()

    def reset():
        execute(pg, "ALTER SYSTEM RESET max_slot_wal_keep_size", "SELECT pg_reload_conf()",
                "DROP TABLE IF EXISTS public.tributary_walfill")
    request.addfinalizer(reset)
    execute(pg, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'", "SELECT pg_reload_conf()")
    execute(pg, f"INSERT INTO {table} VALUES (4, 'row 4')")  # a change only the lost WAL had
    wait_until(lambda: (fill_and_checkpoint(pg) or wal_status(pg, names.slot) == "lost"),
               timeout=60, interval=0.5, message="the slot to be invalidated")

    refused = agent()
    wait_until(lambda: refused.returncode is not None, timeout=60, message="the agent to refuse")
    assert refused.returncode == 3, refused.log_tail()
    text = refused.log_text()
    assert "invalidated" in text and "when_needed" in text

    rescued = agent(**{"snapshot.mode": "when_needed"})
    rescued.wait_streaming(pg, timeout=60)
    wait_events(names, kafka, lambda ev: len([e for e in ev if e.op == "r"]) >= 3 + 4, "a new snapshot of 4 rows")
    assert rescued.stop() == 0, rescued.log_tail()
    snapshot_keys = sorted(e.key["id"] for e in events_of(names, kafka) if e.op == "r")
    assert snapshot_keys == [1, 1, 2, 2, 3, 3, 4]  # the first snapshot, then the new one including row 4
