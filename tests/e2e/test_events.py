"""Event kinds beyond row changes and their ordering: TRUNCATE (op t), logical decoding messages (op m),
transaction metadata (BEGIN/END records and per-event blocks), DDL in the middle of the stream, and the
order of events inside and across transactions (EVENT-FORMAT.md c.2, c.3, c.5)."""

from __future__ import annotations

import collections

import base64
from decimal import Decimal

import psycopg2

import e2ecorrect_support as s
from harness import committed_units, unwrap


def table_regex(names, pattern: str = ".*") -> str:
    return f"public\\.{names.prefix}_{pattern}"


def ops(events):
    return [("tomb" if e.tombstone else e.op) for e in events]


def test_truncate_of_two_tables_in_one_statement(pg, names, agent, kafka):
    a, b = f"{names.prefix}_a", f"{names.prefix}_b"
    with pg.cursor() as cur:
        for table in (a, b):
            cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, v text)")
    process = agent(**{"table.include.list": table_regex(names), "schemas.enable": True})
    process.wait_streaming(pg)
    with pg.cursor() as cur:
        cur.execute(f"INSERT INTO public.{a} VALUES (1, 'a')")
        cur.execute(f"INSERT INTO public.{b} VALUES (1, 'b')")
        cur.execute(f"TRUNCATE public.{a}, public.{b}")
        cur.execute(f"INSERT INTO public.{a} VALUES (2, 'after')")

    events = s.wait_events(kafka, names, lambda ev: len(ev) >= 5, what="5 events", agent=process)
    assert process.stop() == 0, process.log_tail()
    assert ops(events) == ["c", "c", "t", "t", "c"], events
    t1, t2 = events[2:4]
    assert {t1.topic, t2.topic} == {names.topic(a), names.topic(b)}
    assert {t1.source["table"], t2.source["table"]} == {a, b}
    for t in (t1, t2):
        assert t.record.key is None, "a truncate event has a null key"
        assert t.value.get("before") is None and t.value.get("after") is None
        assert t.source["schema"] == "public"
        assert t.topic == names.topic(t.source["table"])
    assert t1.source["commit_lsn"] == t2.source["commit_lsn"], "one TRUNCATE statement is one transaction"
    assert t1.source["txId"] == t2.source["txId"]
    assert t2.source["event_seq"] == t1.source["event_seq"] + 1
    schema = s.raw_value_schema(t1)
    assert schema["name"] == f"{t1.topic}.Envelope"
    assert events[4].after == {"id": 2, "v": "after"}


def test_logical_decoding_messages(pg, names, agent, kafka):
    table = f"{names.prefix}_m"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY)")
    process = agent(**{"table.include.list": table_regex(names)})
    process.wait_streaming(pg)
    p = names.prefix  # message prefixes are unique per test: the slot sees every message of the database
    with pg.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO public.{table} VALUES (1)")
        cur.execute("SELECT pg_logical_emit_message(true, %s, %s)", (f"{p}-tx", "transactional ü"))
        cur.execute("SELECT pg_logical_emit_message(true, %s, %s::bytea)", (f"{p}-bin", "\\x00ff7f"))
        cur.execute(f"INSERT INTO public.{table} VALUES (2)")
        cur.execute("COMMIT")
        cur.execute("BEGIN")
        cur.execute("SELECT pg_logical_emit_message(true, %s, %s)", (f"{p}-rolledback", "never"))
        cur.execute("SELECT pg_logical_emit_message(false, %s, %s)", (f"{p}-nontx", "survives rollback"))
        cur.execute("ROLLBACK")
        cur.execute(f"INSERT INTO public.{table} VALUES (3)")

    def mine(ev):
        return [e for e in ev if e.topic == f"{p}.message" and e.key and str(e.key.get("prefix", "")).startswith(p)]

    events = s.wait_events(kafka, names, lambda ev: len(mine(ev)) >= 3 and any(e.key == {"id": 3} for e in ev),
                           what="3 messages and the last insert", agent=process)
    assert process.stop() == 0, process.log_tail()
    messages = {e.key["prefix"]: e for e in mine(events)}
    assert set(messages) == {f"{p}-tx", f"{p}-bin", f"{p}-nontx"}, \
        f"a transactional message of a rolled-back transaction must not be emitted: {sorted(messages)}"
    for prefix, content in ((f"{p}-tx", "transactional ü".encode()), (f"{p}-bin", b"\x00\xff\x7f"),
                            (f"{p}-nontx", b"survives rollback")):
        event = messages[prefix]
        assert event.op == "m"
        assert event.value["message"] == {"prefix": prefix, "content": base64.b64encode(content).decode()}
        assert event.value.get("before") is None and event.value.get("after") is None
    # Transactional messages are part of their transaction: same commit position as its rows, in order.
    rows = [e for e in events if e.topic == names.topic(table)]
    tx = [e for e in events if e.source.get("commit_lsn") == rows[0].source["commit_lsn"]]
    assert [(e.op, e.key) for e in tx] == [("c", {"id": 1}), ("m", {"prefix": f"{p}-tx"}),
                                           ("m", {"prefix": f"{p}-bin"}), ("c", {"id": 2})], tx
    assert [e.source["event_seq"] for e in tx] == sorted(e.source["event_seq"] for e in tx)
    assert messages[f"{p}-tx"].source["txId"] == rows[0].source["txId"]


def test_transaction_metadata(pg, names, agent, kafka):
    a, b, other = f"{names.prefix}_a", f"{names.prefix}_b", f"{names.prefix}_other"
    with pg.cursor() as cur:
        for table in (a, b, other):
            cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY)")
    process = agent(**{"table.include.list": table_regex(names, "(a|b)"), "provide.transaction.metadata": True,
                       "schemas.enable": True})
    process.wait_streaming(pg)
    with pg.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT txid_current()")
        xid1 = cur.fetchone()[0]
        cur.execute(f"INSERT INTO public.{a} VALUES (1)")
        cur.execute(f"INSERT INTO public.{b} VALUES (1)")
        cur.execute(f"INSERT INTO public.{a} VALUES (2)")
        cur.execute(f"INSERT INTO public.{b} VALUES (2)")
        cur.execute(f"INSERT INTO public.{a} VALUES (3)")
        cur.execute("COMMIT")
        cur.execute("BEGIN")
        cur.execute("SELECT txid_current()")
        xid_other = cur.fetchone()[0]
        cur.execute(f"INSERT INTO public.{other} VALUES (1)")   # published (FOR ALL TABLES), not captured
        cur.execute("COMMIT")
        cur.execute("BEGIN")
        cur.execute("SELECT txid_current()")
        xid2 = cur.fetchone()[0]
        cur.execute(f"UPDATE public.{b} SET id = 20 WHERE id = 2")  # key change: d + tombstone + c
        cur.execute("COMMIT")

    events = s.wait_events(kafka, names, lambda ev: len(ev) >= 8, what="8 data records", agent=process)
    tx_topic = f"{names.prefix}.transaction"

    def tx_records():
        units = committed_units(names.agent_name, kafka)
        return [r for r in kafka.records(lambda t: t == tx_topic) if r.headers.get("tributary.unit") in units]
    s.wait_until(lambda: len(tx_records()) >= 4, 30, message="4 transaction records")
    assert process.stop() == 0, process.log_tail()

    # BEGIN and END sit in different partitions, which the record tap reads independently: wait until every
    # BEGIN of these transactions has its END recorded too.
    def pairs_complete():
        statuses = collections.Counter(
            (unwrap(r.value_json)["id"].split(":")[0], unwrap(r.value_json)["status"]) for r in tx_records())
        return all(statuses[(str(x), "BEGIN")] == statuses[(str(x), "END")] for x in (xid1, xid2, xid_other)) \
            and statuses[(str(xid1), "END")] >= 1 and statuses[(str(xid2), "END")] >= 1
    s.wait_until(pairs_complete, 30, message="complete BEGIN/END pairs in the record file")
    # Records of other transactions of the shared database are ignored; BEGIN and END have different keys
    # ('<xid>:<lsn>'), so they may sit in different partitions: order them by xid, BEGIN first.
    records = [r for r in tx_records()
               if unwrap(r.value_json)["id"].split(":")[0] in (str(xid1), str(xid2), str(xid_other))]
    records.sort(key=lambda r: (int(unwrap(r.value_json)["id"].split(":")[0]),
                                unwrap(r.value_json)["status"] != "BEGIN"))
    values = [unwrap(r.value_json) for r in records]
    keys = [unwrap(r.key_json) for r in records]
    for key, value in zip(keys, values):
        assert key == {"id": value["id"]}
        assert isinstance(value["ts_ms"], int) and value["ts_ms"] > 0
        assert value["id"].count(":") == 1 and value["id"].split(":")[1].isdigit(), value["id"]
    # The transaction that touched only an uncaptured table: like Debezium (BEGIN/END for every transaction
    # pgoutput delivers), either nothing or an empty BEGIN/END pair.
    other_values = [v for v in values if v["id"].split(":")[0] == str(xid_other)]
    if other_values:
        assert [v["status"] for v in other_values] == ["BEGIN", "END"], other_values
        assert other_values[1]["event_count"] == 0 and other_values[1]["data_collections"] == []
    values = [v for v in values if v["id"].split(":")[0] != str(xid_other)]
    assert [(v["id"].split(":")[0], v["status"]) for v in values] == [
        (str(xid1), "BEGIN"), (str(xid1), "END"), (str(xid2), "BEGIN"), (str(xid2), "END")], values
    begin1, end1, begin2, end2 = values
    assert begin1["event_count"] is None and begin1["data_collections"] is None
    assert end1["event_count"] == 5
    assert end1["data_collections"] == [{"data_collection": f"public.{a}", "event_count": 3},
                                        {"data_collection": f"public.{b}", "event_count": 2}]
    assert end2["event_count"] == 2, "a key change is two events (delete + create); the tombstone is not counted"
    assert end2["data_collections"] == [{"data_collection": f"public.{b}", "event_count": 2}]
    value_schema = records[0].value_json["schema"]
    assert value_schema["name"] == "io.debezium.connector.common.TransactionMetadataValue"
    assert records[0].key_json["schema"]["name"] == "io.debezium.connector.common.TransactionMetadataKey"

    changes = s.non_tombstones(events)
    assert ops(changes) == ["c"] * 5 + ["d", "c"]
    blocks = [e.value["transaction"] for e in changes]
    assert all(str(blk["id"]).split(":")[0] == str(xid1) for blk in blocks[:5])
    assert all(str(blk["id"]).split(":")[0] == str(xid2) for blk in blocks[5:])
    assert [blk["total_order"] for blk in blocks] == [1, 2, 3, 4, 5, 1, 2]
    assert [blk["data_collection_order"] for blk in blocks] == [1, 1, 2, 2, 3, 1, 2]
    assert [e.source["txId"] for e in changes] == [xid1] * 5 + [xid2] * 2
    envelope = s.struct_fields(s.raw_value_schema(changes[0]))
    assert envelope["transaction"]["name"] == "event.block"
    assert [f["field"] for f in envelope["transaction"]["fields"]] == ["id", "total_order", "data_collection_order"]


def test_transaction_metadata_off_means_null_block_and_no_topic(pg, names, agent, kafka):
    table = f"{names.prefix}_x"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY)")
    process = agent(**{"table.include.list": table_regex(names)})
    process.wait_streaming(pg)
    with pg.cursor() as cur:
        cur.execute(f"INSERT INTO public.{table} VALUES (1), (2)")
    events = s.wait_events(kafka, names, lambda ev: len(ev) >= 2, what="2 inserts", agent=process)
    assert process.stop() == 0, process.log_tail()
    assert all("transaction" in e.value and e.value["transaction"] is None for e in events)
    assert kafka.records(lambda t: t == f"{names.prefix}.transaction") == []


def test_ddl_mid_stream_changes_later_events(pg, names, agent, kafka):
    table = f"{names.prefix}_ddl"
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, a integer, b text)")
    process = agent(**{"table.include.list": table_regex(names), "schemas.enable": True})
    process.wait_streaming(pg)
    steps = [
        (None, "INSERT INTO public.{t} VALUES (1, 10, 'one')"),
        ("ALTER TABLE public.{t} ADD COLUMN c numeric(5,2) DEFAULT 1.5",
         "INSERT INTO public.{t} VALUES (2, 20, 'two', 2.25)"),
        ("ALTER TABLE public.{t} DROP COLUMN b", "INSERT INTO public.{t} (id, a, c) VALUES (3, 30, NULL)"),
        ("ALTER TABLE public.{t} ALTER COLUMN a TYPE bigint", "INSERT INTO public.{t} VALUES (4, 5000000000, 4.5)"),
        ("ALTER TABLE public.{t} ALTER COLUMN c TYPE text", "UPDATE public.{t} SET a = a + 1 WHERE id = 1"),
    ]
    with pg.cursor() as cur:
        for ddl, dml in steps:
            if ddl:
                cur.execute(ddl.format(t=table))
            cur.execute(dml.format(t=table))
        # DDL and DML in one transaction: the change after the ALTER already has the new column.
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO public.{table} VALUES (5, 50, 'five')")
        cur.execute(f"ALTER TABLE public.{table} ADD COLUMN d boolean NOT NULL DEFAULT true")
        cur.execute(f"INSERT INTO public.{table} VALUES (6, 60, 'six', false)")
        cur.execute("COMMIT")

    events = s.wait_events(kafka, names, lambda ev: len(ev) >= 7, what="7 events", agent=process)
    assert process.stop() == 0, process.log_tail()
    assert ops(events) == ["c", "c", "c", "c", "u", "c", "c"], events
    expected_after = [
        {"id": 1, "a": 10, "b": "one"},
        {"id": 2, "a": 20, "b": "two", "c": s.decimal_bytes(Decimal("2.25"), 2)},
        {"id": 3, "a": 30, "c": None},
        {"id": 4, "a": 5000000000, "c": s.decimal_bytes(Decimal("4.5"), 2)},
        {"id": 1, "a": 11, "c": "1.50"},            # the ADD COLUMN default, now as text
        {"id": 5, "a": 50, "c": "five"},
        {"id": 6, "a": 60, "c": "six", "d": False},
    ]
    expected_schema = [
        {"id": ("int32", None), "a": ("int32", None), "b": ("string", None)},
        {"id": ("int32", None), "a": ("int32", None), "b": ("string", None),
         "c": ("bytes", "org.apache.kafka.connect.data.Decimal")},
        {"id": ("int32", None), "a": ("int32", None), "c": ("bytes", "org.apache.kafka.connect.data.Decimal")},
        {"id": ("int32", None), "a": ("int64", None), "c": ("bytes", "org.apache.kafka.connect.data.Decimal")},
        {"id": ("int32", None), "a": ("int64", None), "c": ("string", None)},
        {"id": ("int32", None), "a": ("int64", None), "c": ("string", None)},
        {"id": ("int32", None), "a": ("int64", None), "c": ("string", None), "d": ("boolean", None)},
    ]
    problems = []
    for index, (event, after, schema) in enumerate(zip(events, expected_after, expected_schema)):
        if event.after != after:
            problems.append(f"event {index} after: got {event.after}, expected {after}")
        fields = s.row_schema(event)
        got = {name: (f["type"], f.get("name")) for name, f in fields.items()}
        if got != schema:
            problems.append(f"event {index} schema: got {got}, expected {schema}")
    assert not problems, "\n".join(problems)
    c_field = s.row_schema(events[1])["c"]
    assert c_field["parameters"] == {"scale": "2", "connect.decimal.precision": "5"}, c_field
    assert s.row_schema(events[6])["d"]["optional"] is False


def test_multi_table_transaction_keeps_order(pg, names, agent, kafka, pg_target):
    a, b = f"{names.prefix}_a", f"{names.prefix}_b"
    with pg.cursor() as cur:
        for table in (a, b):
            cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, v integer)")
    process = agent(**{"table.include.list": table_regex(names)})
    process.wait_streaming(pg)
    other = psycopg2.connect(pg_target.url)
    try:
        c1, c2 = pg.cursor(), other.cursor()
        c1.execute("BEGIN")
        c1.execute(f"INSERT INTO public.{a} VALUES (1, 1)")
        c1.execute(f"INSERT INTO public.{b} VALUES (1, 1)")
        c2.execute(f"INSERT INTO public.{b} VALUES (100, 100)")      # second connection: its own transaction
        c1.execute(f"UPDATE public.{a} SET v = 2 WHERE id = 1")
        c1.execute(f"INSERT INTO public.{b} VALUES (2, 2)")
        c2.execute(f"INSERT INTO public.{a} VALUES (100, 100)")
        other.commit()                                              # commits first
        c1.execute(f"DELETE FROM public.{a} WHERE id = 1")
        c1.execute(f"UPDATE public.{b} SET v = 3 WHERE id = 1")
        c1.execute("COMMIT")
    finally:
        other.close()

    events = s.wait_events(kafka, names, lambda ev: len(s.non_tombstones(ev)) >= 8, what="8 changes",
                           agent=process)
    assert process.stop() == 0, process.log_tail()
    changes = s.non_tombstones(events)
    summary = [(e.source["table"], e.op, e.key["id"]) for e in changes]
    assert summary == [
        (b, "c", 100), (a, "c", 100),                                   # the transaction that committed first
        (a, "c", 1), (b, "c", 1), (a, "u", 1), (b, "c", 2), (a, "d", 1), (b, "u", 1),
    ], summary
    first, second = changes[:2], changes[2:]
    for group in (first, second):
        assert len({e.source["commit_lsn"] for e in group}) == 1
        assert len({e.source["txId"] for e in group}) == 1
        assert [e.source["event_seq"] for e in group] == list(range(len(group))), \
            [e.source["event_seq"] for e in group]
    assert first[0].source["commit_lsn"] < second[0].source["commit_lsn"]
    assert first[0].source["txId"] != second[0].source["txId"]
    # source.lsn of each change is increasing within the transaction (the change's own LSN).
    lsns = [e.source["lsn"] for e in second]
    assert lsns == sorted(lsns), lsns
    # Committed events of one transaction are in one commit unit.
    assert len({e.unit for e in second}) == 1
    assert second[-1].after == {"id": 1, "v": 3}


def test_quoted_identifiers_and_sanitised_names(pg, names, agent, kafka):
    """Quoted identifiers (case, spaces, quotes, backslash, non-ASCII): topic names keep [a-zA-Z0-9._-] and
    replace the rest with '_' (Debezium TopicNameSanitizer), Connect schema names are Avro-adjusted, while
    field names and source.table keep the identifiers exactly."""
    table = f'{names.prefix}_Mixed Case-ü'
    quoted_table = '"' + table.replace('"', '""') + '"'
    column = 'Col "quoted" \\ é'
    quoted_column = '"' + column.replace('"', '""') + '"'
    with pg.cursor() as cur:
        cur.execute(f'CREATE TABLE public.{quoted_table} ("Id Key" integer PRIMARY KEY, {quoted_column} text)')
    process = agent(**{"table.include.list": table_regex(names), "schemas.enable": True})
    process.wait_streaming(pg)
    with pg.cursor() as cur:
        cur.execute(f'INSERT INTO public.{quoted_table} VALUES (1, %s)', ('v "1"',))
    events = s.wait_events(kafka, names, lambda ev: len(ev) >= 1, what="the insert", agent=process)
    assert process.stop() == 0, process.log_tail()
    (event,) = events
    assert event.topic == f"{names.prefix}.public.{names.prefix}_Mixed_Case-_", event.topic
    assert event.key == {"Id Key": 1}
    assert event.after == {"Id Key": 1, column: 'v "1"'}
    assert event.source["table"] == table and event.source["schema"] == "public"
    avro = f"{names.prefix}.public.{names.prefix}_Mixed_Case__"
    assert s.raw_value_schema(event)["name"] == f"{avro}.Envelope"
    assert s.struct_fields(s.raw_value_schema(event))["after"]["name"] == f"{avro}.Value"
    assert s.raw_key_schema(event)["name"] == f"{avro}.Key"
    assert list(s.row_schema(event)) == ["Id Key", column]
