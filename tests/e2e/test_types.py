"""Every PostgreSQL column type, through the snapshot (COPY) path and the streaming (pgoutput) path, compared
column by column with what PostgreSQL's own SELECT returns, converted in Python to Debezium's documented
encoding (EVENT-FORMAT.md c.8). The expected values are computed here from the SELECT result, never taken
from the agent's output.

Flow of each test: rows inserted before the agent starts (snapshot, op r), the same rows inserted again
while streaming in one transaction (op c), two updates that rewrite every column (REPLICA IDENTITY FULL:
before = the old row), a delete (+ tombstone) and a TRUNCATE (op t)."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pytest

import e2ecorrect_support as s
from e2ecorrect_support import Modes
from harness import wait_until


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str                       # `{p}` is the test's prefix (user types)
    fetch: str                          # SQL expression of the expected value's source, `{c}` = column
    convert: Callable[[Any, Modes], Any]  # SELECT value → expected JSON value (not called for NULL)
    schema: Callable[[Modes], tuple]    # expected (type, name, parameters or None, items type or None)


def same(value: Any, _: Modes) -> Any:
    return value


def plain(kind: str, name: Optional[str] = None, params: Optional[dict] = None, items: Optional[str] = None):
    return lambda _modes: (kind, name, params, items)


def decimal_schema(precision: Optional[int], scale: Optional[int]):
    def schema(modes: Modes):
        if modes.decimal == "string":
            return ("string", None, None, None)
        if modes.decimal == "double":
            return ("double", None, None, None)
        if scale is None:
            return ("struct", "io.debezium.data.VariableScaleDecimal", None, None)
        params = {"scale": str(scale)}
        if precision is not None:
            params["connect.decimal.precision"] = str(precision)
        return ("bytes", "org.apache.kafka.connect.data.Decimal", params, None)
    return schema


def temporal_schema(kind: str, debezium_name: str, connect_kind: str, connect_name: str):
    def schema(modes: Modes):
        if modes.time == "connect":
            return (connect_kind, connect_name, None, None)
        return (kind, debezium_name, None, None)
    return schema


def time_column(name: str, sql_type: str, precision: int) -> Column:
    adaptive = ("int32", "io.debezium.time.Time") if precision <= 3 else ("int64", "io.debezium.time.MicroTime")
    return Column(name, sql_type, "{c}::text", lambda v, m: s.time_value(v, precision, m),
                  temporal_schema(*adaptive, "int32", "org.apache.kafka.connect.data.Time"))


def timestamp_column(name: str, sql_type: str, precision: int) -> Column:
    adaptive = (("int64", "io.debezium.time.Timestamp") if precision <= 3
                else ("int64", "io.debezium.time.MicroTimestamp"))
    return Column(name, sql_type, "{c}::text", lambda v, m: s.timestamp_value(v, precision, m),
                  temporal_schema(*adaptive, "int64", "org.apache.kafka.connect.data.Timestamp"))


def elements(values: list, convert: Callable[[Any], Any]) -> list:
    return [None if v is None else convert(v) for v in values]


def numeric_array(values: Optional[list], modes: Modes) -> list:
    return [None if v is None else s.numeric_value(v, None, modes) for v in values]


def numeric_array_schema(modes: Modes):
    if modes.decimal == "string":
        return ("array", None, None, "string")
    return ("array", None, None, "struct")


COLUMNS: list[Column] = [
    Column("c_bool", "boolean", "{c}", same, plain("boolean")),
    Column("c_int2", "smallint", "{c}", same, plain("int16")),
    Column("c_int4", "integer", "{c}", same, plain("int32")),
    Column("c_int8", "bigint", "{c}", same, plain("int64")),
    Column("c_oid", "oid", "{c}::text", lambda v, m: int(v), plain("int64")),
    Column("c_float4", "real", "{c}::text", lambda v, m: s.float_value(v), plain("float")),
    Column("c_float8", "double precision", "{c}::text", lambda v, m: s.float_value(v), plain("double")),
    Column("c_num", "numeric(10,2)", "{c}::text", lambda v, m: s.numeric_value(v, 2, m), decimal_schema(10, 2)),
    Column("c_numvar", "numeric", "{c}::text", lambda v, m: s.numeric_value(v, None, m),
           decimal_schema(None, None)),
    Column("c_money", "money", "{c}::numeric::text", lambda v, m: s.numeric_value(v, 2, m, money=True),
           decimal_schema(None, 2)),
    Column("c_text", "text", "{c}", same, plain("string")),
    Column("c_varchar", "varchar(20)", "{c}", same, plain("string")),
    Column("c_bpchar", "char(5)", "{c}", same, plain("string")),          # blank-padded, as SELECT returns it
    Column("c_name", "name", "{c}", same, plain("string")),
    Column("c_char", '"char"', "{c}", same, plain("string")),
    Column("c_bytea", "bytea", "{c}", lambda v, m: s.b64(bytes(v)), plain("bytes")),
    Column("c_uuid", "uuid", "{c}::text", same, plain("string", "io.debezium.data.Uuid")),
    Column("c_json", "json", "{c}::text", same, plain("string", "io.debezium.data.Json")),
    Column("c_jsonb", "jsonb", "{c}::text", same, plain("string", "io.debezium.data.Json")),
    Column("c_xml", "xml", "{c}::text", same, plain("string", "io.debezium.data.Xml")),
    Column("c_date", "date", "{c}::text", s.date_value,
           temporal_schema("int32", "io.debezium.time.Date", "int32", "org.apache.kafka.connect.data.Date")),
    time_column("c_time", "time", 6),
    time_column("c_time0", "time(0)", 0),
    time_column("c_time3", "time(3)", 3),
    time_column("c_time4", "time(4)", 4),
    time_column("c_time6", "time(6)", 6),
    Column("c_timetz", "timetz", "{c}::text", s.timetz_value, plain("string", "io.debezium.time.ZonedTime")),
    timestamp_column("c_ts3", "timestamp(3)", 3),
    timestamp_column("c_ts6", "timestamp(6)", 6),
    timestamp_column("c_ts", "timestamp", 6),
    Column("c_tstz", "timestamptz", "{c}::text", s.timestamptz_value,
           plain("string", "io.debezium.time.ZonedTimestamp")),
    Column("c_interval", "interval", s.INTERVAL_PARTS_SQL, s.interval_value,
           plain("int64", "io.debezium.time.MicroDuration")),
    Column("c_inet", "inet", "{c}", same, plain("string")),
    Column("c_cidr", "cidr", "{c}", same, plain("string")),
    Column("c_macaddr", "macaddr", "{c}", same, plain("string")),
    Column("c_macaddr8", "macaddr8", "{c}", same, plain("string")),
    Column("c_bit1", "bit(1)", "{c}::text", lambda v, m: v == "1", plain("boolean")),
    Column("c_bit10", "bit(10)", "{c}::text", lambda v, m: s.bits_bytes(v),
           plain("bytes", "io.debezium.data.Bits", {"length": "10"})),
    Column("c_varbit", "varbit", "{c}::text", lambda v, m: s.bits_bytes(v), plain("bytes", "io.debezium.data.Bits")),
    Column("c_int4arr", "integer[]", "{c}", same, plain("array", items="int32")),
    Column("c_textarr", "text[]", "{c}", same, plain("array", items="string")),
    Column("c_numarr", "numeric[]", "{c}::text[]", numeric_array, numeric_array_schema),
    Column("c_boolarr", "boolean[]", "{c}", same, plain("array", items="boolean")),
    Column("c_float8arr", "double precision[]", "{c}::text[]", lambda v, m: elements(v, s.float_value),
           plain("array", items="double")),
    Column("c_datearr", "date[]", "{c}::text[]", lambda v, m: elements(v, lambda x: s.date_value(x, m)),
           lambda m: ("array", None, None, "int32")),
    Column("c_tstzarr", "timestamptz[]", "{c}::text[]",
           lambda v, m: elements(v, lambda x: s.timestamptz_value(x, m)), plain("array", items="string")),
    Column("c_uuidarr", "uuid[]", "{c}::text[]", same, plain("array", items="string")),
    Column("c_jsonbarr", "jsonb[]", "{c}::text[]", same, plain("array", items="string")),
    Column("c_byteaarr", "bytea[]", "{c}", lambda v, m: elements(v, lambda x: s.b64(bytes(x))),
           plain("array", items="bytes")),
    Column("c_varchararr", "varchar(10)[]", "{c}", same, plain("array", items="string")),
    Column("c_enum", "{p}_mood", "{c}::text", same,
           plain("string", "io.debezium.data.Enum", {"allowed": "happy,sad,meh"})),
    Column("c_domain", "{p}_price", "{c}::text", lambda v, m: s.numeric_value(v, 3, m), decimal_schema(8, 3)),
    Column("c_range", "int4range", "{c}::text", same, plain("string")),
]
BY_NAME = {c.name: c for c in COLUMNS}

# Row values as SQL literals; a column a row does not name is NULL. Ids 1..N are snapshotted; the same rows
# are inserted again while streaming as 100+id.
ROWS: dict[int, dict[str, str]] = {
    1: {  # ordinary values
        "c_bool": "true", "c_int2": "32767", "c_int4": "-2147483648", "c_int8": "9223372036854775807",
        "c_oid": "4294967295", "c_float4": "3.14159", "c_float8": "-2.718281828459045",
        "c_num": "12345678.91", "c_numvar": "-1234567890.123456789012345678901234567890",
        "c_money": "1234.56", "c_text": "E'hello \"world\" \\\\ ü 😀\\t\\n ctl\\x01\\x1f end'",
        "c_varchar": "'varchar value'", "c_bpchar": "'ab'", "c_name": "'a_name'", "c_char": "'x'",
        "c_bytea": "'\\x00ff10'::bytea", "c_uuid": "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
        "c_json": "'{\"b\": 1,  \"a\": [1, 2.50, null]}'", "c_jsonb": "'{\"b\": 1,  \"a\": [1, 2.50, null]}'",
        "c_xml": "'<a x=\"1\">t&amp;u</a>'", "c_date": "'2024-02-29'", "c_time": "'13:45:07.123456'",
        "c_time0": "'24:00:00'", "c_time3": "'23:59:59.999'", "c_time4": "'00:00:00.0001'",
        "c_time6": "'12:00:00.000001'", "c_timetz": "'12:34:56.789+05:30'",
        "c_ts3": "'2024-02-29 13:45:07.123'", "c_ts6": "'1969-12-31 23:59:59.999999'",
        "c_ts": "'2000-01-01 00:00:00'", "c_tstz": "'2024-06-30 23:59:59.5-07:00'",
        "c_interval": "'1 year 2 mons 3 days 04:05:06.789'", "c_inet": "'192.168.0.1/24'",
        "c_cidr": "'10.0.0.0/8'", "c_macaddr": "'08:00:2b:01:02:03'", "c_macaddr8": "'08:00:2b:01:02:03:04:05'",
        "c_bit1": "B'1'", "c_bit10": "B'1000000001'", "c_varbit": "B'101'", "c_int4arr": "'{1,NULL,-3}'",
        "c_textarr": r"""'{"a b",NULL,"c,d","\"q\"","back\\slash"}'""", "c_numarr": "'{1.50,NULL,-0.001,100}'",
        "c_enum": "'happy'", "c_domain": "12345.678", "c_range": "'[1,10)'",
        "c_boolarr": "'{true,NULL,false}'", "c_float8arr": "'{1.5,NaN,-Infinity,NULL}'",
        "c_datearr": "'{2024-02-29,NULL,infinity}'",
        "c_tstzarr": "'{\"2024-01-01 00:00:00.25+05:30\",NULL}'",
        "c_uuidarr": "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'",
        "c_jsonbarr": "ARRAY['{\"a\": [1, \"x\"]}'::jsonb, NULL, 'null'::jsonb]",
        "c_byteaarr": "ARRAY['\\x00ff'::bytea, NULL, ''::bytea]", "c_varchararr": "'{x,\"y z\",NULL,\"\"}'",
    },
    2: {  # special values
        "c_bool": "false", "c_int2": "-32768", "c_int4": "0", "c_int8": "-9223372036854775808", "c_oid": "0",
        "c_float4": "'NaN'", "c_float8": "'Infinity'", "c_num": "-0.01", "c_numvar": "'NaN'",
        "c_money": "-0.99", "c_text": "''", "c_varchar": "''", "c_bpchar": "''", "c_name": "''", "c_char": "'Z'",
        "c_bytea": "''::bytea", "c_uuid": "'00000000-0000-0000-0000-000000000000'", "c_json": "'null'",
        "c_jsonb": "'[]'", "c_xml": "''", "c_date": "'infinity'", "c_time": "'00:00:00'",
        "c_time0": "'00:00:00'", "c_time3": "'00:00:00.001'", "c_time4": "'23:59:59.9999'",
        "c_time6": "'23:59:59.999999'", "c_timetz": "'00:00:00-02'", "c_ts3": "'infinity'",
        "c_ts6": "'-infinity'", "c_ts": "'1970-01-01 00:00:00'", "c_tstz": "'infinity'",
        "c_interval": "'-1 years -2 mons +3 days -04:05:06.789'", "c_inet": "'::1'", "c_cidr": "'2001:db8::/32'",
        "c_macaddr": "'00:00:00:00:00:00'", "c_macaddr8": "'ff:ff:ff:ff:ff:ff:ff:ff'", "c_bit1": "B'0'",
        "c_bit10": "B'0000000000'", "c_varbit": "B''", "c_int4arr": "'{}'", "c_textarr": "'{}'",
        "c_numarr": "'{}'", "c_enum": "'sad'", "c_domain": "-0.001", "c_range": "'empty'",
        "c_boolarr": "'{}'", "c_float8arr": "'{}'", "c_datearr": "'{}'", "c_tstzarr": "'{}'", "c_uuidarr": "'{}'",
        "c_jsonbarr": "'{}'", "c_byteaarr": "'{}'", "c_varchararr": "'{}'",
    },
    3: {  # the other special values and extremes
        "c_float4": "'-Infinity'", "c_float8": "'NaN'", "c_num": "0", "c_numvar": "'Infinity'",
        "c_money": "'-92233720368547758.08'", "c_date": "'-infinity'", "c_ts3": "'-infinity'",
        "c_ts6": "'infinity'", "c_tstz": "'-infinity'",
        "c_interval": "'178000000 years'", "c_timetz": "'23:30:00.000001-01:30'", "c_varbit": "B'0001'",
        "c_int4arr": "'{NULL}'", "c_textarr": "'{NULL,\"\"}'", "c_bpchar": "'abcde'", "c_enum": "'meh'",
        "c_range": "'(,5]'", "c_int4": "2147483647", "c_time3": "'00:00:00'",
    },
    4: {  # before 1970, BC, large and tiny numbers
        "c_float4": "'-1.5e-38'", "c_float8": "'4.9e-324'", "c_num": "-99999999.99",
        "c_numvar": "'0.000001000'", "c_money": "'92233720368547758.07'", "c_date": "'0044-03-15 BC'",
        "c_ts3": "'1969-12-31 23:59:59.999'", "c_ts6": "'0044-03-15 12:00:00.5 BC'",
        "c_ts": "'0001-01-01 00:00:00'", "c_tstz": "'0001-01-01 00:00:00+00'", "c_time": "'24:00:00'",
        "c_interval": "'-2 days 100:00:00.000001'", "c_timetz": "'23:59:59.999999+00'", "c_domain": "99999.999",
        "c_numarr": "'{123456789012345678901234567890.5,0}'", "c_bytea": "decode(repeat('ab', 300), 'hex')",
    },
    5: {},  # all NULL
}


def create_objects(pg, names, columns: list[Column]) -> str:
    table = names.table
    with pg.cursor() as cur:
        cur.execute(f"CREATE TYPE {names.prefix}_mood AS ENUM ('happy', 'sad', 'meh')")
        cur.execute(f"CREATE DOMAIN {names.prefix}_price AS numeric(8,3)")
        column_sql = ", ".join(f"{c.name} {c.sql_type.format(p=names.prefix)}" for c in columns)
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, {column_sql})")
        cur.execute(f"ALTER TABLE public.{table} REPLICA IDENTITY FULL")
    return table


def insert_sql(table: str, row_id: int, values: dict[str, str], columns: list[Column]) -> str:
    names = ["id"] + [c.name for c in columns if c.name in values]
    literals = [str(row_id)] + [values[c.name] for c in columns if c.name in values]
    return f"INSERT INTO public.{table} ({', '.join(names)}) VALUES ({', '.join(literals)})"


def expected_row(pg, table: str, row_id: int, columns: list[Column], modes: Modes) -> dict[str, Any]:
    """The row as PostgreSQL returns it, converted to the Debezium encoding."""
    exprs = ", ".join(c.fetch.format(c=c.name) for c in columns)
    with pg.cursor() as cur:
        cur.execute(f"SELECT id, {exprs} FROM public.{table} WHERE id = %s", (row_id,))
        row = cur.fetchone()
    assert row is not None, f"row {row_id} not found"
    out: dict[str, Any] = {"id": row[0]}
    for column, value in zip(columns, row[1:]):
        out[column.name] = None if value is None else column.convert(value, modes)
    return out


def row_problems(actual: Optional[dict], expected: dict, what: str) -> list[str]:
    """Every column where the event's row image differs from the expected one, as readable lines."""
    if actual is None:
        return [f"{what}: row image is null"]
    problems = []
    for name in expected:
        if name not in actual:
            problems.append(f"  {name}: missing (expected {expected[name]!r})")
        elif actual[name] != expected[name]:
            problems.append(f"  {name}: got {actual[name]!r}, expected {expected[name]!r}")
    for name in actual:
        if name not in expected:
            problems.append(f"  {name}: unexpected field ({actual[name]!r})")
    return [f"{what}:"] + problems if problems else []


def check_schema(event, columns: list[Column], modes: Modes, prefix: str, table: str) -> None:
    envelope = s.raw_value_schema(event)
    assert envelope["name"] == f"{prefix}.public.{table}.Envelope"
    fields = s.struct_fields(envelope)
    assert list(fields)[:3] == ["before", "after", "source"], list(fields)
    for image in ("before", "after"):
        assert fields[image]["name"] == f"{prefix}.public.{table}.Value"
        assert fields[image]["optional"] is True
    row = s.row_schema(event)
    assert list(row) == ["id"] + [c.name for c in columns], "value fields must follow the table's column order"
    assert row["id"]["type"] == "int32" and row["id"]["optional"] is False
    problems = []
    for column in columns:
        kind, name, params, items = column.schema(modes)
        field = row[column.name]
        got = (field.get("type"), field.get("name"), field.get("parameters") if params is not None else None,
               field.get("items", {}).get("type") if items is not None else None)
        if got != (kind, name, params, items):
            problems.append(f"  {column.name}: got {got}, expected {(kind, name, params, items)} ({field})")
        if field.get("optional") is not True:
            problems.append(f"  {column.name}: nullable column must be optional ({field})")
        if name is not None and field.get("version") != 1:
            problems.append(f"  {column.name}: semantic type {name} must carry version 1 ({field})")
    assert not problems, "value schema differs:\n" + "\n".join(problems)
    numvar = row.get("c_numvar")
    if numvar is not None and modes.decimal == "precise":
        members = {f["field"]: f["type"] for f in numvar["fields"]}
        assert members == {"scale": "int32", "value": "bytes"}, numvar
    key_schema = s.raw_key_schema(event)
    assert key_schema["name"] == f"{prefix}.public.{table}.Key"
    assert [(f["field"], f["type"], f["optional"]) for f in key_schema["fields"]] == [("id", "int32", False)]


@pytest.fixture
def user_types(pg, names):
    """Drops the enum and domain after the test (requested before `agent`, so it runs after its teardown)."""
    yield
    with pg.cursor() as cur:
        for statement in s.drop_objects_sql(names.prefix):
            cur.execute(statement)


def run_type_roundtrip(pg, names, agent, kafka, columns: list[Column], modes: Modes, schemas_enable: bool,
                       config: dict, source_rows: Optional[dict[int, dict[str, str]]] = None) -> None:
    table = create_objects(pg, names, columns)
    rows = {i: {k: v for k, v in r.items() if k in BY_NAME and BY_NAME[k] in columns}
            for i, r in (source_rows or ROWS).items()}
    with pg.cursor() as cur:
        for row_id, values in rows.items():
            cur.execute(insert_sql(table, row_id, values, columns))
    snapshot_expected = {i: expected_row(pg, table, i, columns, modes) for i in rows}

    process = agent(**{"schemas.enable": schemas_enable}, **config)
    process.wait_streaming(pg)

    # Streaming: the same rows again, in one transaction.
    with pg.cursor() as cur:
        cur.execute("BEGIN")
        for row_id, values in rows.items():
            cur.execute(insert_sql(table, 100 + row_id, values, columns))
        cur.execute("COMMIT")
    stream_expected = {100 + i: expected_row(pg, table, 100 + i, columns, modes) for i in rows}

    # Two updates that rewrite every column (values of another row), one delete, then TRUNCATE.
    column_list = ", ".join(c.name for c in columns)
    # (target, source of the new values); with ROWS: 101 ← 104, then 105 (all NULL) ← 101.
    ids = sorted(100 + i for i in rows)
    updates = [(ids[0], ids[-2]), (ids[-1], ids[0])]
    update_expected = []
    with pg.cursor() as cur:
        for target, source in updates:
            before = expected_row(pg, table, target, columns, modes)
            cur.execute(f"UPDATE public.{table} SET ({column_list}) = (SELECT {column_list} FROM public.{table} "
                        f"WHERE id = %s) WHERE id = %s", (source, target))
            update_expected.append((before, expected_row(pg, table, target, columns, modes)))
        delete_before = expected_row(pg, table, 102, columns, modes)
        cur.execute(f"DELETE FROM public.{table} WHERE id = 102")
        cur.execute(f"TRUNCATE public.{table}")

    n = len(rows)
    total = 2 * n + len(updates) + 1 + 1 + 1  # r, c, u, d, tombstone, t
    events = s.wait_events(kafka, names, lambda ev: len(ev) >= total and any(e.op == "t" for e in ev),
                           timeout=90, what=f"{total} committed records", agent=process)
    assert process.stop() == 0, f"exit code after SIGTERM; log tail:\n{process.log_tail()}"
    events = s.wait_events(kafka, names, lambda ev: len(ev) >= total, timeout=10)
    ops = [("tomb" if e.tombstone else e.op) for e in events]
    assert ops == ["r"] * n + ["c"] * n + ["u"] * len(updates) + ["d", "tomb", "t"], ops

    problems: list[str] = []
    reads = {e.key["id"]: e for e in events[:n]}
    creates = {e.key["id"]: e for e in events[n:2 * n]}
    assert sorted(reads) == sorted(rows) and sorted(creates) == sorted(100 + i for i in rows)
    for row_id, event in sorted(reads.items()):
        assert event.before is None
        assert event.source.get("snapshot") in ("first", "true", "last", "first_in_data_collection",
                                                 "last_in_data_collection"), event.source
        problems += row_problems(event.after, snapshot_expected[row_id], f"snapshot row {row_id}")
    for row_id, event in sorted(creates.items()):
        assert event.before is None
        assert event.source.get("snapshot") == "false", event.source
        problems += row_problems(event.after, stream_expected[row_id], f"streamed insert of row {row_id}")
    for event, (target, _), (before, after) in zip(events[2 * n:], updates, update_expected):
        assert event.key == {"id": target}
        problems += row_problems(event.before, before, f"update of row {target}: before")
        problems += row_problems(event.after, after, f"update of row {target}: after")
    delete, tombstone, truncate = events[-3:]
    assert delete.key == {"id": 102} and delete.after is None
    problems += row_problems(delete.before, delete_before, "delete of row 102: before")
    assert not problems, "values differ from what SELECT returns:\n" + "\n".join(problems)
    assert tombstone.key == {"id": 102} and tombstone.record.value is None
    assert truncate.key is None and truncate.record.key is None
    assert truncate.topic == names.topic()

    if schemas_enable:
        for event in events:
            if not event.tombstone and event.op in ("r", "c", "u", "d"):
                check_schema(event, columns, modes, names.prefix, table)
    else:
        for event in events:
            assert event.record.key is None or "schema" not in event.record.key_json
            assert event.record.value is None or "schema" not in event.record.value_json


@pytest.mark.parametrize("schemas_enable", [False, True], ids=["schemas_off", "schemas_on"])
def test_every_type_matches_select(pg, names, user_types, agent, kafka, schemas_enable):
    run_type_roundtrip(pg, names, agent, kafka, COLUMNS, Modes(), schemas_enable, {})


def test_binary_pgoutput_is_refused_at_start_up(pg, names, agent):
    """pgoutput's binary tuple format has no conversion for inet/cidr/macaddr/ranges and extension types, so
    `binary=true` is refused at start-up (exit 2, naming the key) instead of failing mid-stream."""
    a = agent(**{"slot.stream.params": "binary=true"})
    wait_until(lambda: a.returncode is not None, timeout=30, message="agent exits")
    assert a.returncode == 2, a.log_tail()
    assert "slot.stream.params" in a.log_text()


MODE_SUBSET = ["c_num", "c_numvar", "c_money", "c_domain", "c_numarr", "c_date", "c_time", "c_time3", "c_time6",
               "c_ts3", "c_ts6", "c_tstz", "c_timetz", "c_interval"]


def test_decimal_string_and_connect_time_modes(pg, names, user_types, agent, kafka):
    columns = [BY_NAME[n] for n in MODE_SUBSET]
    modes = Modes(decimal="string", time="connect")
    run_type_roundtrip(pg, names, agent, kafka, columns, modes, True,
                       {"decimal.handling.mode": "string", "time.precision.mode": "connect"})


def test_end_of_day_24_00_keeps_its_meaning(pg, names, user_types, agent, kafka):
    """PostgreSQL accepts 24:00:00 for TIME and TIMETZ: the end of the day, not its start. TIME keeps it
    (86400000000 µs, as Debezium's Duration); TIMETZ at UTC must stay `24:00:00Z` too (Debezium
    PostgresTimeBoundary.TIME_WITH_TIMEZONE_BOUNDARY_AT_UTC), not wrap to the start of the day."""
    columns = [BY_NAME[n] for n in ("c_time", "c_time0", "c_time6", "c_timetz")]
    rows = {1: {"c_time": "'24:00:00'", "c_time0": "'24:00:00'", "c_time6": "'24:00:00'",
                "c_timetz": "'24:00:00+00'"},
            2: {"c_time": "'00:00:00'", "c_time0": "'00:00:00'", "c_time6": "'00:00:00'",
                "c_timetz": "'00:00:00+00'"},
            3: {"c_timetz": "'24:00:00.000000-00'"}}
    run_type_roundtrip(pg, names, agent, kafka, columns, Modes(), False, {}, source_rows=rows)


def test_expected_value_model_self_check():
    """The Python model against values worked out by hand from Debezium's documentation."""
    from decimal import Decimal
    assert s.decimal_bytes(Decimal("1234.56"), 2) == "AeJA"          # EVENT-FORMAT.md's NUMERIC(10,2) example
    assert s.decimal_bytes(Decimal("-0.01"), 2) == "/w=="            # -1 → 0xff
    assert s.decimal_bytes(Decimal("1.28"), 2) == "AIA="             # 128 needs a sign byte
    assert s.variable_scale_decimal(Decimal("1.500")) == {"scale": 1, "value": "Dw=="}
    assert s.variable_scale_decimal(Decimal("1000.000")) == {"scale": 0, "value": "A+g="}
    assert s.bits_bytes("1000000001") == base64.b64encode(bytes([0x01, 0x02])).decode()
    assert s.days_from_civil(1970, 1, 2) == 1 and s.days_from_civil(1969, 12, 31) == -1
    assert s.days_from_civil(0, 12, 31) == (dt.date(1, 1, 1) - dt.date(1970, 1, 1)).days - 1  # 1 BC-12-31
    assert s.days_from_civil(-4, 2, 29) - s.days_from_civil(-4, 2, 28) == 1  # 5 BC is a leap year
    assert s.timestamp_text_micros("1969-12-31 23:59:59.999999") == -1
    assert s.timetz_value("12:34:56.789+05:30", Modes()) == "07:04:56.789Z"
    assert s.timestamptz_value("2024-06-30 23:59:59.5-07", Modes()) == "2024-07-01T06:59:59.500000Z"
    assert s.micro_duration(1, 2, 3, 4, 5, 6.789) == int(((((14 * 30.4375 + 3) * 24 + 4) * 60 + 5) * 60 + 6.789) * 1e6)
    assert s.micro_duration(178000000, 0, 0, 0, 0, 0.0) == (1 << 63) - 1  # Java's (long) saturates
