"""The pre-arrival notice on the laptop: ETA from distance, what the form starts with, what a
notice may hold, and the CRC's status as a pull stores it."""

from datetime import timedelta

import pytest

import seeds
from fieldapp import agency, crc_notice, directory, encounters, hsds, persons, shifts
from fieldapp.errors import TandemError, ValidationError
from fieldapp.timeutil import parse_iso, utc_now


def test_eta_from_distance_to_the_crc_in_the_directory(officer):
    directory.replace_directory(officer.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    crc_at = crc_notice.crc_position(officer)
    assert crc_at is not None
    shift = shifts.start_shift(officer, "2M14")
    assert crc_notice.eta_minutes(officer) is None  # the laptop does not know where it is
    # About 10 km north of the CRC at the agency's default 40 km/h: 15 minutes.
    shifts.set_status(officer, shift, "on_scene", lat=crc_at[0] + 10 / 111.2, lon=crc_at[1])
    assert crc_notice.eta_minutes(officer) == 15
    encounter = encounters.save_encounter(officer, {
        "presenting_situation": "welfare_check", "lat": crc_at[0], "lon": crc_at[1] + 0.001})
    assert crc_notice.eta_minutes(officer, encounter) == 1  # the encounter's place wins
    notice = crc_notice.send(officer, transport="voluntary", age_group="adult")
    sent = crc_notice.notice(officer, notice)
    assert sent["eta_source"] == "distance"
    assert abs((parse_iso(sent["eta_at"]) - utc_now()) - timedelta(minutes=15)) < timedelta(seconds=30)


def test_the_form_starts_from_the_encounter(officer):
    young = persons.add_person(officer, {"kind": "named", "first_name": "Ana", "last_name": "M",
                                         "date_of_birth": (utc_now() - timedelta(days=365 * 15))
                                         .date().isoformat(), "safety_cautions": "bites"})
    encounter = encounters.save_encounter(officer, {
        "presenting_situation": "mental_health_crisis", "person_ids": [young],
        "disposition": "transported_crc_involuntary", "pickup_order_attempted": True})
    form = crc_notice.defaults(officer, encounter)
    assert (form["transport"], form["age_group"], form["safety_cautions"]) == (
        "involuntary", "youth", "bites")
    assert form["pickup_order"] and not form["emergency_petition"]
    assert form["person_name"] == "" and not form["names_allowed"]
    agency.store(officer.db, {"crc_notice_names": True})
    assert crc_notice.defaults(officer, encounter)["person_name"] == "Ana M"


def test_what_a_notice_refuses(officer):
    with pytest.raises(TandemError, match="start a shift"):
        crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5)
    shifts.start_shift(officer, "2M14")
    with pytest.raises(ValidationError) as bad:
        crc_notice.send(officer, transport="walking", age_group="senior", eta_minutes=999,
                        person_name="Ana M")
    assert set(bad.value.problems) == {"eta_at"}  # the ETA is checked first
    with pytest.raises(ValidationError) as bad:
        crc_notice.send(officer, transport="walking", age_group="senior", eta_minutes=5,
                        person_name="Ana M")
    assert set(bad.value.problems) == {"transport", "age_group", "person_name"}
    notice = crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5)
    crc_notice.cancel(officer, notice)
    with pytest.raises(TandemError, match="cancelled"):
        crc_notice.update(officer, notice, transport="voluntary", age_group="adult")


def test_the_crc_status_a_pull_stores(officer):
    db = officer.db
    assert crc_notice.status(db) is None
    with db.atomic():
        crc_notice.store_status(db, {"status": "diverting", "wait_minutes": 40,
                                     "posted_at": "2026-03-02T15:00:00.000Z"})
    assert crc_notice.status(db)["status"] == "diverting"
    with db.atomic():
        crc_notice.store_status(db, crc_notice.UNSENT)  # an older server says nothing
    assert crc_notice.status(db)["wait_minutes"] == 40
    text = crc_notice.status_text(crc_notice.status(db), lambda iso: parse_iso(iso).strftime(
        "%H:%M"))
    assert text == "CRC status: Diverting, expected wait 40 min (as of 15:00)"
    with db.atomic():
        crc_notice.store_status(db, None)  # none posted any more
    assert crc_notice.status(db) is None
