#!/usr/bin/env python3
"""Usage: demo_events.py --record FILE --topic TOPIC --offsets-topic TOPIC [--expect N] [--timeout S]

Prints the committed change events of one topic from the dev broker's record file (one JSON line per
message: {"topic","partition","offset","key","value","headers"}) as `op key → before/after summary`, in
source order. Used by deploy/local/demo.sh; Python 3 standard library only.

Committed: the dev broker's mock cluster does not hide aborted transactions, so a record counts only if
its `tributary.unit` header names a unit whose offset record (JSON with a `unit` field) is in the offsets
topic: the agent writes that offset record in the same Kafka transaction as the unit's records.

With --expect N it first waits until N committed non-tombstone events are there, and exits 1 with a
message when --timeout seconds (default 60) pass first.
"""

import argparse
import base64
import decimal
import json
import sys
import time

UNIT_HEADER = "tributary.unit"


def read_records(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    data = data[: data.rfind(b"\n") + 1]  # the tap may be writing the last line
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def parse(text):
    return None if text is None else json.loads(text)


def unwrap(document):
    """JsonConverter framing with schemas enabled: {"schema": …, "payload": …}."""
    if isinstance(document, dict) and set(document) == {"schema", "payload"}:
        return document["schema"], document["payload"]
    return None, document


def committed(records, topic, offsets_topic):
    units = set()
    for record in records:
        if record["topic"] == offsets_topic:
            value = parse(record.get("value"))
            if isinstance(value, dict) and value.get("unit"):
                units.add(value["unit"])
    return [r for r in records if r["topic"] == topic and (r.get("headers") or {}).get(UNIT_HEADER) in units]


def decimal_scales(schema):
    """Column → scale for `org.apache.kafka.connect.data.Decimal` columns of the value's row struct."""
    scales = {}
    for envelope_field in (schema or {}).get("fields", []):
        if envelope_field.get("field") in ("before", "after"):
            for column in envelope_field.get("fields", []):
                if column.get("name") == "org.apache.kafka.connect.data.Decimal":
                    scales[column["field"]] = int((column.get("parameters") or {}).get("scale", "0"))
    return scales


def render_row(row, scales):
    if row is None:
        return "null"
    parts = []
    for name, value in row.items():
        if name in scales and isinstance(value, str):
            # Precise decimals are the base64 of the big-endian two's-complement unscaled integer.
            unscaled = int.from_bytes(base64.b64decode(value), "big", signed=True)
            value = decimal.Decimal(unscaled).scaleb(-scales[name])
        parts.append(f"{name}={value}")
    return "{" + ", ".join(parts) + "}"


def summary(record):
    key_schema, key = unwrap(parse(record.get("key")))
    schema, value = unwrap(parse(record.get("value")))
    key_text = json.dumps(key, separators=(",", ":"))
    if value is None:
        return None, f"-  {key_text} → (tombstone)"
    scales = decimal_scales(schema)
    op = value.get("op")
    before, after = value.get("before"), value.get("after")
    if op in ("c", "r"):
        detail = "after " + render_row(after, scales)
    elif op == "d":
        detail = "before " + render_row(before, scales)
    elif op == "u" and before is not None and after is not None:
        changed = [k for k in after if before.get(k) != after.get(k)]
        detail = "after " + render_row(after, scales) + "  (changed: " + (", ".join(changed) or "nothing") + ")"
    else:
        detail = "before " + render_row(before, scales) + " after " + render_row(after, scales)
    return value, f"{op}  {key_text} → {detail}"


def source_order(records):
    """By (commit_lsn, event_seq), a delete before the create of a key change, each tombstone right after
    the record before it in its partition."""
    keys, last = {}, {}
    for index, record in sorted(enumerate(records), key=lambda ir: (ir[1]["partition"], ir[1]["offset"])):
        value = unwrap(parse(record.get("value")))[1]
        if value is None:
            previous = last.get(record["partition"], (2, 0, 0, 0))
            keys[index] = previous[:4] + (1, index)
        else:
            source = value.get("source") or {}
            keys[index] = (0, source.get("commit_lsn") or 0, source.get("event_seq") or 0,
                           0 if value.get("op") == "d" else 1, 0, index)
        last[record["partition"]] = keys[index]
    return [records[i] for i in sorted(range(len(records)), key=lambda i: keys[i])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--offsets-topic", required=True)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    deadline = time.monotonic() + args.timeout
    while True:
        events = committed(read_records(args.record), args.topic, args.offsets_topic)
        changes = [e for e in events if e.get("value") is not None]
        if len(changes) >= args.expect:
            break
        if time.monotonic() >= deadline:
            print(f"demo_events: only {len(changes)} of {args.expect} committed events arrived on "
                  f"{args.topic} within {args.timeout:.0f}s", file=sys.stderr)
            return 1
        time.sleep(0.2)

    print(f"{len(events)} committed records on {args.topic} ({len(changes)} changes):")
    for record in source_order(events):
        _, line = summary(record)
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
