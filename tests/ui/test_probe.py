"""ui/probe.py, the acceptance suite's window into a running app: off without TANDEM_PROBE,
and with it, never a password, a typed note or a list row's text in what it writes."""

import json
import sys

import pytest

from tests.ui.conftest import settle
from ui import probe
from ui.models import RowsListModel
from ui.qt import QListView
from ui.signin import SignInView

NOTE = "he said he would jump from the bridge"
PASSWORD = "hunter2-not-in-the-log"


class Notes(RowsListModel):
    def display(self, row: dict) -> str:
        return row["note"]


@pytest.fixture
def probing(tmp_path, monkeypatch, qapp):
    """The probe installed on the test's app, writing to a file; taken out again after."""
    path = tmp_path / "probe.jsonl"
    monkeypatch.setenv(probe.ENV, str(path))
    monkeypatch.setattr(probe, "_probe", None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    probe.install(qapp)
    yield path
    qapp.removeEventFilter(probe._probe)
    probe._probe._timer.stop()
    probe._probe._file.close()


def ask(qtbot, path, find=()) -> dict:
    """Write a request beside the log; the answer the app appends."""
    path.with_name(path.name + ".request").write_text(json.dumps({"id": 7, "find": find}))

    def answered():
        return [json.loads(line) for line in path.read_text().splitlines()
                if '"widgets"' in line]
    qtbot.waitUntil(lambda: bool(answered()), timeout=5000)
    return answered()[0]


def test_off_without_the_variable(monkeypatch, qapp):
    monkeypatch.delenv(probe.ENV, raising=False)
    monkeypatch.setattr(probe, "_probe", None)
    probe.install(qapp)
    assert probe._probe is None
    probe.event("sync", ok=True)  # nothing to write to, nothing written


def test_widgets_without_passwords_notes_or_rows(probing, qtbot, open_window, officer,
                                                data_dir):
    window = open_window(officer)
    encounter = window.show_screen("encounter")
    encounter.police_note.setPlainText(NOTE)
    settle(qtbot, window)
    sign_in = SignInView(data_dir)
    qtbot.addWidget(sign_in)
    sign_in.password.setText(PASSWORD)
    sign_in.show()
    notes = QListView()
    qtbot.addWidget(notes)
    model = Notes()
    model.set_rows([{"note": NOTE}, {"note": "another"}])
    notes.setModel(model)
    notes.show()

    answer = ask(qtbot, probing, find=["bridge"])
    written = probing.read_text()
    assert PASSWORD not in written and NOTE not in written
    widgets = [w for win in answer["windows"] for w in win["widgets"]]
    note = next(w for w in widgets if w["name"] == "policeNote")
    assert note["length"] == len(NOTE) and "text" not in note
    assert note["screen"] == "encounter"
    password = next(w for w in widgets if w["name"] == "password")
    assert password["password"] and password["length"] == len(PASSWORD)
    rows = next(w for w in widgets if w["class"] == "QListView" and w["row_count"] == 2)["rows"]
    assert [r["match"] for r in rows] == [[0], []]
    main = next(win for win in answer["windows"] if win["class"] == "MainWindow")
    assert main["screen"] == "encounter"
    banner = next(w for w in widgets if w.get("text", "").startswith("This system is for"))
    assert banner["kinds"][:2] == ["WrappedLabel", "QLabel"]  # found as a QLabel too
    shown = [json.loads(line) for line in written.splitlines()]
    assert {"event": "screen", "key": "encounter"}.items() <= next(
        e for e in shown if e["event"] == "screen" and e["key"] == "encounter").items()
    sign_in.close()


def test_accessible_names_and_patterns_across_a_cells_line_break(probing, qtbot, open_window,
                                                                 officer):
    """The header's "⚙" button is found by what a screen reader says, and a row pattern
    matches a two-line cell ("MHST-11 · Mon 30 Nov" over "Returned") as one text."""
    window = open_window(officer)
    settle(qtbot, window)
    rows = QListView()
    qtbot.addWidget(rows)
    model = Notes()
    model.set_rows([{"note": "MHST-11 · Mon 30 Nov\nReturned"}, {"note": "MHST-12\nWaiting"}])
    rows.setModel(model)
    rows.show()

    answer = ask(qtbot, probing, find=[r"MHST-11.*Returned"])
    widgets = [w for win in answer["windows"] for w in win["widgets"]]
    settings = next(w for w in widgets if w["name"] == "settingsButton")
    assert (settings["text"], settings["accessible"]) == ("⚙", "Settings")
    listed = next(w for w in widgets if w["class"] == "QListView" and w["row_count"] == 2)
    assert [r["match"] for r in listed["rows"]] == [[0], []]
