"""Render every main screen in day and night at 1366×768: ``python -m ui.screenshots OUTDIR``.

Uses a throwaway data folder with the demo's seed data (a clinician, so the clinical note field
shows), the seed resource directory, a shift under way, and a CRC drop-off near its target.
"""

import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import seeds  # noqa: E402
from fieldapp import crc, demo, directory, hsds, outreach, shifts  # noqa: E402
from fieldapp.session import Profile, create_cache  # noqa: E402
from fieldapp.timeutil import utc_now  # noqa: E402

SIZE = (1366, 768)
# Drawn by scripts/pair_screenshots.py, from a real server and two laptops' caches.
PAIR_SCREENS = ("encounters", "releases")


def seed(data_dir: Path):
    session = create_cache(data_dir, Profile("clin.okafor", "clinician", ("mhst-1",),
                                             "Dr. Ada Okafor, LPC"), "screenshots only")
    demo.seed_case_data(session, date.today())
    directory.replace_directory(session.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    start = utc_now() - timedelta(hours=3)
    shift_id = shifts.start_shift(session, "MHST-11", "4471",
                                  [{"username": "ofc.ramirez", "role": "officer"}], at=start)
    for minutes, status in ((22, "en_route"), (31, "on_scene"), (95, "available"),
                            (120, "en_route"), (134, "on_scene"), (160, "transporting")):
        shifts.set_status(session, shift_id, status, at=start + timedelta(minutes=minutes))
    outreach.log_contact(session, services_offered=["food", "shelter_info"],
                         supplies=["water", "socks"], referral="shelter", place="Santa Rita Park")
    crc.arrive(session, "voluntary", shift_id=shift_id, at=utc_now() - timedelta(seconds=330))
    record = session.db.execute("SELECT id FROM assignment WHERE unit = 'MHST-11' ORDER BY received_at LIMIT 1").fetchone()
    if record:
        with session.db.atomic():
            session.db["conflict"].insert({
                "id": "demo-conflict", "table_name": "assignment", "record_id": record[0],
                "field": "place", "kept_value": '"Ronstadt Transit Center, bay 4"',
                "other_value": '"Ronstadt Transit Center, north side"',
                "detected_at": utc_now().isoformat()})
    return session


def seed_program_month(data_dir: Path):
    """A sergeant's copy holding a month of three teams' work (the metrics tests' month)."""
    from tests.metrics.month_fixture import TEAMS, build_month
    session = create_cache(data_dir, Profile("sgt.diaz", "supervisor", TEAMS, "Sgt. Luis Diaz"),
                           "screenshots only")
    build_month(session)
    return session


def seed_returned(data_dir: Path):
    """An officer's copy, off shift, holding yesterday's shift that the sergeant returned (the
    review as it arrives by sync: authored on the sergeant's laptop)."""
    from fieldapp import encounters
    from fieldapp.ids import new_id
    from fieldapp.timeutil import to_iso
    session = create_cache(data_dir, Profile("ofc.ramirez", "officer", ("mhst-1",),
                                             "Ofc. Dana Ramirez"), "screenshots only")
    start = utc_now() - timedelta(hours=20)
    shift_id = shifts.start_shift(session, "MHST-11", "4471",
                                  [{"username": "clin.okafor", "role": "clinician"}], at=start)
    encounter_id = encounters.save_encounter(session, {
        "shift_id": shift_id, "started_at": to_iso(start + timedelta(hours=2)),
        "presenting_situation": "suicidal_ideation", "place": "Reid Park, east ramada",
        "disposition": "transported_crc_involuntary", "use_of_force": True,
        "use_of_force_type": "physical_control", "police_note": "Resisted transport."})
    dropoff = crc.arrive(session, "involuntary", encounter_id, shift_id,
                         at=start + timedelta(hours=3))
    crc.hand_off(session, dropoff, at=start + timedelta(hours=3, minutes=12),
                 delay_reason="intake backed up")
    shifts.end_shift(session, shift_id, at=start + timedelta(hours=10))
    with session.db.atomic():
        stamp = session.stamp()
        session.db["shift_review"].insert({
            "id": new_id(), "created_hlc": stamp, "updated_hlc": stamp, "author": "sgt.diaz",
            "device": "sergeant-laptop", "server_version": 1, "deleted": 0, "team": "mhst-1",
            "shift_id": shift_id, "decision": "returned",
            "comment": "Describe the force used, and check the hand-off time.",
            "reviewed_at": to_iso(utc_now() - timedelta(hours=2))})
    return session


def over(window, dialog):
    """The window with the dialog centred on it, as the user sees them together."""
    from ui.qt import QPainter
    picture = window.grab()
    painter = QPainter(picture)
    x, y = (picture.width() - dialog.width()) // 2, (picture.height() - dialog.height()) // 2
    painter.drawPixmap(x, y, dialog.grab())
    painter.setPen(dialog.palette().color(dialog.foregroundRole()))
    painter.drawRect(x - 1, y - 1, dialog.width() + 1, dialog.height() + 1)
    painter.end()
    return picture


def render(out_dir: Path) -> list[Path]:
    from fieldapp import shift_summary
    from tests.metrics.month_fixture import MONTH
    from ui.app import application
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, QPushButton
    from ui.shift_summary import ShiftSummaryDialog
    from ui.signin import SignInView
    from ui.theme import Theme

    out_dir.mkdir(parents=True, exist_ok=True)
    app = application()
    theme = Theme(app)
    data_dir = Path(tempfile.mkdtemp(prefix="tandem-shots-"))
    session = seed(data_dir)
    window = MainWindow(session, theme, auto_sync_seconds=0)
    window.resize(*SIZE)
    window.show()
    sign_in = SignInView(data_dir)
    sign_in.resize(*SIZE)
    sergeant = seed_program_month(Path(tempfile.mkdtemp(prefix="tandem-shots-")))
    program = MainWindow(sergeant, theme, auto_sync_seconds=0)
    program.resize(*SIZE)
    program.show()
    officer = seed_returned(Path(tempfile.mkdtemp(prefix="tandem-shots-")))
    team = MainWindow(officer, theme, auto_sync_seconds=0)
    team.resize(*SIZE)
    team.show()
    made = []

    def settle(on=window):
        for _ in range(1000):
            app.processEvents()
            if on.tasks.idle:
                break
            QApplication.instance().thread().msleep(10)
        app.processEvents()

    encounter = window.view("encounter")
    settle()
    for b in encounter.situation.buttons():
        b.setChecked(b.property("value") == "mental_health_crisis")
    encounter.place.setText("Reid Park, east ramada")
    encounter.assignment.setCurrentIndex(min(1, encounter.assignment.count() - 1))
    encounter.person_text.setText("ray")  # the people on file it matches are listed to pick
    encounter.police_note.setPlainText("Caller's brother reports he has not slept in 3 days and "
                                       "is talking about 'ending it'. Met at the ramada; calm, "
                                       "agreed to talk with the clinician.")
    encounter.clinical_note.setPlainText("Denies a plan; passive ideation. Agrees to voluntary "
                                         "evaluation at CRC.")
    outreach_view = window.view("outreach")
    for name in ("service_food", "supply_water", "supply_hygiene_kit", "referral_shelter"):
        outreach_view.findChild(QPushButton, name).setChecked(True)
    settle()
    for theme_name in ("day", "night"):
        theme.apply(theme_name)
        for key, *_ in window.screens:
            if key in PAIR_SCREENS:
                continue
            view = window.show_screen(key)
            settle()
            if key == "followups" and view.model.rowCount():
                view.table.selectRow(0)
                settle()
            if key == "resources":
                view.query.setText("crisis")
                view.search()
                settle()
            path = out_dir / f"{key}-{theme_name}.png"
            window.grab().save(str(path))
            made.append(path)
        window.show_screen("shift")
        settle()
        dialog = ShiftSummaryDialog(shift_summary.summarize(session, window.ctx.shift_id), window)
        dialog.show()
        settle()
        path = out_dir / f"shift-summary-{theme_name}.png"
        over(window, dialog).save(str(path))
        made.append(path)
        dialog.close()
        dashboard = program.show_screen("dashboard")
        dashboard.time_zone = "America/Phoenix"  # the month's agency time zone
        dashboard.set_month(MONTH)
        settle(program)
        settle(program)  # the scroll area lays out again once the figures are in
        path = out_dir / f"dashboard-{theme_name}.png"
        program.grab().save(str(path))
        made.append(path)
        review_view = program.show_screen("review")
        settle(program)
        flagged = [n for n, r in enumerate(review_view.queue_model.rows)
                   if "use_of_force" in r["flags"]]
        if flagged:  # a shift with something to look at
            review_view.queue.selectRow(flagged[0])
            settle(program)
        path = out_dir / f"review-{theme_name}.png"
        program.grab().save(str(path))
        made.append(path)
        notice = team.show_screen("shift").returned  # the officer answers the returned shift
        settle(team)
        notice.amend_record()
        settle(team)
        amend = notice.amend_dialog
        amend.records_view.setCurrentIndex(amend.records.index(0))
        settle(team)
        note = amend.editors["police_note"].widget
        note.setPlainText("Resisted transport; escort hold by Ofc. Ramirez, no injuries.")
        amend.form_area.ensureWidgetVisible(note)
        amend.reason.setText("Sergeant asked how force was used.")
        path = out_dir / f"amend-{theme_name}.png"
        over(team, amend).save(str(path))
        made.append(path)
        amend.reject()
        settle(team)
        sign_in.show()
        settle()
        path = out_dir / f"signin-{theme_name}.png"
        sign_in.grab().save(str(path))
        made.append(path)
        sign_in.hide()
    window.show_screen("encounter")  # the lock covers a half-typed encounter
    window.session_lock.lock("on demand")
    for theme_name in ("day", "night"):
        theme.apply(theme_name)
        settle()
        path = out_dir / f"lock-{theme_name}.png"
        window.grab().save(str(path))
        made.append(path)
    program.close()
    sergeant.close()
    team.close()
    officer.close()
    window.close()
    sign_in.close()
    session.close()
    return made


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ui.screenshots OUTDIR", file=sys.stderr)
        return 2
    for path in render(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
