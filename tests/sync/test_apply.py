"""Applying a pulled page: an edit the DB worker commits meanwhile is laid over the pulled row,
never overwritten on screen, and neither thread's transaction fails half-way; rows the cache
refuses are told apart by exception type and schema, not by message text."""

import threading

import pytest
import sqlcipher3

from fieldapp import changes
from fieldapp.ids import new_id
from sync.engine import Summary, _apply, run_sync

from sync_helpers import follow_up


def edit_while_the_pending_edits_are_read(session, edit):
    """Run `edit` on its own connection and thread (as the DB worker does) the moment the
    engine has read which records have pending local edits; give it a second to commit
    before the engine goes on (it cannot, while the engine holds the write lock)."""
    original, worker = session.db.execute, {}

    def execute(sql, *args):
        cursor = original(sql, *args)
        if "FROM outbox" in sql and "DISTINCT" in sql and not worker:
            def run():
                other = session.reopen()
                try:
                    edit(other)
                except Exception as e:  # the worker's edit failed: reported by the test
                    worker["error"] = e
                finally:
                    other.close()
            worker["thread"] = threading.Thread(target=run)
            worker["thread"].start()
            worker["thread"].join(1.0)
        return cursor

    session.db.execute = execute
    return worker


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_edit_committed_while_a_pull_is_applied_stays(agency, laptop):
    mine, theirs = laptop("ofc.a"), laptop("ofc.b")
    record = follow_up(mine)
    run_sync(mine)
    run_sync(theirs)
    changes.patch(theirs, "follow_up", record, {"priority": 1})
    run_sync(theirs)  # the server's copy is newer than mine: my next pull brings it

    worker = edit_while_the_pending_edits_are_read(
        mine, lambda s: changes.patch(s, "follow_up", record, {"assignee": "ofc.a"}))
    run_sync(mine)
    worker["thread"].join(15)
    del mine.db.execute  # the engine reads as usual again

    assert "error" not in worker, worker.get("error")
    row = changes.get(mine, "follow_up", record)
    assert (row["priority"], row["assignee"]) == (1, "ofc.a")  # theirs, and my edit
    run_sync(mine)
    run_sync(theirs)
    assert changes.get(theirs, "follow_up", record)["assignee"] == "ofc.a"
    assert changes.get(mine, "follow_up", record) == changes.get(theirs, "follow_up", record)


def pulled(table, record_id, fields, version=1):
    stamp = "0000000000001-0000-server"
    return {"table": table, "id": record_id, "created_hlc": stamp, "updated_hlc": stamp,
            "author": "someone", "device": "elsewhere", "version": version, "deleted": False,
            "fields": fields}


def test_a_pulled_child_without_its_parent_is_left_out_and_any_other_refusal_stops(officer):
    """An orphan (a child whose parent this laptop does not hold) is counted and skipped, the
    rest of the page kept; a row the cache refuses for another reason is not hidden."""
    shift = new_id()
    page = [pulled("shift", shift, {"team": "mhst-1", "unit": "MHST-11", "members": "[]",
                                    "started_at": "2026-05-01T08:00:00.000Z"}),
            pulled("shift_event", new_id(), {"shift_id": shift, "status": "on_scene",
                                             "at": "2026-05-01T09:00:00.000Z"}),
            pulled("shift_event", new_id(), {"shift_id": new_id(), "status": "on_scene",
                                             "at": "2026-05-01T09:00:00.000Z"})]
    summary = Summary()
    assert _apply(officer, page, force=False, summary=summary) == 2
    assert summary.orphans == 1
    assert officer.db.execute("SELECT count(*) FROM shift_event").fetchone()[0] == 1

    broken = [pulled("shift_event", new_id(), {"shift_id": shift, "status": None,
                                               "at": "2026-05-01T10:00:00.000Z"})]
    with pytest.raises(sqlcipher3.IntegrityError):
        _apply(officer, broken, force=False, summary=summary)
    assert summary.orphans == 1
