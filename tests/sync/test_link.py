"""Sync over a bad link, as a patrol car has: a real server behind the link proxy
(bench/linkproxy.py) that cuts a connection mid-response and blacks out. Nothing typed is lost
or duplicated, a cut sync resumes where it stopped, and a blackout reads as a plain reason."""

import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from bench.linkproxy import LinkProxy
from fieldapp import changes
from sync import engine, failures, online
from sync import transport as T
from tests.conftest import PASSWORD

from sync_helpers import outreach

PAGE = 100


@pytest.fixture
def link(agency):
    host, port = agency.url.rsplit("//", 1)[1].split(":")
    with LinkProxy(host, int(port), rtt_s=0.02) as proxy:
        yield proxy


@pytest.fixture
def car(agency, link, tmp_path):
    """A laptop signed in through the link."""
    agency.add_user("ofc.car")
    session = online.login(tmp_path / "car", link.url, "ofc.car", PASSWORD)
    yield session
    session.close()


def server_view(agency, team="mhst-1") -> dict[str, int]:
    return {r["id"]: r["version"] for r in agency.rows(
        "SELECT id, version FROM record WHERE table_name = 'outreach_contact' AND team = :t",
        t=team)}


def laptop_view(session) -> dict[str, int]:
    return dict(session.db.execute("SELECT id, server_version FROM outreach_contact"))


def test_a_sync_cut_mid_page_resumes_where_it_stopped(agency, laptop, link, car):
    partner = laptop("ofc.a")
    outreach(partner, 5 * PAGE)
    engine.run_sync(partner)
    typed = set(outreach(car, 30, note="typed in the car"))

    # the push's answer is cut: the server applied the ops, the laptop never heard
    link.cut_response("/push", after_bytes=600)
    with pytest.raises(requests.RequestException) as cut:
        engine.run_sync(car, page_size=PAGE, max_attempts=1)
    assert failures.classify(cut.value, link.url).kind == "dropped"
    assert car.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 30

    # the third page is cut mid-response: two pages are kept, with the cursor after them
    link.cut_response("/pull", after_bytes=1500, skip=2)
    with pytest.raises(requests.RequestException) as cut:
        engine.run_sync(car, page_size=PAGE, max_attempts=1)
    assert failures.classify(cut.value, link.url).kind == "dropped"
    assert [r.cut for r in link.requests].count(True) == 2
    assert car.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0  # resent, settled
    cursor = int(car.db.execute("SELECT pull_cursor FROM sync_state").fetchone()[0])
    kept = {r["id"] for r in agency.rows(
        "SELECT id FROM record WHERE change_seq <= :c AND table_name = 'outreach_contact'",
        c=cursor)}
    assert 0 < len(kept) < len(server_view(agency))
    assert set(laptop_view(car)) >= kept

    summary = engine.run_sync(car, page_size=PAGE, max_attempts=1)
    assert summary["check"] == "ok" and summary["repaired_rows"] == 0
    on_server = server_view(agency)
    assert laptop_view(car) == on_server and len(on_server) == 5 * PAGE + 30
    assert typed <= set(on_server)
    pulls = [parse_qs(urlparse(target).query)["after"][0] for target in link.targets("/pull")]
    redone = len(pulls) - len(set(pulls))
    assert redone == 1, pulls  # only the page that was cut was asked for twice


@pytest.mark.parametrize("mode", ["refuse", "stall"])
def test_a_blackout_fails_the_sync_with_a_plain_reason_then_it_succeeds(
        agency, laptop, link, car, mode, monkeypatch):
    partner = laptop("ofc.a")
    outreach(partner, 50)
    engine.run_sync(partner)
    changes.create(car, "outreach_contact", {
        "team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z", "note": "in the dead zone"})
    link.blackout_mode = mode
    real_timeout = T.TIMEOUT
    monkeypatch.setattr(T, "TIMEOUT", (1, 1))  # the real read timeout is 120 s
    link.black_out(4)  # past the 1 s timeout even when a busy machine is slow to send
    with pytest.raises(requests.RequestException) as dark:
        engine.run_sync(car, max_attempts=1)
    monkeypatch.setattr(T, "TIMEOUT", real_timeout)  # a busy CI machine may take 1 s to answer
    failure = failures.classify(dark.value, link.url)
    assert failure is not None, repr(dark.value)
    assert failure.kind == {"refuse": "refused", "stall": "timed_out"}[mode]
    assert failure.retry and "Tandem" in failure.text

    while not link.blackouts:  # until the link comes back
        time.sleep(0.05)
    summary = engine.run_sync(car, max_attempts=1)
    assert summary["check"] == "ok" and summary["pending"] == 0
    assert laptop_view(car) == server_view(agency) and len(server_view(agency)) == 51


def test_a_timeout_says_what_it_waited_for(link, car, monkeypatch):
    monkeypatch.setattr(T, "TIMEOUT", (1, 1))  # the real read timeout is 120 s
    engine.run_sync(car)
    link.black_out(30)  # ended by the proxy's stop; a busy machine may be slow to send
    with pytest.raises(requests.Timeout) as late:
        engine.run_sync(car, max_attempts=1)
    said = str(late.value)  # the sync's first and only request, with nothing to send
    assert said.startswith("GET /pull (after ") and "limit " in said, said
    assert f"no answer from {link.url} within the 1 s read timeout (1 try)" in said, said
    assert failures.classify(late.value, link.url).kind == "timed_out"
