"""Every screen of every role and every dialog, at 1024×768 (a common in-car screen),
1366×768 and 1024×680 (768 under a panel and a title bar), in the day and the night theme:
the window fits, no label or button text is cut off, nothing scrolls sideways, and every
control is at least 44 px either way. Each is measured as first shown and again with every
line that wraps saying a long message ending in a word longer than a line (field errors,
what became of a save, the lines that show records), and the main window with the agency
server gone: words that appear later must wrap, elide or scroll, never push the window past
the screen. As first shown, no screen scrolls as a page around a list that scrolls too (with
every message at once, a page may: everything must still be reached).

The measures are in tests/ui/geometry.py; each problem is reported by screen, size and theme.
"""

import secrets
from datetime import date, timedelta

import pytest

import seeds
from fieldapp import crc, demo, directory, hsds, persons, shift_summary, shifts
from fieldapp.timeutil import utc_now
from sync import credentials
from tests.conftest import make_session
from tests.ports import free_port
from tests.ui import geometry
from tests.ui.conftest import settle
from ui.qt import QLabel, QMessageBox, Qt
from ui.amend import AmendDialog
from ui.releases import ReleaseDialog
from ui.review import AssignmentDialog, FollowUpDialog
from ui.shift_summary import ShiftSummaryDialog
from ui.signin import SignInView
from ui.two_factor import EnrolDialog

# The two screens, and the smaller of them less a desktop's panel and a window's title bar
# (GNOME, KDE and Windows leave 680-700 px of a 768-px screen to a maximized window).
SIZES = ((1024, 768), (1366, 768), (1024, 680))
THEMES = ("day", "night")
ROLES = {"officer": ("ofc.ramirez", ("mhst-1",)), "clinician": ("clin.okafor", ("mhst-1",)),
         "peer": ("peer.jackson", ("outreach-1",)),
         "supervisor": ("sgt.morales", ("mhst-1", "co-resp-2", "outreach-1")),
         # the role with the most screens
         "clinical_supervisor": ("dr.hale", ("mhst-1", "co-resp-2"))}


def seeded(data_dir, role: str):
    """A cache as the demo leaves it: the team's people, follow-ups and assignments, the
    directory; for the crew a shift under way with their partner (the clinician also at the
    CRC)."""
    username, teams = ROLES[role]
    session = make_session(data_dir / role, username, role, teams)
    if role != "peer":
        demo.seed_case_data(session, date.today())
    directory.replace_directory(session.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    if role == "officer":  # yesterday's shift, with the drop-offs its summary lists
        worked_shift(session, utc_now() - timedelta(hours=20))
    if role in ("officer", "clinician"):  # a co-responder pair: the shift names the partner
        partner = {"officer": ("clin.okafor", "clinician"),
                   "clinician": ("ofc.ramirez", "officer")}[role]
        shift = shifts.start_shift(session, "MHST-11", "V-2214",
                                   [{"username": partner[0], "role": partner[1]}],
                                   at=utc_now() - timedelta(hours=2))
        if role == "clinician":
            crc.arrive(session, "voluntary", shift_id=shift, at=utc_now() - timedelta(minutes=8))
    return session


def worked_shift(session, start) -> None:
    """An ended shift with a drop-off inside the target and one over it."""
    shift = shifts.start_shift(session, "MHST-11", "V-2214", [], at=start)
    for minutes, check_in in ((30, 0.1), (200, 12.4)):
        dropoff = crc.arrive(session, "involuntary", shift_id=shift,
                             at=start + timedelta(minutes=minutes))
        crc.hand_off(session, dropoff, at=start + timedelta(minutes=minutes + check_in),
                     delay_reason="intake queue" if check_in > 7 else None)
    shifts.end_shift(session, shift, at=start + timedelta(hours=10))


def server_gone(qtbot, window, session) -> None:
    """The agency server a signed-in laptop syncs with stops answering: the sync bar says why,
    beside the changes waiting."""
    credentials.RefreshTokens(session).save(secrets.token_urlsafe())
    session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1",
                       [f"http://127.0.0.1:{free_port()}"])
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: not window.status.syncing, timeout=30_000)
    assert window.status.connection.text() == (
        "● Offline · agency server not answering (connection refused)")


# As long as the longest a save can say (a refused server's address check, sync.failures),
# then a word longer than any line: a pasted link, a CAD attachment's name, a long address.
MESSAGE = ("Not saved: Agency server not answering (connection refused). The server is down "
           "or the address is wrong. Tandem keeps working and tries again; if it lasts, check "
           "the address in Settings or call agency IT. https://cad.example.gov/incidents/"
           "2026-000123/attachments/" + "scene-photo-" * 12 + "1.jpg")


def measured_with_messages(qtbot, window, root, measure) -> list[str]:
    """`measure()` with every label under `root` that wraps saying MESSAGE at once, shown:
    the messages that come later (a field's error, what became of a save) and the lines that
    show records (a returned shift's comment, a call's summary). Put back afterwards."""
    said = [(w, w.text(), w.isHidden()) for w in root.findChildren(QLabel)
            if w.wordWrap() and w.parentWidget().isVisible()]
    for label, _text, _hidden in said:
        label.setText(MESSAGE)
        label.show()
    wait(qtbot, window)
    try:
        return [f"with messages: {p}" for p in measure()]
    finally:
        for label, text, hidden in said:
            label.setText(text)
            label.setVisible(not hidden)


def wait(qtbot, window) -> None:
    settle(qtbot, window)
    qtbot.wait(20)  # queued layout passes (a wrapped list lays its rows out after a resize)
    settle(qtbot, window)


def sizes_and_themes(qtbot, theme, windows, measure):
    """`measure()` with the windows at each size, in each theme; its problems, each prefixed
    with where. (A theme change restyles every widget: two changes, not one per screen.)"""
    found = []
    before = theme.name
    try:
        for theme_name in THEMES:
            theme.apply(theme_name)
            for width, height in SIZES:
                for window in windows:
                    window.resize(width, height)
                    wait(qtbot, window)
                    found += [f"{theme_name} {width}×{height} {p}"
                              for p in geometry.too_big(window, width, height)]
                found += [f"{theme_name} {width}×{height} {p}" for p in measure()]
    finally:
        theme.apply(before)
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_screen_fits_1024_by_768_with_touch_sized_controls(qtbot, open_window, theme,
                                                                 data_dir, role):
    session = seeded(data_dir, role)
    try:
        window = open_window(session)
        server_gone(qtbot, window, session)

        def every_screen():
            found = []
            width, height = window.width(), window.height()
            for key, *_ in window.screens:
                view = window.show_screen(key)
                wait(qtbot, window)
                if key == "followups" and view.model.rowCount():
                    view.table.selectRow(0)
                    wait(qtbot, window)
                found += [f"{key}: {p}" for p in geometry.problems(window)
                          + geometry.scrolling_inside_scrolling(window)]
                if width == SIZES[0][0]:
                    found += [f"{key}: {p}" for p in geometry.combo_rows(window)]
                found += [f"{key}: {p}" for p in measured_with_messages(
                    qtbot, window, window, lambda: geometry.too_big(window, width, height)
                    + geometry.problems(window))]
            return found

        found = sizes_and_themes(qtbot, theme, [window], every_screen)
        assert not found, "\n".join(found)
    finally:
        session.close()


def test_every_dialog_fits_1024_by_768_with_touch_sized_controls(qtbot, open_window, theme,
                                                                 data_dir):
    """Each dialog opened over a window of each size, as a user opens it there."""
    sergeant = seeded(data_dir, "supervisor")
    officer = seeded(data_dir, "officer")
    try:
        window = open_window(sergeant)
        crew = open_window(officer)
        summary = shift_summary.summarize_last(officer)
        dashboard = window.show_screen("dashboard")
        makers = {
            "new assignment": (window, lambda: AssignmentDialog(window, "MHST-11")),
            "new follow-up": (window, lambda: FollowUpDialog(window, window.ctx)),
            "keyboard shortcuts": (window, window.show_help),
            "settings": (crew, crew.show_settings),
            "export": (window, lambda: dashboard.choose_file("pdf")),
            "shift summary": (crew, lambda: ShiftSummaryDialog(summary, crew)),
            "end shift": (crew, lambda: end_shift_box(crew)),
            "amend": (crew, lambda: AmendDialog(crew.ctx, {
                "shift": shifts.active_shift(officer),
                "review": {"author": "sgt.morales", "comment": "Describe the force used."}}, crew)),
            "import": (window, lambda: import_dialog(window)),
            "release": (crew, lambda: release_dialog(crew, officer)),
            "authenticator": (crew, lambda: EnrolDialog(crew, OTP_URI, OTP_SECRET)),
        }

        def every_dialog():
            found = []
            for what, (parent, make) in makers.items():
                dialog = make()
                dialog.show()
                qtbot.waitExposed(dialog)
                wait(qtbot, parent)
                found += [f"{what}: {p}" for p in
                          geometry.too_big(dialog, parent.width(), parent.height())
                          + geometry.problems(dialog) + geometry.combo_rows(dialog)]
                found += [f"{what}: {p}" for p in measured_with_messages(
                    qtbot, parent, dialog,
                    lambda: geometry.too_big(dialog, parent.width(), parent.height())
                    + geometry.problems(dialog))]
                dialog.close()
            return found

        found = sizes_and_themes(qtbot, theme, [window, crew], every_dialog)
        assert not found, "\n".join(found)
    finally:
        sergeant.close()
        officer.close()


def import_dialog(window):
    view = window.show_screen("review")
    view.import_list()
    return view.import_dialog


OTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTP_URI = f"otpauth://totp/Tandem:ofc.ramirez?secret={OTP_SECRET}&issuer=Tandem"


def release_dialog(window, session):
    """Recording a signed release for a person the demo put on file."""
    person = persons.search_people(session, "", teams=["mhst-1"])[0]
    members = [{"username": "clin.okafor", "display_name": "Dr. Amara Okafor",
                "role": "clinician"}]
    return ReleaseDialog(window.ctx, person, members, window)


def end_shift_box(window):
    view = window.show_screen("shift")
    view.end()
    return view.findChild(QMessageBox, "confirmEndShift")


def test_sign_in_fits_with_a_notice_and_every_message(qtbot, theme, data_dir):
    """The first window anyone sees, as a sign-out leaves it (its notice says why) and with
    every error it can show."""
    view = SignInView(data_dir, "You were signed out after 10 minutes without input. Your "
                                "changes were kept on this laptop and go to the agency server "
                                "at the next sync.")
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)

    def measure():
        width, height = view.width(), view.height()
        return geometry.problems(view) + measured_with_messages(
            qtbot, view, view,
            lambda: geometry.too_big(view, width, height) + geometry.problems(view))

    found = sizes_and_themes(qtbot, theme, [view], measure)
    assert not found, "\n".join(found)
