"""Exactly once across crashes: a writer thread runs many small transactions (inserts, updates, deletes,
primary-key changes, multi-row statements, rollbacks) plus one big transaction while the agent streams; the
agent is SIGKILLed several times (right after a start, mid-stream, in the middle of the big transaction) and
restarted each time, then stopped gracefully. Every committed source change must appear exactly once in the
committed output (position rule: harness.committed_events + assert_exactly_once), the changes must be
exactly the writer's, replaying them must give the table's final content, and the slot's
confirmed_flush_lsn must never run ahead of the committed offset."""

from __future__ import annotations

import random
import threading
import time
from typing import Optional

import e2erobust_support as support
from harness import assert_exactly_once, change, committed_events, unwrap, wait_committed_events, wait_until

BIG_ROWS = 20_000
SEED = 20240611


class Writer(threading.Thread):
    """Runs transactions on its own connection and keeps the model of the table and the list of the
    changes of its committed transactions (`change` tuples)."""

    def __init__(self, url: str, table: str, seed: int):
        super().__init__(name="writer", daemon=True)
        self.url, self.table = url, table
        self.rng = random.Random(seed)
        self.model: dict[int, dict] = {}
        self.expected: list[tuple] = []
        self.next_id = 1
        self.committed = 0
        self.rolled_back = 0
        self.stop_event = threading.Event()
        self.big_request = threading.Event()
        self.big_done = threading.Event()
        self.big_xid: Optional[int] = None
        self.error: Optional[BaseException] = None

    # One transaction: runs statements, returns (changes, new model) to apply at commit.
    def _small(self, cur) -> tuple[list[tuple], dict[int, dict]]:
        rng, t = self.rng, self.table
        model = {k: dict(v) for k, v in self.model.items()}
        changes: list[tuple] = []
        for _ in range(rng.randint(1, 4)):
            kind = rng.choices(["insert", "insert_multi", "update", "update_multi", "delete", "pk"],
                               weights=[4, 1, 3, 1, 2, 1])[0]
            ids = sorted(model)
            if kind in ("update", "update_multi", "delete", "pk") and not ids:
                kind = "insert"
            if kind == "insert":
                row = {"id": self.next_id, "val": rng.randint(-1000, 1000), "note": f"n{self.next_id}"}
                self.next_id += 1
                cur.execute(f"INSERT INTO {t} (id, val, note) VALUES (%s, %s, %s)", (row["id"], row["val"], row["note"]))
                model[row["id"]] = row
                changes.append(change("c", t, after=row))
            elif kind == "insert_multi":
                rows = []
                for _ in range(rng.randint(2, 5)):
                    rows.append({"id": self.next_id, "val": rng.randint(-1000, 1000), "note": f"m{self.next_id}"})
                    self.next_id += 1
                values = ", ".join(cur.mogrify("(%s, %s, %s)", (r["id"], r["val"], r["note"])).decode() for r in rows)
                cur.execute(f"INSERT INTO {t} (id, val, note) VALUES {values}")
                for r in rows:
                    model[r["id"]] = r
                    changes.append(change("c", t, after=r))
            elif kind == "update":
                key = rng.choice(ids)
                before = dict(model[key])
                after = {"id": key, "val": before["val"] + rng.randint(1, 9), "note": before["note"] + "u"}
                cur.execute(f"UPDATE {t} SET val = %s, note = %s WHERE id = %s", (after["val"], after["note"], key))
                model[key] = after
                changes.append(change("u", t, before=before, after=after))
            elif kind == "update_multi":
                keys = rng.sample(ids, min(len(ids), rng.randint(2, 6)))
                cur.execute(f"UPDATE {t} SET val = val * 2 + 1 WHERE id = ANY(%s)", (keys,))
                for key in keys:
                    before = dict(model[key])
                    after = dict(before, val=before["val"] * 2 + 1)
                    model[key] = after
                    changes.append(change("u", t, before=before, after=after))
            elif kind == "delete":
                key = rng.choice(ids)
                before = model.pop(key)
                cur.execute(f"DELETE FROM {t} WHERE id = %s", (key,))
                changes.append(change("d", t, before=before))
            else:  # primary-key change: a delete of the old key and a create of the new one
                key = rng.choice(ids)
                before = model.pop(key)
                after = dict(before, id=self.next_id)
                self.next_id += 1
                cur.execute(f"UPDATE {t} SET id = %s WHERE id = %s", (after["id"], key))
                model[after["id"]] = after
                changes.append(change("d", t, before=before))
                changes.append(change("c", t, after=after))
        return changes, model

    def _big(self, conn) -> None:
        first = self.next_id
        last = first + BIG_ROWS - 1
        self.next_id = last + 1
        with conn.cursor() as cur:
            cur.execute("SELECT txid_current()")
            self.big_xid = int(cur.fetchone()[0]) & 0xFFFFFFFF
            cur.execute(f"INSERT INTO {self.table} (id, val, note) "
                        f"SELECT g, mod(g, 1000), 'big-' || g FROM generate_series(%s, %s) g", (first, last))
        conn.commit()
        for i in range(first, last + 1):
            row = {"id": i, "val": i % 1000, "note": f"big-{i}"}
            self.model[i] = row
            self.expected.append(change("c", self.table, after=row))
        self.committed += 1

    def run(self) -> None:
        try:
            conn = support.connect(self.url)
            conn.autocommit = False
            try:
                while not self.stop_event.is_set():
                    if self.big_request.is_set():
                        self.big_request.clear()
                        self._big(conn)
                        self.big_done.set()
                        continue
                    saved_next = self.next_id
                    with conn.cursor() as cur:
                        changes, model = self._small(cur)
                    if self.rng.random() < 0.05:
                        conn.rollback()  # never committed: must not appear
                        self.next_id = saved_next
                        self.rolled_back += 1
                    else:
                        conn.commit()
                        self.model = model
                        self.expected.extend(changes)
                        self.committed += 1
                    time.sleep(self.rng.uniform(0, 0.008))
            finally:
                conn.close()
        except BaseException as error:  # reported by the test
            self.error = error


def test_sigkill_restarts_keep_every_change_exactly_once(pg, pg_target, names, agent, kafka):
    table = names.table
    with pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id integer PRIMARY KEY, val integer NOT NULL, note text)")
        cur.execute(f"ALTER TABLE public.{table} REPLICA IDENTITY FULL")  # full before-images: exact changes
    config = {"snapshot.mode": "no_data", "schemas.enable": False}
    rng = random.Random(SEED)

    process = agent(**config)
    process.wait_streaming(pg)
    initial_confirmed = support.confirmed_flush(pg, names.slot)
    writer = Writer(pg_target.url, table, SEED)
    kill_report: list[str] = []

    def check_after_kill(label: str) -> None:
        # The agent is dead: nothing more can be confirmed. Once its walsender released the slot and the
        # tap wrote everything the agent produced, the confirmed position must be covered by an offset.
        support.wait_slot_inactive(pg, names.slot)
        support.settle_record_file(kafka, quiet=0.5)
        confirmed = support.confirmed_flush(pg, names.slot)
        latest = support.max_offset_lsn(names.agent_name, kafka)
        kill_report.append(f"{label}: confirmed {support.lsn_text(confirmed)}, max offset {support.lsn_text(latest)}")
        if latest is None:
            assert confirmed == initial_confirmed, f"{label}: slot confirmed {support.lsn_text(confirmed)} " \
                                                   f"without any offset record"
        else:
            assert confirmed <= latest, (f"{label}: slot confirmed_flush_lsn {support.lsn_text(confirmed)} is "
                                         f"ahead of the last committed offset {support.lsn_text(latest)}")

    def kill(label: str) -> None:
        nonlocal process
        assert process.alive(), f"agent exited with {process.returncode} before the kill ({label}):\n" \
                                f"{process.log_tail()}"
        assert process.kill() == -9
        check_after_kill(label)

    def wait_first_commit(label: str) -> None:
        # Each run needs a moment (offset load, Kafka init) before its first commit; a "mid-stream" kill
        # comes after this run committed at least once, so units are being produced and committed.
        before = len(support.offset_records(names.agent_name, kafka))

        def committed():
            assert process.alive(), f"agent exited with {process.returncode} ({label}):\n{process.log_tail()}"
            return len(support.offset_records(names.agent_name, kafka)) > before

        wait_until(committed, timeout=60, interval=0.02, message=f"a commit of the new run ({label})")

    big_in_flight = None
    with support.SlotSampler(pg_target.url, names.slot) as sampler:
        writer.start()
        try:
            # 1. mid-stream
            wait_first_commit("run 1")
            time.sleep(rng.uniform(0.2, 2.0))
            kill("kill 1 (mid-stream)")
            # 2. right after a start (loading the offset / connecting)
            process = agent(**config)
            time.sleep(rng.uniform(0.0, 0.2))
            kill("kill 2 (right after start)")
            # 3. mid-stream again
            process = agent(**config)
            wait_first_commit("run 3")
            time.sleep(rng.uniform(0.2, 2.0))
            kill("kill 3 (mid-stream)")
            # 4. in the middle of the big transaction: as soon as some of its records reached Kafka, before
            #    its unit is committed
            process = agent(**config)
            wait_first_commit("run 4")
            writer.big_request.set()
            assert writer.big_done.wait(60), f"the writer did not commit the big transaction: {writer.error!r}"

            def big_records_seen():
                if not process.alive():
                    raise AssertionError(f"agent exited with {process.returncode}:\n{process.log_tail()}")
                records = kafka.records(lambda t: t == names.topic())
                for record in reversed(records):
                    value = unwrap(record.value_json)
                    if isinstance(value, dict) and (value.get("source") or {}).get("txId") == writer.big_xid:
                        return record
                return None

            wait_until(big_records_seen, timeout=60, interval=0.01, message="first records of the big transaction")
            big_end = support.wal_insert_lsn(pg)
            kill("kill 4 (during the big transaction)")
            big_in_flight = (support.max_offset_lsn(names.agent_name, kafka) or 0) < big_end
            # 5. mid-stream after the big transaction
            process = agent(**config)
            wait_first_commit("run 5")
            time.sleep(rng.uniform(0.2, 2.0))
            kill("kill 5 (mid-stream)")
            # Last run: stop the writer, let the agent catch up, stop it gracefully.
            process = agent(**config)
            wait_first_commit("run 6")
            time.sleep(rng.uniform(0.5, 1.5))
        finally:
            writer.stop_event.set()
            writer.join(60)
        assert writer.error is None, f"writer failed: {writer.error!r}"
        end_lsn = support.wal_insert_lsn(pg)
        support.wait_confirmed(pg, names.slot, end_lsn, agent=process, timeout=120)
        assert process.stop() == 0, f"exit code after SIGTERM; log tail:\n{process.log_tail()}"

    support.settle_record_file(kafka, quiet=0.5)
    offsets = support.offset_lsns(names.agent_name, kafka)
    final_confirmed = support.confirmed_flush(pg, names.slot)
    print(f"\nwriter: {writer.committed} committed transactions ({writer.rolled_back} rolled back), "
          f"{len(writer.expected)} changes; big transaction xid {writer.big_xid} "
          f"({'in flight' if big_in_flight else 'already committed'} at kill 4)")
    print("\n".join(kill_report))
    print(f"final confirmed_flush_lsn {support.lsn_text(final_confirmed)}, {len(offsets)} offset records, "
          f"{len(sampler.samples)} distinct confirmed positions sampled")

    # The graceful stop confirmed exactly the last committed offset.
    assert final_confirmed == max(offsets), (f"confirmed {support.lsn_text(final_confirmed)} != last offset "
                                             f"{support.lsn_text(max(offsets))}")
    # Every confirmed position the slot ever showed was a committed offset's (or the slot's creation point).
    allowed = set(offsets) | {initial_confirmed}
    unexplained = [support.lsn_text(v) for v in sampler.values if v not in allowed]
    assert not unexplained, f"slot confirmed positions that no offset record carries: {unexplained[:10]}"
    assert big_in_flight, "kill 4 came too late: the big transaction was already committed"

    events = wait_committed_events(names.prefix, names.agent_name, len(writer.expected), output=kafka)
    assert_exactly_once(events, writer.expected)

    # Replaying the committed output in source order gives the table's final content (= the writer's model).
    state: dict[int, dict] = {}
    for event in events:
        if event.tombstone:
            continue
        if event.op == "d":
            assert state.pop(event.before["id"], None) is not None, f"delete of an absent row: {event}"
        else:
            assert event.op in ("c", "u"), event
            state[event.after["id"]] = event.after
    with pg.cursor() as cur:
        cur.execute(f"SELECT id, val, note FROM public.{table}")
        table_rows = {r[0]: {"id": r[0], "val": r[1], "note": r[2]} for r in cur.fetchall()}
    assert table_rows == writer.model
    assert state == table_rows, (f"replayed output differs from the table: {len(state)} vs {len(table_rows)} rows; "
                                 f"missing {sorted(set(table_rows) - set(state))[:10]}, "
                                 f"extra {sorted(set(state) - set(table_rows))[:10]}")
    # A tombstone follows every delete, once.
    deletes = sum(1 for e in events if not e.tombstone and e.op == "d")
    tombstones = sum(1 for e in events if e.tombstone)
    assert tombstones == deletes
