"""One key, one meaning: a screen's key is the same for every role (a role that does not see a
screen has no key for it), no two actions that can be live at once share a key, and F1 lists
every key of the role's window."""

import pytest

from fieldapp.records import ROLES
from tests.conftest import make_session
from tests.ui.conftest import settle
from ui.mainwindow import SCREENS
from ui.qt import QKeySequence, Qt

SCREEN_KEYS = [keys for *_, keys in SCREENS]


def press(qtbot, window, keys: str) -> None:
    combo = QKeySequence(keys)[0]
    qtbot.keyClick(window, combo.key(), combo.keyboardModifiers())
    settle(qtbot, window)


def test_a_key_opens_the_same_screen_whatever_the_role(qtbot, open_window, data_dir):
    """Every screen key pressed in each role's window: a key that opens a screen opens that same
    screen for every role (once, Ctrl+3 was Encounter for an officer and Shift for a sergeant)."""
    opens: dict[str, dict[str, str]] = {}  # key -> role -> screen it opened
    for role in ROLES:
        session = make_session(data_dir / role, f"user.{role}", role)
        try:
            window = open_window(session)
            home = window.current_key
            seen = {key for key, *_ in window.screens}
            for keys in SCREEN_KEYS:
                press(qtbot, window, keys)
                if window.current_key != home:
                    opens.setdefault(keys, {})[role] = window.current_key
                    window.show_screen(home)
            assert seen <= {opened for by_role in opens.values()
                            for r, opened in by_role.items() if r == role} | {home}
        finally:
            session.close()
    differ = {keys: by_role for keys, by_role in opens.items() if len(set(by_role.values())) > 1}
    assert not differ


@pytest.mark.parametrize("role", ROLES)
def test_no_key_means_two_things_and_f1_lists_them_all(qtbot, open_window, data_dir, role):
    """The window's keys are live on every screen, a screen's own only while it shows: a key
    must not be both, nor twice on one screen."""
    session = make_session(data_dir, f"user.{role}", role)
    try:
        window = open_window(session)
        everywhere = [a for a in window.actions() if not a.shortcut().isEmpty()]
        clashes = []
        for key, title, *_ in window.screens:
            live = everywhere + [a for a in window.view(key).actions()
                                 if not a.shortcut().isEmpty()]
            bound = {}
            for action in live:
                keys = action.shortcut().toString()
                if keys in bound:
                    clashes.append(f"{title}: {keys} is both {bound[keys]!r} and "
                                   f"{action.text()!r}")
                bound[keys] = action.text()
        assert not clashes, "\n".join(clashes)

        qtbot.keyClick(window, Qt.Key.Key_F1)
        listed = {(keys, what) for _screen, keys, what in window.help_overlay.rows}
        for key, title, *_ in window.screens:
            assert any(what == f"Go to {title}" for _keys, what in listed), title
        window.help_overlay.close()
        settle(qtbot, window)
    finally:
        session.close()
