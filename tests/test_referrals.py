"""Referrals on the laptop: made on exactly one encounter or contact, to a service the laptop's
directory holds, moved on only forward; and the server refuses one made on nothing."""

import pytest

import seeds
from fieldapp import directory, encounters, hsds, outreach, persons, referrals
from fieldapp.errors import TandemError, ValidationError


@pytest.fixture
def crew(officer):
    directory.replace_directory(officer.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    return officer


def a_service(session, text="walk-in crisis"):
    return directory.search(session.db, text)[0]


def test_a_referral_names_the_service_as_it_was(crew):
    ray = persons.add_person(crew, {"kind": "named", "first_name": "Ray", "last_name": "Ortiz"})
    encounter = encounters.save_encounter(crew, {"presenting_situation": "mental_health_crisis",
                                                 "person_ids": [ray]})
    service = a_service(crew)
    made = referrals.refer(crew, service_id=service["id"], category="crisis_care",
                           encounter_id=encounter, person_id=ray, note="ask for intake")
    with crew.db.atomic():  # the directory moves on; the referral still reads as made
        crew.db.execute("UPDATE dir_service SET name = 'Renamed' WHERE id = ?", [service["id"]])
    [row] = referrals.team_referrals(crew)
    assert row["id"] == made and row["service_name"] == service["name"]
    assert row["organization_name"] == service["organization"]
    assert (row["status"], row["person_id"], row["sent_at"]) == ("sent", ray,
                                                                 row["status_changed_at"])
    assert crew.db.execute("SELECT count(*) FROM audit_event WHERE record_table = 'referral'"
                           ).fetchone()[0] == 1  # a sensitive record: its changes are audited


def test_what_a_referral_refuses(crew):
    contact = outreach.log_contact(crew)
    encounter = encounters.save_encounter(crew, {"presenting_situation": "welfare_check"})
    stranger = persons.add_person(crew, {"kind": "alias", "alias": "Tall Hat"})
    service = a_service(crew)["id"]
    with pytest.raises(ValidationError, match="service_id: not in this laptop's resource"):
        referrals.refer(crew, service_id="no-such-service", category="food",
                        outreach_contact_id=contact)
    with pytest.raises(ValidationError, match="encounter_id: a referral is made on exactly"):
        referrals.refer(crew, service_id=service, category="food")
    with pytest.raises(ValidationError, match="encounter_id: a referral is made on exactly"):
        referrals.refer(crew, service_id=service, category="food", encounter_id=encounter,
                        outreach_contact_id=contact)
    with pytest.raises(ValidationError, match="person_id: is not a person on this encounter"):
        referrals.refer(crew, service_id=service, category="food", encounter_id=encounter,
                        person_id=stranger)
    with pytest.raises(ValidationError, match="category"):
        referrals.refer(crew, service_id=service, category="snacks", encounter_id=encounter)
    assert referrals.team_referrals(crew) == []


def test_status_moves_forward_only(crew):
    contact = outreach.log_contact(crew)
    made = referrals.refer(crew, service_id=a_service(crew)["id"], category="crisis_care",
                           outreach_contact_id=contact)
    with pytest.raises(TandemError, match="a sent referral cannot become sent"):
        referrals.set_status(crew, made, "sent")
    referrals.set_status(crew, made, "accepted", at="2026-11-15T10:00:00Z")
    referrals.set_status(crew, made, "declined", at="2026-11-16T10:00:00Z")
    with pytest.raises(TandemError, match="it is closed"):
        referrals.set_status(crew, made, "completed")
    [row] = referrals.team_referrals(crew)
    assert (row["status"], row["status_changed_at"]) == ("declined", "2026-11-16T10:00:00.000Z")
    assert referrals.team_referrals(crew, open_only=True) == []


@pytest.mark.parametrize("service, category", [
    ({"name": "Open Door Low-Barrier Shelter"}, "shelter"),
    ({"name": "Medically Monitored Withdrawal Management", "categories": ["Detox"]},
     "substance_use"),
    ({"name": "Community Meals"}, "food"),
    ({"name": "Adult Crisis Receiving"}, "crisis_care"),
    ({"name": "Bike repair"}, "other"),
])
def test_suggested_category(service, category):
    assert referrals.suggested_category(service) == category
