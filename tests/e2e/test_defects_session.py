"""Issue 14's defects of a session's life, each a regression test on the real app and server:
1 (sign-out crashes), 2 (changes stranded on close and sign-out), 3 (stranded off the server:
the address cannot be changed, the demo's server moves, "Offline" never says why), 4 (a sync
does not refresh what is on screen), 9 (two time zones), 13 (the sign-in screen).
"""

import os
import re
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.e2e.harness import BIN, PASSWORD, WIDE, Timeout, wait_until

AGENCY_ZONE = ZoneInfo("America/Phoenix")  # the agency's zone; no daylight saving time
DEMO_PASSWORD = "tandem-demo-2026"  # seeds/roster.json: every demo account's


def records(agency, table: str) -> list[str]:
    """The server's records of a table, as their JSON text."""
    return [r["data"] for r in agency.rows(
        "SELECT data FROM record WHERE table_name = ? AND deleted = 0", table)]


def start_shift(laptop, unit: str) -> None:
    laptop.go("shift")
    laptop.fill(unit, placeholder="e.g. 2M14")
    laptop.key("ctrl+Return")
    laptop.wait_widget(name="endShift", shown=True)


def statuses_on_server(agency) -> list[str]:
    return sorted(re.search(r'"status": ?"(\w+)"', d).group(1)
                  for d in records(agency, "shift_event"))


def connection(snap) -> str:
    """The status bar's connection line ("● Online", "● Offline …")."""
    return next((w["text"] for w in snap.find(text="^●")), "")


# --- defect 1 -----------------------------------------------------------------------------------

def test_defect_01_sign_out_after_signing_in_on_the_sign_in_screen(world):
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.sign_in("ofc.ramirez", server=agency.url)
    laptop.sign_out()
    laptop.wait_window("sign in", timeout=10)  # an error dialog on the way fails here
    time.sleep(6)  # the crash came back every ~5 s
    assert not laptop.problems(), laptop.problems()
    laptop.sign_in("clin.okafor", server=agency.url)  # switch user on the same laptop
    assert not laptop.problems(), laptop.problems()


# --- defect 2 -----------------------------------------------------------------------------------

def test_defect_02_closing_the_window_sends_the_changes_waiting(world):
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.sign_in("ofc.ramirez", server=agency.url)
    laptop.wait_sync(0)  # the sync as the window opens
    start_shift(laptop, "MHST-21")
    laptop.click_widget(name="status_en_route")
    laptop.wait_widget(name="currentStatus", text="^En route since")
    laptop.wait_widget(cls="QLabel", text="^[1-9][0-9]* changes? waiting")
    laptop.key("alt+F4")  # the window manager's close, as the title bar's button
    try:
        wait_until(lambda: statuses_on_server(agency) == ["en_route", "in_service"],
                   "the changes made before closing to reach the server", 15,
                   last=lambda: statuses_on_server(agency))
    finally:
        assert not laptop.problems(), laptop.problems()


def test_defect_02_signing_out_sends_the_changes_waiting_or_says_what_stays(world):
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.sign_in("ofc.ramirez", server=agency.url)
    laptop.wait_sync(0)
    start_shift(laptop, "MHST-22")
    laptop.wait_widget(cls="QLabel", text="^[1-9][0-9]* changes? waiting")
    laptop.sign_out()
    wait_until(lambda: statuses_on_server(agency) == ["in_service"],
               "the changes made before signing out to reach the server", 10,
               last=lambda: statuses_on_server(agency))
    laptop.wait_window("sign in", timeout=10)

    # Offline: signing out says plainly what stays on this laptop, and it leaves at the next
    # sign-in.
    laptop.sign_in("ofc.ramirez")
    agency.stop()
    laptop.click_widget(name="status_on_scene")
    laptop.sign_out()
    def message(s):
        found = [w for w in s.widgets if re.search(r"(?is)change.*laptop|laptop.*change",
                                                   w.get("text") or "")]
        return (s, found) if found else None
    snap, said = laptop.wait_for(
        message, "a message that the changes stay on this laptop until the next sign-in", 10)
    assert any(re.search(r"(?i)sign", w["text"]) for w in said), [w["text"] for w in said]
    box = snap.windows[said[0]["window"]]
    # said on the main window while leaving, or on the sign-in screen once it is over; any
    # other window is a dialog to confirm: sign out all the same
    if box["class"] != "MainWindow" and not re.search(r"(?i)sign in", box["title"]):
        laptop.click(snap.find(window=box, cls="QPushButton",
                               text=r"(?i)^&?(sign out|ok|yes)")[0])
    laptop.wait_window("sign in", timeout=10)
    agency.start()
    laptop.sign_in("ofc.ramirez")
    wait_until(lambda: "on_scene" in statuses_on_server(agency),
               "the change left on the laptop to reach the server at the next sign-in", 30)
    assert not laptop.problems(), laptop.problems()


def test_a_second_copy_on_one_laptop_says_the_first_is_open_and_a_crash_never_locks_it_out(
        world):
    """A launcher clicked twice at 2 a.m.: two copies on one data folder could each sign in,
    rotate the same sign-in's token and sync the same outbox. The second says the first is
    open and closes; the first works on. A copy that dies (kill -9, a dead battery) leaves
    nothing that stops the next start."""
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.sign_in("ofc.ramirez", server=agency.url)
    laptop.wait_sync(0)
    env = {k: v for k, v in laptop._env().items() if k != "TANDEM_PROBE"}
    second = subprocess.Popen([str(BIN / "tandem"), "--data-dir", str(laptop.data_dir)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        notice = laptop.x.mapped_windows("^Tandem is already open$")
        laptop.x.screenshot(laptop.dir / "already-open.png")
        laptop.x.xdotool("windowactivate", "--sync", notice[0], "key", "Return")  # its OK
        assert second.wait(15) == 1
    finally:
        if second.poll() is None:
            second.kill()
    assert "Tandem is already open on this laptop" in second.stderr.read()
    assert laptop.running
    start_shift(laptop, "MHST-31")  # the first copy works on, and syncs
    assert laptop.sync_now()["ok"]

    os.killpg(laptop.process.pid, signal.SIGKILL)  # dies holding the data folder
    laptop.process.wait(10)
    laptop.start()  # not the notice: the sign-in window, ready
    laptop.sign_in("ofc.ramirez")
    assert not laptop.problems(), laptop.problems()


# --- defect 3 -----------------------------------------------------------------------------------

def test_defect_03_offline_says_why(world):
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.sign_in("ofc.ramirez", server=agency.url)
    laptop.wait_sync(0)
    agency.stop()
    mark = laptop.mark()
    laptop.key("F5")
    laptop.wait_sync(mark, ok=False)
    line = connection(laptop.snapshot())
    assert re.search(r"(?i)refus|not answer|not respond|down|not running|reach|no answer",
                     line), f"the status bar says {line!r} with the server refusing connections"


def test_defect_03_the_server_address_can_be_changed_in_the_app(world):
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.sign_in("ofc.ramirez", server=agency.url)
    laptop.wait_sync(0)
    old = agency.url
    new = agency.move()
    settings = laptop.snapshot().find(cls="QPushButton", said=r"(?i)settings", shown=True)
    assert settings, "no Settings in the app (a screen or a button) to change the server address"
    laptop.click(settings[0])

    def address_field(s):
        return next(((s, w) for w in s.find(cls="QLineEdit", shown=True) if w["editable"]
                     and not w["password"] and w["length"] == len(old)), None)
    snap, field = laptop.wait_for(address_field, f"a field holding the address {old}", 10)
    laptop.click(field)
    laptop.key("ctrl+a")
    laptop.type(new)
    window = snap.windows[field["window"]]
    save = snap.find(cls="QPushButton", window=window, screen=field["screen"], shown=True,
                     text=r"(?i)save|check|apply|use")
    assert save, f"nothing beside the address field saves it: {snap.summary()}"
    mark = laptop.mark()
    laptop.click(save[0])
    laptop.wait_for(lambda s: s.find(name="serverSaid", text=r"^Saved\b"),
                    "the settings to say the new address is saved")
    laptop.wait_sync(mark)  # the one saving starts
    laptop.key("Escape")  # F5 is the main window's, as every shortcut
    laptop.sync_now()
    assert connection(laptop.snapshot()).startswith("● Online")


def listening_port(pid: int) -> int:
    """The TCP port a process listens on (the demo's embedded server), from `ss`."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if f"pid={pid}," in line:
            return int(line.split()[3].rsplit(":", 1)[1])
    raise AssertionError(f"process {pid} listens on no TCP port")


def run_demo(laptop) -> int:
    """`tandem demo` until its window is up and synced; the port its server listens on."""
    mark = laptop.mark()
    laptop.start("demo")
    laptop.wait_signed_in("ofc.ramirez", timeout=120)
    laptop.wait_sync(mark, timeout=60)
    return listening_port(laptop.process.pid)


def test_defect_03_the_demo_keeps_its_server_address_for_every_user(world):
    laptop = world.laptop("demo", WIDE)
    first = run_demo(laptop)
    signed = laptop.command("login", "--server", f"http://127.0.0.1:{first}", "--user",
                            "sgt.morales", stdin=DEMO_PASSWORD + "\n")
    assert signed.returncode == 0, signed.stderr
    laptop.key("alt+F4")
    laptop.wait_exit()
    second = run_demo(laptop)
    synced = laptop.command("sync", "--user", "sgt.morales", stdin=DEMO_PASSWORD + "\n")
    assert synced.returncode == 0 and second == first, (
        f"after the demo restarted (server on port {first}, then {second}) the sergeant's "
        f"laptop cannot sync: {synced.stderr.strip()}")


# --- defect 4 -----------------------------------------------------------------------------------

def test_defect_04_a_sync_refreshes_the_screen_on_show_and_keeps_its_selection(world):
    agency = world.agency()
    key = agency.add_integration("pima-cad", "mhst-1")
    officer = world.laptop("officer").start()
    officer.sign_in("ofc.ramirez", server=agency.url)
    officer.wait_sync(0)
    problems = []

    officer.go("assignments")
    agency.post_cad(key, incident="CAD-2026-2001", priority=2, summary="Welfare check, "
                    "elderly woman not answering the door", place="E 22nd St and S 4th Ave")
    officer.sync_now()
    try:
        officer.row("CAD-2026-2001", cls="QTableView", timeout=5)
    except Timeout:
        problems.append("the open Assignments screen did not show the call a sync brought in")
        officer.go("shift")
        officer.go("assignments")
    officer.click_row("CAD-2026-2001", cls="QTableView")
    agency.post_cad(key, incident="CAD-2026-2002", priority=1, summary="Man in crisis at the "
                    "bus shelter", place="Ronstadt Transit Center")
    officer.sync_now()
    try:
        snap = officer.wait_for(lambda s: s if sum(v["row_count"] for v in s.find(
            cls="QTableView", screen="assignments")) == 2 else None, "both calls listed", 5,
                                find=["CAD-2026-2001"])
        table = snap.one(cls="QTableView", screen="assignments")
        picked = [r["row"] for r in table["rows"] if r["match"]]
        if table["selected"] != picked:
            problems.append(f"a sync moved the selection off the call being worked "
                            f"(selected rows {table['selected']}, the call is row {picked})")
    except Timeout:
        problems.append("the open Assignments screen did not show the second call")

    # A sergeant's review list follows a sync too.
    officer.stop()
    sergeant = world.laptop("sergeant", screen=officer.x).start()
    sergeant.sign_in("sgt.morales", server=agency.url)
    sergeant.wait_sync(0)
    sergeant.go("review")
    end_a_shift_headless(agency, "MHST-31", world.workdir / "unit-laptop")
    sergeant.sync_now()
    try:
        sergeant.row("MHST-31", cls="QTableView", timeout=5)
    except Timeout:
        problems.append("the review list did not change after Sync now")
    assert not problems, "\n".join(problems)


def end_a_shift_headless(agency, unit: str, data_dir: Path) -> None:
    """A unit's laptop (signed in through the real client in this process) starts and ends a
    shift and syncs it: what a sergeant's review list waits for."""
    from fieldapp import shifts
    from sync import engine, online
    session = online.login(data_dir, agency.url, "ofc.ramirez", PASSWORD)
    try:
        shift_id = shifts.start_shift(session, unit, "4471")
        shifts.end_shift(session, shift_id)
        engine.run_sync(session)
    finally:
        session.close()


# --- defect 9 -----------------------------------------------------------------------------------

def test_defect_09_times_are_the_agencys_whatever_the_laptops_zone(world):
    """A laptop set to Tokyo time shows the agency's (Phoenix) times everywhere."""
    agency = world.agency()
    officer = world.laptop("officer", env={"TZ": "Asia/Tokyo"}).start()
    officer.sign_in("ofc.ramirez", server=agency.url)
    start_shift(officer, "MHST-41")
    officer.key("F5")
    started = wait_until(lambda: [re.search(r'"started_at": ?"([^"]+)"', d).group(1)
                                  for d in records(agency, "shift")], "the shift on the server")
    at = datetime.fromisoformat(started[0].replace("Z", "+00:00"))
    agency_clock = at.astimezone(AGENCY_ZONE).strftime("%H:%M")
    laptop_clock = at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
    snap = officer.snapshot(find=[re.escape(laptop_clock)])
    problems = []
    for w in snap.find(screen="shift", shown=True, cls="QLabel"):
        if laptop_clock in (w.get("text") or ""):
            problems.append(f"the shift screen shows the laptop's time: {w['text']!r} "
                            f"(the agency's is {agency_clock})")
    if any(r["match"] for v in snap.find(screen="shift") for r in v.get("rows", [])):
        problems.append(f"the timeline shows the laptop's {laptop_clock}, not {agency_clock}")
    shown = " ".join(w.get("text") or "" for w in snap.find(screen="shift", cls="QLabel"))
    if agency_clock not in shown:
        problems.append(f"the shift screen does not show the agency's {agency_clock}: {shown!r}")

    sergeant = world.laptop("sergeant", env={"TZ": "Asia/Tokyo"}).start()
    sergeant.sign_in("sgt.morales", server=agency.url)
    snap = sergeant.go("dashboard")
    zones = [w["text"] for w in snap.find(screen="dashboard", cls="QLabel")
             if "Asia/Tokyo" in (w.get("text") or "")]
    if zones:
        problems.append(f"the dashboard names the laptop's zone: {zones}")
    assert not problems, "\n".join(problems)


# --- defect 13 ----------------------------------------------------------------------------------

def test_defect_13_the_sign_in_screen(world):
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.wait_window("sign in")
    problems = []

    def errors(snap) -> list[str]:
        return [w["text"] for w in snap.find(name="fieldError", shown=True) if w.get("text")]

    laptop.fill("ofc.ramirez", name="username")
    laptop.fill(PASSWORD, name="password")
    laptop.click_widget(name="signIn")  # the terms not acknowledged
    said = laptop.wait_for(errors, "a message to acknowledge the terms", 10)
    if any(re.search(r"(?i)use banner", t) for t in said):
        problems.append(f"jargon: {said}")
    laptop.click_widget(name="acknowledge")
    laptop.fill(PASSWORD, name="password")
    laptop.click_widget(name="signIn")  # no server: this laptop has no copy of the user's data
    first = laptop.wait_for(lambda s: [t for t in errors(s) if "server" in t],
                            "the message that a first sign-in needs the server", 30)
    laptop.fill(PASSWORD, name="password")
    laptop.fill(agency.url, name="server")
    laptop.key("Return")  # Enter in the server field
    try:
        laptop.wait_for(lambda s: s.window(cls="MainWindow") or s.find(
            name="signIn", text="Signing in"), "Enter in the server field to sign in", 5)
    except Timeout:
        problems.append("Enter in the server field does nothing")
        if first[0] in errors(laptop.snapshot()):
            problems.append(f"the old error stays after a new try: {first[0]!r}")
        laptop.click_widget(name="signIn")
    laptop.wait_signed_in("ofc.ramirez")
    assert not problems, "\n".join(problems)
