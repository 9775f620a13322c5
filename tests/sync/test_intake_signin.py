"""The intake board's sign-in, attacked in raw HTTP against a real server: it is login.sign_in
(issue 16) with no device, so a wrong password, a wrong or reused code and a burst of guesses
get the API's answers as pages (401, 429 with Retry-After), a recovery code works once, an
agency that requires a second factor walks intake staff through setting up an app (TOTP
computed here from the secret the page shows), only crc_intake accounts get a board session,
no page ever holds the password, and every outcome is in the admin audit trail."""

import json
import re
import time

import pyotp
import pytest

from sync.server import agency_settings, cli, two_factor
from tests.conftest import PASSWORD
from tests.sync.board_client import COOKIE, Board

STAFF = "crc.front"
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _set(agency, key, value):
    with agency.engine.begin() as conn:
        agency_settings.set_value(conn, key, value)


def _enrolled(agency, name=STAFF) -> tuple[pyotp.TOTP, list[str]]:
    """An account that already set up its app (as an administrator's enrolment does)."""
    user_id = agency.scalar("SELECT id FROM app_user WHERE username = :n", n=name)
    with agency.engine.begin() as conn:
        secret = two_factor.begin_enrolment(conn, user_id, name)["secret"]
        codes = two_factor.confirm(conn, user_id)
    return pyotp.TOTP(secret), codes


def _trail(agency, name=STAFF) -> list[tuple[str, str]]:
    return [(r["action"], r["outcome"]) for r in agency.rows(
        "SELECT action, outcome FROM admin_audit WHERE actor = :n ORDER BY id", n=name)]


def _alert(answer) -> str:
    found = re.search(r'role="alert"[^>]*>([^<]*)<', answer.text)
    return found[1] if found else ""


def _kept(answer, username):
    """The page keeps the user name typed and holds no password."""
    assert re.search(rf'id="username"[^>]*value="{re.escape(username)}"', answer.text) or \
        f'type="hidden" name="username" value="{username}"' in answer.text
    assert PASSWORD not in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")


def _fresh_code(app: pyotp.TOTP, used: set[str]) -> str:
    """The app's code, waiting for the next step if this one was used (a code works once)."""
    while (code := app.now()) in used:
        time.sleep(1)
    used.add(code)
    return code


@sqlite_only
def test_wrong_password_wrong_code_reused_code_and_a_recovery_code(agency):
    agency.add_user(STAFF, "crc_intake", ("crc",))
    app, recovery = _enrolled(agency)
    board = Board(agency.url)

    wrong = board.sign_in(STAFF, "not the password", app.now())
    assert wrong.status_code == 401 and _alert(wrong) == "wrong user name or password."
    _kept(wrong, STAFF)
    assert 'id="password" name="password" type="password" autocomplete="current-password" ' \
           'required\n autofocus' in wrong.text  # the keyboard is where the fix goes

    no_code = board.sign_in(STAFF, PASSWORD)
    assert no_code.status_code == 401 and "6-digit code" in _alert(no_code)
    assert "password again" in _alert(no_code)
    _kept(no_code, STAFF)

    bad_code = board.sign_in(STAFF, PASSWORD, "000000" if app.now() != "000000" else "111111")
    assert bad_code.status_code == 401 and "wrong or was already used" in _alert(bad_code)
    _kept(bad_code, STAFF)
    time.sleep(1.1)  # the second failure's back-off

    used: set[str] = set()
    code = _fresh_code(app, used)
    right = board.sign_in(STAFF, PASSWORD, code)
    assert right.status_code == 303 and right.headers["location"] == "/intake", right.text
    assert "Incoming" in board.page() and board.rows().status_code == 200
    assert board.post("/sign-out").status_code == 303

    replay = Board(agency.url).sign_in(STAFF, PASSWORD, code)  # the same code again
    assert replay.status_code == 401 and "already used" in _alert(replay)

    spare = Board(agency.url)
    assert spare.sign_in(STAFF, PASSWORD, recovery[0].upper()).status_code == 303
    assert spare.rows().status_code == 200
    time.sleep(1.1)
    again = Board(agency.url).sign_in(STAFF, PASSWORD, recovery[0])  # works once
    assert again.status_code == 401 and "already used" in _alert(again)

    assert _trail(agency) == [
        ("signin", "failure"),  # wrong password
        ("signin", "failure"),  # wrong code (asking for one is no failure)
        ("signin", "success"), ("intake.session_started", "success"),
        ("intake.session_ended", "success"),
        ("signin", "failure"),  # the replayed code
        ("signin", "success"), ("intake.session_started", "success"),  # the recovery code
        ("signin", "failure")]
    details = [json.loads(r["detail"]) for r in agency.rows(
        "SELECT detail FROM admin_audit WHERE actor = :n AND action = 'signin' ORDER BY id",
        n=STAFF)]
    assert [d.get("wrong") for d in details] == ["password", "second factor", None,
                                                 "second factor", None, "second factor"]
    assert details[2]["second_factor"] == "authenticator"
    assert details[4] == {"second_factor": "recovery code", "recovery_codes_left": 9}
    # no board sign-in made a device or a sync token
    assert agency.scalar("SELECT count(*) FROM device") == 0


@sqlite_only
def test_guesses_get_429_with_a_wait_then_lock_each_audited(agency):
    agency.add_user(STAFF, "crc_intake", ("crc",))
    _set(agency, "signin_lockout_failures", "3")
    guesser = Board(agency.url)
    assert guesser.sign_in(STAFF, "guess-1").status_code == 401
    assert guesser.sign_in(STAFF, "guess-2").status_code == 401
    held = guesser.sign_in(STAFF, "guess-3")
    assert held.status_code == 429 and held.headers["Retry-After"] == "1", held.text
    assert _alert(held) == "too many failed sign-ins; try again in 1 s."
    _kept(held, STAFF)
    time.sleep(1.1)
    assert guesser.sign_in(STAFF, "guess-3").status_code == 401  # the third locks 10 min
    locked = Board(agency.url).sign_in(STAFF, PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and 590 <= int(locked.headers["Retry-After"]) <= 600
    assert "try again in 10 min" in _alert(locked)
    assert COOKIE not in locked.headers.get("set-cookie", "")
    assert _trail(agency) == [("signin", "failure"), ("signin", "failure"),
                              ("signin.throttled", "refused"), ("signin", "failure"),
                              ("signin.locked", "refused"), ("signin.throttled", "refused")]


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_required_second_factor_is_set_up_from_the_board_end_to_end(agency, capsys):
    _set(agency, "two_factor", "required")
    agency.add_user(STAFF, "crc_intake", ("crc",))
    board = Board(agency.url)

    # The password is right but no app is set up: the page shows the QR code and the key.
    setup = board.sign_in(STAFF, PASSWORD)
    assert setup.status_code == 401 and "requires a second factor" in _alert(setup)
    _kept(setup, STAFF)
    assert re.search(r"<svg[^>]*class=\"segno\"", setup.text)
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', setup.text)[1].replace(" ", "")
    factor = agency.rows("SELECT secret, confirmed_at FROM two_factor")
    assert [(f["secret"], f["confirmed_at"]) for f in factor] == [(secret, None)]
    assert 'name="code"' in setup.text and 'action="/intake/sign-in"' in setup.text
    assert board.rows().status_code == 401  # not signed in yet

    app = pyotp.TOTP(secret)  # the authenticator app, from the key typed by hand
    assert board.sign_in(STAFF, PASSWORD, "123456" if app.now() != "123456" else "654321"
                         ).status_code == 401
    time.sleep(1.1)
    used: set[str] = set()
    done = board.sign_in(STAFF, PASSWORD, _fresh_code(app, used))
    assert done.status_code == 200, done.text
    shown = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(shown) == len(set(shown)) == 10
    assert COOKIE in done.cookies and 'href="/intake"' in done.text
    assert "Incoming" in board.page()  # the session works: on to the board
    assert board.post("/sign-out").status_code == 303

    # Set up: the next sign-in takes a code, and the recovery codes are never shown again.
    later = Board(agency.url)
    answer = later.sign_in(STAFF, PASSWORD, app.at(time.time() + 30))  # a phone a step ahead
    assert answer.status_code == 303 and not any(c in answer.text for c in shown)
    assert later.enrol(STAFF, PASSWORD).status_code == 409  # a confirmed app stays
    assert Board(agency.url).sign_in(STAFF, PASSWORD, shown[3]).status_code == 303

    assert cli.main(["--db", agency.db_url, "audit", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = [(e["action"], e["outcome"]) for e in events if e["actor"] == STAFF]
    assert mine == [("two_factor.enrolment_started", "success"),
                    ("signin", "failure"),
                    ("two_factor.enrolled", "success"), ("signin", "success"),
                    ("intake.session_started", "success"), ("intake.session_ended", "success"),
                    ("signin", "success"), ("intake.session_started", "success"),
                    ("signin", "success"), ("intake.session_started", "success"),
                    ], mine
    assert all(secret not in json.dumps(e) and PASSWORD not in json.dumps(e) for e in events)


@sqlite_only
def test_an_unfinished_setup_is_started_again_from_the_enrolment_page(agency):
    _set(agency, "two_factor", "required")
    agency.add_user(STAFF, "crc_intake", ("crc",))
    board = Board(agency.url)
    assert board.sign_in(STAFF, PASSWORD).status_code == 401  # the setup page, then lost
    asked = board.sign_in(STAFF, PASSWORD)  # a pending app: the board asks for its code
    assert asked.status_code == 401 and "6-digit code" in _alert(asked)
    assert f'href="/intake/enrol?username={STAFF}"' in asked.text
    form = board.http.get(f"{agency.url}/intake/enrol", params={"username": STAFF})
    assert form.status_code == 200 and f'value="{STAFF}"' in form.text
    wrong = board.enrol(STAFF, "not the password")
    assert wrong.status_code == 401 and "wrong user name" in _alert(wrong)
    _kept(wrong, STAFF)
    time.sleep(1.1)
    again = board.enrol(STAFF, PASSWORD)
    assert again.status_code == 200
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', again.text)[1].replace(" ", "")
    assert agency.scalar("SELECT secret FROM two_factor") == secret  # the new key replaced it
    assert board.sign_in(STAFF, PASSWORD, pyotp.TOTP(secret).now()).status_code == 200


@sqlite_only
def test_only_intake_accounts_get_a_board_session(agency):
    agency.add_user("ofc.ramirez", "officer")
    agency.add_user("sgt.k", "supervisor")
    agency.add_user("it.admin", "admin")
    app, _codes = _enrolled(agency, "sgt.k")
    refusal = "this account is not a CRC intake account"
    for name, code in (("ofc.ramirez", ""), ("sgt.k", app.now())):
        board = Board(agency.url)
        answer = board.sign_in(name, PASSWORD, code)
        assert answer.status_code == 401 and refusal in _alert(answer), answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "")
        assert board.rows().status_code == 401
        assert _trail(agency, name)[-2:] == [("signin", "success"), ("intake.refused", "refused")]
    # where a second factor is required, the board sets up no app for another account
    _set(agency, "two_factor", "required")
    board = Board(agency.url)
    answer = board.sign_in("it.admin", PASSWORD)
    assert answer.status_code == 401 and refusal in _alert(answer) and "<svg" not in answer.text
    assert agency.scalar("SELECT count(*) FROM two_factor") == 1  # sgt.k's alone
    answer = board.enrol("it.admin", PASSWORD)  # as /v1/two-factor/enrol would, but no QR here
    assert answer.status_code == 401 and refusal in _alert(answer) and "<svg" not in answer.text
    assert ("intake.refused", "refused") in _trail(agency, "it.admin")
    # a wrong password tells nothing about the account
    wrong = Board(agency.url).sign_in("sgt.k", "not the password", app.now())
    assert wrong.status_code == 401 and refusal not in wrong.text


@sqlite_only
def test_sign_in_and_setup_refuse_other_sites_and_odd_input(agency):
    agency.add_user(STAFF, "crc_intake", ("crc",))
    board = Board(agency.url)
    for path in ("/intake/sign-in", "/intake/enrol"):
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            answer = board.http.post(f"{agency.url}{path}", headers=headers, data={
                "username": STAFF, "password": PASSWORD}, allow_redirects=False)
            assert answer.status_code == 403, (path, headers)
    assert not _trail(agency)  # refused before any password was looked at
    for username in ("", "crc\x00front", "x" * 65, "crc front"):
        answer = board.sign_in(username, PASSWORD)
        assert answer.status_code == 401, username
    assert board.http.post(f"{agency.url}/intake/sign-in", data="%ff%fe",
                           allow_redirects=False).status_code == 401
    assert board.sign_in(STAFF, PASSWORD, "\x00" * 32).status_code == 303  # optional here
