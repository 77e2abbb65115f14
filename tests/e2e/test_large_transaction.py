"""One 1,000,000-row INSERT transaction streams through with bounded memory.

The events go to a private dev broker without a record tap (the mock keeps ~5 MiB per partition and the
shared record file must not grow by a million lines). Completion is proven without reading the events:
the slot's confirmed_flush_lsn reaches the end LSN, the last offset record is the transaction's
(txId, lsn), the transaction-metadata END record counts 1,000,000 events, and the data topic's high
watermarks add up to 1,000,000 messages. Prints events/s and the agent's peak RSS (VmHWM)."""

from __future__ import annotations

import time

import pytest

import e2erobust_support as support
from harness import BrokerOutput, unwrap

ROWS = 1_000_000
PEAK_RSS_LIMIT_MIB = 400


@pytest.fixture
def private_broker(tributary_bin, tmp_path):
    broker = support.PrivateBroker(tributary_bin, tmp_path).start()
    yield broker
    broker.stop()


def _high_watermarks(bootstrap: str, topic: str) -> dict[int, int]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"e2erobust-{topic}"})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = metadata.topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        consumer.close()


@pytest.mark.parametrize("stream_params", [None, "streaming=on"], ids=["pgoutput-v1", "streaming-on"])
def test_one_million_row_transaction_streams_with_bounded_memory(stream_params, pg, names, agent, private_broker):
    """`streaming=on`: pgoutput v2 sends the transaction in chunks before it commits (it exceeds
    logical_decoding_work_mem); the agent spills them to disk and replays the file at Stream Commit."""
    table = names.table
    config = {
        "kafka.bootstrap.servers": private_broker.bootstrap,
        "snapshot.mode": "no_data",
        "publication.autocreate.mode": "filtered",
        "provide.transaction.metadata": True,
        "log.level": "info",  # retries are logged at info
    }
    if stream_params:
        config["slot.stream.params"] = stream_params
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id bigint PRIMARY KEY, name text, amount numeric(12,2), "
                    f"created timestamptz, flag boolean)")
    # First run: creates the publication and the slot, then stops; the load happens while it is down so
    # that the second run measures the agent alone.
    first = agent(**config)
    first.wait_streaming(pg)
    assert first.stop() == 0, first.log_tail()

    t_load = time.monotonic()
    with pg.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT txid_current()")
        xid = int(cur.fetchone()[0]) & 0xFFFFFFFF
        cur.execute(f"INSERT INTO public.{table} SELECT g, 'name-' || g, g * 1.25, now(), g % 2 = 0 "
                    f"FROM generate_series(1, {ROWS}) g")
        # Below the commit record: a confirmed position above it is the transaction's end or later.
        pre_commit = support.wal_insert_lsn(pg)
        cur.execute("COMMIT")
    load_s = time.monotonic() - t_load

    t0 = time.monotonic()
    process = agent(**config)
    peak_kb = 0
    deadline = t0 + 150
    while True:
        peak_kb = max(peak_kb, process.read_peak_rss() or 0)
        confirmed = support.confirmed_flush(pg, names.slot)
        if confirmed is not None and confirmed > pre_commit:
            break
        assert process.alive(), f"agent exited with {process.returncode}:\n{process.log_tail()}"
        assert time.monotonic() < deadline, (f"not done after 150 s: confirmed {support.lsn_text(confirmed)}, "
                                             f"commit after {support.lsn_text(pre_commit)}")
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    peak_kb = max(peak_kb, process.read_peak_rss() or 0)
    assert process.stop() == 0, process.log_tail()

    rate = ROWS / elapsed
    print(f"\n[{stream_params or 'pgoutput v1'}] loaded {ROWS} rows in {load_s:.1f}s; agent: {ROWS} events committed in {elapsed:.2f}s "
          f"(start-up included) = {rate:,.0f} events/s; peak RSS (VmHWM) {peak_kb / 1024:.1f} MiB")

    # A clean run: no error, no reconnect (e.g. the server dropping the replication connection because the
    # agent stopped answering it for longer than wal_sender_timeout).
    retries = [line for line in process.log_text().splitlines() if "retrying" in line]
    assert not retries, f"the agent had to retry: {retries[:3]}"

    # The offset record of the transaction's unit.
    offsets = support.read_offset_topic(private_broker.bootstrap, names.agent_name)
    assert offsets, "no offset record"
    mine = [o for o in offsets if o.get("txId") == xid]
    assert len(mine) == 1, offsets
    assert mine[0]["lsn_commit"] >= pre_commit and mine[0]["lsn"] > mine[0]["lsn_commit"], mine[0]
    # The graceful stop left the slot at the last committed offset (the transaction's, or a later
    # offset-only unit's).
    assert support.confirmed_flush(pg, names.slot) == offsets[-1]["lsn"] >= mine[0]["lsn"], offsets[-1]

    # Transaction metadata: BEGIN and END of the one transaction, END counting every event.
    tx_topic = f"{names.prefix}.transaction"
    tx_records = BrokerOutput(private_broker.bootstrap).records(lambda t: t == tx_topic)
    ends = [unwrap(r.value_json) for r in tx_records if (unwrap(r.value_json) or {}).get("status") == "END"]
    assert len(ends) == 1, ends
    assert ends[0]["id"].startswith(f"{xid}:"), ends[0]
    assert ends[0]["event_count"] == ROWS, ends[0]
    assert ends[0]["data_collections"] == [{"data_collection": f"public.{table}", "event_count": ROWS}], ends[0]

    # Every event reached the data topic once (no aborted attempt: one clean run).
    watermarks = _high_watermarks(private_broker.bootstrap, names.topic())
    assert sum(watermarks.values()) == ROWS, watermarks

    assert peak_kb > 0
    assert peak_kb / 1024 < PEAK_RSS_LIMIT_MIB, f"peak RSS {peak_kb / 1024:.0f} MiB"
