"""A fleet upgrades one laptop at a time: every request names the laptop's version, every
answer the server's and the oldest laptop version it accepts. A laptop too old for the server
is told what to install and keeps its outbox; nothing it sends is applied. Raw HTTP as a
stranger writes it from /openapi.json, and the real laptop client, against a real server.
(A server older than the laptop, the reverse case, is the real 0.1.0 release in
test_upgrade.py.)"""

import pytest
import requests

from fieldapp import __version__
from sync import engine
from sync import protocol as P
from sync.server.embedded import serve_in_thread
from sync.transport import VersionMismatch

from sync_helpers import outreach

NEXT = "0.3.0"  # a release after this one, which the gated server below requires
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def gated(agency):
    """The same agency database served by a second server that accepts NEXT and later."""
    server = serve_in_thread(agency.db_url, min_app_version=NEXT)
    yield server
    server.stop()


def laptop_paths(url: str) -> list[tuple[str, str]]:
    spec = requests.get(f"{url}/openapi.json", timeout=30).json()
    return [(method.upper(), path) for path, methods in spec["paths"].items()
            for method in methods if path.startswith(P.PREFIX) and path != "/v1/health"]


@sqlite_only
def test_every_answer_names_the_servers_versions(agency):
    for answer in (requests.get(f"{agency.url}/v1/health", timeout=30),
                   requests.get(f"{agency.url}/v1/no-such-thing", timeout=30),
                   requests.get(f"{agency.url}/v1/pull", timeout=30)):
        assert answer.headers[P.VERSION_HEADER] == __version__
        assert answer.headers[P.PROTOCOL_HEADER] == str(P.VERSION)
        assert answer.headers[P.MIN_VERSION_HEADER] == P.OLDEST_LAPTOP
    assert "X-Tandem-Version" in requests.get(f"{agency.url}/openapi.json",
                                              timeout=30).json()["info"]["description"]


@sqlite_only
def test_a_laptop_older_than_the_server_accepts_is_told_what_to_install(agency, gated):
    paths = laptop_paths(gated.url)
    assert len(paths) >= 10
    for version in (__version__, None):  # None: a laptop from before the headers (0.1.0)
        headers = {P.VERSION_HEADER: version} if version else {}
        for method, path in paths:
            answer = requests.request(method, gated.url + path, headers=headers, json={},
                                      timeout=30)
            assert answer.status_code == 426, (method, path, answer.text)
            body = answer.json()
            assert body["code"] == P.UPDATE_REQUIRED and body["min_version"] == NEXT
            assert body["detail"].startswith("update Tandem to sync")
            assert NEXT in body["detail"] and (version or P.OLDEST_LAPTOP) in body["detail"]
            assert answer.headers["Upgrade"] == f"Tandem/{NEXT}"
            assert answer.headers[P.MIN_VERSION_HEADER] == NEXT
    up_to_date = {P.VERSION_HEADER: NEXT, P.PROTOCOL_HEADER: str(P.VERSION)}
    login = requests.post(f"{gated.url}/v1/login", headers=up_to_date, timeout=30,
                          json={"username": "nobody", "password": "wrong"})
    assert login.status_code == 401  # past the gate, refused for its own reason
    assert requests.get(f"{gated.url}/v1/health", timeout=30).status_code == 200
    cad = requests.post(f"{gated.url}/api/v1/cad/assignments", json={}, timeout=30,
                        headers={"X-Integration-Key": "wrong"})
    assert cad.status_code in (401, 422)  # CAD is not a laptop: never asked for a version


@sqlite_only
def test_unreadable_version_headers_get_400_naming_the_header(agency):
    for header, value in ((P.VERSION_HEADER, "abc"), (P.VERSION_HEADER, "1..2"),
                          (P.VERSION_HEADER, "1.2.3.4.5"), (P.VERSION_HEADER, "²"),
                          (P.VERSION_HEADER, "9" * 50), (P.VERSION_HEADER, "-1"),
                          (P.VERSION_HEADER, "1.2.3 rc"), (P.PROTOCOL_HEADER, "two"),
                          (P.PROTOCOL_HEADER, "-1"), (P.PROTOCOL_HEADER, "9" * 20)):
        answer = requests.post(f"{agency.url}/v1/login", headers={header: value}, timeout=30,
                               json={"username": "x", "password": "y"})
        assert answer.status_code == 400, (header, value, answer.text)
        assert answer.json()["detail"].startswith(header), answer.text


@sqlite_only
def test_a_laptop_speaking_a_newer_protocol_is_told_the_server_must_be_updated(agency):
    answer = requests.post(f"{agency.url}/v1/login", timeout=30,
                           headers={P.VERSION_HEADER: "0.9.0", P.PROTOCOL_HEADER: "3"},
                           json={"username": "x", "password": "y"})
    assert answer.status_code == 409 and answer.json()["code"] == P.SERVER_TOO_OLD
    assert answer.json()["detail"].startswith("the agency server must be updated to sync")


@sqlite_only
def test_a_laptop_too_old_keeps_its_outbox_and_works_on_until_it_may_sync(agency, gated, laptop):
    officer = laptop("ofc.behind")
    outreach(officer, 3, note="typed before the server was upgraded")
    waiting = [r[0] for r in officer.db.execute("SELECT op_id FROM outbox ORDER BY op_id")]

    with pytest.raises(VersionMismatch) as refused:
        engine.run_sync(officer, gated.url)
    message = str(refused.value)
    assert message.startswith("update Tandem to sync") and NEXT in message
    assert __version__ in message
    assert [r[0] for r in officer.db.execute("SELECT op_id FROM outbox ORDER BY op_id")] == waiting
    assert agency.scalar("SELECT count(*) FROM record") == 0, "a refused laptop wrote records"

    outreach(officer, 1, note="typed offline after the refusal")  # the laptop works on
    assert officer.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 4

    summary = engine.run_sync(officer)  # a server that still accepts this laptop
    assert summary["pushed"] == 4 and summary["check"] == "ok"
    assert officer.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'outreach_contact'") == 4
