"""The intake board's pages: server-rendered HTML, one small script, one stylesheet.

Everything lives under /intake. Staff sign in through login.sign_in (throttling, the second
factor, enrolment of an authenticator app, the audit trail), with no device. A session cookie
(HttpOnly, SameSite=Strict, Secure except over plain HTTP to a loopback address) names the
signed-in intake staff member; every POST is refused from another site, and every POST but
sign-in and enrolment carries the session's form token (intake.csrf_token). Pages forbid
framing, inline script and every source but this server (Content-Security-Policy) and are
never cached. The forms work without the script; with it,
the board refreshes itself every few seconds and actions keep the keyboard where it was.
"""

import asyncio
import re
import secrets
from datetime import datetime
from functools import partial
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, \
    Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from fieldapp.timeutil import parse_iso, utc_now

from . import agency_settings, crc_status, intake, login

COOKIE = "tandem_intake"
STATIC = Path(__file__).with_name("intake_static")
FORM_MAX = 4096
REFRESH_SECONDS = 5
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Cache-Control": "no-store"}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
STATUS_WORDS = {"open": "Open", "at_capacity": "At capacity", "diverting": "Diverting"}
WRONG = "wrong user name or password."
USERNAME = re.compile(r"[!-~]{1,64}")  # as the API takes it (printable ASCII, no NUL)
STATE_TITLES = (("incoming", "Incoming"), ("arrived", "Arrived"),
                ("checked_in", "Checked in"))


def router(engine: Engine) -> APIRouter:
    routes = APIRouter(prefix="/intake", include_in_schema=False)

    def staff(request: Request):
        token = request.cookies.get(COOKIE)
        with engine.begin() as conn:
            return intake.staff_for(conn, token), token

    def zone():
        with engine.connect() as conn:
            return ZoneInfo(agency_settings.read(conn)["time_zone"])

    @routes.get("")
    def board(request: Request):
        who, token = staff(request)
        if who is None:
            return _redirect("/intake/sign-in")
        return _page(_board_page(engine, who, token, zone()))

    @routes.get("/rows")
    def rows(request: Request):
        who, token = staff(request)
        if who is None:
            return _text("sign in again", 401)
        return _page(_rows_html(engine, zone(), intake.csrf_token(token)))

    @routes.get("/sign-in")
    def sign_in_form(request: Request):
        return _page(_sign_in_page())

    @routes.post("/sign-in")
    async def sign_in(request: Request):
        """login.sign_in with no device (the board holds no sync token), then a board session
        for a crc_intake account. A first code after enrolment shows the recovery codes once
        on the way to the board."""
        if (refused := _cross_site(request)) is not None:
            return refused
        form = await _form(request)
        username, password = form.get("username", ""), form.get("password", "")
        code = form.get("code", "").strip() or None
        if not USERNAME.fullmatch(username) or not password:
            return _page(_sign_in_page(WRONG, username[:64]), 401)
        address = _address(request)
        try:
            signed = await _in_thread(partial(
                login.sign_in, engine, username=username, password=password, code=code,
                device_id=None, device_name="", address=address))
        except login.Refused as e:
            if e.code == "enrolment_required":
                return await _enrolment(request, username, password, e)
            return await _refusal(e, _sign_in_page(_told(e), username, _focus(e),
                                                   offer_enrolment=e.code.startswith("second")))
        try:
            token = await _in_thread(_start_session, username, address)
        except intake.IntakeError as e:
            return _page(_sign_in_page(str(e), username), 401)
        if signed.get("recovery_codes"):
            response = _page(_recovery_page(signed["recovery_codes"]))
        else:
            response = _redirect("/intake")
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/intake",
                            secure=_secure(request), max_age=intake.SESSION_HOURS * 3600)
        return response

    @routes.get("/enrol")
    def enrol_form(request: Request):
        username = request.query_params.get("username", "")
        return _page(_enrol_start_page("", username if USERNAME.fullmatch(username) else ""))

    @routes.post("/enrol")
    async def enrol(request: Request):
        """Start (or start again) setting up an authenticator app: the password again, then
        login.enrol; the page shows the QR code and the secret and asks for the first code."""
        if (refused := _cross_site(request)) is not None:
            return refused
        form = await _form(request)
        username, password = form.get("username", ""), form.get("password", "")
        if not USERNAME.fullmatch(username) or not password:
            return _page(_enrol_start_page(WRONG, username[:64]), 401)
        return await _enrolment(request, username, password)

    async def _enrolment(request: Request, username: str, password: str,
                         required: login.Refused | None = None) -> Response:
        address = _address(request)
        # Only a holder of the password may learn what the account is: after login.sign_in
        # (`required`) or login.enrol proved it. Other accounts set up their app elsewhere.
        try:
            if required:
                await _in_thread(_intake_account, username, address)
            started = await _in_thread(partial(login.enrol, engine, username=username,
                                               password=password, address=address))
            if not required:
                await _in_thread(_intake_account, username, address)
        except login.Refused as e:
            return await _refusal(e, _enrol_start_page(_told(e), username))
        except intake.IntakeError as e:
            return _page(_sign_in_page(str(e), username), 401)
        return _page(_enrol_page(username, started, required and required.detail),
                     401 if required else 200)

    def _start_session(username: str, address: str) -> str:
        with engine.begin() as conn:
            return intake.start_session(conn, username, address)

    def _intake_account(username: str, address: str) -> None:
        with engine.begin() as conn:
            intake.intake_account(conn, username, address)

    @routes.post("/sign-out")
    async def sign_out(request: Request):
        who, token, _form_data, refused = await _checked(request)
        if refused is not None:
            return refused
        with engine.begin() as conn:
            intake.sign_out(conn, who, token, _address(request))
        response = _redirect("/intake/sign-in")
        response.delete_cookie(COOKIE, path="/intake")
        return response

    @routes.post("/notices/{notice_id}/{action}")
    async def stamp(request: Request, notice_id: str, action: str):
        who, _token, _form_data, refused = await _checked(request)
        if refused is not None:
            return refused
        what = {"arrived": "arrived_at", "checked-in": "checked_in_at"}.get(action)
        if what is None:
            return _text("no such action", 404)
        try:
            with engine.begin() as conn:
                intake.stamp(conn, who, notice_id, what)
        except intake.IntakeError as e:
            return _answer(request, str(e), 409)
        return _answer(request)

    @routes.post("/status")
    async def post_status(request: Request):
        who, _token, form, refused = await _checked(request)
        if refused is not None:
            return refused
        wait = form.get("wait_minutes", "").strip()
        try:
            if wait and not wait.isdigit():
                raise crc_status.StatusError("expected wait: a whole number of minutes")
            with engine.begin() as conn:
                crc_status.post(conn, who.username, form.get("status", ""),
                                int(wait) if wait else None)
        except crc_status.StatusError as e:
            return _answer(request, str(e), 422)
        return _answer(request)

    @routes.get("/static/{name}")
    def static(name: str):
        if name not in ("board.js", "board.css"):
            return _text("not found", 404)
        media = "text/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(STATIC / name, media_type=media, headers=HEADERS)

    async def _checked(request: Request):
        """(staff, token, form, refusal): a POST needs a live session, this site's origin
        and the session's form token."""
        if (refused := _cross_site(request)) is not None:
            return None, None, {}, refused
        form = await _form(request)
        who, token = await _in_thread(staff, request)
        if who is None:
            return None, None, {}, _text("sign in again", 401)
        sent = form.get("csrf", "") or request.headers.get("x-csrf-token", "")
        if not secrets.compare_digest(sent, intake.csrf_token(token)):
            return None, None, {}, _text("this form is out of date; reload the page", 403)
        return who, token, form, None

    return routes


async def _in_thread(function, *args):
    return await run_in_threadpool(function, *args)


async def _refusal(e: login.Refused, html: str) -> Response:
    """A refused sign-in's page with its status; a throttled one (429, Retry-After) only
    after login.THROTTLED_DELAY_S, as the API answers it."""
    headers = {}
    if e.status == 429:
        await asyncio.sleep(login.THROTTLED_DELAY_S)
        headers["Retry-After"] = str(e.retry_after)
    return HTMLResponse(html, e.status, headers={**HEADERS, **headers})


def _told(e: login.Refused) -> str:
    """What the page says: the server's plain message; a code asked for or refused also
    needs the password again, since no page ever holds it."""
    text = e.detail + "."
    if e.code.startswith("second_factor"):
        text += " Type your password again with it."
    return text


def _focus(e: login.Refused) -> str:
    return "password" if e.code in ("unauthorized", "throttled") or \
        e.code.startswith("second_factor") else "username"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > FORM_MAX:
        return {}
    try:
        parsed = parse_qs(body.decode(), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items()}


def _cross_site(request: Request) -> Response | None:
    """A POST from another site is refused (belt and braces beside SameSite and the token):
    the browser's Sec-Fetch-Site where it sends one, else its Origin."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if (site is not None and site not in ("same-origin", "none")) or (
            site is None and origin is not None and origin != own):
        return _text("cross-site request refused", 403)
    return None


def _secure(request: Request) -> bool:
    return not (request.url.scheme == "http" and request.url.hostname in LOOPBACK)


def _answer(request: Request, problem: str | None = None, status: int = 200) -> Response:
    """For the script: 204, or the problem as text. For a plain form post: back to the board,
    or the problem on a page of its own with a link back."""
    scripted = request.headers.get("x-requested-with") == "intake-board"
    if problem is None:
        return Response(status_code=204, headers=HEADERS) if scripted else _redirect("/intake")
    if scripted:
        return _text(problem, status)
    return _page(_document("Not done", f'<main><h1>Not done</h1><p role="alert">'
                           f'{escape(problem)}</p><p><a href="/intake">Back to the board</a>'
                           f'</p></main>'), status)


def _redirect(to: str) -> Response:
    return RedirectResponse(to, status_code=303, headers=HEADERS)


def _page(html: str, status: int = 200) -> Response:
    return HTMLResponse(html, status, headers=HEADERS)


def _text(text: str, status: int) -> Response:
    return PlainTextResponse(text, status, headers=HEADERS)


# --- HTML -------------------------------------------------------------------------------------

def _document(title: str, body: str, csrf: str = "") -> str:
    meta = f'<meta name="intake-csrf" content="{csrf}">' if csrf else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title>{meta}'
            f'<link rel="stylesheet" href="/intake/static/board.css">'
            f'<script src="/intake/static/board.js" defer></script></head>'
            f'<body>{body}</body></html>')


def _sign_in_page(problem: str = "", username: str = "", focus: str = "username",
                  offer_enrolment: bool = False) -> str:
    """The sign-in form; a refusal keeps the user name typed, never the password or code."""
    alert = f'<p class="problem" role="alert" id="problem">{escape(problem)}</p>' if problem else ""
    described = ' aria-describedby="problem"' if problem else ""
    focused = {name: " autofocus" if name == focus else "" for name in ("username", "password")}
    enrol = (f'<p>No authenticator app set up yet, or lost the QR code? <a href="/intake/enrol'
             f'?username={quote(username)}">Set up an authenticator app</a></p>'
             if offer_enrolment else "")
    return _document("Sign in — CRC intake board", f"""
<main class="sign-in"><h1>CRC intake board</h1>
<p>For CRC intake staff. Sign in with your intake account.</p>{alert}
<form method="post" action="/intake/sign-in">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="{escape(username)}"
 maxlength="64"{focused["username"]}{described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
{focused["password"]}>
<label for="code">Code from your authenticator app (or a recovery code)</label>
<input id="code" name="code" autocomplete="one-time-code" maxlength="32" spellcheck="false"
 autocapitalize="off">
<button type="submit">Sign in</button>
</form>{enrol}</main>""")


def _enrol_start_page(problem: str = "", username: str = "") -> str:
    alert = f'<p class="problem" role="alert" id="problem">{escape(problem)}</p>' if problem else ""
    return _document("Set up an authenticator app — CRC intake board", f"""
<main class="sign-in"><h1>Set up an authenticator app</h1>{alert}
<p>Your sign-in needs a code from an authenticator app on your phone. Enter your password to
see the QR code to scan. Setting up again replaces a setup you did not finish.</p>
<form method="post" action="/intake/enrol">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="{escape(username)}"
 maxlength="64"{"" if username else " autofocus"}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
{" autofocus" if username else ""}>
<button type="submit">Show the QR code</button>
</form><p><a href="/intake/sign-in">Back to sign-in</a></p></main>""")


def _enrol_page(username: str, started: dict, why: str | None) -> str:
    """The QR code (inline SVG: nothing to fetch) and the secret as text, then the first
    code with the password again: the board keeps no password between pages."""
    qr = segno.make(started["uri"], error="m").svg_inline(
        scale=6, border=4, dark="#000", light="#fff", title="QR code for your authenticator app")
    secret = " ".join(started["secret"][i:i + 4] for i in range(0, len(started["secret"]), 4))
    intro = f'<p class="problem" role="alert">{escape(why[:1].upper() + why[1:])}.</p>' \
        if why else ""
    return _document("Scan the QR code — CRC intake board", f"""
<main class="sign-in enrol"><h1>Set up an authenticator app</h1>{intro}
<div class="setup"><figure class="qr">{qr}</figure><div>
<p><strong>1.</strong> In your authenticator app (Google or Microsoft Authenticator,
FreeOTP…), add an account and scan this code.</p>
<p>Cannot scan? Enter this key by hand (time-based, 6 digits):</p>
<p class="secret" id="secret">{escape(secret)}</p>
<p><strong>2.</strong> Type the 6-digit code the app shows, and your password again.</p>
</div></div>
<form method="post" action="/intake/sign-in">
<input type="hidden" name="username" value="{escape(username)}">
<label for="code">Code from your authenticator app</label>
<input id="code" name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="6"
 required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Finish and sign in</button>
</form>
<p>This key is shown only on this page. Opening setup again makes a new one.</p></main>""")


def _recovery_page(codes: list[str]) -> str:
    """The recovery codes, once: the only page that ever shows them."""
    listed = "".join(f"<li><code>{escape(c)}</code></li>" for c in codes)
    return _document("Your recovery codes — CRC intake board", f"""
<main class="sign-in enrol"><h1>Your recovery codes</h1>
<p role="alert">Your authenticator app is set up. Write these codes down and keep them where
you keep your badge, not on this computer. Each works once in place of the app's code if your
phone is lost. They are not shown again.</p>
<ol class="recovery" id="recovery-codes">{listed}</ol>
<p><a href="/intake" id="continue" autofocus>I have saved them: go to the board</a></p>
</main>""")


def _board_page(engine: Engine, who: intake.Staff, token: str, zone: ZoneInfo) -> str:
    csrf = intake.csrf_token(token)
    with engine.connect() as conn:
        current = crc_status.current(conn)
    options = "".join(
        f'<option value="{k}"{" selected" if current and current["status"] == k else ""}>'
        f'{v}</option>' for k, v in STATUS_WORDS.items())
    wait = "" if not current or current["wait_minutes"] is None else current["wait_minutes"]
    return _document("CRC intake board", f"""
<header><h1>CRC intake board</h1>
<div class="who">Signed in as {escape(who.display_name)}
<form method="post" action="/intake/sign-out" class="inline">
<input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="quiet">Sign out</button>
</form></div></header>
<main>
<section aria-labelledby="status-title" class="status">
<h2 id="status-title">Center status</h2>
<p id="status-now">{escape(_status_line(current, zone))}</p>
<form method="post" action="/intake/status" class="status-form">
<input type="hidden" name="csrf" value="{csrf}">
<label for="status">Status</label><select id="status" name="status">{options}</select>
<label for="wait">Expected wait (minutes)</label>
<input id="wait" name="wait_minutes" inputmode="numeric" pattern="[0-9]*" maxlength="4"
 value="{wait}">
<button type="submit">Post status</button>
</form></section>
<p id="problem" class="problem" role="alert"></p>
<p id="announce" class="visually-hidden" aria-live="polite"></p>
<div id="rows" data-refresh-seconds="{REFRESH_SECONDS}">{_rows_html(engine, zone, csrf)}</div>
</main>""", csrf)


def _status_line(current: dict | None, zone: ZoneInfo) -> str:
    if not current:
        return "No status posted yet."
    text = f"Now: {STATUS_WORDS[current['status']]}"
    if current["wait_minutes"] is not None:
        text += f", expected wait {current['wait_minutes']} min"
    return text + f" (posted {_clock(current['posted_at'], zone)})"


def _rows_html(engine: Engine, zone: ZoneInfo, csrf: str = "") -> str:
    with engine.connect() as conn:
        found = intake.rows(conn)
    now = utc_now()
    parts = []
    for state, title in STATE_TITLES:
        mine = [r for r in found if r["state"] == state
                or (state == "incoming" and r["state"] == "cancelled")]
        items = "".join(_row(r, zone, now, csrf) for r in mine) or \
            '<p class="empty">None.</p>'
        parts.append(f'<section aria-labelledby="h-{state}" class="group {state}">'
                     f'<h2 id="h-{state}">{title} <span class="count">({len(mine)})</span></h2>'
                     f'{items}</section>')
    return "".join(parts)


def _row(r: dict, zone: ZoneInfo, now: datetime, csrf: str) -> str:
    rid = escape(r["id"])
    eta = parse_iso(r["eta_at"])
    minutes = round((eta - now).total_seconds() / 60)
    when = (f"in {minutes} min" if minutes > 0 else "due now" if minutes == 0
            else f"{-minutes} min ago")
    heading = f"Unit {escape(r['unit'])}"
    if r["state"] == "cancelled":
        line = f"Cancelled by the unit at {_clock(r['cancelled_at'], zone)}"
    elif r["state"] == "incoming":
        line = (f"ETA {_clock(r['eta_at'], zone)} ({when}"
                f"{', from distance' if r['eta_source'] == 'distance' else ''})")
    else:
        line = _times(r, zone)
    facts = [("Transport", r["transport"].capitalize()),
             ("Age", r["age_group"].capitalize()),
             ("Pickup order", "Yes" if r["pickup_order"] else "No"),
             ("Emergency petition", "Yes" if r["emergency_petition"] else "No"),
             ("Safety cautions", r["safety_cautions"] or "None given")]
    if r["person_name"]:
        facts.insert(0, ("Name", r["person_name"]))
    listed = "".join(
        f'<div><dt>{k}</dt><dd{cls}>{escape(v)}</dd></div>' for k, v in facts
        for cls in [' class="caution"' if k == "Safety cautions" and r["safety_cautions"] else ""])
    actions = ""
    if csrf and r["state"] in ("incoming", "arrived"):
        buttons = []
        if not r["crc_arrived_at"]:
            buttons.append(_action(rid, "arrived", "Arrived", csrf, r["unit"]))
        buttons.append(_action(rid, "checked-in", "Check-in complete", csrf, r["unit"]))
        actions = f'<div class="actions">{"".join(buttons)}</div>'
    return (f'<article class="notice {r["state"]}" id="n-{rid}" '
            f'aria-labelledby="t-{rid}" data-state="{r["state"]}">'
            f'<h3 id="t-{rid}">{heading} <span class="line">{line}</span></h3>'
            f'<dl>{listed}</dl>{actions}</article>')


def _action(rid: str, action: str, label: str, csrf: str, unit: str) -> str:
    return (f'<form method="post" action="/intake/notices/{rid}/{action}">'
            f'<input type="hidden" name="csrf" value="{csrf}">'
            f'<button type="submit" id="{action}-{rid}" '
            f'aria-label="{escape(label)}: unit {escape(unit)}">{escape(label)}</button></form>')


def _times(r: dict, zone: ZoneInfo) -> str:
    parts = []
    arrived = r["crc_arrived_at"] or r["unit_arrived_at"]
    if r["crc_arrived_at"]:
        parts.append(f"arrived {_clock(r['crc_arrived_at'], zone)} (CRC)")
    elif r["unit_arrived_at"]:
        parts.append(f"arrived {_clock(r['unit_arrived_at'], zone)} (unit)")
    if r["crc_checked_in_at"]:
        parts.append(f"checked in {_clock(r['crc_checked_in_at'], zone)}")
        if arrived:
            took = (parse_iso(r["crc_checked_in_at"]) - parse_iso(arrived)).total_seconds()
            parts.append(f"{int(took // 60)} min {int(took % 60):02d} s")
    return " · ".join(parts) or "arrived"


def _clock(iso: str | None, zone: ZoneInfo) -> str:
    return parse_iso(iso).astimezone(zone).strftime("%H:%M") if iso else "—"
