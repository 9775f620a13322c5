"""When the server goes back in time (issue 22): a restore from a backup loses nothing the
laptops still hold, on SQLite and PostgreSQL, with real laptops over HTTP.

The four steps of the issue: a laptop writes 5 contacts and syncs; the server is backed up;
the laptop writes 7 more and syncs; the server is restored. Today's main then deletes the 7
from every laptop ("repaired"). Here a second laptop that pulled them gives them back before
the writer ever returns, and no cursor from before the restore skips a later change.
"""

import json
import sqlite3
import threading
import time
from contextlib import closing

import pytest
import requests
from sync_helpers import (LoseResponses, backup_server, follow_up, http_with, outreach,
                          restore_server)

from fieldapp import changes, encounters, followups, persons, releases
from sync import engine
from sync.server import cli
from tests.conftest import PASSWORD

TEAM = "mhst-1"


def ids(session, table="outreach_contact", where="1 = 1"):
    return {r[0] for r in session.db.execute(f"SELECT id FROM [{table}] WHERE {where}")}


def server_ids(agency, table="outreach_contact"):
    return {r["id"] for r in agency.rows("SELECT id FROM record WHERE table_name = :t", t=table)}


def server_row(agency, record_id):
    row = agency.rows("SELECT deleted, data FROM record WHERE id = :i", i=record_id)[0]
    return bool(row["deleted"]), json.loads(row["data"])


def recoveries(capsys, agency) -> dict:
    capsys.readouterr()
    assert cli.main(["--db", agency.db_url, "recoveries", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_restore_loses_nothing_the_laptops_hold(agency, laptop, tmp_path, capsys):
    writer, puller, bystander = laptop("ofc.writer"), laptop("ofc.puller"), laptop("peer.b", "peer")
    person = persons.add_person(writer, {"kind": "alias", "alias": "Grey Coat"})
    kept, gone = (followups.create_follow_up(writer, {
        "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
        for _ in range(2))
    first = set(outreach(writer, 5, note="before"))
    assert engine.run_sync(writer)["check"] == "ok"
    for session in (puller, bystander):
        assert engine.run_sync(session)["check"] == "ok"
    nightly = backup_server(agency, tmp_path / "nightly.backup")

    later = set(outreach(writer, 7, note="after"))
    changes.patch(writer, "follow_up", kept, {"note": "moved to the shelter on 5th"})
    changes.delete(writer, "follow_up", gone)
    step2 = engine.run_sync(writer)
    assert step2["pushed"] == 9 and step2["check"] == "ok"
    engine.run_sync(puller)  # holds the 7, the edit and the delete
    engine.run_sync(bystander)  # its cursor now stands beyond the restored server's newest change
    assert len(server_ids(agency)) == 12

    restore_server(agency, nightly)
    assert server_ids(agency) == first
    assert server_row(agency, gone)[0] is False
    assert server_row(agency, kept)[1].get("note") is None

    # The puller comes back first (the writer may never): it gives back what it pulled, and
    # loses nothing.
    back = engine.run_sync(puller)
    assert back["returned"] == 9 and back["rebuilt"] and back["check"] == "ok", back
    assert back["pushed"] == 0 and back["repaired_rows"] == 0
    assert server_ids(agency) == first | later
    assert server_row(agency, kept)[1]["note"] == "moved to the shelter on 5th"
    assert server_row(agency, gone)[0] is True
    assert ids(puller) == first | later

    # Changes after the restore get change numbers the bystander's old cursor had passed.
    newer = set(outreach(puller, 3, note="after the restore"))
    assert engine.run_sync(puller)["pushed"] == 3
    seen = engine.run_sync(bystander)
    assert seen["rebuilt"] and seen["returned"] == 0 and seen["check"] == "ok"
    assert ids(bystander) == first | later | newer

    # The writer comes back last: nothing of its is deleted, nothing is taken twice.
    audit_before = agency.scalar("SELECT count(*) FROM record WHERE table_name = 'audit_event'")
    home = engine.run_sync(writer)
    assert home["check"] == "ok" and home["repaired_rows"] == 0
    audit_back = agency.scalar(
        "SELECT count(*) FROM record WHERE table_name = 'audit_event'") - audit_before
    assert home["returned"] == audit_back  # only its own audit events, which no one else held
    assert ids(writer) == first | later | newer
    assert changes.get(writer, "follow_up", kept)["note"] == "moved to the shelter on 5th"
    notes = [json.loads(r["data"])["note"] for r in agency.rows(
        "SELECT data FROM record WHERE table_name = 'outreach_contact'")]
    assert len(notes) == len(set(notes)) == 15

    log = recoveries(capsys, agency)
    [generation] = log["generations"]
    assert generation["epoch"] == log["epoch"]
    assert generation["reason"] == ("restore" if agency.db_url.startswith("sqlite")
                                    else "mark-restored")
    by_user = {d["username"]: d for d in generation["devices"]}
    assert (by_user["ofc.puller"]["restored"], by_user["ofc.puller"]["merged"]) == (7, 2)
    assert "ofc.writer" not in by_user or by_user["ofc.writer"]["restored"] == audit_back
    assert cli.main(["--db", agency.db_url, "recoveries"]) == 0
    assert "ofc.puller on" in capsys.readouterr().out


def test_a_restore_nobody_marked_is_found_by_the_laptops_requests(agency, laptop, tmp_path):
    """SQLite copied back by hand, no new epoch: the laptop that pulled proves it with its
    cursor, the one that pushed with its last confirmed op; both give back."""
    writer, puller = laptop("ofc.writer"), laptop("ofc.puller")
    first = set(outreach(writer, 5))
    engine.run_sync(writer), engine.run_sync(puller)
    saved = backup_server(agency, tmp_path / "copy.backup")
    later = set(outreach(writer, 7))
    engine.run_sync(writer), engine.run_sync(puller)
    epoch = agency.scalar("SELECT value FROM meta WHERE key = 'epoch'")

    restore_server(agency, saved, mark=False)
    assert agency.scalar("SELECT value FROM meta WHERE key = 'epoch'") == epoch
    back = engine.run_sync(puller)
    assert back["returned"] == 7 and back["check"] == "ok"
    [found] = agency.rows("SELECT reason, detail FROM history_generation")
    assert found["reason"] == "detected" and "beyond this server's newest change" in found["detail"]
    assert puller.device_id in found["detail"]
    assert server_ids(agency) == first | later

    # the writer, before it learns of the new epoch, pushes: refused until it has given back
    more = set(outreach(writer, 2))
    home = engine.run_sync(writer)
    assert home["pushed"] == 2 and home["check"] == "ok" and home["rebuilt"]
    assert server_ids(agency) == first | later | more
    assert agency.scalar("SELECT count(*) FROM history_generation") == 1


def test_the_last_confirmed_op_proves_the_server_forgot_it(agency, laptop, tmp_path):
    writer = laptop("ofc.writer")
    outreach(writer, 2)
    engine.run_sync(writer)
    saved = backup_server(agency, tmp_path / "copy.backup")
    lost = set(outreach(writer, 3))
    engine.run_sync(writer)
    restore_server(agency, saved, mark=False)
    summary = engine.run_sync(writer)  # an empty outbox: the pull names the last op
    assert summary["returned"] == 3 and summary["check"] == "ok"
    [found] = agency.rows("SELECT detail FROM history_generation")
    assert "last confirmed op" in found["detail"]
    assert lost <= server_ids(agency)


def test_a_clinical_note_held_under_a_release_stays_on_the_officers_laptop(
        agency, laptop, tmp_path, capsys):
    from datetime import UTC, datetime, timedelta
    clinician, officer = laptop("clin.okafor", "clinician"), laptop("ofc.ramirez")
    person = persons.add_person(clinician, {"kind": "alias", "alias": "Blue Jacket"})
    today = datetime.now(UTC).date()
    releases.add_release(clinician, person, {
        "discloser": "Crisis clinician", "scope": "clinical_notes",
        "recipient": "user:ofc.ramirez", "purpose": "coordinated follow-up",
        "signed_on": today - timedelta(days=1), "expires_on": today + timedelta(days=30)})
    engine.run_sync(clinician), engine.run_sync(officer)
    saved = backup_server(agency, tmp_path / "nightly.backup")
    encounter = encounters.save_encounter(clinician, {
        "presenting_situation": "substance_use", "person_ids": [person]})
    note = encounters.add_clinical_note(clinician, encounter, "PHI: on methadone")
    engine.run_sync(clinician)
    assert engine.run_sync(officer)["check"] == "ok"
    assert ids(officer, "clinical_note") == {note}

    restore_server(agency, saved)
    back = engine.run_sync(officer)
    # the encounter is the officer's to give back; the note is not: kept, and said so
    assert back["returned"] == 1 and back["unreturned"] == 1 and back["check"] == "ok"
    assert encounter in server_ids(agency, "encounter")
    assert note not in server_ids(agency, "clinical_note")
    assert ids(officer, "clinical_note") == {note}
    [kept] = agency.rows("SELECT device_id, outcome FROM recovery WHERE record_id = :n", n=note)
    assert (kept["device_id"], kept["outcome"]) == (officer.device_id, "kept_on_laptop")
    assert engine.run_sync(officer)["check"] == "ok"  # asked again: still kept, logged once
    assert agency.scalar("SELECT count(*) FROM recovery WHERE record_id = :n", n=note) == 1

    # the clinician comes back and gives it back; the officer's copy is the server's again
    assert engine.run_sync(clinician)["returned"] >= 1
    assert note in server_ids(agency, "clinical_note")
    again = engine.run_sync(officer)
    assert again["unreturned"] == 0 and again["check"] == "ok"
    assert officer.db.execute("SELECT count(*) FROM unreturned").fetchone()[0] == 0


def test_a_create_whose_answer_was_lost_is_not_refused_once_given_back(agency, laptop,
                                                                       tmp_path):
    """The server applied the writer's contacts but the answer never arrived; a colleague
    pulled them; the server is restored; the colleague gives them back. The writer's resent
    creates are those very records: applied once, not refused as duplicates."""
    writer, puller = laptop("ofc.writer"), laptop("ofc.puller")
    engine.run_sync(writer)
    saved = backup_server(agency, tmp_path / "nightly.backup")
    made = set(outreach(writer, 3))
    lose = LoseResponses("/v1/push", times=10)
    with pytest.raises(requests.ConnectionError):
        engine.run_sync(writer, http=http_with(lose), max_attempts=2, backoff_s=0.01)
    assert lose.lost >= 1 and made <= server_ids(agency)
    engine.run_sync(puller)
    restore_server(agency, saved)
    assert engine.run_sync(puller)["returned"] == 3
    summary = engine.run_sync(writer)
    assert (summary["pushed"], summary["rejected"], summary["check"]) == (3, 0, "ok")
    assert writer.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert server_ids(agency) == made


def test_edits_waiting_on_the_laptop_go_after_the_confirmed_copy(agency, laptop, tmp_path):
    """A laptop restored-against with unsent edits gives back the record as the server had
    confirmed it, then pushes its edits on top: both survive, in order."""
    a = laptop("ofc.a")
    person = persons.add_person(a, {"kind": "alias", "alias": "Red Cap"})
    fid = followups.create_follow_up(a, {
        "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
    engine.run_sync(a)
    saved = backup_server(agency, tmp_path / "nightly.backup")
    changes.patch(a, "follow_up", fid, {"note": "confirmed after the backup"})
    engine.run_sync(a)
    changes.patch(a, "follow_up", fid, {"priority": 1, "note": "typed offline"})
    restore_server(agency, saved)
    summary = engine.run_sync(a)
    assert summary["returned"] >= 1 and summary["pushed"] == 1 and summary["check"] == "ok"
    assert summary["conflicts"] == 0
    data = server_row(agency, fid)[1]
    assert (data["note"], data["priority"]) == ("typed offline", 1)


def test_a_compacted_deletion_still_deletes_after_a_restore(agency, laptop, tmp_path, capsys):
    """`compact` discards tombstones; a laptop that still holds such a record is told it was
    deleted (its ops are still known), not asked to give it back."""
    home, away = laptop("ofc.home"), laptop("ofc.away")
    person = persons.add_person(home, {"kind": "anonymous"})
    fid = followups.create_follow_up(home, {
        "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
    engine.run_sync(home), engine.run_sync(away)
    changes.delete(home, "follow_up", fid)
    engine.run_sync(home)
    assert cli.main(["--db", agency.db_url, "compact", "--keep-days", "0"]) == 0
    saved = backup_server(agency, tmp_path / "after-compact.backup")
    restore_server(agency, saved)
    summary = engine.run_sync(away)  # missed the delete, and the server went back meanwhile
    assert summary["check"] == "ok" and summary["returned"] == 0
    assert fid not in ids(away, "follow_up")
    assert agency.scalar("SELECT count(*) FROM record WHERE id = :i", i=fid) == 0


def test_backup_and_restore_commands_are_for_sqlite(agency, tmp_path, capsys):
    if agency.db_url.startswith("sqlite"):
        return
    for command in (["backup", "--out", str(tmp_path / "x")], ["restore", str(tmp_path)]):
        assert cli.main(["--db", agency.db_url, *command]) == 2
        assert "pg_dump" in capsys.readouterr().err


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_restore_refuses_what_is_not_a_tandem_backup_and_keeps_the_database(
        agency, laptop, tmp_path, capsys):
    a = laptop("ofc.a")
    outreach(a, 3)
    engine.run_sync(a)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert cli.main(["--db", agency.db_url, "restore", str(junk)]) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err
    empty = tmp_path / "other.db"
    with closing(sqlite3.connect(empty)) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert cli.main(["--db", agency.db_url, "restore", str(empty)]) == 2
    assert "not a Tandem agency database" in capsys.readouterr().err
    assert cli.main(["--db", agency.db_url, "restore", str(tmp_path / "missing")]) == 2
    assert "no backup file" in capsys.readouterr().err
    assert cli.main(["--db", agency.db_url, "backup", "--out",
                     str(tmp_path / "no-such-dir" / "b.db")]) == 2
    assert "no directory" in capsys.readouterr().err
    newer = tmp_path / "newer.backup"
    backup_server(agency, newer)
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
    capsys.readouterr()
    assert cli.main(["--db", agency.db_url, "restore", str(newer)]) == 2
    assert "restore it with the Tandem version that made it" in capsys.readouterr().err
    assert len(server_ids(agency)) == 3 and engine.run_sync(a)["check"] == "ok"
    # a good restore keeps the database it replaced, and carries over revocations
    saved = backup_server(agency, tmp_path / "good.backup")
    b = laptop("ofc.b")
    assert cli.main(["--db", agency.db_url, "revoke-device", a.device_id]) == 0
    capsys.readouterr()
    assert cli.main(["--db", agency.db_url, "restore", str(saved)]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["revocations_carried_over"] == [a.device_id]
    assert agency.scalar("SELECT revoked_at FROM device WHERE id = :d", d=a.device_id)
    with closing(sqlite3.connect(done["previous_database"])) as kept:
        assert kept.execute("SELECT count(*) FROM device WHERE id = ?",
                            [b.device_id]).fetchone()[0] == 1
    assert agency.scalar("SELECT count(*) FROM device WHERE id = :d", d=b.device_id) == 0


@SQLITE_ONLY
def test_backup_is_consistent_while_laptops_write(agency, laptop, tmp_path):
    a = laptop("ofc.a")
    outreach(a, 50)
    engine.run_sync(a)
    done = threading.Event()

    def keep_syncing():
        session = a.reopen()
        while not done.is_set():
            outreach(session, 20)
            engine.run_sync(session)
        session.close()

    worker = threading.Thread(target=keep_syncing)
    worker.start()
    files, seen = [], 50
    try:
        while len(files) < 3:  # a backup each time the laptop has pushed more
            time.sleep(0.05)
            now = agency.scalar("SELECT count(*) FROM record")
            if now > seen:
                seen = now
                files.append(backup_server(agency, tmp_path / f"b{len(files)}.backup"))
    finally:
        done.set()
        worker.join()
    for path in files:
        with closing(sqlite3.connect(path)) as conn:
            count = conn.execute("SELECT count(*) FROM record "
                                 "WHERE table_name = 'outreach_contact'").fetchone()[0]
            summed = conn.execute("SELECT coalesce(sum(count), 0) FROM record_sum WHERE "
                                  "table_name = 'outreach_contact'").fetchone()[0]
            counter = conn.execute("SELECT value FROM change_counter").fetchone()[0]
            top = conn.execute("SELECT max(change_seq) FROM record").fetchone()[0]
            ops = conn.execute("SELECT count(*) FROM applied_op").fetchone()[0]
        assert count == summed and counter == top and (count - 50) % 20 == 0  # whole pushes
        assert ops == count and count > 50


@SQLITE_ONLY
def test_tandem_sync_says_what_it_gave_back(agency, laptop, tmp_path, capsys, monkeypatch):
    import io

    from ui import cli as laptop_cli
    a = laptop("ofc.a")
    engine.run_sync(a)
    saved = backup_server(agency, tmp_path / "nightly.backup")
    outreach(a, 4)
    engine.run_sync(a)
    restore_server(agency, saved)
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert laptop_cli.main(["sync", "--user", "ofc.a", "--data-dir", str(a.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "check ok" in out and "gave back 4 record(s) the agency server had lost" in out


def test_the_sqlite_restore_keeps_the_trail_and_what_was_revoked(agency, laptop, tmp_path,
                                                                 capsys):
    """What the replaced database knew about sign-ins and administration is not rolled back:
    a sign-in revoked since the backup (a copied token) stays revoked, the audit trail since
    the backup stays, and the trail then says who gave back how much."""
    if not agency.db_url.startswith("sqlite"):
        pytest.skip("tandem-server restore is SQLite's")
    writer, puller = laptop("ofc.writer"), laptop("ofc.puller")
    engine.run_sync(writer), engine.run_sync(puller)
    base = f"{agency.url}/v1"
    agency.add_user("ofc.copied")
    signed = requests.post(f"{base}/login", json={"username": "ofc.copied", "password": PASSWORD,
                                                  "device_id": "dev-copied"}, timeout=30).json()
    saved = backup_server(agency, tmp_path / "nightly.backup")
    first = requests.post(f"{base}/refresh", json={"refresh_token": signed["refresh_token"]},
                          timeout=30).json()["refresh_token"]
    copied = requests.post(f"{base}/refresh", json={"refresh_token": signed["refresh_token"],
                                                    "next_refresh_token": "c" * 40}, timeout=30)
    assert copied.json()["code"] == "token_reused"
    made = set(outreach(writer, 4))
    engine.run_sync(writer), engine.run_sync(puller)

    restore_server(agency, saved)
    for token in (first, signed["refresh_token"]):  # the whole sign-in stays revoked
        answer = requests.post(f"{base}/refresh", json={"refresh_token": token}, timeout=30)
        assert answer.status_code == 401, answer.text
    assert engine.run_sync(puller)["returned"] == 4
    assert made <= server_ids(agency)

    capsys.readouterr()
    assert cli.main(["--db", agency.db_url, "audit", "--json"]) == 0
    trail = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    actions = [e["action"] for e in trail]
    assert actions.index("database.backup") < actions.index("token.reused") < actions.index(
        "history.new_generation") < actions.index("recovery.returned")
    [returned] = [e for e in trail if e["action"] == "recovery.returned"]
    assert (returned["actor"], returned["device_id"]) == ("ofc.puller", puller.device_id)
    assert returned["detail"]["records"] == 4 and returned["detail"]["restored"] == 4
    [generation] = [e for e in trail if e["action"] == "history.new_generation"]
    assert generation["detail"]["reason"] == "restore"


def test_signing_out_after_a_restore_gives_back_before_it_pushes(agency, laptop, tmp_path):
    """Sign-out sends only the outbox (engine.push_outbox); met by a restored server, it gives
    back what the server lost first, so the unsent edit lands on the record, not on nothing."""
    writer = laptop("ofc.writer")
    engine.run_sync(writer)
    saved = backup_server(agency, tmp_path / "nightly.backup")
    fid = follow_up(writer)
    engine.run_sync(writer)
    changes.patch(writer, "follow_up", fid, {"note": "typed before signing out"})
    restore_server(agency, saved)
    left = engine.push_outbox(writer)
    assert left["pending"] == 0 and left["returned"] >= 2 and left["rejected"] == 0, left
    assert server_row(agency, fid)[1]["note"] == "typed before signing out"
