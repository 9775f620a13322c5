"""Push batches in flight side by side (engine.PUSHES_IN_FLIGHT), and only when the server
may apply them in either order: a batch never writes a record one in flight writes, nor
names one as its parent."""

import gzip
import json
import threading
import time

from requests.adapters import HTTPAdapter

from fieldapp import changes, followups
from sync import engine

from sync_helpers import follow_up, http_with, outreach


class Timed(HTTPAdapter):
    """Holds each push a moment before sending it, and notes when it went, when its answer
    came, and which records it carried."""

    def __init__(self):
        super().__init__()
        self.pushes: list[dict] = []
        self._lock = threading.Lock()

    def send(self, request, **kwargs):
        if "/push" not in request.url:
            return super().send(request, **kwargs)
        body = request.body
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        push = {"records": [op["record_id"] for op in json.loads(body)["ops"]],
                "sent": time.monotonic()}
        time.sleep(0.3)  # long enough that a batch sent beside it overlaps for sure
        response = super().send(request, **kwargs)
        push["answered"] = time.monotonic()
        with self._lock:
            self.pushes.append(push)
        return response

    def carrying(self, record_id: str) -> dict:
        return next(p for p in self.pushes if record_id in p["records"])


def overlap(a: dict, b: dict) -> bool:
    return a["sent"] < b["answered"] and b["sent"] < a["answered"]


def test_independent_batches_go_side_by_side_and_all_arrive_once(agency, laptop):
    officer = laptop("ofc.a")
    made = outreach(officer, 8)
    timed = Timed()
    summary = engine.run_sync(officer, http=http_with(timed), batch_size=2)
    assert summary["pushed"] == 8 and summary["rejected"] == 0 and summary["check"] == "ok"
    assert len(timed.pushes) == 4
    first = [timed.carrying(made[2 * n]) for n in range(engine.PUSHES_IN_FLIGHT)]
    assert all(overlap(a, b) for a in first for b in first if a is not b)
    last = timed.carrying(made[6])  # waits for a place: no more than that many at once
    assert sum(overlap(last, push) for push in timed.pushes if push is not last) \
        < engine.PUSHES_IN_FLIGHT
    assert set(made) <= {r["id"] for r in agency.rows("SELECT id FROM record")}
    assert officer.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert agency.scalar("SELECT count(*) FROM applied_op WHERE device_id = :d",
                         d=officer.device_id) == 8  # each applied once


def test_a_child_waits_for_the_batch_that_creates_its_parent(agency, laptop):
    officer = laptop("ofc.a")
    follow_up_id = follow_up(officer)  # a person, its audit event, the follow-up: one batch
    followups.log_attempt(officer, follow_up_id, "phone", "no_answer", None)  # its child
    timed = Timed()
    summary = engine.run_sync(officer, http=http_with(timed), batch_size=3)
    assert summary["pushed"] == 4 and summary["rejected"] == 0 and summary["check"] == "ok"
    parent = timed.carrying(follow_up_id)
    child = next(p for p in timed.pushes if p is not parent)
    assert child["sent"] >= parent["answered"], "the attempt was sent before its follow-up"


def test_a_record_written_in_both_batches_is_sent_in_turn(agency, laptop):
    officer = laptop("ofc.a")
    follow_up_id = follow_up(officer)
    changes.patch(officer, "follow_up", follow_up_id, {"note": "called the shelter"})
    timed = Timed()
    summary = engine.run_sync(officer, http=http_with(timed), batch_size=3)
    assert summary["pushed"] == 4 and summary["rejected"] == 0
    created, patched = timed.pushes
    assert patched["sent"] >= created["answered"], "the patch was sent before the create"
    assert agency.scalar("SELECT version FROM record WHERE id = :i", i=follow_up_id) == 2


def test_batches_in_flight_when_the_token_runs_out_are_sent_again_once_it_is_new(
        agency, laptop):
    """The sending threads may not rotate the refresh token (the cache is this thread's):
    they hand their batch back, and it goes again with the one new token."""
    officer = laptop("ofc.a")
    made = outreach(officer, 8)
    with officer.db.atomic():
        officer.db.execute("DELETE FROM access_token")  # it ran out
    summary = engine.run_sync(officer, batch_size=2)
    assert summary["pushed"] == 8 and summary["rejected"] == 0 and summary["check"] == "ok"
    assert summary["duplicates"] == 0  # nothing the server applied was sent again
    assert set(made) <= {r["id"] for r in agency.rows("SELECT id FROM record")}
    assert agency.scalar("SELECT count(*) FROM admin_audit WHERE action = 'token.reused'") == 0
    engine.run_sync(officer)  # the token kept is the one the server holds
