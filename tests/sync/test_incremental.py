"""A sync costs what changed, not what the laptop holds (issue 17): a sync with nothing to do
is one request (the pull carries the fleet report, the directory's changes, the roster and
the check, and the access token is kept until it is about to run out); a sync of edits takes
at most three. A server older than that is still synced with, asked for each apart, and a
stranger cannot use the folded report to claim a sync that did not match."""

import re
import time
from datetime import timedelta

import requests
from requests.adapters import HTTPAdapter
from sync_helpers import outreach

import seeds
from fieldapp import changes
from sync import credentials, engine
from sync.server import accounts
from sync.server import directory as server_directory


class Counting(HTTPAdapter):
    """Keeps each request's method and path."""

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def send(self, request, **kwargs):
        self.seen.append(f"{request.method} {request.path_url.split('?')[0]}")
        return super().send(request, **kwargs)


def counted() -> tuple[requests.Session, Counting]:
    http, adapter = requests.Session(), Counting()
    http.mount("http://", adapter)
    return http, adapter


def device(agency, session) -> dict:
    return agency.rows("SELECT pending_changes, last_good_sync_at, reported_at FROM device "
                       "WHERE id = :d", d=session.device_id)[0]


def test_an_idle_sync_is_one_request_that_reports_and_checks(agency, laptop):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.idle")
    outreach(officer, 3)
    http, seen = counted()
    first = engine.run_sync(officer, http=http)
    assert first["check"] == "ok" and first["directory_pulled"] == 61 and first["roster"] == 1
    assert seen.seen == ["POST /v1/push", "GET /v1/pull", "POST /v1/device/status"]
    before = device(agency, officer)

    time.sleep(0.01)
    http, seen = counted()
    idle = engine.run_sync(officer, http=http)
    assert seen.seen == ["GET /v1/pull"] and idle["requests"] == 1
    assert idle["check"] == "ok" and idle["pulled"] == 0 and idle["roster"] == 1
    after = device(agency, officer)
    assert after["pending_changes"] == 0
    assert after["last_good_sync_at"] > before["last_good_sync_at"]  # the pull ended it

    outreach(officer, 100)
    http, seen = counted()
    edits = engine.run_sync(officer, http=http)
    assert edits["pushed"] == 100 and edits["check"] == "ok" and edits["requests"] <= 3
    assert seen.seen == ["POST /v1/push", "GET /v1/pull", "POST /v1/device/status"]


def test_the_access_token_is_refreshed_only_when_about_to_run_out(agency, laptop):
    officer = laptop("ofc.token")
    http, seen = counted()
    engine.run_sync(officer, http=http)
    assert "POST /v1/refresh" not in seen.seen  # the sign-in's token is still good
    with officer.db.atomic():  # two minutes left: less than a sync ahead
        officer.db.execute("UPDATE access_token SET expires_at = ?", [
            credentials.to_iso(credentials._at(time.time() + 120))])
    http, seen = counted()
    assert engine.run_sync(officer, http=http)["check"] == "ok"
    assert seen.seen == ["POST /v1/refresh", "GET /v1/pull"]
    http, seen = counted()
    engine.run_sync(officer, http=http)
    assert seen.seen == ["GET /v1/pull"]  # the new one is kept

    with officer.db.atomic():  # a token the server no longer takes: refreshed on its 401
        officer.db.execute("UPDATE access_token SET token = 'revoked-or-forgotten'")
    http, seen = counted()
    assert engine.run_sync(officer, http=http)["check"] == "ok"
    assert seen.seen == ["GET /v1/pull", "POST /v1/refresh", "GET /v1/pull"]


class OlderServer(Counting):
    """Strips what an older server's pull does not know, as if it ignored it."""

    EXTRAS = re.compile(r"&(pending_changes|oldest_pending_at|directory_since|roster|summary|"
                        r"have_count|have_hash)=[^&]*")

    def send(self, request, **kwargs):
        if "/v1/pull" in request.url or "/v1/push" in request.url:
            request.url = self.EXTRAS.sub("", request.url)
        return super().send(request, **kwargs)


def test_a_server_that_folds_nothing_is_asked_for_each_apart(agency, laptop):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.older")
    outreach(officer, 2)
    http, older = requests.Session(), OlderServer()
    http.mount("http://", older)
    summary = engine.run_sync(officer, http=http)
    assert summary["check"] == "ok" and summary["directory_pulled"] == 61
    assert summary["roster"] == 1 and summary["pushed"] == 2
    assert {"GET /v1/directory", "GET /v1/roster", "GET /v1/summary",
            "POST /v1/device/status"} <= set(older.seen)
    assert device(agency, officer)["last_good_sync_at"]


def test_a_report_claims_a_checked_sync_only_when_the_sums_match(agency, laptop):
    officer = laptop("ofc.claims")
    engine.run_sync(officer)
    token = officer.db.execute("SELECT token FROM access_token").fetchone()[0]
    pull = f"{agency.url}/v1/pull"
    headers = {"Authorization": f"Bearer {token}"}
    count, total = engine.local_sums(officer)

    def ask(**params):
        return requests.get(pull, params={"after": 0, "summary": "true", "pending_changes": 0,
                                          **params}, headers=headers, timeout=30)

    wrong = ask(have_count=count, have_hash=f"{(int(total, 16) + 1) % 2**64:016x}")
    assert wrong.status_code == 200 and wrong.json()["reported"] == "started"
    changes.create(officer, "outreach_contact", {
        "team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z", "note": "x"})
    engine.run_sync(officer)
    count, total = engine.local_sums(officer)
    right = ask(have_count=count, have_hash=total)  # a full page is not "nothing to do"
    assert right.json()["reported"] == "started" and right.json()["records"]
    cursor = int(officer.db.execute("SELECT pull_cursor FROM sync_state").fetchone()[0])
    idle = ask(after=cursor, have_count=count, have_hash=total)
    assert idle.json()["reported"] == "finished"
    for bad in ({"pending_changes": -1}, {"have_hash": "not hex"}, {"have_count": "many"},
                {"roster": "perhaps"}, {"directory_since": -5}):
        assert ask(**bad).status_code == 422, bad
    assert ask(oldest_pending_at="yesterday").status_code == 422
    push = f"{agency.url}/v1/push"
    for bad in ({"pending_changes": -1}, {"pending_changes": "some"},
                {"oldest_pending_at": "2026-13-45T99:00:00Z"}, {"oldest_pending_at": "soon"}):
        assert requests.post(push, params=bad, json={"ops": []}, headers=headers,
                             timeout=30).status_code == 422, bad
    assert requests.post(push, params={"pending_changes": 4}, json={"ops": []},
                         headers=headers, timeout=30).status_code == 200
    assert device(agency, officer)["pending_changes"] == 4  # the push's report was kept
    assert requests.get(pull, params={"summary": "true", "pending_changes": 0},
                        timeout=30).status_code == 401


def test_a_first_sync_reports_its_progress_page_by_page(agency, laptop):
    writer = laptop("ofc.writer")
    outreach(writer, 250)
    engine.run_sync(writer)
    reader = laptop("ofc.reader")
    heard = []
    summary = engine.run_sync(reader, page_size=100, progress=lambda n, of: heard.append((n, of)))
    assert summary["pulled"] == 250
    assert heard == [(100, 250), (200, 250), (250, 250)]
    outreach(writer, 150)
    engine.run_sync(writer)
    heard.clear()
    engine.run_sync(reader, page_size=100, progress=lambda n, of: heard.append((n, of)))
    assert heard == []  # a later sync is quick: no progress to show


def test_a_token_running_out_mid_pull_is_refreshed_on_the_syncs_own_thread(agency, laptop,
                                                                          monkeypatch):
    """A long first sync outlives its access token; the page asked for ahead (on the pull's
    fetcher thread, which may not write the rotated token to the cache) is asked again on
    the sync's thread, which refreshes, and nothing fails."""
    writer = laptop("ofc.writer")
    outreach(writer, 100)
    engine.run_sync(writer)
    monkeypatch.setattr(accounts, "ACCESS_TTL", timedelta(seconds=61))  # 1 s before the margin
    reader = laptop("ofc.reader")
    http, adapter = counted()
    summary = engine.run_sync(reader, http=http, page_size=10,
                              progress=lambda n, of: time.sleep(0.2))  # a slow car: 2 s
    assert summary["pulled"] == 100
    assert adapter.seen.count("POST /v1/refresh") >= 2, adapter.seen  # refreshed mid-pull
