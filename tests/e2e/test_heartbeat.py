"""Heartbeats keep an idle slot moving: with a captured but idle table and WAL written elsewhere, the agent
commits offset-only units so the slot's confirmed_flush_lsn follows the server, and writes Debezium heartbeat
records (`__debezium-heartbeat.<prefix>`, key {"serverName": prefix}, value {"ts_ms": …}); with
`heartbeat.action.query` and no other traffic, the query's own WAL moves the slot."""

from __future__ import annotations

import time

import e2erobust_support as support
from harness import unwrap, wait_until

# The publication holds only the captured table: the other tables' changes never reach the agent, the
# server only reports its WAL position (keepalives), as in Debezium's heartbeat scenario.
BASE = {"snapshot.mode": "no_data", "publication.autocreate.mode": "filtered", "heartbeat.interval.ms": 1000}


def _heartbeats(kafka, prefix: str) -> list:
    return kafka.records(lambda t: t == f"__debezium-heartbeat.{prefix}")


def test_heartbeats_advance_the_slot_past_uncaptured_traffic(pg, names, agent, kafka):
    other = f"{names.prefix}_other"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{names.table} (id integer PRIMARY KEY, v text)")
        cur.execute(f"CREATE TABLE public.{other} (id serial PRIMARY KEY, payload text)")

    process = agent(**BASE)
    process.wait_streaming(pg)
    start_confirmed = support.confirmed_flush(pg, names.slot)
    before = len(_heartbeats(kafka, names.prefix))

    with pg.cursor() as cur:
        for i in range(20):
            cur.execute(f"INSERT INTO public.{other} (payload) SELECT repeat('x', 200) FROM generate_series(1, 50)")
    traffic_end = support.wal_insert_lsn(pg)
    assert traffic_end > start_confirmed
    t0 = time.monotonic()
    reached = support.wait_confirmed(pg, names.slot, traffic_end, agent=process, timeout=10)
    elapsed = time.monotonic() - t0
    print(f"\nconfirmed_flush_lsn {support.lsn_text(start_confirmed)} -> {support.lsn_text(reached)} "
          f"(traffic ended at {support.lsn_text(traffic_end)}) after {elapsed:.2f}s")

    # The confirmed position is a committed offset (offset-only units are committed like any other).
    support.wait_offset_at_least(names.agent_name, reached, kafka, timeout=10)

    records = wait_until(lambda: _heartbeats(kafka, names.prefix)[before:] or None, timeout=10,
                         message=f"records on __debezium-heartbeat.{names.prefix}")
    now_ms = time.time() * 1000
    for record in records:
        assert unwrap(record.key_json) == {"serverName": names.prefix}, record
        value = unwrap(record.value_json)
        assert set(value) == {"ts_ms"}, record
        assert isinstance(value["ts_ms"], int) and abs(value["ts_ms"] - now_ms) < 60_000, record
        assert record.headers.get("tributary.unit"), record
    # Heartbeats are committed output: each one's unit has an offset record.
    units = {r.get("unit") for r in support.offset_records(names.agent_name, kafka)}
    assert {r.headers["tributary.unit"] for r in records} <= units
    # No data events were written for the uncaptured table.
    assert not kafka.records(lambda t: t.startswith(names.prefix + ".public."))

    assert process.stop() == 0, process.log_tail()


def test_heartbeat_action_query_moves_the_slot_without_other_traffic(pg, names, agent, kafka):
    heartbeat_table = f"{names.prefix}_hb"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{names.table} (id integer PRIMARY KEY, v text)")
        cur.execute(f"CREATE TABLE public.{heartbeat_table} (id integer PRIMARY KEY, n integer NOT NULL, at pg_lsn)")
        cur.execute(f"INSERT INTO public.{heartbeat_table} VALUES (1, 0, NULL)")
    query = f"UPDATE public.{heartbeat_table} SET n = n + 1, at = pg_current_wal_insert_lsn() WHERE id = 1"

    process = agent(**BASE, **{"heartbeat.action.query": query})
    process.wait_streaming(pg)
    start_confirmed = support.confirmed_flush(pg, names.slot)

    def heartbeat_row():
        with pg.cursor() as cur:
            cur.execute(f"SELECT n, at::text FROM public.{heartbeat_table} WHERE id = 1")
            n, at = cur.fetchone()
        return n, support.lsn_int(at)

    # The query runs about once a second.
    n1, at1 = wait_until(lambda: (lambda r: r if r[0] >= 2 else None)(heartbeat_row()), timeout=10,
                         message="heartbeat.action.query to have run twice")
    # The slot moves past the WAL the query wrote, although nothing else happens.
    reached = support.wait_confirmed(pg, names.slot, at1, agent=process, timeout=10)
    assert reached > start_confirmed
    # …and keeps moving with later executions.
    reached2 = support.wait_confirmed(pg, names.slot, reached + 1, agent=process, timeout=10)
    n2, _ = heartbeat_row()
    print(f"\naction query ran {n2} times; confirmed_flush_lsn {support.lsn_text(start_confirmed)} -> "
          f"{support.lsn_text(reached)} -> {support.lsn_text(reached2)}")
    assert _heartbeats(kafka, names.prefix), "no heartbeat records"

    assert process.stop() == 0, process.log_tail()
    # After the graceful stop the slot sits exactly at the last committed offset.
    final = support.confirmed_flush(pg, names.slot)
    wait_until(lambda: support.max_offset_lsn(names.agent_name, kafka) == final, timeout=10,
               message=f"last offset lsn == confirmed_flush_lsn {support.lsn_text(final)}")
