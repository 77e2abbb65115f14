"""Self-checks of the harness's committed-output rule and exactly-once check (no servers needed)."""

import json

import pytest

from harness import RecordFileOutput, assert_exactly_once, change, committed_events, unwrap


def _line(topic, partition, offset, key, value, unit=None):
    headers = {"tributary.unit": unit} if unit else {}
    return json.dumps({"topic": topic, "partition": partition, "offset": offset,
                       "key": None if key is None else json.dumps(key),
                       "value": None if value is None else json.dumps(value), "headers": headers})


def _value(op, commit_lsn, seq, before=None, after=None, framed=False):
    value = {"before": before, "after": after, "op": op,
             "source": {"table": "t", "schema": "public", "commit_lsn": commit_lsn, "event_seq": seq}}
    return {"schema": {"type": "struct"}, "payload": value} if framed else value


@pytest.fixture
def output(tmp_path):
    path = tmp_path / "record.jsonl"
    lines = [
        # unit u1 (committed): insert id 1, framed with schemas
        _line("p.public.t", 0, 0, {"schema": {}, "payload": {"id": 1}}, _value("c", 100, 0, after={"id": 1}, framed=True), "u1"),
        # unit u2 (aborted: no offset record): an insert that must not count
        _line("p.public.t", 1, 0, {"id": 9}, _value("c", 200, 0, after={"id": 9}), "u2"),
        # unit u3 (committed): key change 1 → 2 = delete(1), tombstone(1), create(2); the create is read first
        _line("p.public.t", 2, 0, {"id": 2}, _value("c", 300, 0, after={"id": 2}), "u3"),
        _line("p.public.t", 0, 1, {"id": 1}, _value("d", 300, 0, before={"id": 1}), "u3"),
        _line("p.public.t", 0, 2, {"id": 1}, None, "u3"),
        # records of other agents / metadata topics
        _line("q.public.t", 0, 0, {"id": 1}, _value("c", 100, 0, after={"id": 1}), "u1"),
        _line("p.transaction", 0, 0, {"id": "1"}, {"status": "BEGIN"}, "u1"),
        _line("agent.offsets", 0, 0, "agent", {"source": "postgresql", "lsn": 150, "unit": "u1"}),
        _line("agent.offsets", 0, 1, "agent", {"source": "postgresql", "lsn": 350, "unit": "u3"}),
    ]
    path.write_text("\n".join(lines) + "\n" + '{"topic": "partial line')
    return RecordFileOutput(path)


def test_committed_events_keep_only_units_with_an_offset_record_in_source_order(output):
    events = committed_events("p", "agent", output=output)
    assert [(e.op, e.key, e.tombstone) for e in events] == [
        ("c", {"id": 1}, False), ("d", {"id": 1}, False), (None, {"id": 1}, True), ("c", {"id": 2}, False)]
    assert events[0].after == {"id": 1}  # unwrapped from {"schema","payload"}
    assert_exactly_once(events, [change("c", "t", after={"id": 1}), change("d", "t", before={"id": 1}),
                                 change("c", "t", after={"id": 2})])


def test_exactly_once_detects_duplicates_missing_and_unexpected_changes(output):
    events = committed_events("p", "agent", output=output)
    with pytest.raises(AssertionError, match="duplicated positions"):
        assert_exactly_once(events + [events[0]], [])
    complete = [change("c", "t", after={"id": 1}), change("d", "t", before={"id": 1}), change("c", "t", after={"id": 2})]
    with pytest.raises(AssertionError, match=r"missing:    \[\('c', 't', None, \(\('id', 5\),\)\)\]\n  unexpected: \[\]"):
        assert_exactly_once(events, complete + [change("c", "t", after={"id": 5})])
    with pytest.raises(AssertionError, match=r"missing:    \[\]\n  unexpected: \[\('d'"):
        assert_exactly_once(events, complete[:1] + complete[2:])
    events[0].value["source"].pop("event_seq")
    with pytest.raises(AssertionError, match="without source.commit_lsn"):
        assert_exactly_once(events, [])


def test_record_file_reads_appended_lines_incrementally(output):
    assert len(output.records(lambda t: True)) == 9
    with open(output.path, "a") as f:
        f.write('", "partition": 0, "offset": 0, "key": null, "value": null, "headers": {}}\n')
    assert [r.topic for r in output.records(lambda t: t == "partial line")] == ["partial line"]


def test_unwrap_leaves_unframed_documents_alone():
    assert unwrap({"schema": {}, "payload": {"a": 1}}) == {"a": 1}
    assert unwrap({"payload": 1, "other": 2}) == {"payload": 1, "other": 2}
    assert unwrap(None) is None
