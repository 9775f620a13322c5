"""Screenshots of the pair's screens through the real app: an embedded agency server, the
officer's and the clinician's laptop caches syncing through it, then the clinician's main
window on a real X server. Day and night, at 1366×768 and 1024×768.

    Xvfb :21 -screen 0 1366x768x24 &
    DISPLAY=:21 QT_QPA_PLATFORM=xcb .venv/bin/python scripts/pair_screenshots.py docs/screenshots

Writes encounters-*.png (the list, a pair's call selected), pair-encounter-*.png (that call
opened in the encounter form, both notes shown), releases-*.png and release-record-*.png (the
releases screen, and recording a signed one). The data is the demo's, fictional.
"""

import secrets
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldapp import (assignments, demo, encounters, persons, releases,  # noqa: E402
                      shifts)
from fieldapp.timeutil import utc_now  # noqa: E402
from sync import engine, online  # noqa: E402
from sync.server import accounts  # noqa: E402
from sync.server.db import make_engine  # noqa: E402
from sync.server.embedded import start_local_server  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)  # a throwaway server; made anew each run
SIZES = {"": (1366, 768), "-1024": (1024, 768)}
RAYMOND, BLUE_JACKET, PREACHER = ("01a1961f-5c00-7c59-b837-ca9e2a258040",
                                  "01a1961f-63d0-7212-959c-cace3240a0ec",
                                  "01a1961f-7758-7e66-a87b-806a0018367a")


def documented_shift(root: Path):
    """A server and two laptops after a shift's calls, synced; returns (clinician, the pair's
    encounter id, the server)."""
    server = start_local_server(root / "server")
    db = make_engine(server.db_url)
    with db.begin() as conn:
        accounts.add_user(conn, "ofc.ramirez", "officer", ["mhst-1"], PASSWORD,
                          "Ofc. Jordan Ramirez", "MHST-11", "V-2214")
        accounts.add_user(conn, "clin.okafor", "clinician", ["mhst-1"], PASSWORD,
                          "Adaeze Okafor, LPC", "MHST-11", "V-2214")
    db.dispose()
    officer = online.login(root / "officer-laptop", server.url, "ofc.ramirez", PASSWORD)
    clinician = online.login(root / "clinician-laptop", server.url, "clin.okafor", PASSWORD)
    demo.seed_case_data(officer, date.today())
    engine.run_sync(officer)
    engine.run_sync(clinician)

    start = utc_now() - timedelta(hours=5)
    sid = shifts.start_shift(officer, "MHST-11", "V-2214",
                             [{"username": "clin.okafor", "role": "clinician"}], at=start)
    engine.run_sync(officer)
    engine.run_sync(clinician)
    # earlier calls: a welfare check he wrote up, a park contact she wrote up
    welfare = encounters.save_documentation(officer, "01a1a000-0000-7000-8000-000000000001", {
        "shift_id": sid, "started_at": start + timedelta(minutes=40),
        "presenting_situation": "welfare_check", "place": "Santa Rita Park, north ramada",
        "disposition": "resolved_on_scene", "deflection": True,
        "police_note": "Sleeping in the ramada; woke him from a distance. Accepted water, "
                       "declined shelter tonight."}, [{"id": BLUE_JACKET, "kind": "alias"}])
    encounters.save_documentation(clinician, "01a1a000-0000-7000-8000-000000000002", {
        "shift_id": sid, "started_at": start + timedelta(minutes=95),
        "presenting_situation": "homelessness", "place": "Reid Park, east ramada",
        "disposition": "referred", "connected_to_care": True},
        [{"id": PREACHER, "kind": "alias"}],
        note="Engaged well; agreed to a warm hand-off to the outreach peer tomorrow 9:00.")
    # the pair's call: both write it up at the door, before either laptop syncs
    call = next(a["id"] for a in assignments.open_assignments(officer)
                if a["cad_incident"] == "T2611210042")
    assignments.take(officer, call, "MHST-11", sid, at=start + timedelta(hours=3))
    his = encounters.form_for_assignment(officer, call)
    encounters.save_documentation(officer, his["id"], {
        **his["values"], "shift_id": sid, "started_at": start + timedelta(hours=3, minutes=9),
        "presenting_situation": "suicidal_ideation", "pickup_order_attempted": False,
        "police_note": "Mother let us in. Subject barricaded in bedroom; talked through the "
                       "door 20 min, opened it himself. No weapons found. Transported "
                       "voluntarily, no force."}, [{"id": RAYMOND, "kind": "named"}])
    hers = encounters.form_for_assignment(clinician, call)
    encounters.save_documentation(clinician, hers["id"], {
        **hers["values"], "shift_id": sid, "started_at": start + timedelta(hours=3, minutes=9),
        "presenting_situation": "suicidal_ideation",
        "disposition": "transported_crc_voluntary", "connected_to_care": True,
        "warm_handoff_crisis_line": True}, [{"id": RAYMOND, "kind": "named"}],
        note="Passive SI for two weeks, no plan or means; sleeping 3 h a night since losing "
             "his job. Protective: mother, his dog. Agrees to voluntary evaluation at CRC; "
             "safety plan started with him and his mother.")
    for _ in range(2):
        engine.run_sync(officer)
        engine.run_sync(clinician)

    today = releases.today()
    for person, recipient, signed, ends, event in (
            (RAYMOND, "role:officer", 2, 120, "discharge from CRC follow-up"),
            (RAYMOND, "team:mhst-1", 360, 5, None),
            (BLUE_JACKET, "user:ofc.ramirez", 30, 9, None)):
        releases.add_release(clinician, person, {
            "discloser": "Adaeze Okafor, LPC, Old Pueblo PD MHST",
            "scope": "clinical_notes", "recipient": recipient,
            "purpose": "coordinated crisis follow-up with the MHST officers",
            "signed_on": today - timedelta(days=signed),
            "expires_on": today + timedelta(days=ends), "expiry_event": event})
    old = releases.add_release(clinician, RAYMOND, {
        "discloser": "CRC intake clinician", "scope": "clinical_notes",
        "recipient": "role:supervisor", "purpose": "program review",
        "signed_on": today - timedelta(days=200), "expires_on": today + timedelta(days=165)})
    releases.revoke_release(clinician, old)
    engine.run_sync(clinician)
    officer.close()
    return clinician, his["id"], server, welfare


def render(out_dir: Path) -> list[Path]:
    from ui.app import application
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, QPainter, QPen
    from ui.theme import Theme

    out_dir.mkdir(parents=True, exist_ok=True)
    app = application()
    theme = Theme(app)
    clinician, pair, server, _welfare = documented_shift(Path(tempfile.mkdtemp(prefix="pair-")))
    window = MainWindow(clinician, theme, auto_sync_seconds=0)
    window.move(0, 0)
    window.show()
    made = []

    def settle():
        for _ in range(1000):
            app.processEvents()
            if window.tasks.idle:
                break
            QApplication.instance().thread().msleep(10)
        for _ in range(20):
            app.processEvents()
            QApplication.instance().thread().msleep(5)

    def shoot(name: str, dialog=None) -> None:
        """The screen where the window is, as X shows it; a dialog (no window manager draws
        its frame here) outlined."""
        settle()
        g = window.frameGeometry()
        picture = app.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(), g.height())
        if dialog is not None:
            painter = QPainter(picture)
            painter.setPen(QPen(dialog.palette().color(dialog.foregroundRole()), 2))
            d = dialog.frameGeometry()
            painter.drawRect(d.x() - g.x(), d.y() - g.y(), d.width() - 1, d.height() - 1)
            painter.end()
        path = out_dir / f"{name}.png"
        picture.save(str(path))
        made.append(path)

    for suffix, size in SIZES.items():
        window.resize(*size)
        for theme_name in ("day", "night"):
            theme.apply(theme_name)
            listing = window.show_screen("encounters")
            settle()
            listing.team_button.click()
            settle()
            listing.table.selectRow(next(n for n, r in enumerate(listing.model.rows)
                                         if r["id"] == pair))
            shoot(f"encounters{suffix}-{theme_name}")
            form = window.show_screen("encounter")
            form.open_encounter(pair)
            settle()
            shoot(f"pair-encounter{suffix}-{theme_name}")
            form.new()
            view = window.show_screen("releases")
            settle()
            view.show_person(persons.view_person(clinician, RAYMOND))
            settle()
            view.table.clearSelection()
            shoot(f"releases{suffix}-{theme_name}")
            view.record()
            settle()
            dialog = view.dialog
            dialog.recipient_kind.setCurrentIndex(dialog.recipient_kind.findData("user"))
            dialog.purpose.setText("coordinated care with his outpatient counselor")
            dialog.expiry_event.setText("discharge from the program")
            dialog.adjustSize()
            g = window.frameGeometry()
            dialog.move(g.x() + (g.width() - dialog.width()) // 2,
                        g.y() + (g.height() - dialog.height()) // 2)
            shoot(f"release-record{suffix}-{theme_name}", dialog)
            dialog.reject()
            settle()
    window.close()
    clinician.close()
    server.stop()
    return made


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: scripts/pair_screenshots.py OUTDIR", file=sys.stderr)
        sys.exit(2)
    for p in render(Path(sys.argv[1])):
        print(p)
