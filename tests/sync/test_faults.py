"""Fault-injection proofs that nothing typed is lost or duplicated, against SQLite and PostgreSQL.

Numbers refer to the proofs listed in the sync issue.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import fieldapp.clock
from fieldapp import changes, schema, shifts
from fieldapp.session import unlock
from sync import credentials, engine
from sync.server import record_sums
from tests.agency_process import serving
from tests.conftest import PASSWORD
from tests.ports import free_port

from sync_helpers import LoseResponses, follow_up, http_with, outreach

HERE = Path(__file__).parent


def _exactly_once(agency, session):
    """Each applied op bumped exactly one record version by one (a create makes version 1),
    so the device's applied ops equal the sum of its records' versions: nothing applied twice,
    nothing lost."""
    ops = agency.scalar("SELECT count(*) FROM applied_op WHERE device_id = :d", d=session.device_id)
    versions = agency.scalar("SELECT sum(version) FROM record")
    assert ops == versions
    assert session.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_1_lost_response_after_commit(agency, laptop):
    officer = laptop("ofc.ramirez")
    made = outreach(officer, 500)
    lossy = LoseResponses("/v1/push", times=1)
    summary = engine.run_sync(officer, http=http_with(lossy), backoff_s=0.01)
    assert lossy.lost == 1
    assert summary["duplicates"] == 500 and summary["pushed"] == 500
    assert agency.scalar("SELECT count(*) FROM record") == 500
    assert agency.scalar("SELECT count(*) FROM applied_op") == 500
    ids = {r["id"] for r in agency.rows("SELECT id FROM record")}
    assert ids == set(made)
    _exactly_once(agency, officer)
    assert summary["check"] == "ok"


def test_2_laptop_killed_at_random_points_during_sync(agency, laptop, tmp_path):
    officer = laptop("ofc.ramirez")
    data_dir, follow_up_id = officer.data_dir, follow_up(officer)
    engine.run_sync(officer)
    officer.close()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "PYTHONPATH": str(HERE.parents[1])}
    rng = random.Random(7)
    for _ in range(12):
        child = subprocess.Popen(
            [sys.executable, str(HERE / "laptop_child.py"), str(data_dir), "ofc.ramirez",
             PASSWORD, follow_up_id], stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline().strip() == b"ready"
        # Killed as it makes its k-th request: before it is sent, in flight, or after the
        # server committed it but before the answer arrived; and never between two syncs.
        k, requests_seen = rng.randint(1, 30), 0
        while requests_seen < k:
            line = child.stdout.readline().strip()
            assert line, "the laptop process ended by itself"
            requests_seen += line == b"request"
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert b"synced" not in child.stdout.read().split(), "the kill landed between syncs"
        child.stdout.close()
    session = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        first = engine.run_sync(session)
        assert first["rejected"] == 0
        summary = engine.run_sync(session)
        assert summary["check"] == "ok"
        note = changes.get(session, "follow_up", follow_up_id)["note"]
        assert int(note) > 0
        server_version = agency.scalar("SELECT version FROM record WHERE id = :i", i=follow_up_id)
        assert server_version == 1 + int(note)  # every patch applied exactly once
        local = session.db.execute("SELECT count(*) FROM outreach_contact").fetchone()[0]
        assert agency.scalar(
            "SELECT count(*) FROM record WHERE table_name = 'outreach_contact'") == local
        _exactly_once(agency, session)
    finally:
        session.close()


def test_5_two_laptops_edit_the_same_follow_up(agency, laptop):
    a = laptop("ofc.a")
    b = laptop("ofc.b")
    fid = follow_up(a)
    engine.run_sync(a), engine.run_sync(b)
    # different fields: both kept, no conflict
    changes.patch(a, "follow_up", fid, {"priority": 1})
    changes.patch(b, "follow_up", fid, {"assignee": "ofc.b"})
    for s in (a, b, a):
        engine.run_sync(s)
    for s in (a, b):
        row = changes.get(s, "follow_up", fid)
        assert (row["priority"], row["assignee"]) == (1, "ofc.b")
    assert agency.scalar("SELECT count(*) FROM conflict") == 0
    # the same field: one deterministic winner, the other value in conflicts
    written = ["call back Tuesday (a)", "left card at shelter (b)"]
    changes.patch(a, "follow_up", fid, {"note": written[0]})
    changes.patch(b, "follow_up", fid, {"note": written[1]})
    for s in (a, b, a):
        assert engine.run_sync(s)["check"] == "ok"
    server = json.loads(agency.scalar("SELECT data FROM record WHERE id = :i", i=fid))
    copies = [changes.get(s, "follow_up", fid) for s in (a, b)]
    assert all(c["note"] == server["note"] for c in copies)
    assert server["priority"] == 1 and server["assignee"] == "ofc.b"
    stored = agency.rows("SELECT kept_value, other_value FROM conflict WHERE field = 'note'")
    in_conflicts = {json.loads(v) for r in stored for v in (r["kept_value"], r["other_value"])}
    for value in written:
        assert value == server["note"] or value in in_conflicts
    assert server["note"] == written[1]  # the later clock stamp wins
    assert b.db.execute("SELECT count(*) FROM conflict WHERE field = 'note'").fetchone()[0] == 1


def test_6_two_laptops_write_1000_shift_events_in_the_same_millisecond(agency, laptop, monkeypatch):
    a = laptop("ofc.a")
    b = laptop("ofc.b")
    shift_id = shifts.start_shift(a, "MHST-1")
    engine.run_sync(a), engine.run_sync(b)
    # The laptops' clock stands still on this thread only: the server keeps true time.
    laptops, real = threading.current_thread(), time.time
    monkeypatch.setattr(fieldapp.clock, "time", SimpleNamespace(time=lambda: (
        1_780_000_000.123 if threading.current_thread() is laptops else real())))
    for s in (a, b):
        for i in range(1000):
            changes.create(s, "shift_event", {"shift_id": shift_id, "status": "available",
                                              "at": "2026-05-30T12:00:00.123Z"})
    for s in (a, b, a):
        engine.run_sync(s)
    count = ("SELECT count(*) FROM record WHERE table_name = 'shift_event'")
    assert agency.scalar(count) == 2001  # 2,000 plus the in-service event of start_shift
    for s in (a, b):
        assert s.db.execute("SELECT count(*) FROM shift_event").fetchone()[0] == 2001


def test_9_pending_ops_survive_an_app_upgrade_with_a_schema_migration(agency, laptop, monkeypatch):
    officer = laptop("ofc.ramirez")
    data_dir = officer.data_dir
    made = outreach(officer, 100)
    officer.close()
    monkeypatch.setattr(schema.migrations, "_migrations", list(schema.migrations._migrations))

    @schema.migrations()
    def m999_test_upgrade(db):
        """A later app version: a new column, and the outbox rebuilt around a new one."""
        db.execute("ALTER TABLE outreach_contact ADD COLUMN language TEXT")
        db.execute("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0")

    session = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        assert schema.schema_version(session.db) == "m999_test_upgrade"
        assert session.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 100
        summary = engine.run_sync(session)
        assert summary["pushed"] == 100 and summary["check"] == "ok"
        assert {r["id"] for r in agency.rows("SELECT id FROM record")} == set(made)
        _exactly_once(agency, session)
    finally:
        session.close()


def test_pull_cursor_never_skips_rows_committed_late_by_concurrent_writers(agency, laptop,
                                                                           tmp_path):
    """Against `tandem-server serve` with three worker processes: on PostgreSQL their pushes
    run side by side."""
    with serving(agency.db_url, tmp_path / "server.log", env={"TANDEM_WORKERS": "3"}) as url:
        agency.url = url
        seen, written, pages = _write_while_pulling(agency, laptop)
    assert written and pages > 5
    assert seen == written


def _write_while_pulling(agency, laptop):
    writers = [laptop(f"ofc.w{i}") for i in range(3)]
    reader = laptop("ofc.reader")
    link = credentials.transport_for(reader)
    done = threading.Event()
    errors = []

    def write(session):
        own = session.reopen()
        try:
            for _ in range(12):
                outreach(own, random.randint(5, 40))
                engine.run_sync(own, batch_size=random.choice([3, 17, 500]))
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            own.close()

    threads = [threading.Thread(target=write, args=(s,)) for s in writers]
    for t in threads:
        t.start()
    seen, cursor, pages = set(), 0, 0
    while not done.is_set():
        done.set() if not any(t.is_alive() for t in threads) else None
        page = link.call("GET", "/pull", params={"after": cursor, "limit": 50})
        assert page["cursor"] >= cursor
        seen |= {r["id"] for r in page["records"]}
        cursor, pages = page["cursor"], pages + 1
    while True:  # drain what the last writes left
        page = link.call("GET", "/pull", params={"after": cursor, "limit": 500})
        seen |= {r["id"] for r in page["records"]}
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert not errors
    written = {r["id"] for r in agency.rows(
        "SELECT id FROM record WHERE table_name = 'outreach_contact'")}
    return seen, written, pages


def _serve_process(db_url, port):
    process = subprocess.Popen(
        [sys.executable, "-m", "sync.server.cli", "--db", db_url, "serve", "--port", str(port)],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(HERE.parents[1])})
    assert b"serving" in process.stdout.readline()
    process.stdout.close()  # read only to know it serves
    return process


def test_3_server_killed_and_restarted_mid_batch(agency, laptop):
    officer = laptop("ofc.ramirez")
    agency.running.stop()  # this test runs the server as a separate process it can kill
    agency.running.stop = lambda: None
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    officer.db.execute("UPDATE sync_state SET server_url = ?", [url])
    officer.db.conn.commit()
    made = outreach(officer, 3000)
    server = _serve_process(agency.db_url, port)
    rng = random.Random(3)
    result, errors = {}, []

    def sync():
        own = officer.reopen()
        try:
            result.update(engine.run_sync(own, batch_size=500, backoff_s=0.3, max_attempts=10))
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            own.close()

    worker = threading.Thread(target=sync)
    worker.start()
    try:
        for _ in range(3):
            time.sleep(rng.uniform(0.2, 1.0))
            server.send_signal(signal.SIGKILL)
            server.wait()
            server = _serve_process(agency.db_url, port)
        worker.join(timeout=180)
        assert not errors and result["check"] == "ok"
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    assert {r["id"] for r in agency.rows("SELECT id FROM record")} == set(made)
    _exactly_once(agency, officer)


def test_8_delete_against_edit_keeps_the_record_flagged(agency, laptop):
    a = laptop("ofc.a")
    b = laptop("ofc.b")
    fid = follow_up(a)
    engine.run_sync(a), engine.run_sync(b)
    changes.patch(a, "follow_up", fid, {"status": "done"})
    changes.delete(b, "follow_up", fid)
    for s in (a, b, a):
        assert engine.run_sync(s)["check"] == "ok"
    assert agency.scalar("SELECT deleted FROM record WHERE id = :i", i=fid) in (0, False)
    for s in (a, b):
        assert changes.get(s, "follow_up", fid)["status"] == "done"
    assert agency.scalar("SELECT count(*) FROM conflict WHERE field = '_deleted'") == 1
    # and the other order: an edit arriving after the delete brings the record back, flagged
    changes.delete(a, "follow_up", fid)
    changes.patch(b, "follow_up", fid, {"priority": 3})
    for s in (a, b, a):
        assert engine.run_sync(s)["check"] == "ok"
    for s in (a, b):
        assert changes.get(s, "follow_up", fid)["priority"] == 3
    assert agency.scalar("SELECT count(*) FROM conflict WHERE field = '_deleted'") == 2


def test_deleting_your_own_unsynced_record_is_no_conflict(agency, laptop):
    a = laptop("ofc.a")
    fid = follow_up(a)
    changes.patch(a, "follow_up", fid, {"priority": 3})
    changes.delete(a, "follow_up", fid)
    assert engine.run_sync(a)["check"] == "ok"
    assert agency.scalar("SELECT deleted FROM record WHERE id = :i", i=fid) in (1, True)
    assert agency.scalar("SELECT count(*) FROM conflict") == 0
    # the same after a sync: the laptop's own edits since its base never count against it
    gid = follow_up(a)
    engine.run_sync(a)
    changes.patch(a, "follow_up", gid, {"priority": 2})
    engine.run_sync(a)
    changes.patch(a, "follow_up", gid, {"priority": 1})
    changes.delete(a, "follow_up", gid)
    assert engine.run_sync(a)["check"] == "ok"
    assert agency.scalar("SELECT deleted FROM record WHERE id = :i", i=gid) in (1, True)
    assert agency.scalar("SELECT count(*) FROM conflict") == 0


def test_new_server_epoch_gives_back_then_rebuilds_and_replays_the_outbox(agency, laptop):
    officer = laptop("ofc.ramirez")
    synced = outreach(officer, 5)
    engine.run_sync(officer)
    pending = outreach(officer, 3)
    with agency.engine.begin() as conn:  # an older backup put back: its two newest records
        from sqlalchemy import text   # (and the ops that made them) are gone; a new epoch
        lost = [r[0] for r in conn.execute(text(
            "SELECT id FROM record ORDER BY change_seq DESC LIMIT 2"))]
        for table in ("record WHERE id", "applied_op WHERE record_id"):
            conn.execute(text(f"DELETE FROM {table} IN (:a, :b)"), {"a": lost[0], "b": lost[1]})
        conn.execute(text("UPDATE meta SET value = 'restored' WHERE key = 'epoch'"))
        record_sums.rebuild(conn)  # a backup's sums match its records
    summary = engine.run_sync(officer)
    assert summary["rebuilt"] and summary["check"] == "ok"
    assert summary["returned"] == 2 and summary["pushed"] == 3
    server_ids = {r["id"] for r in agency.rows("SELECT id FROM record")}
    assert server_ids == {*synced, *pending}
    assert officer.db.execute("SELECT count(*) FROM outreach_contact").fetchone()[0] == 8


def test_4_pull_pages_cut_at_a_random_byte(agency, laptop):
    from sync_helpers import CutResponses

    writer = laptop("ofc.a")
    reader = laptop("ofc.b")
    made = set(outreach(writer, 700))
    engine.run_sync(writer)
    cutter = CutResponses("/v1/pull", times=4, rng=random.Random(11))
    summary = engine.run_sync(reader, http=http_with(cutter), page_size=100, backoff_s=0.01)
    assert cutter.cut == 4 and summary["check"] == "ok" and summary["repaired_rows"] == 0
    ids = {r[0] for r in reader.db.execute("SELECT id FROM outreach_contact")}
    assert ids == made
    cursor = int(reader.db.execute("SELECT pull_cursor FROM sync_state").fetchone()[0])
    assert cursor == agency.scalar("SELECT max(change_seq) FROM record")


def test_4_an_interrupted_pull_leaves_the_cursor_behind_the_applied_rows(agency, laptop):
    import requests
    from sync_helpers import CutResponses

    writer = laptop("ofc.a")
    reader = laptop("ofc.b")
    outreach(writer, 500)
    engine.run_sync(writer)
    cutter = CutResponses("/v1/pull", times=50, rng=random.Random(5))
    cutter.remaining = 0
    original = cutter.send

    def cut_from_third_page(request, **kwargs):
        cutter.calls = getattr(cutter, "calls", 0) + ("/v1/pull" in request.url)
        cutter.remaining = 1 if cutter.calls >= 3 else 0
        return original(request, **kwargs)

    cutter.send = cut_from_third_page
    with pytest.raises(requests.ConnectionError):
        engine.run_sync(reader, http=http_with(cutter), page_size=100, max_attempts=1)
    cursor = int(reader.db.execute("SELECT pull_cursor FROM sync_state").fetchone()[0])
    assert 0 < cursor < agency.scalar("SELECT max(change_seq) FROM record")
    below = {r["id"] for r in agency.rows(
        "SELECT id FROM record WHERE change_seq <= :c AND table_name = 'outreach_contact'",
        c=cursor)}
    held = {r[0] for r in reader.db.execute("SELECT id FROM outreach_contact")}
    assert below <= held
    assert engine.run_sync(reader)["check"] == "ok"


def test_sync_counts_compressed_bytes_on_the_wire(agency, laptop):
    a = laptop("ofc.a")
    outreach(a, 300, note="Offered water, socks and a ride to the CRC")
    pushed = engine.run_sync(a)
    b = laptop("ofc.b")
    pulled = engine.run_sync(b)
    assert pulled["pulled"] >= 300
    # both directions go gzipped: fewer bytes cross the network than the JSON they carry
    assert 0 < pulled["wire_bytes_received"] < pulled["bytes_received"] / 3
    raw_push = sum(len(r["data"]) for r in agency.rows("SELECT data FROM record"))
    assert 0 < pushed["wire_bytes_sent"] < raw_push
