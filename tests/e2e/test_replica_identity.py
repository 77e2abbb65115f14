"""REPLICA IDENTITY and its consequences for before images, keys, primary-key changes, unchanged TOAST
values and tombstones (EVENT-FORMAT.md c.2, c.3, c.8)."""

from __future__ import annotations

import json

import e2ecorrect_support as s
from harness import unwrap

PLACEHOLDER = "__debezium_unavailable_value"


def table_regex(names) -> str:
    return f"public\\.{names.prefix}_.*"


def by_topic(events, topic):
    return [e for e in events if e.topic == topic]


def test_before_images_default_versus_full(pg, names, agent, kafka):
    default, full = f"{names.prefix}_def", f"{names.prefix}_full"
    with pg.cursor() as cur:
        for table in (default, full):
            # `label` is NOT NULL: Debezium fills a missing required value with the type's fallback ("").
            cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, name text, qty integer, "
                        f"label text NOT NULL)")
        cur.execute(f"ALTER TABLE public.{full} REPLICA IDENTITY FULL")
    process = agent(**{"table.include.list": table_regex(names)})
    process.wait_streaming(pg)

    with pg.cursor() as cur:
        for table in (default, full):
            cur.execute(f"INSERT INTO public.{table} VALUES (1, 'one', 10, 'L1')")
            cur.execute(f"UPDATE public.{table} SET name = 'uno', qty = NULL WHERE id = 1")
            cur.execute(f"DELETE FROM public.{table} WHERE id = 1")

    events = s.wait_events(kafka, names, lambda ev: len(ev) >= 8, what="4 records per table", agent=process)
    assert process.stop() == 0, process.log_tail()

    inserted = {"id": 1, "name": "one", "qty": 10, "label": "L1"}
    updated = {"id": 1, "name": "uno", "qty": None, "label": "L1"}
    d_events = by_topic(events, names.topic(default))
    assert [("tomb" if e.tombstone else e.op) for e in d_events] == ["c", "u", "d", "tomb"], d_events
    c, u, d, tomb = d_events
    assert c.before is None and c.after == inserted
    assert u.before is None, f"REPLICA IDENTITY DEFAULT: an update carries no before image, got {u.before}"
    assert u.after == updated
    assert d.after is None
    assert d.before == {"id": 1, "name": None, "qty": None, "label": ""}, \
        f"REPLICA IDENTITY DEFAULT: a delete's before has only the key (others null / required fallback): {d.before}"
    assert d.key == {"id": 1} and tomb.key == {"id": 1}

    f_events = by_topic(events, names.topic(full))
    assert [("tomb" if e.tombstone else e.op) for e in f_events] == ["c", "u", "d", "tomb"], f_events
    c, u, d, tomb = f_events
    assert c.before is None and c.after == inserted
    assert u.before == inserted, f"REPLICA IDENTITY FULL: update before must be the whole old row: {u.before}"
    assert u.after == updated
    assert d.before == updated and d.after is None
    assert d.key == {"id": 1} and tomb.key == {"id": 1}


def test_table_without_primary_key_full_identity_has_null_key(pg, names, agent, kafka):
    table = f"{names.prefix}_nopk"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (a integer, b text)")
        cur.execute(f"ALTER TABLE public.{table} REPLICA IDENTITY FULL")
    process = agent(**{"table.include.list": table_regex(names), "schemas.enable": True})
    process.wait_streaming(pg)
    with pg.cursor() as cur:
        cur.execute(f"INSERT INTO public.{table} VALUES (1, 'x'), (2, 'y')")
        cur.execute(f"UPDATE public.{table} SET b = 'z' WHERE a = 1")
        cur.execute(f"DELETE FROM public.{table} WHERE a = 2")

    events = s.wait_events(kafka, names, lambda ev: len(s.non_tombstones(ev)) >= 4, what="4 changes",
                           agent=process)
    assert process.stop() == 0, process.log_tail()
    changes = s.non_tombstones(events)
    assert [e.op for e in changes] == ["c", "c", "u", "d"]
    for event in events:
        assert event.record.key is None, f"a table without a primary key has a null Kafka key: {event!r}"
    c1, c2, u, d = changes
    assert c1.after == {"a": 1, "b": "x"} and c2.after == {"a": 2, "b": "y"}
    assert u.before == {"a": 1, "b": "x"} and u.after == {"a": 1, "b": "z"}
    assert d.before == {"a": 2, "b": "y"} and d.after is None
    # Both columns are nullable and not part of any key.
    fields = s.row_schema(u)
    assert [(n, f["type"], f["optional"]) for n, f in fields.items()] == [("a", "int32", True), ("b", "string", True)]


def test_primary_key_change_is_delete_tombstone_create(pg, names, agent, kafka):
    table = f"{names.prefix}_pk"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, v text)")
    process = agent(**{"table.include.list": table_regex(names)})
    process.wait_streaming(pg)
    topic = names.topic(table)

    # Learn which partition each key goes to (the key decides it), so that the old and the new key of the
    # change can be taken from one partition, where the produce order is visible in the offsets.
    candidates = list(range(1, 41))
    with pg.cursor() as cur:
        cur.execute(f"INSERT INTO public.{table} SELECT g, 'v' || g FROM generate_series(1, 40) g")
    events = s.wait_events(kafka, names, lambda ev: len(ev) >= len(candidates), what="40 inserts", agent=process)
    partition_of = {e.key["id"]: e.record.partition for e in events}
    new_id = next(i for i in candidates[1:] if partition_of[i] == partition_of[1])
    with pg.cursor() as cur:
        cur.execute(f"DELETE FROM public.{table} WHERE id = %s", (new_id,))      # frees the new key
        cur.execute(f"UPDATE public.{table} SET id = %s, v = 'moved' WHERE id = 1", (new_id,))
        cur.execute(f"UPDATE public.{table} SET v = 'plain' WHERE id = 2")       # no key change: one u

    def done(ev):
        return any(e.op == "u" for e in ev) and sum(1 for e in ev if e.op == "c" and e.key == {"id": new_id}) >= 2
    events = s.wait_events(kafka, names, done, what="key change and plain update", agent=process)
    assert process.stop() == 0, process.log_tail()

    assert [e.op for e in events[:40]] == ["c"] * 40
    tail = events[40:]
    # tail: d(new_id) + tomb, then d(1) + tomb + c(new_id) of the key change, then u(2)
    assert [("tomb" if e.tombstone else e.op) for e in tail] == ["d", "tomb", "d", "tomb", "c", "u"], tail
    d, tomb, c = tail[2:5]
    assert d.key == {"id": 1} and d.after is None and d.before == {"id": 1, "v": None}, d.before
    assert tomb.key == {"id": 1} and tomb.record.value is None
    assert c.key == {"id": new_id} and c.before is None and c.after == {"id": new_id, "v": "moved"}
    assert d.position == c.position, "both halves of a key change carry the position of the one source change"
    newkey = d.record.headers.get("__debezium.newkey")
    oldkey = c.record.headers.get("__debezium.oldkey")
    assert newkey is not None and unwrap(json.loads(newkey)) == {"id": new_id}, d.record.headers
    assert oldkey is not None and unwrap(json.loads(oldkey)) == {"id": 1}, c.record.headers
    assert "__debezium.oldkey" not in d.record.headers and "__debezium.newkey" not in c.record.headers
    # Produce order in the shared partition: delete, tombstone, create, consecutively.
    assert {d.topic, tomb.topic, c.topic} == {topic}
    assert d.record.partition == tomb.record.partition == c.record.partition
    offsets = [d.record.offset, tomb.record.offset, c.record.offset]
    assert offsets == list(range(offsets[0], offsets[0] + 3)), f"not consecutive in order d, tomb, c: {offsets}"
    u = tail[5]
    assert u.key == {"id": 2} and u.after == {"id": 2, "v": "plain"} and u.before is None
    assert not any(h.startswith("__debezium.") for h in u.record.headers), u.record.headers


def test_unchanged_toast_placeholder_default_and_filled_with_full(pg, names, agent, kafka):
    default, full = f"{names.prefix}_tdef", f"{names.prefix}_tfull"
    with pg.cursor() as cur:
        for table in (default, full):
            cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, big text, small integer, "
                        f"blob bytea)")
            # EXTERNAL: stored out of line without compression, so a 10 kB value is certainly TOASTed.
            cur.execute(f"ALTER TABLE public.{table} ALTER COLUMN big SET STORAGE EXTERNAL, "
                        f"ALTER COLUMN blob SET STORAGE EXTERNAL")
        cur.execute(f"ALTER TABLE public.{full} REPLICA IDENTITY FULL")
    process = agent(**{"table.include.list": table_regex(names)})
    process.wait_streaming(pg)

    big_sql = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 320) g)"  # 10240 chars
    with pg.cursor() as cur:
        for table in (default, full):
            cur.execute(f"INSERT INTO public.{table} VALUES (1, {big_sql}, 1, decode(repeat('ab', 9000), 'hex'))")
            cur.execute(f"UPDATE public.{table} SET small = 2 WHERE id = 1")          # big, blob untouched
            cur.execute(f"UPDATE public.{table} SET small = 3, big = 'short' WHERE id = 1")
        cur.execute(f"SELECT {big_sql}")
        big = cur.fetchone()[0]
    assert len(big) == 10240
    blob = s.b64(bytes.fromhex("ab" * 9000))

    events = s.wait_events(kafka, names, lambda ev: len(ev) >= 6, what="3 events per table", agent=process)
    assert process.stop() == 0, process.log_tail()

    d_events = by_topic(events, names.topic(default))
    assert [e.op for e in d_events] == ["c", "u", "u"]
    c, u1, u2 = d_events
    assert c.after == {"id": 1, "big": big, "small": 1, "blob": blob}
    assert u1.before is None
    assert u1.after == {"id": 1, "big": PLACEHOLDER, "small": 2, "blob": s.b64(PLACEHOLDER.encode())}, \
        "REPLICA IDENTITY DEFAULT: an unchanged TOASTed value is the placeholder (bytes form for bytea)"
    assert u2.after == {"id": 1, "big": "short", "small": 3, "blob": s.b64(PLACEHOLDER.encode())}

    f_events = by_topic(events, names.topic(full))
    assert [e.op for e in f_events] == ["c", "u", "u"]
    c, u1, u2 = f_events
    full_row = {"id": 1, "big": big, "small": 1, "blob": blob}
    assert c.after == full_row
    assert u1.before == full_row
    assert u1.after == {**full_row, "small": 2}, "REPLICA IDENTITY FULL: the unchanged value comes from the old row"
    assert u2.before == {**full_row, "small": 2}
    assert u2.after == {**full_row, "small": 3, "big": "short"}


def test_no_tombstones_when_disabled(pg, names, agent, kafka):
    table = f"{names.prefix}_nt"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, v text)")
    process = agent(**{"table.include.list": table_regex(names), "tombstones.on.delete": False})
    process.wait_streaming(pg)
    with pg.cursor() as cur:
        cur.execute(f"INSERT INTO public.{table} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        cur.execute(f"DELETE FROM public.{table} WHERE id IN (1, 2)")
        cur.execute(f"UPDATE public.{table} SET id = 4 WHERE id = 3")   # key change: d + c, no tombstone
        cur.execute(f"INSERT INTO public.{table} VALUES (9, 'end')")

    events = s.wait_events(kafka, names, lambda ev: any(e.key == {"id": 9} for e in ev), what="last insert",
                           agent=process)
    assert process.stop() == 0, process.log_tail()
    events = s.wait_events(kafka, names, lambda ev: True, timeout=5)
    assert [e.op for e in events] == ["c", "c", "c", "d", "d", "d", "c", "c"], events
    assert not any(e.tombstone for e in events)
    # Not even uncommitted ones: no null-value record at all on the topic.
    raw = kafka.records(lambda t: t == names.topic(table))
    assert raw and all(r.value is not None for r in raw), [r for r in raw if r.value is None]
    key_change_delete = events[5]
    assert key_change_delete.key == {"id": 3}
    assert unwrap(json.loads(key_change_delete.record.headers["__debezium.newkey"])) == {"id": 4}
