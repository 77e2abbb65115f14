"""Smoke test: the agent streams inserts into Kafka, committed exactly once, and stops cleanly."""

from harness import assert_exactly_once, change, committed_events, wait_until


def test_streams_three_inserts_exactly_once_and_stops_on_sigterm(pg, names, agent, kafka):
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{names.table} (id integer PRIMARY KEY, name text NOT NULL, qty integer)")

    process = agent()
    process.wait_streaming(pg)

    rows = [(1, "apple", 10), (2, "banana", None), (3, 'cherry "quoted" \\ ü', -7)]
    with pg.cursor() as cur:
        for row in rows:  # three transactions
            cur.execute(f"INSERT INTO public.{names.table} (id, name, qty) VALUES (%s, %s, %s)", row)
    expected = [change("c", names.table, after={"id": i, "name": n, "qty": q}) for i, n, q in rows]

    def three_changes():
        events = committed_events(names.prefix, names.agent_name, output=kafka)
        return events if len([e for e in events if not e.tombstone]) >= 3 else None

    wait_until(three_changes, timeout=60, message="3 committed events")
    assert process.stop() == 0, f"exit code after SIGTERM; log tail:\n{process.log_tail()}"
    assert process.peak_rss_kb is not None and process.peak_rss_kb > 0

    # Read again after the clean stop, so late duplicates would be seen too.
    events = committed_events(names.prefix, names.agent_name, output=kafka)
    assert_exactly_once(events, expected)
    assert [e.topic for e in events] == [names.topic()] * 3
    assert [e.op for e in events] == ["c", "c", "c"]
    assert [e.key for e in events] == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert [e.after for e in events] == [{"id": i, "name": n, "qty": q} for i, n, q in rows]
    assert all(e.before is None for e in events)
    assert all(e.source.get("table") == names.table and e.source.get("schema") == "public" for e in events)
