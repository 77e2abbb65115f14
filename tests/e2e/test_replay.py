"""`tributary offsets show|set|reset`: the committed position and snapshot progress as operators see them, replay
from an LSN the slot can still serve, refusal (exit 3) of an LSN behind the slot, and a new snapshot after a
reset. Small tables, the shared dev broker and the harness's committed-output rule."""

from __future__ import annotations

import collections
import json
import time

import yaml

from e2esnap_support import current_lsn, drop_slot, int_to_lsn, lsn_to_int, offsets_cli, wait_for_exit
from harness import committed_events, committed_units, slot_state, wait_until


def execute(pg, *statements: str) -> None:
    with pg.cursor() as cur:
        for statement in statements:  # one transaction each (autocommit)
            cur.execute(statement)


def create(pg, table: str, rows: int) -> None:
    execute(pg, f"CREATE TABLE {table} (id integer PRIMARY KEY, name text NOT NULL)")
    if rows:
        execute(pg, f"INSERT INTO {table} SELECT g, 'row ' || g FROM generate_series(1, {rows}) g")


def rows_of(pg, table: str) -> dict[int, dict]:
    with pg.cursor() as cur:
        cur.execute(f"SELECT id, name FROM {table}")
        return {i: {"id": i, "name": n} for i, n in cur.fetchall()}


def events_of(names, kafka):
    return committed_events(names.prefix, names.agent_name, output=kafka)


def wait_events(names, kafka, predicate, message: str, timeout: float = 60):
    def check():
        events = events_of(names, kafka)
        return events if predicate(events) else None

    return wait_until(check, timeout, interval=0.2, message=message)


def run_of(event) -> str:
    return event.unit.rsplit("-", 1)[0]


def offset_records(names, kafka) -> list:
    """Values of the offset records of this agent in the record file, in order (None: a tombstone)."""
    return [r.value_json for r in kafka.records(lambda t: t == names.offsets_topic)]


def show(tributary_bin, config_path) -> dict | str:
    result = offsets_cli(tributary_bin, "show", config_path)
    assert result.returncode == 0, f"offsets show exited {result.returncode}: {result.stderr}"
    text = result.stdout.strip()
    return json.loads(text) if text.startswith("{") else text


def rebuild(events) -> dict:
    table: dict = {}
    for event in events:
        if event.tombstone or event.op == "d":
            table.pop(event.key["id"], None)
        else:
            table[event.key["id"]] = event.after
    return table


def test_offsets_show_prints_the_snapshot_progress_then_the_streaming_position(
        pg, names, agent, kafka, tributary_bin, pg_target, kafka_bootstrap, tmp_path):
    a, b = names.table, f"{names.prefix}_b"
    execute(pg, f"CREATE TABLE public.{a} (id integer PRIMARY KEY, v integer NOT NULL, s text)",
            f"INSERT INTO public.{a} SELECT g, g, md5(g::text) FROM generate_series(1, 3000) g",
            f"VACUUM ANALYZE public.{a}")
    create(pg, f"public.{b}", 5)

    # Before any run: nothing stored (a config file of the same agent, written by hand).
    config = tmp_path / "offsets.yaml"
    config.write_text(yaml.safe_dump({
        "name": names.agent_name, "topic.prefix": names.prefix, "database.hostname": pg_target.host,
        "database.port": pg_target.port, "database.user": pg_target.user, "database.dbname": pg_target.dbname,
        "slot.name": names.slot, "kafka.bootstrap.servers": kafka_bootstrap}))
    assert show(tributary_bin, config) == f"no committed offset for agent '{names.agent_name}'"

    # One worker, ~500-row chunks of a; b's snapshot SELECT sleeps, so a's last chunk (emitted only once the
    # next chunk was read, to place the `last` markers) and b stay pending: a stable mid-snapshot state.
    settings = {"table.include.list": f"public.{a},public.{b}", "snapshot.max.threads": 1,
                "snapshot.chunk.size": 500, "snapshot.select.statement.overrides": f"public.{b}",
                f"snapshot.select.statement.overrides.public.{b}": f"SELECT t.* FROM public.{b} t, pg_sleep(120)"}
    first = agent(**settings)
    wait_until(lambda: "snapshot started" in first.log_text(), 30, message="snapshot started")
    chunks = int(first.log_text().split("snapshot.chunks=")[1].split()[0])
    assert chunks >= 4, first.log_text()

    def pending_progress():
        first._check_alive("snapshot progress")
        values = [v for v in offset_records(names, kafka) if v and v.get("snapshot")]
        done = values[-1]["snapshot"]["completed_chunks"].get(f"public.{a}", []) if values else []
        return values[-1] if len(done) == chunks - 2 else None

    last = wait_until(pending_progress, 60, interval=0.2, message=f"{chunks - 2} committed chunks of {a}")
    assert first.kill() == -9
    with pg.cursor() as cur:  # the sleeping snapshot query outlives the agent: end it
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")

    shown = show(tributary_bin, first.config_path)
    assert shown == offset_records(names, kafka)[-1] == last, (shown, last)
    progress = shown["snapshot"]
    assert progress["completed_tables"] == []
    assert progress["completed_chunks"] == {f"public.{a}": list(range(chunks - 2))}
    assert set(progress["chunk_pages"]) == {f"public.{a}", f"public.{b}"}
    assert progress["snapshot_name"] and progress["lsn"] == shown["lsn"]
    assert shown["source"] == "postgresql" and shown["unit"] and shown["version"]
    snapshot_point = progress["lsn"]

    # Resume without the sleep: a's committed chunks are not read again.
    settings[f"snapshot.select.statement.overrides.public.{b}"] = f"SELECT * FROM public.{b}"
    second = agent(**settings)
    second.wait_streaming(pg)
    assert "resuming the interrupted snapshot" in second.log_text()
    execute(pg, f"INSERT INTO public.{b} VALUES (6, 'streamed')")
    wait_events(names, kafka, lambda ev: any(e.op == "c" for e in ev), "the streamed insert")
    assert second.stop() == 0, second.log_tail()

    events = events_of(names, kafka)
    reads = collections.Counter((e.source["table"], e.key["id"]) for e in events if e.op == "r")
    assert reads == collections.Counter([(a, i) for i in range(1, 3001)] + [(b, i) for i in range(1, 6)])
    assert {e.source["lsn"] for e in events if e.op == "r"} == {snapshot_point}
    insert = next(e for e in events if e.op == "c")

    shown = show(tributary_bin, second.config_path)
    wait_until(lambda: offset_records(names, kafka)[-1] == shown, 10, message="the last offset record in the tap")
    assert "snapshot" not in shown or shown["snapshot"] is None, shown
    assert shown["lsn"] > insert.source["lsn"] and shown["lsn"] >= snapshot_point
    assert shown["unit"].rsplit("-", 1)[0] == run_of(insert)


def test_offsets_set_to_an_lsn_the_slot_can_serve_replays_exactly_the_later_changes(
        pg, names, agent, kafka, tributary_bin, request):
    table = f"public.{names.table}"
    create(pg, table, 0)
    first = agent()
    first.wait_streaming(pg)
    # A copy of the slot keeps the position before the changes below, so it can serve them again.
    replay_slot = f"{names.slot}_replay"
    request.addfinalizer(lambda: drop_slot(pg, replay_slot))
    execute(pg, f"SELECT pg_copy_logical_replication_slot('{names.slot}', '{replay_slot}')")

    after = {}
    for i in range(1, 11):  # ten transactions
        execute(pg, f"INSERT INTO {table} VALUES ({i}, 'row {i}')")
        after[i] = current_lsn(pg)
    wait_events(names, kafka, lambda ev: len(ev) >= 10, "10 streamed inserts")
    assert first.stop() == 0, first.log_tail()
    original = {e.key["id"]: e for e in events_of(names, kafka)}
    assert sorted(original) == list(range(1, 11))
    first_units = committed_units(names.agent_name, kafka)

    x = after[5]  # after transaction 5 committed, before transaction 6 began
    assert original[5].position[0] < lsn_to_int(x) <= original[6].position[0]
    copy_state = slot_state(pg, replay_slot)
    assert lsn_to_int(copy_state["confirmed_flush_lsn"]) <= lsn_to_int(x), copy_state

    result = offsets_cli(tributary_bin, "set", first.config_path, "--lsn", x, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"set to {x}" in result.stdout
    shown = show(tributary_bin, first.config_path)
    assert shown["lsn"] == lsn_to_int(x) and not shown.get("snapshot"), shown

    second = agent(**{"slot.name": replay_slot})
    second.wait_streaming(pg)
    assert "snapshot started" not in second.log_text()
    wait_events(names, kafka, lambda ev: len(ev) >= 15, "the 5 replayed inserts")
    assert second.stop() == 0, second.log_tail()
    time.sleep(1.5)  # let the record tap see anything late

    replayed = [e for e in events_of(names, kafka) if e.unit not in first_units]
    assert sorted(e.key["id"] for e in replayed) == [6, 7, 8, 9, 10]
    for event in replayed:  # the same source changes again, at the same positions
        assert event.op == "c" and event.position == original[event.key["id"]].position
        assert event.after == original[event.key["id"]].after


def test_offsets_set_behind_the_slot_exits_3_and_when_needed_resnapshots(
        pg, names, agent, kafka, tributary_bin):
    table = f"public.{names.table}"
    create(pg, table, 5)
    first = agent()
    wait_events(names, kafka, lambda ev: len(ev) >= 5, "5 snapshot events")
    first.wait_streaming(pg)
    marks = {}
    for i in range(6, 10):
        execute(pg, f"INSERT INTO {table} VALUES ({i}, 'row {i}')")
        marks[i] = current_lsn(pg)
    wait_events(names, kafka, lambda ev: len(ev) >= 9, "4 streamed inserts")
    assert first.stop() == 0, first.log_tail()

    confirmed = slot_state(pg, names.slot)["confirmed_flush_lsn"]
    x = marks[7]
    assert lsn_to_int(x) < lsn_to_int(confirmed)
    result = offsets_cli(tributary_bin, "set", first.config_path, "--lsn", x, "--yes")
    assert result.returncode == 0, result.stderr

    refused = agent()
    assert wait_for_exit(refused, 60) == 3, refused.log_tail()
    log = refused.log_text()
    expected_confirmed = int_to_lsn(lsn_to_int(confirmed))
    assert (f"the stored offset {int_to_lsn(lsn_to_int(x))} is behind slot '{names.slot}' "
            f"(confirmed_flush_lsn {expected_confirmed})") in log, log
    assert f"tributary offsets set --lsn {expected_confirmed}" in log and "snapshot.mode: when_needed" in log, log
    assert "snapshot started" not in log

    recovered = agent(snapshot__mode="when_needed")
    wait_events(names, kafka, lambda ev: len([e for e in ev if e.op == "r"]) >= 5 + 9, "a new snapshot of 9 rows")
    recovered.wait_streaming(pg)
    execute(pg, f"UPDATE {table} SET name = 'after' WHERE id = 1")
    wait_events(names, kafka, lambda ev: any(e.op == "u" for e in ev), "the streamed update")
    assert recovered.stop() == 0, recovered.log_tail()

    events = events_of(names, kafka)
    new_run = run_of(events[-1])
    assert sorted(e.key["id"] for e in events if e.op == "r" and run_of(e) == new_run) == list(range(1, 10))
    assert rebuild(e for e in events if run_of(e) == new_run) == rows_of(pg, table)


def test_offsets_reset_then_initial_takes_a_new_snapshot(pg, names, agent, kafka, tributary_bin):
    table = f"public.{names.table}"
    create(pg, table, 5)
    first = agent()
    wait_events(names, kafka, lambda ev: len(ev) >= 5, "5 snapshot events")
    first.wait_streaming(pg)
    execute(pg, f"UPDATE {table} SET name = 'changed' WHERE id = 1")
    wait_events(names, kafka, lambda ev: any(e.op == "u" for e in ev), "the streamed update")
    assert first.stop() == 0, first.log_tail()

    # Refusals: no confirmation without --yes (stdin is not a terminal), and a malformed LSN.
    refused = offsets_cli(tributary_bin, "reset", first.config_path)
    assert refused.returncode != 0 and "without --yes" in refused.stderr, refused
    malformed = offsets_cli(tributary_bin, "set", first.config_path, "--lsn", "not-an-lsn", "--yes")
    assert malformed.returncode != 0 and "--lsn must look like" in malformed.stderr, malformed
    assert show(tributary_bin, first.config_path)["lsn"] > 0

    result = offsets_cli(tributary_bin, "reset", first.config_path, "--yes")
    assert result.returncode == 0, result.stderr
    assert show(tributary_bin, first.config_path) == f"no committed offset for agent '{names.agent_name}'"
    wait_until(lambda: offset_records(names, kafka)[-1] is None, 10, message="the offset tombstone in the tap")

    execute(pg, f"INSERT INTO {table} VALUES (6, 'while stopped')")
    second = agent()
    wait_events(names, kafka, lambda ev: len([e for e in ev if e.op == "r"]) >= 5 + 6, "a new snapshot of 6 rows")
    second.wait_streaming(pg)
    assert second.stop() == 0, second.log_tail()
    log = second.log_text()
    assert "no committed offset: starting fresh" in log and "dropping replication slot to take a new snapshot" in log

    events = events_of(names, kafka)
    reads = [e for e in events if e.op == "r"]
    new_run = run_of(reads[-1])
    assert collections.Counter(e.key["id"] for e in reads) == {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 1}
    assert {e.key["id"]: e.after for e in reads if run_of(e) == new_run} == rows_of(pg, table)
    assert [e.source["snapshot"] for e in reads if run_of(e) == new_run] == ["first"] + ["true"] * 4 + ["last"]
