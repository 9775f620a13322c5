"""A peer logs a typical anonymous contact in at most 6 interactions, with no typing."""

import json

from tests.ui.conftest import settle
from ui.outreach import RecentContactsModel
from ui.qt import QPushButton, Qt


def test_typical_anonymous_contact_takes_at_most_six_interactions(qtbot, open_window, peer):
    window = open_window(peer)
    view = window.current_view  # a peer's home
    assert window.current_key == "outreach"
    interactions = 0

    def tap(name):
        nonlocal interactions
        qtbot.mouseClick(view.findChild(QPushButton, name), Qt.MouseButton.LeftButton)
        interactions += 1

    tap("service_food")
    tap("supply_water")
    tap("supply_hygiene_kit")
    tap("referral_shelter")
    tap("saveContact")
    settle(qtbot, window)
    assert interactions <= 6

    rows = list(peer.db.query("SELECT * FROM outreach_contact"))
    assert len(rows) == 1
    contact = rows[0]
    assert json.loads(contact["services_offered"]) == ["food"]
    assert json.loads(contact["supplies"]) == ["water", "hygiene_kit"]
    assert contact["referral"] == "shelter" and contact["person_id"] is None
    # what the HMIS export needs came with no extra tap: the street defaults
    assert (contact["living_situation"], contact["engaged"]) == ("unsheltered", 0)
    assert peer.db.execute("SELECT count(*) FROM outbox WHERE table_name = 'outreach_contact' "
                           "AND state = 'pending'").fetchone()[0] == 1
    # the form is ready for the next person, and the contact shows in the recent list
    assert not any(b.isChecked() for b in view.findChildren(QPushButton))
    assert view.recent.rowCount() == 1


def test_referral_is_one_choice_and_ctrl_s_saves(qtbot, open_window, peer):
    window = open_window(peer)
    view = window.current_view
    qtbot.mouseClick(view.findChild(QPushButton, "referral_shelter"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.findChild(QPushButton, "referral_detox"), Qt.MouseButton.LeftButton)
    assert view._chosen(view.referral) == ["detox"]
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert peer.db.execute("SELECT referral FROM outreach_contact").fetchone()[0] == "detox"


def test_recent_contacts_model(qtmodeltester, peer):
    from fieldapp import outreach
    outreach.log_contact(peer, services_offered=["food"], referral="crc", place="Ronstadt")
    model = RecentContactsModel()
    model.set_rows(outreach.recent_contacts(peer))
    qtmodeltester.check(model)


def test_living_situation_and_engagement_take_no_taps_when_usual_and_one_when_not(
        qtbot, open_window, peer):
    window = open_window(peer)
    view = window.current_view
    assert view.living.currentData() == "unsheltered" and not view.engaged.isChecked()
    qtbot.mouseClick(view.findChild(QPushButton, "saveContact"), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    qtbot.mouseClick(view.engaged, Qt.MouseButton.LeftButton)  # one tap: accepts case planning
    view.living.setCurrentIndex(view.living.findData("emergency_shelter"))
    qtbot.mouseClick(view.findChild(QPushButton, "saveContact"), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    rows = peer.db.execute("SELECT living_situation, engaged FROM outreach_contact "
                           "ORDER BY rowid").fetchall()
    assert rows == [("unsheltered", 0), ("emergency_shelter", 1)]
    # back to the usual answers for the next person
    assert view.living.currentData() == "unsheltered" and not view.engaged.isChecked()


def test_a_pasted_nul_is_named_on_the_form_and_the_contact_kept(qtbot, open_window, peer):
    """Text the server would refuse is refused at the form, with the typing left in place."""
    from ui.qt import QApplication
    window = open_window(peer)
    view = window.current_view
    QApplication.clipboard().setText("Ronstadt\x00 Transit Center")  # as a paste can bring
    view.place.paste()
    qtbot.mouseClick(view.findChild(QPushButton, "service_food"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.findChild(QPushButton, "saveContact"), Qt.MouseButton.LeftButton)
    label = view.errors.label("place")
    qtbot.waitUntil(label.isVisible)
    assert label.text().startswith("contains a NUL character") and "'Ronstadt'" in label.text()
    assert view.place.text() == "Ronstadt\x00 Transit Center"
    assert view.findChild(QPushButton, "service_food").isChecked()
    assert peer.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_a_contact_in_a_shape_the_list_cannot_show_says_so_and_the_app_goes_on(
        qtbot, open_window, peer):
    """A stranger with an account pushed a contact whose service is an object, not a code; it
    reached the team's laptops. Shown in the recent list it raised inside Qt's painting, which
    PySide turned into a segfault of the whole app on every teammate's laptop."""
    from fieldapp import outreach
    outreach.log_contact(peer, services_offered=["food"], place="Ronstadt")
    with peer.db.atomic():  # as a pull would have written it
        peer.db.execute("UPDATE outreach_contact SET services_offered = ?",
                        [json.dumps([{"a": [[1]]}])])
    window = open_window(peer)
    view = window.current_view
    settle(qtbot, window)
    assert view.recent.rowCount() == 1
    shown = view.recent.data(view.recent.index(0), Qt.ItemDataRole.DisplayRole)
    assert shown == "(this entry cannot be shown here: TypeError)"
    qtbot.mouseClick(view.findChild(QPushButton, "service_food"), Qt.MouseButton.LeftButton)
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert view.recent.rowCount() == 2  # the next contact saves and shows as ever
