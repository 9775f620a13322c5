"""Referrals from the field: a peer refers the person of the contact just logged to a directory
service; the team moves referrals on as word comes back."""

import pytest

import seeds
from fieldapp import directory, hsds, outreach, persons, referrals
from tests.ui.conftest import settle
from ui.context import DIRECTORY
from ui.qt import QPushButton, Qt
from ui.referrals import ReferralsModel


@pytest.fixture
def peer_with_directory(peer):
    directory.replace_directory(peer.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    return peer


def tap(qtbot, view, name):
    qtbot.mouseClick(view.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def test_a_peer_refers_the_contact_just_logged(qtbot, open_window, peer_with_directory):
    peer = peer_with_directory
    blue = persons.add_person(peer, {"kind": "alias", "alias": "Blue Jacket"})
    outreach.log_contact(peer, person_id=blue, services_offered=["food"])  # an older contact
    window = open_window(peer)
    contact = window.current_view
    tap(qtbot, contact, "service_shelter_info")
    tap(qtbot, contact, "saveContact")
    settle(qtbot, window)
    newest = peer.db.execute("SELECT id FROM outreach_contact ORDER BY contacted_at DESC"
                             ).fetchone()[0]
    assert contact.selected_contact() == newest

    qtbot.keyClick(contact, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    view = window.views["referrals"]
    assert window.current_key == "referrals"
    assert view.source.currentData()["id"] == newest
    assert view.person.currentData() is None  # an anonymous contact: nobody identified
    qtbot.keyClicks(view.query, "low-barrier shelter")
    qtbot.waitUntil(lambda: not view._timer.isActive(), timeout=5000)
    settle(qtbot, window)
    assert view.selected_service()["name"] == "Open Door Low-Barrier Shelter"
    assert view.category.currentData() == "shelter"  # suggested from the service
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)

    [made] = referrals.team_referrals(peer)
    assert (made["outreach_contact_id"], made["encounter_id"], made["person_id"]) == (
        newest, None, None)
    assert (made["service_name"], made["category"], made["status"]) == (
        "Open Door Low-Barrier Shelter", "shelter", "sent")
    assert peer.db.execute("SELECT count(*) FROM outbox WHERE table_name = 'referral'"
                           ).fetchone()[0] == 1
    assert view.model.rowCount() == 1


def test_the_team_moves_a_referral_on(qtbot, open_window, peer_with_directory):
    peer = peer_with_directory
    blue = persons.add_person(peer, {"kind": "alias", "alias": "Blue Jacket"})
    contact = outreach.log_contact(peer, person_id=blue)
    service = directory.search(peer.db, "housing navigation")[0]["id"]
    referral = referrals.refer(peer, service_id=service, category="housing",
                               outreach_contact_id=contact)
    assert referrals.team_referrals(peer)[0]["person_id"] == blue  # the contact's person
    window = open_window(peer)
    view = window.show_screen("referrals")
    settle(qtbot, window)
    view.table.selectRow(0)
    qtbot.keyClick(view, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # accepted
    settle(qtbot, window)
    view.table.selectRow(0)
    tap(qtbot, view, "referral_completed")
    settle(qtbot, window)
    assert referrals.team_referrals(peer)[0]["status"] == "completed"
    assert view.model.rowCount() == 0  # open only: a completed referral leaves the list
    view.open_only.setChecked(False)
    settle(qtbot, window)
    view.table.selectRow(0)
    tap(qtbot, view, "referral_declined")
    settle(qtbot, window)
    assert "a completed referral cannot become declined" in view.errors.general.text()
    changes = peer.db.execute("SELECT fields FROM outbox WHERE table_name = 'referral' "
                              "AND record_id = ? ORDER BY seq", [referral]).fetchall()
    assert len(changes) == 3  # made, accepted, completed: each an op for the server


def test_referrals_model(qtmodeltester, peer_with_directory):
    peer = peer_with_directory
    contact = outreach.log_contact(peer)
    service = directory.search(peer.db, "meals")[0]["id"]
    referrals.refer(peer, service_id=service, category="food", outreach_contact_id=contact)
    model = ReferralsModel()
    model.set_rows(referrals.team_referrals(peer))
    qtmodeltester.check(model)


def test_a_directory_sync_leaves_the_service_and_category_as_the_user_left_them(
        qtbot, open_window, peer):
    """The directory arrives (or changes) under a sync while the referral form is open: it
    neither picks a service nor rewrites a category the user chose."""
    outreach.log_contact(peer, services_offered=["food"])
    window = open_window(peer)
    view = window.show_screen("referrals")
    settle(qtbot, window)
    assert view.selected_service() is None  # no directory on this laptop yet
    view.category.setCurrentIndex(view.category.findData("food"))

    directory.replace_directory(peer.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    window.ctx.changed.emit(frozenset({DIRECTORY}))  # as the sync that brought it
    settle(qtbot, window)
    assert view.results.rowCount() > 0
    assert view.selected_service() is None and view.category.currentData() == "food"

    qtbot.keyClicks(view.query, "low-barrier shelter")  # the user's own search picks one
    qtbot.waitUntil(lambda: not view._timer.isActive(), timeout=5000)
    settle(qtbot, window)
    assert view.category.currentData() == "shelter"
    view.category.setCurrentIndex(view.category.findData("housing"))  # and the user overrules
    window.ctx.changed.emit(frozenset({DIRECTORY}))
    settle(qtbot, window)
    assert view.selected_service()["name"] == "Open Door Low-Barrier Shelter"
    assert view.category.currentData() == "housing"


def test_a_sync_leaves_the_record_the_referral_is_made_on_as_chosen(qtbot, open_window, peer):
    """A change that comes in under a sync redraws the screen; the contact the user chose to
    refer from stays chosen (it used to go back to the newest)."""
    blue = persons.add_person(peer, {"kind": "alias", "alias": "Blue Jacket"})
    older = outreach.log_contact(peer, person_id=blue, services_offered=["food"])
    outreach.log_contact(peer, services_offered=["shelter_info"])
    window = open_window(peer)
    view = window.show_screen("referrals")
    settle(qtbot, window)
    ids = [view.source.itemData(i)["id"] for i in range(view.source.count())]
    view.source.setCurrentIndex(ids.index(older))
    assert view.person.currentData() == blue

    window.ctx.changed.emit(frozenset({"person", "outreach_contact"}))  # as the next sync
    settle(qtbot, window)
    assert view.source.currentData()["id"] == older
    assert view.person.currentData() == blue
