"""End to end, on SQLite and PostgreSQL: a laptop's pre-arrival notice → the intake board →
check-in complete → the unit's clock, with the notice waiting offline until the link returns."""

import pytest
import requests

from fieldapp import changes, crc, crc_notice, encounters, persons, shifts
from sync import engine
from sync.transport import SyncFailed
from tests.conftest import PASSWORD
from tests.sync.board_client import Board


def _pending(session, table):
    return session.db.execute("SELECT count(*) FROM outbox WHERE table_name = ? AND "
                              "state = 'pending'", [table]).fetchone()[0]


def test_notice_board_checkin_reaches_the_units_clock(agency, laptop):
    officer = laptop("ofc.ramirez", "officer")
    agency.add_user("crc.front", "crc_intake", ("crc",))
    shift = shifts.start_shift(officer, "ADAM-12")
    person = persons.add_person(officer, {"kind": "named", "first_name": "Dana",
                                          "last_name": "Reyes", "safety_cautions": "knife"})
    encounter = encounters.save_encounter(officer, {
        "presenting_situation": "suicidal_ideation", "person_ids": [person],
        "disposition": "transported_crc_involuntary", "emergency_petition": True,
        "police_note": "narrative that stays home", "shift_id": shift})
    engine.run_sync(officer)

    # Offline: the notice is written and waits in the outbox.
    agency.running.stop()
    form = crc_notice.defaults(officer, encounter)
    assert form["transport"] == "involuntary" and form["emergency_petition"]
    assert form["safety_cautions"] == "knife" and form["person_name"] == ""
    notice = crc_notice.send(officer, eta_minutes=12, encounter_id=encounter, shift_id=shift,
                             **{k: form[k] for k in ("transport", "age_group", "safety_cautions",
                                                     "pickup_order", "emergency_petition")})
    assert shifts.current_status(officer, shift) == "transporting"
    with pytest.raises((SyncFailed, requests.ConnectionError)):
        engine.run_sync(officer, max_attempts=1)
    assert _pending(officer, "crc_notice") == 1
    assert not crc_notice.open_notice(officer)["sent"]

    # The link returns; the board is empty until the unit syncs, then shows it.
    agency.restart()
    board = Board(agency.url)
    assert board.sign_in("crc.front", PASSWORD).status_code == 303
    assert "ADAM-12" not in board.page()
    engine.run_sync(officer)
    assert _pending(officer, "crc_notice") == 0 and crc_notice.open_notice(officer)["sent"]
    page = board.page()
    assert "Unit ADAM-12" in page and "knife" in page and "Involuntary" in page
    assert 'id="h-incoming">Incoming <span class="count">(1)' in page

    # The unit arrives at the sally port; the CRC stamps its own arrival and check-in.
    dropoff = crc.arrive(officer, "involuntary", shift_id=shift, notice_id=notice)
    assert changes.get(officer, "crc_dropoff", dropoff)["encounter_id"] == encounter
    engine.run_sync(officer)
    assert 'id="h-arrived">Arrived <span class="count">(1)' in board.page()
    assert board.stamp(notice, "arrived").status_code == 303
    assert board.stamp(notice, "checked-in").status_code == 303
    assert board.stamp(notice, "checked-in").status_code == 303  # a second click: no change
    page = board.page()
    assert 'id="h-checked_in">Checked in <span class="count">(1)' in page
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'crc_checkin'") == 1

    # The CRC's half reaches the unit's clock on its next sync, beside the unit's own.
    crc.hand_off(officer, dropoff)
    engine.run_sync(officer)
    half = crc_notice.crc_half(officer, notice)
    assert half["arrived_at"] and half["checked_in_at"]
    both = crc_notice.halves(officer, changes.get(officer, "crc_dropoff", dropoff))
    assert [h["what"] for h in both] == ["arrived", "checked in"]
    assert all(h["unit"] and h["crc"] for h in both)
    assert crc_notice.open_notice(officer) is None  # the drop-off followed it


def test_a_notice_is_updated_and_cancelled_from_the_laptop(agency, laptop):
    officer = laptop("ofc.ramirez", "officer")
    agency.add_user("crc.front", "crc_intake", ("crc",))
    shifts.start_shift(officer, "ADAM-12")
    notice = crc_notice.send(officer, transport="voluntary", age_group="youth", eta_minutes=20)
    engine.run_sync(officer)
    board = Board(agency.url)
    board.sign_in("crc.front", PASSWORD)
    assert "Youth" in board.page()
    crc_notice.update(officer, notice, transport="voluntary", age_group="youth", eta_minutes=3,
                      safety_cautions="dog in the car")
    engine.run_sync(officer)
    assert "dog in the car" in board.page()
    crc_notice.cancel(officer, notice)
    engine.run_sync(officer)
    page = board.page()
    assert "Cancelled by the unit" in page
    assert board.stamp(notice, "checked-in").status_code == 409  # nothing to check in
