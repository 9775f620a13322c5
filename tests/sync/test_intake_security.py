"""The intake board as a stranger attacks it, in raw HTTP: no one but a signed-in intake account
gets anything; a form without its token or from another site changes nothing; an intake account
gets no sync token and crews cannot write the CRC's half. And over every notice payload and
every board response: nothing clinical, nothing from outside the notice."""

import itertools
import json

import pytest
import requests

from fieldapp import crc_notice, encounters, persons, shifts
from fieldapp.records import NOTICE_SHOWN, RECORD_TYPES
from sync import credentials, engine
from sync.server import agency_settings, intake
from tests.conftest import PASSWORD
from tests.sync.board_client import Board

SECRETS = ("Zyxwvut", "Qponmlk", "Hushname", "narrative-sentinel", "clinical-sentinel",
           "place-sentinel", "1987-03-04", "described-sentinel")
ROW_KEYS = {"id", "state", *NOTICE_SHOWN, "unit_arrived_at", "unit_handed_off_at",
            "crc_arrived_at", "crc_checked_in_at"}


@pytest.fixture
def db_url(tmp_path):  # these attack the web layer; SQLite is enough
    return f"sqlite:///{tmp_path / 'server' / 'agency.db'}"


@pytest.fixture
def scene(agency, laptop):
    """A unit transporting someone whose encounter holds a narrative and a place; an intake
    account signed in to the board."""
    officer = laptop("ofc.ramirez", "officer")
    agency.add_user("crc.front", "crc_intake", ("crc",))
    shift = shifts.start_shift(officer, "ADAM-12")
    person = persons.add_person(officer, {
        "kind": "named", "first_name": "Zyxwvut", "last_name": "Qponmlk", "alias": "Hushname",
        "date_of_birth": "1987-03-04", "description": "described-sentinel",
        "safety_cautions": "spits"})
    encounter = encounters.save_encounter(officer, {
        "presenting_situation": "substance_use", "person_ids": [person],
        "police_note": "narrative-sentinel", "place": "place-sentinel", "shift_id": shift,
        "disposition": "transported_crc_voluntary", "pickup_order_served": True})
    engine.run_sync(officer)
    board = Board(agency.url)
    assert board.sign_in("crc.front", PASSWORD).status_code == 303
    return {"officer": officer, "shift": shift, "encounter": encounter, "board": board,
            "laptop": laptop}


def _notice_ops(session) -> list[dict]:
    return [json.loads(f) for (f,) in session.db.execute(
        "SELECT fields FROM outbox WHERE table_name = 'crc_notice'")]


def test_every_notice_payload_and_board_response_holds_only_the_notice(agency, scene):
    officer, board = scene["officer"], scene["board"]
    clinician = scene["laptop"]("clin.okafor", "clinician")
    engine.run_sync(clinician)
    encounters.add_clinical_note(clinician, scene["encounter"], "clinical-sentinel")
    engine.run_sync(clinician)
    engine.run_sync(officer)
    allowed = set(RECORD_TYPES["crc_notice"].field_names)
    responses = []
    for n, (transport_kind, age, flags) in enumerate(itertools.product(
            ("voluntary", "involuntary"), ("adult", "youth"), (False, True))):
        form = crc_notice.defaults(officer, scene["encounter"])
        assert form["person_name"] == ""  # names off: the form offers none
        notice = crc_notice.send(officer, transport=transport_kind, age_group=age,
                                 eta_minutes=n, safety_cautions=form["safety_cautions"],
                                 pickup_order=flags, emergency_petition=flags,
                                 encounter_id=scene["encounter"], shift_id=scene["shift"])
        crc_notice.update(officer, notice, transport=transport_kind, age_group=age,
                          eta_minutes=n + 1, pickup_order=not flags)
        if n % 3 == 0:
            crc_notice.cancel(officer, notice)
        payloads = _notice_ops(officer)
        engine.run_sync(officer)
        for fields in payloads:
            assert set(fields) <= allowed
            assert not any(s in json.dumps(fields) for s in SECRETS)
        responses += [board.page(), board.rows().text]
        if n % 3 == 1:
            responses += [board.stamp(notice, "arrived").text,
                          board.stamp(notice, "checked-in").text]
    responses.append(board.post("/status", status="at_capacity", wait_minutes="25").text)
    responses.append(board.page())
    with agency.engine.connect() as conn:
        rows = intake.rows(conn)
    assert len(rows) == 8 and all(set(r) == ROW_KEYS for r in rows)
    text = "\n".join(responses)
    for secret in (*SECRETS, scene["encounter"], scene["shift"], "mhst-1", "ofc.ramirez",
                   "clin.okafor", "presenting", "police_note", "clinical"):
        assert secret not in text, secret


def test_a_name_goes_only_where_the_agency_allows_it(agency, scene):
    officer = scene["officer"]
    with pytest.raises(Exception, match="does not send names"):
        crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5,
                        person_name="Zyxwvut Qponmlk")
    with agency.engine.begin() as conn:
        agency_settings.set_value(conn, "crc_notice_names", "true")
    engine.run_sync(officer)
    form = crc_notice.defaults(officer, scene["encounter"])
    assert form["person_name"] == "Zyxwvut Qponmlk"
    crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5,
                    person_name=form["person_name"])
    engine.run_sync(officer)
    assert "Zyxwvut Qponmlk" in scene["board"].page()


def test_strangers_and_other_roles_get_nothing(agency, scene):
    officer = scene["officer"]
    notice = crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5,
                             safety_cautions="spits")
    engine.run_sync(officer)
    url = agency.url
    stranger = requests.Session()
    answer = stranger.get(f"{url}/intake", allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/intake/sign-in"
    assert "ADAM" not in answer.text
    assert stranger.get(f"{url}/intake/rows").status_code == 401
    for path in (f"/intake/notices/{notice}/checked-in", "/intake/status", "/intake/sign-out"):
        answer = stranger.post(f"{url}{path}", data={"status": "open"}, allow_redirects=False)
        assert answer.status_code == 401, path
    stranger.cookies.set("tandem_intake", "forged", path="/intake")
    assert stranger.get(f"{url}/intake/rows").status_code == 401
    # Crew accounts, whatever their role, are not intake accounts.
    for name, role in (("sgt.k", "supervisor"), ("it.admin", "admin")):
        agency.add_user(name, role)
    agency.add_user("clin.okafor", "clinician")
    for name in ("ofc.ramirez", "clin.okafor", "sgt.k", "it.admin"):
        board = Board(url)
        answer = board.sign_in(name, PASSWORD)
        assert answer.status_code == 401 and "tandem_intake" not in answer.headers.get(
            "set-cookie", "")
        assert "ADAM" not in answer.text and board.rows().status_code == 401
    # A wrong password, and a signed-out session.
    assert Board(url).sign_in("crc.front", "wrong password!").status_code == 401
    board = Board(url)
    board.sign_in("crc.front", PASSWORD)
    assert board.post("/sign-out").status_code == 303
    assert board.rows().status_code == 401
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'crc_checkin'") == 0
    assert agency.scalar("SELECT count(*) FROM crc_status") == 0


def test_a_form_without_its_token_or_from_another_site_changes_nothing(agency, scene):
    officer, board = scene["officer"], scene["board"]
    notice = crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5)
    engine.run_sync(officer)
    path = f"{agency.url}/intake/notices/{notice}/checked-in"
    assert board.http.post(path, allow_redirects=False).status_code == 403
    assert board.http.post(path, data={"csrf": "0" * 64}, allow_redirects=False
                           ).status_code == 403
    assert board.http.post(path, data={"csrf": board.csrf}, allow_redirects=False, headers={
        "Origin": "https://evil.example"}).status_code == 403
    for site in ("cross-site", "same-site"):
        assert board.http.post(path, data={"csrf": board.csrf}, allow_redirects=False, headers={
            "Sec-Fetch-Site": site}).status_code == 403
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'crc_checkin'") == 0
    for bad in ("not-an-id", "0" * 36, notice + "x"):
        assert board.stamp(bad, "checked-in").status_code in (404, 409)
    assert board.post(f"/notices/{notice}/teleport").status_code == 404
    assert board.post("/status", status="closed").status_code == 422
    assert board.post("/status", status="open", wait_minutes="-3").status_code == 422
    assert board.post("/status", status="open", wait_minutes="99999").status_code == 422
    headers = board.http.get(f"{agency.url}/intake").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    cookie = board.sign_in("crc.front", PASSWORD).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/intake" in cookie


def test_an_intake_account_gets_no_sync_token_and_crews_cannot_stamp(agency, scene):
    answer = requests.post(f"{agency.url}/v1/login", json={
        "username": "crc.front", "password": PASSWORD, "device_id": "intake-pc"})
    assert answer.status_code == 401 and "intake board" in answer.json()["detail"]
    officer = scene["officer"]
    notice = crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5)
    engine.run_sync(officer)
    link = credentials.transport_for(officer, agency.url)
    [result] = link.call("POST", "/push", body={"ops": [{
        "op_id": "forged-op-1", "table": "crc_checkin", "record_id": "0" * 36, "kind": "create",
        "fields": {"notice_id": notice, "checked_in_at": "2026-01-01T00:00:00.000Z"},
        "base": {}, "base_version": 0, "hlc": "0000000000001-00000-x"}]})["results"]
    assert result["status"] == "rejected" and "intake" in result["reason"]
