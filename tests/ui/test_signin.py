"""Sign-in: offline unlock for a user with a cache here; errors next to the fields they concern."""

import pytest

from fieldapp import signin
from fieldapp.session import unlock
from tests.conftest import PASSWORD, make_session
from ui.app import Windows
from tests.ports import free_port
from ui.qt import Qt
from ui.signin import SignInView


@pytest.fixture
def cached_user(data_dir):
    make_session(data_dir).close()  # ofc.ramirez has signed in online before, on this laptop
    return "ofc.ramirez"


@pytest.fixture
def view(qtbot, data_dir):
    v = SignInView(data_dir)
    qtbot.addWidget(v)
    v.show()
    return v


def type_password(qtbot, view, password):
    """Type the password and press Return, with the username and banner as they are."""
    qtbot.keyClicks(view.password, password)
    qtbot.keyClick(view.password, Qt.Key.Key_Return)


def sign_in(qtbot, view, username, password):
    """Acknowledge the banner, type both fields and press Return."""
    view.acknowledge.setChecked(True)
    qtbot.keyClicks(view.username, username)
    type_password(qtbot, view, password)


def test_offline_sign_in_opens_the_main_window_and_audits(qtbot, data_dir, cached_user, theme):
    windows = Windows(data_dir, theme)
    view = windows.sign_in
    qtbot.addWidget(view)
    assert view.isMaximized()  # this screen has no room for 1366×768 and a title bar
    with qtbot.waitSignal(view.signed_in, timeout=10_000):
        sign_in(qtbot, view, cached_user, PASSWORD)
    main = windows.main
    qtbot.addWidget(main)
    assert main.isVisible() and not view.isVisible() and main.isMaximized()
    assert "ofc.ramirez" in main.user_label.text() and main.role_label.text() == "OFFICER"
    qtbot.waitUntil(lambda: main.tasks.idle, timeout=10_000)
    s = unlock(data_dir, cached_user, PASSWORD)
    try:
        assert s.db.execute("SELECT count(*) FROM audit_event WHERE action = 'sign_in' "
                            "AND outcome = 'success'").fetchone()[0] == 1
    finally:
        s.close()


def test_the_main_window_frame_is_built_during_sign_in_and_kept_after_a_wrong_password(
        qtbot, data_dir, cached_user, theme):
    windows = Windows(data_dir, theme)
    view = windows.sign_in
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.prepared, timeout=20_000):
        pass  # the worker has imported the main window: its frame is made, hidden
    frame = windows._frame
    assert frame is not None and not frame.isVisible() and windows.main is None
    assert frame.user_label.text() == "" and frame.role_label.text() == ""
    assert frame.nav_buttons == {} and frame.views == {}
    sign_in(qtbot, view, cached_user, "wrong")
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=10_000)
    assert view.errors.shown() == {"password": "wrong password"}
    assert windows._frame is frame and windows.main is None  # kept for the next try, unopened
    with qtbot.waitSignal(view.signed_in, timeout=10_000):
        type_password(qtbot, view, PASSWORD)
    main = windows.main
    qtbot.addWidget(main)
    assert main is frame and windows._frame is None and main.isVisible()
    assert "ofc.ramirez" in main.user_label.text() and main.role_label.text() == "OFFICER"
    assert main.current_key == "shift"
    qtbot.waitUntil(lambda: main.tasks.idle, timeout=10_000)


def test_wrong_password_is_marked_on_the_password_field(qtbot, view, cached_user):
    sign_in(qtbot, view, cached_user, "wrong")
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=10_000)
    assert view.errors.shown() == {"password": "wrong password"}
    assert view.password.text() == ""


def test_unknown_user_is_told_to_sign_in_online(qtbot, view):
    sign_in(qtbot, view, "new.user", "x")
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=10_000)
    assert "agency server" in view.errors.shown()["server"]


def test_banner_must_be_acknowledged(qtbot, view, cached_user):
    qtbot.keyClicks(view.username, cached_user)
    type_password(qtbot, view, PASSWORD)
    assert "acknowledge" in view.errors.shown()
    assert view.button.isEnabled()


def test_five_failures_lock_the_account(qtbot, view, cached_user, data_dir):
    view.acknowledge.setChecked(True)
    qtbot.keyClicks(view.username, cached_user)
    for _ in range(signin.MAX_FAILURES + 1):
        type_password(qtbot, view, "wrong")
        qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=10_000)
    assert signin.is_locked(data_dir, cached_user)
    assert "locked" in view.errors.shown()[""]


def test_enter_in_the_server_field_signs_in_and_a_new_try_clears_the_old_error(qtbot, view):
    """Issue 14, defect 13: Enter in the server field did nothing, and the error of the last
    try stayed on screen."""
    sign_in(qtbot, view, "new.user", "x")  # no copy here: asked for the server
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=10_000)
    assert "agency server" in view.errors.shown()["server"]
    qtbot.keyClicks(view.password, "x")
    qtbot.keyClicks(view.server, f"http://127.0.0.1:{free_port()}")
    qtbot.keyClick(view.server, Qt.Key.Key_Return)
    assert view.button.text() == "Signing in…" and view.errors.shown() == {}  # the old one went
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=30_000)
    assert view.errors.shown()["server"].startswith(
        "Agency server not answering (connection refused). The server is down or the address "
        "is wrong.")


def test_the_terms_are_asked_for_in_plain_words(qtbot, view, cached_user):
    qtbot.keyClicks(view.username, cached_user)
    type_password(qtbot, view, PASSWORD)
    assert view.errors.shown() == {
        "acknowledge": "Tick the box above to accept the terms of use, then sign in."}
