"""The sign-in window with a second factor, against a real agency server: a first sign-in sets
up an authenticator app from the QR code (a real TOTP generator reads its key) and shows the
recovery codes once; past the offline window, the same window signs in online with the code."""

import time

import pyotp
import pytest

from fieldapp import reauth
from sync.server import agency_settings
from tests.conftest import PASSWORD
from tests.sync.conftest import Agency
from ui.qt import QApplication, Qt, QTimer
from ui.signin import SignInView
from ui.two_factor import EnrolDialog, QrCode, RecoveryCodesDialog

USER = "ofc.ramirez"


@pytest.fixture
def agency(tmp_path):
    server = Agency(f"sqlite:///{tmp_path / 'server' / 'agency.db'}")
    with server.engine.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "required")
    server.add_user(USER)
    yield server
    server.stop()


def dialog_of(kind):
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, kind) and w.isVisible()), None)


def test_first_sign_in_sets_up_the_app_then_the_window_asks_for_its_code(
        qtbot, data_dir, agency):
    view = SignInView(data_dir)
    qtbot.addWidget(view)
    view.show()
    view.acknowledge.setChecked(True)
    qtbot.keyClicks(view.username, USER)
    qtbot.keyClicks(view.server, agency.url)
    qtbot.keyClicks(view.password, PASSWORD)
    seen = {}

    def scan_and_type():  # the user, in front of the modal dialogs
        enrol = dialog_of(EnrolDialog)
        if enrol is not None and "codes" not in seen:
            app = pyotp.TOTP(agency.scalar("SELECT secret FROM two_factor"))  # the phone
            assert enrol.findChild(QrCode).matrix  # the QR code is drawn
            seen["enrol"] = True
            qtbot.keyClicks(enrol.entry, app.now())
            enrol.accept()
        codes = dialog_of(RecoveryCodesDialog)
        if codes is not None:
            seen["codes"] = codes.codes.toPlainText().split("\n")
            codes.accept()

    timer = qtbot_timer(qtbot, scan_and_type)
    with qtbot.waitSignal(view.signed_in, timeout=60_000) as signed:
        qtbot.keyClick(view.password, Qt.Key.Key_Return)
    timer.stop()
    assert seen["enrol"] and len(seen["codes"]) == 10
    session = signed.args[0]
    assert session.profile.username == USER
    # past the offline window, the window signs in online again: it asks for the code
    with agency.engine.begin() as conn:
        agency_settings.set_value(conn, "offline_unlock_hours", "1")
    from fieldapp.session import unlock
    cache = unlock(data_dir, USER, PASSWORD)
    with cache.db.atomic():
        cache.db.execute("UPDATE sync_state SET signed_in_online_at = '2026-01-01T00:00:00Z'")
    cache.close()
    again = SignInView(data_dir)
    qtbot.addWidget(again)
    again.show()
    again.acknowledge.setChecked(True)
    qtbot.keyClicks(again.username, USER)
    qtbot.keyClicks(again.password, PASSWORD)
    qtbot.keyClick(again.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: again.button.isEnabled(), timeout=30_000)
    assert "authenticator" in again.errors.shown()["code"]
    assert again.password.text() == PASSWORD  # kept: only the code is missing
    secret = agency.scalar("SELECT secret FROM two_factor")
    qtbot.keyClicks(again.code, pyotp.TOTP(secret).at(time.time() + 30))
    with qtbot.waitSignal(again.signed_in, timeout=30_000):
        qtbot.keyClick(again.code, Qt.Key.Key_Return)
    cache = unlock(data_dir, USER, PASSWORD)
    reauth.check(cache)  # the window starts again
    cache.close()


def qtbot_timer(qtbot, callback):
    """Call `callback` every 100 ms on the event loop (modal dialogs run their own loop)."""
    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(callback)
    timer.start()
    return timer
