"""Resource lookup over the seed directory: search as you type, filters, one-click copy."""

import pytest

import seeds
from fieldapp import directory, hsds
from tests.ui.conftest import settle
from ui.qt import QApplication, Qt
from ui.resources import ResultsModel, search


@pytest.fixture
def with_directory(officer):
    directory.replace_directory(officer.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    return officer


def wait_results(qtbot, window, view, text):
    qtbot.waitUntil(lambda: not view._timer.isActive(), timeout=5000)
    settle(qtbot, window)


def test_search_as_you_type_filter_and_copy(qtbot, open_window, with_directory):
    window = open_window(with_directory)
    view = window.show_screen("resources")
    settle(qtbot, window)
    everything = view.results.rowCount()
    assert everything > 5 and view.category.count() > 5

    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.query.hasFocus()
    qtbot.keyClicks(view.query, "crisis")
    wait_results(qtbot, window, view, "crisis")
    names = [view.results.rows[r]["name"] for r in range(view.results.rowCount())]
    assert names and view.results.rowCount() < everything

    qtbot.mouseClick(view.le_dropoff, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert view.results.rowCount() >= 1
    assert all(r["le_dropoff"] for r in view.results.rows)

    first = view.results.rows[0]
    assert first["name"] in view.detail.text()
    qtbot.mouseClick(view.copy_phone, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == first["phone"]["number"]
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == first["address"]


def test_the_count_says_what_was_searched_when_a_word_was_corrected_or_left_out(
        qtbot, open_window, with_directory):
    """The crisis center is a law-enforcement drop-off, whose results carry its posted status."""
    window = open_window(with_directory)
    view = window.show_screen("resources")
    for typed, searched in (("crisiss", "crisis"), ("detox tonight", "detox")):
        view.query.setText(typed)
        wait_results(qtbot, window, view, typed)
        assert view.results.rowCount() >= 1
        assert view.count.text().endswith(f"for “{searched}”"), (typed, view.count.text())
    assert any(r.get("le_dropoff") for r in view.results.rows)


def test_twenty_four_seven_filter(qtbot, open_window, with_directory):
    window = open_window(with_directory)
    view = window.show_screen("resources")
    settle(qtbot, window)
    qtbot.mouseClick(view.twenty_four_seven, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert view.results.rowCount() >= 1
    assert all(r["twenty_four_seven"] for r in view.results.rows)


def test_results_model(qtmodeltester, with_directory):
    model = ResultsModel()
    model.set_rows(search(with_directory, "shelter", {}))
    assert model.rowCount() > 0
    qtmodeltester.check(model)


def test_copy_phone_on_the_crc_entrance_copies_its_call_ahead_line_not_its_fax(
        qtbot, open_window, with_directory):
    window = open_window(with_directory)
    view = window.show_screen("resources")
    settle(qtbot, window)
    qtbot.keyClicks(view.query, "law enforcement drop-off")
    wait_results(qtbot, window, view, "law enforcement drop-off")
    row = next(n for n, r in enumerate(view.results.rows) if "Law Enforcement" in r["name"])
    view.list.setCurrentIndex(view.results.index(row))

    shown = view.results.data(view.results.index(row))
    assert "520-555-0110" in shown and "520-555-0111" not in shown
    qtbot.mouseClick(view.copy_phone, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "520-555-0110"
    assert "Fax: 520-555-0111" in view.detail.text()
