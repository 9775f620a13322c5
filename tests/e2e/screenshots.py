"""Screenshots of every screen and dialog, for every role, at 1024×768 in the day and night
themes, taken of the real app on a real X server (xcb): ``python -m tests.e2e.screenshots``.

It runs what the acceptance suite runs (tests/e2e/harness.py): a real agency server with the
suite's roster, the seed directory and a CAD call, then the officer's, clinician's, peer's and
sergeant's laptops one after another on one Xvfb screen, each signed in on the sign-in screen
and driven with the mouse and keyboard through a shift: the call taken, an encounter being
written, a CRC drop-off on the clock, the shift ended, returned by the sergeant and amended.
Each picture is what the screen shows (`import -window root`), named ROLE-SCREEN-THEME.png.
The PNGs in the output folder (default docs/screenshots) are replaced. A shot the app cannot
reach (a defect on the way) is reported and skipped; the exit code says whether any was.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.harness import (PASSWORD, ROOT, SMALL, Agency, Laptop, XServers,
                               make_agency_database)

THEMES = ("day", "night")
ROLES = {"officer": "ofc.ramirez", "clinician": "clin.okafor", "peer": "peer.jackson",
         "sergeant": "sgt.morales"}
INCIDENT = "CAD-2026-118402"


class Shots:
    """Takes and names the pictures; remembers what it could not take."""

    def __init__(self, out: Path):
        self.out = out
        self.made: list[Path] = []
        self.skipped: list[str] = []

    def take(self, laptop: Laptop, name: str) -> None:
        laptop.x.xdotool("mousemove", 2, SMALL[1] - 2)  # no hover highlight in the picture
        try:
            laptop.wait_idle(10)
        except AssertionError:
            pass  # a screen that never settles is still worth a picture
        time.sleep(0.4)  # the last paint after the data arrived
        path = laptop.screenshot(self.out / f"{name}.png", palette=True)
        self.made.append(path)
        print(path, flush=True)

    def attempt(self, what: str, step) -> None:
        """Run a step that takes pictures; a failure skips it and says why."""
        try:
            step()
        except Exception as e:  # noqa: BLE001 - reported, and the other shots go on
            reason = str(e).splitlines()[0][:300]
            self.skipped.append(f"{what}: {reason}")
            print(f"skipped {what}: {reason}", file=sys.stderr, flush=True)


def theme_of(laptop: Laptop) -> str:
    """The theme shown: the header's button offers the other one."""
    return "day" if "Night" in laptop.snapshot().text("themeButton") else "night"


def set_theme(laptop: Laptop, theme: str) -> None:
    if theme_of(laptop) != theme:
        laptop.toggle_theme()


def close_dialogs(laptop: Laptop) -> None:
    for _ in range(4):
        if not any(w["class"] != "MainWindow" for w in laptop.snapshot().windows):
            return
        laptop.key("Escape")
        time.sleep(0.3)


def every_screen(shots: Shots, laptop: Laptop, role: str, prepare=None) -> None:
    for theme in THEMES:
        set_theme(laptop, theme)
        for key in laptop.nav_keys():
            def shot(key=key):
                laptop.go(key)
                if key == "encounter":  # the form from its top
                    laptop.scroll_into_view(name="situation_mental_health_crisis")
                if prepare:
                    prepare(key)
                shots.take(laptop, f"{role}-{key}-{theme}")
            shots.attempt(f"{role} {key} ({theme})", shot)


def dialog(shots: Shots, laptop: Laptop, name: str, open_it, title: str) -> None:
    """A dialog in both themes: opened, pictured, closed with Escape."""
    for theme in THEMES:
        def shot(theme=theme):
            close_dialogs(laptop)
            set_theme(laptop, theme)
            open_it()
            laptop.wait_window(title, timeout=15)
            shots.take(laptop, f"{name}-{theme}")
            close_dialogs(laptop)
        shots.attempt(f"{name} ({theme})", shot)


def officer_day(shots: Shots, officer: Laptop, agency: Agency) -> None:
    """Sign in, a shift under way: the call taken, an encounter half written, a drop-off on
    the clock; every screen and the officer's dialogs."""
    officer.start()
    officer.wait_window("sign in")
    officer.fill(ROLES["officer"], name="username")
    officer.fill(agency.url, name="server")
    officer.click_widget(name="acknowledge")
    officer.fill(PASSWORD, name="password")
    shots.take(officer, "signin-day")
    officer.click_widget(name="signIn")
    officer.wait_signed_in(ROLES["officer"])
    officer.sync_now()
    officer.choose_partner("clin.okafor")
    officer.fill("MHST-11", placeholder="e.g. 2M14")
    officer.fill("4471", placeholder="e.g. 4471")
    officer.key("ctrl+Return")
    for status in ("en_route", "on_scene"):
        officer.click_widget(name=f"status_{status}")
        time.sleep(0.5)
    officer.go("assignments")
    officer.click_row(INCIDENT, cls="QTableView")
    officer.key("ctrl+k")
    officer.row(rf"{INCIDENT}.*Acknowledged", cls="QTableView")
    officer.key("ctrl+t")
    officer.row(rf"{INCIDENT}.*Taken", cls="QTableView")
    officer.key("ctrl+e")
    officer.click_widget(name="situation_mental_health_crisis")
    officer.click_widget(placeholder="address or landmark")
    officer.key("ctrl+a")  # the call's place is filled in from CAD: say where it really is
    officer.type("Reid Park, east ramada")
    officer.click_widget(name="policeNote")
    officer.type("Brother called: he has not slept in 3 days. Calm, agreed to talk with the "
                 "clinician.")
    officer.go("outreach")
    for name in ("service_food", "supply_water", "referral_crc"):
        officer.click_widget(name=name)
    officer.go("followups")
    officer.click_row("Montenegro", cls="QTableView")
    officer.go("resources")
    officer.fill("crisis", name="resourceSearch")
    officer.row("Crisis", cls="QListView")
    officer.go("crc")
    officer.key("ctrl+Return")
    officer.wait_widget(name="handOff", shown=True)
    time.sleep(3)

    every_screen(shots, officer, "officer")
    dialog(shots, officer, "officer-help", lambda: officer.key("F1"), "Keyboard shortcuts")

    def end_shift():
        officer.go("shift")
        officer.key("ctrl+shift+e")
    dialog(shots, officer, "officer-end-shift", end_shift, "End shift")
    for theme in THEMES:
        def lock(theme=theme):
            set_theme(officer, theme)
            officer.go("encounter")
            officer.key("ctrl+shift+l")
            officer.wait_widget(name="unlockPassword", shown=True)
            shots.take(officer, f"officer-lock-{theme}")
            officer.fill(PASSWORD, name="unlockPassword")
            officer.key("Return")
            officer.wait_widget(name="userBadge", shown=True)
        shots.attempt(f"officer lock ({theme})", lock)

    # The drop-off done, the encounter saved, the shift ended: its summary.
    officer.go("crc")
    officer.key("ctrl+Return")
    officer.wait_widget(name="clearDropoff", shown=True)
    officer.key("ctrl+Return")
    officer.wait_widget(name="arrive", shown=True)
    officer.go("encounter")
    officer.key("ctrl+s")
    officer.wait_widget(cls="QLabel", text="^Encounter saved")
    officer.go("shift")
    officer.key("ctrl+shift+e")
    officer.click_widget(cls="QPushButton", text="Yes")
    officer.wait_window("Shift summary")
    close_dialogs(officer)

    def summary():
        officer.go("shift")
        officer.click_widget(name="lastShiftSummary")
    dialog(shots, officer, "officer-shift-summary", summary, "Shift summary")
    officer.sync_now()


def sergeant_day(shots: Shots, sergeant: Laptop, agency: Agency) -> None:
    sergeant.start()
    sergeant.sign_in(ROLES["sergeant"], server=agency.url)
    sergeant.sync_now()

    def pick_shift(key):
        if key == "review":
            sergeant.go("dashboard")  # the list as it is after the sync
            sergeant.go("review")
            sergeant.click_row("MHST-11", cls="QTableView")
    every_screen(shots, sergeant, "sergeant", pick_shift)
    for button, title, name in (("newAssignment", "New assignment", "sergeant-new-assignment"),
                                ("newFollowUp", "New follow-up", "sergeant-new-follow-up"),
                                ("importList", "CRC discharge list",
                                 "sergeant-import-discharge-list")):
        def open_it(button=button):
            sergeant.go("review")
            sergeant.click_widget(name=button)
        dialog(shots, sergeant, name, open_it, title)
    set_theme(sergeant, "day")
    sergeant.go("dashboard")
    sergeant.go("review")
    sergeant.click_row("MHST-11", cls="QTableView")
    sergeant.click_widget(name="reviewComment")
    sergeant.type("Add the hand-off time, and what he said about the ramada.")
    sergeant.key("alt+r")
    sergeant.row(r"MHST-11.*Returned", cls="QTableView")
    sergeant.sync_now()


def officer_returned(shots: Shots, officer: Laptop) -> None:
    """The officer back on the laptop: the returned shift, and its amendment."""
    officer.start()
    officer.sign_in(ROLES["officer"])
    officer.sync_now()
    for theme in THEMES:
        def notice(theme=theme):
            set_theme(officer, theme)
            officer.go("resources")
            officer.go("shift")
            officer.wait_widget(name="returnedComment", shown=True)
            shots.take(officer, f"officer-shift-returned-{theme}")
        shots.attempt(f"officer returned shift ({theme})", notice)

    def amend():
        officer.go("shift")
        officer.click_widget(name="amendRecord")
        officer.wait_window("Amend a record")
        officer.click_row("Encounter", name="amendRecords")
        officer.click_widget(name="amendReason")
        officer.type("Sergeant asked for the hand-off time.")
    dialog(shots, officer, "officer-amend", amend, "Amend a record")

    def signed_out():  # the sign-in screen in the night theme, after signing out
        close_dialogs(officer)
        set_theme(officer, "night")
        officer.sign_out()
        officer.wait_window("sign in", timeout=15)
        shots.take(officer, "signin-night")
    shots.attempt("sign-in (night)", signed_out)


def render(out: Path) -> Shots:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):  # its own, not those other scripts take (pair-, intake-)
        if old.name.startswith(("officer-", "clinician-", "peer-", "sergeant-", "signin-")):
            old.unlink()
    shots = Shots(out)
    work = Path(tempfile.mkdtemp(prefix="tandem-screenshots-"))
    xservers = XServers(work / "x")
    agency = None
    laptops: list[Laptop] = []
    try:
        x = xservers.take(SMALL)
        agency = Agency(make_agency_database(work / "template" / "agency.db"),
                        work / "agency").start()
        key = agency.add_integration("pima-cad", "mhst-1")
        agency.post_cad(key, incident=INCIDENT, priority=1, unit="MHST-11",
                        summary="Man on the bridge rail, talking about jumping",
                        place="Broadway Blvd bridge over the Tucson Wash")

        def laptop(name: str) -> Laptop:
            made = Laptop(x, work, name)
            laptops.append(made)
            return made

        officer = laptop("officer")
        shots.attempt("the officer's shift", lambda: officer_day(shots, officer, agency))
        officer.stop()
        for role in ("clinician", "peer"):
            other = laptop(role)

            def day(other=other, role=role):
                other.start()
                other.sign_in(ROLES[role], server=agency.url)
                every_screen(shots, other, role)
            shots.attempt(f"the {role}'s screens", day)
            other.stop()
        sergeant = laptop("sergeant")
        shots.attempt("the sergeant's review", lambda: sergeant_day(shots, sergeant, agency))
        sergeant.stop()
        shots.attempt("the returned shift", lambda: officer_returned(shots, officer))
    finally:
        for made in laptops:
            made.stop()
        if agency is not None:
            agency.stop()
        xservers.stop()
        shutil.rmtree(work, ignore_errors=True)
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "docs" / "screenshots",
                        help="where the PNGs go (default docs/screenshots; its PNGs are replaced)")
    shots = render(parser.parse_args(argv).out)
    print(f"{len(shots.made)} screenshots in {shots.out}")
    for line in shots.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    return 1 if shots.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
