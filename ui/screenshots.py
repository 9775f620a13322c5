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


def render(out_dir: Path) -> list[Path]:
    from ui.app import application
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, QPushButton
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
    made = []

    def settle():
        for _ in range(200):
            app.processEvents()
            if window.tasks.idle:
                break
            QApplication.instance().thread().msleep(10)
        app.processEvents()

    encounter = window.view("encounter")
    settle()
    for b in encounter.situation.buttons():
        b.setChecked(b.property("value") == "mental_health_crisis")
    encounter.place.setText("Reid Park, east ramada")
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
        for key, _title, _roles in window.screens:
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
        sign_in.show()
        settle()
        path = out_dir / f"signin-{theme_name}.png"
        sign_in.grab().save(str(path))
        made.append(path)
        sign_in.hide()
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
