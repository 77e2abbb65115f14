"""snapshot.mode behaves as documented (initial, initial_only, no_data/never, when_needed, always), plus
snapshot.select.statement.overrides and the table/schema filters. Small tables, the shared dev broker and the
harness's committed-output rule."""

from __future__ import annotations

import collections
import time

import pytest

from e2esnap_support import drop_slot, wait_for_exit
from harness import assert_exactly_once, change, committed_events, wait_until


def create(pg, table: str, rows: int, full_identity: bool = True) -> None:
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, name text NOT NULL)")
        if full_identity:
            cur.execute(f"ALTER TABLE {table} REPLICA IDENTITY FULL")
        if rows:
            cur.execute(f"INSERT INTO {table} SELECT g, 'row ' || g FROM generate_series(1, %s) g", (rows,))


def execute(pg, *statements: str) -> None:
    with pg.cursor() as cur:
        for statement in statements:  # one transaction each (autocommit)
            cur.execute(statement)


def rows_of(pg, table: str) -> dict[int, dict]:
    with pg.cursor() as cur:
        cur.execute(f"SELECT id, name FROM {table}")
        return {i: {"id": i, "name": n} for i, n in cur.fetchall()}


def events_of(names, kafka, **kwargs):
    return committed_events(names.prefix, names.agent_name, output=kafka, **kwargs)


def wait_events(names, kafka, predicate, message: str, timeout: float = 60):
    def check():
        events = events_of(names, kafka)
        return events if predicate(events) else None

    return wait_until(check, timeout, interval=0.2, message=message)


def reads(events, run=None):
    return [e for e in events if e.op == "r" and (run is None or e.unit.rsplit("-", 1)[0] == run)]


def runs(events) -> list[str]:
    """Run ids (unit ids are `<run>-<sequence>`) in order of first appearance in source order."""
    seen: list[str] = []
    for event in events:
        run = event.unit.rsplit("-", 1)[0]
        if run not in seen:
            seen.append(run)
    return seen


def rebuild(events) -> dict:
    """Last event per key wins (source order); deletes and tombstones remove the key."""
    table: dict = {}
    for event in events:
        if event.tombstone or event.op == "d":
            table.pop(event.key["id"], None)
        else:
            table[event.key["id"]] = event.after
    return table


def test_initial_snapshots_the_rows_then_streams_and_does_not_snapshot_again(pg, names, agent, kafka):
    table = f"public.{names.table}"
    create(pg, table, 20)
    process = agent()
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 20, "20 snapshot events")
    process.wait_streaming(pg)
    execute(pg, f"INSERT INTO {table} VALUES (21, 'new')", f"UPDATE {table} SET name = 'changed' WHERE id = 1",
            f"DELETE FROM {table} WHERE id = 2")
    wait_events(names, kafka, lambda ev: any(e.op == "d" for e in ev), "the streamed delete")
    assert process.stop() == 0, process.log_tail()

    events = events_of(names, kafka)
    snapshot = reads(events)
    expected = [change("r", names.table, after={"id": i, "name": f"row {i}"}) for i in range(1, 21)] + [
        change("c", names.table, after={"id": 21, "name": "new"}),
        change("u", names.table, before={"id": 1, "name": "row 1"}, after={"id": 1, "name": "changed"}),
        change("d", names.table, before={"id": 2, "name": "row 2"}),
    ]
    assert_exactly_once(events, expected)
    assert [e.source["snapshot"] for e in snapshot] == ["first"] + ["true"] * 18 + ["last"]
    point = snapshot[0].source["lsn"]
    assert all(e.source["lsn"] == point and e.position[0] == point for e in snapshot)
    assert all(e.source["snapshot"] == "false" and e.position[0] > point for e in events if e.op in ("c", "u", "d"))
    assert events.index(snapshot[-1]) < min(events.index(e) for e in events if e.op in ("c", "u", "d"))

    # A restart with a committed offset streams on: no second snapshot.
    again = agent()
    again.wait_streaming(pg)
    execute(pg, f"INSERT INTO {table} VALUES (22, 'after restart')")
    wait_events(names, kafka, lambda ev: any(e.op == "c" and e.key == {"id": 22} for e in ev), "the insert of 22")
    assert again.stop() == 0, again.log_tail()
    events = events_of(names, kafka)
    assert len(reads(events)) == 20
    assert "snapshot started" not in again.log_text()
    assert_exactly_once(events, expected + [change("c", names.table, after={"id": 22, "name": "after restart"})])


def test_initial_only_publishes_the_snapshot_and_exits_0_without_streaming(pg, names, agent, kafka):
    table = f"public.{names.table}"
    create(pg, table, 10)
    process = agent(snapshot__mode="initial_only")
    assert wait_for_exit(process, 60) == 0, process.log_tail()
    assert "initial_only: snapshot published, not streaming" in process.log_text()
    expected = [change("r", names.table, after={"id": i, "name": f"row {i}"}) for i in range(1, 11)]
    # The record tap reads asynchronously: wait for the committed records to show up in the file.
    wait_events(names, kafka, lambda ev: len(ev) >= 10, "10 committed snapshot events")
    assert_exactly_once(events_of(names, kafka), expected)

    # Changes after the snapshot are never streamed, not even by a second start.
    execute(pg, f"INSERT INTO {table} VALUES (11, 'later')", f"UPDATE {table} SET name = 'x' WHERE id = 1")
    second = agent(snapshot__mode="initial_only")
    assert wait_for_exit(second, 60) == 0, second.log_tail()
    assert "snapshot started" not in second.log_text()
    assert "streaming changes" not in process.log_text() + second.log_text()
    time.sleep(1.5)  # let the record tap (200 ms topic discovery, 100 ms flushes) see anything late
    assert_exactly_once(events_of(names, kafka), expected)
    assert len(events_of(names, kafka)) == 10


@pytest.mark.parametrize("mode", ["no_data", "never"])
def test_no_data_streams_changes_without_a_snapshot(pg, names, agent, kafka, mode):
    table = f"public.{names.table}"
    create(pg, table, 10)
    process = agent(snapshot__mode=mode)
    process.wait_streaming(pg)
    execute(pg, f"INSERT INTO {table} VALUES (11, 'new')", f"UPDATE {table} SET name = 'changed' WHERE id = 3")
    wait_events(names, kafka, lambda ev: any(e.op == "u" for e in ev), "the streamed update")
    assert process.stop() == 0, process.log_tail()
    events = events_of(names, kafka)
    assert not reads(events)
    assert_exactly_once(events, [
        change("c", names.table, after={"id": 11, "name": "new"}),
        change("u", names.table, before={"id": 3, "name": "row 3"}, after={"id": 3, "name": "changed"}),
    ])
    assert "snapshot started" not in process.log_text()


def test_when_needed_resnapshots_after_the_slot_was_dropped_where_initial_exits_3(pg, names, agent, kafka):
    table = f"public.{names.table}"
    create(pg, table, 10)
    process = agent()
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 10, "10 snapshot events")
    process.wait_streaming(pg)
    execute(pg, f"INSERT INTO {table} VALUES (11, 'streamed')")
    wait_events(names, kafka, lambda ev: any(e.op == "c" for e in ev), "the streamed insert")
    assert process.stop() == 0, process.log_tail()

    drop_slot(pg, names.slot)
    # Changes while the slot is missing: lost to streaming, so only a new snapshot can deliver them.
    execute(pg, f"UPDATE {table} SET name = 'while dropped' WHERE id = 3", f"DELETE FROM {table} WHERE id = 4",
            f"INSERT INTO {table} VALUES (12, 'while dropped')")

    refused = agent()
    assert wait_for_exit(refused, 60) == 3, refused.log_tail()
    log = refused.log_text()
    assert f"replication slot '{names.slot}' does not exist" in log, log
    assert "snapshot.mode: when_needed" in log and "tributary offsets reset" in log, log
    assert "snapshot started" not in log

    first_run_events = events_of(names, kafka)
    recovered = agent(snapshot__mode="when_needed")
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 10 + 11, "a second snapshot of 11 rows")
    recovered.wait_streaming(pg)
    execute(pg, f"INSERT INTO {table} VALUES (13, 'after the new snapshot')")
    wait_events(names, kafka, lambda ev: any(e.op == "c" and e.key == {"id": 13} for e in ev), "the insert of 13")
    assert recovered.stop() == 0, recovered.log_tail()

    events = events_of(names, kafka)
    second = runs(events)[-1]
    assert runs(first_run_events)[-1] != second
    assert sorted((e.key["id"], e.after["name"]) for e in reads(events, second)) == sorted(
        (i, n["name"]) for i, n in rows_of(pg, table).items() if i != 13)
    # The new snapshot and what follows rebuild the table. (Row 4, deleted while the slot was missing, has no
    # delete event: as with Debezium, a consumer of the whole topic keeps it until it applies the snapshot.)
    assert rebuild(e for e in events if e.unit.rsplit("-", 1)[0] == second) == rows_of(pg, table)


def test_always_snapshots_at_every_start(pg, names, agent, kafka):
    table = f"public.{names.table}"
    create(pg, table, 5)
    process = agent(snapshot__mode="always")
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 5, "5 snapshot events")
    process.wait_streaming(pg)
    execute(pg, f"UPDATE {table} SET name = 'changed' WHERE id = 1")
    wait_events(names, kafka, lambda ev: any(e.op == "u" for e in ev), "the streamed update")
    assert process.stop() == 0, process.log_tail()

    second = agent(snapshot__mode="always")
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 10, "a second snapshot")
    second.wait_streaming(pg)
    assert second.stop() == 0, second.log_tail()
    assert "dropping replication slot to take a new snapshot" in second.log_text()

    events = events_of(names, kafka)
    first_run, second_run = runs(events)
    assert collections.Counter(e.key["id"] for e in reads(events)) == {i: 2 for i in range(1, 6)}
    assert {e.key["id"]: e.after for e in reads(events, second_run)} == rows_of(pg, table)
    assert reads(events, first_run)[0].source["lsn"] < reads(events, second_run)[0].source["lsn"]
    assert [e.source["snapshot"] for e in reads(events, second_run)] == ["first", "true", "true", "true", "last"]
    assert rebuild(events) == rows_of(pg, table)


@pytest.mark.parametrize("statement_from", ["file", "environment"])
def test_select_statement_override_chooses_the_snapshot_rows(pg, names, agent, kafka, statement_from):
    a, b = f"{names.prefix}_a", f"{names.prefix}_b"
    create(pg, f"public.{a}", 10)
    create(pg, f"public.{b}", 10)
    settings = {"table.include.list": f"public.{a},public.{b}", "snapshot.select.statement.overrides": f"public.{a}"}
    statement = f"SELECT * FROM public.{a} WHERE id % 2 = 0"
    env = None
    if statement_from == "file":
        settings[f"snapshot.select.statement.overrides.public.{a}"] = statement
    else:
        env = {f"TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_PUBLIC_{a.upper()}": statement}
    process = agent(env=env, **settings)
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 15, "15 snapshot events")
    process.wait_streaming(pg)
    execute(pg, f"UPDATE public.{a} SET name = 'odd row changed' WHERE id = 3")
    wait_events(names, kafka, lambda ev: any(e.op == "u" for e in ev), "the streamed update")
    assert process.stop() == 0, process.log_tail()

    events = events_of(names, kafka)
    snapshot = collections.defaultdict(list)
    for event in reads(events):
        snapshot[event.source["table"]].append(event.key["id"])
    assert sorted(snapshot[a]) == [2, 4, 6, 8, 10]
    assert sorted(snapshot[b]) == list(range(1, 11))
    assert [(e.topic, e.key, e.after) for e in events if e.op == "u"] == [
        (names.topic(a), {"id": 3}, {"id": 3, "name": "odd row changed"})]


def test_filters_choose_the_captured_and_the_snapshotted_tables(pg, names, agent, kafka):
    a, b, c = (f"{names.prefix}_{x}" for x in "abc")
    for table in (a, b, c):
        create(pg, f"public.{table}", 3)
    # Captured: a and b (regex include list); snapshotted: a only.
    process = agent(**{"table.include.list": rf"public\.{names.prefix}_(a|b)",
                       "snapshot.include.collection.list": f"public.{a}"})
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 3, "3 snapshot events")
    process.wait_streaming(pg)
    execute(pg, *(f"INSERT INTO public.{t} VALUES (4, 'new')" for t in (a, b, c)))
    wait_events(names, kafka, lambda ev: len([e for e in ev if e.op == "c"]) >= 2, "2 streamed inserts")
    execute(pg, f"INSERT INTO public.{a} VALUES (5, 'last')")
    wait_events(names, kafka, lambda ev: any(e.key == {"id": 5} for e in ev), "the insert of 5")
    assert process.stop() == 0, process.log_tail()
    events = events_of(names, kafka)
    assert sorted((e.source["table"], e.op, e.key["id"]) for e in events) == sorted(
        [(a, "r", i) for i in (1, 2, 3)] + [(a, "c", 4), (b, "c", 4), (a, "c", 5)])
    assert {e.topic for e in events} == {names.topic(a), names.topic(b)}


def test_schema_include_and_table_exclude_lists(pg, names, agent, kafka, request):
    schema = f"{names.prefix}_s"
    execute(pg, f"CREATE SCHEMA {schema}")
    request.addfinalizer(lambda: execute(pg, f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    a, b, c = (f"{names.prefix}_{x}" for x in "abc")
    for table in (a, b):
        create(pg, f"{schema}.{table}", 2)
    create(pg, f"public.{c}", 2)  # outside the schema: not captured
    create(pg, f"{schema}.{c}", 2)  # excluded by the table list
    process = agent(**{"table.include.list": None, "schema.include.list": schema,
                       "table.exclude.list": rf"{schema}\.{names.prefix}_c"})
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 4, "4 snapshot events")
    process.wait_streaming(pg)
    execute(pg, f"INSERT INTO {schema}.{c} VALUES (3, 'x')", f"INSERT INTO public.{c} VALUES (3, 'x')",
            f"INSERT INTO {schema}.{b} VALUES (3, 'x')")
    wait_events(names, kafka, lambda ev: any(e.op == "c" for e in ev), "the streamed insert")
    assert process.stop() == 0, process.log_tail()
    events = events_of(names, kafka)
    assert sorted((e.topic, e.op, e.key["id"]) for e in events) == sorted(
        [(names.topic(a, schema), "r", 1), (names.topic(a, schema), "r", 2), (names.topic(b, schema), "r", 1),
         (names.topic(b, schema), "r", 2), (names.topic(b, schema), "c", 3)])


def test_sigterm_during_the_snapshot_exits_0_and_the_next_start_resumes(pg, names, agent, kafka):
    a, b, c = (f"{names.prefix}_{x}" for x in "abc")
    for table in (a, b, c):
        create(pg, f"public.{table}", 3)
    # One worker; b's SELECT sleeps 3 s, so the stop request arrives while b is being read.
    settings = {"table.include.list": f"public.{names.prefix}_.*", "snapshot.max.threads": 1,
                "snapshot.select.statement.overrides": f"public.{b}",
                f"snapshot.select.statement.overrides.public.{b}": f"SELECT t.* FROM public.{b} t, pg_sleep(3)"}
    first = agent(**settings)
    wait_until(lambda: "snapshot started" in first.log_text(), 30, message="snapshot started")
    time.sleep(0.5)
    started = time.monotonic()
    assert first.stop(timeout=30) == 0, first.log_tail()
    assert time.monotonic() - started < 15
    assert "stopped during the snapshot" in first.log_text(), first.log_tail()
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 3, "a's 3 snapshot events")
    offsets = [r.value_json for r in kafka.records(lambda t: t == names.offsets_topic)]
    progress = offsets[-1]["snapshot"]
    assert progress["completed_tables"] == [f"public.{a}"], offsets[-1]

    settings[f"snapshot.select.statement.overrides.public.{b}"] = f"SELECT * FROM public.{b}"
    second = agent(**settings)
    second.wait_streaming(pg)
    assert "resuming the interrupted snapshot" in second.log_text()
    wait_events(names, kafka, lambda ev: len(reads(ev)) >= 9, "9 snapshot events")
    assert second.stop() == 0, second.log_tail()
    time.sleep(1.5)  # let the record tap see anything late
    events = events_of(names, kafka)
    assert collections.Counter((e.source["table"], e.key["id"]) for e in reads(events)) == {
        (t, i): 1 for t in (a, b, c) for i in (1, 2, 3)}
    assert {e.source["lsn"] for e in reads(events)} == {progress["lsn"]}
    assert [e.source["snapshot"] for e in reads(events)] == [
        "first", "true", "last_in_data_collection", "first_in_data_collection", "true", "last_in_data_collection",
        "first_in_data_collection", "true", "last"]
