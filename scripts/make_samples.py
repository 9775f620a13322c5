"""Write the sample exports in docs/samples/ from fictional data, through the real programs:
`python scripts/make_samples.py`.

A throwaway agency server (embedded SQLite) with the seed directory, a peer and an officer
signed in from laptops of their own, a November of outreach contacts and referrals synced, then
`tandem-server export-hmis` and `export-fhir` as an admin would run them. Every name here is
made up. The EIDO sample (docs/samples/eido-incident.json) is written by hand.
"""

import json
import secrets
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import seeds  # noqa: E402
from fieldapp import directory as laptop_directory, encounters, outreach, persons  # noqa: E402
from fieldapp import referrals  # noqa: E402
from fieldapp.keys import KdfParams  # noqa: E402
from sync import engine, online  # noqa: E402
from sync.server import accounts, cli, directory  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402
from sync.server.embedded import serve_in_thread  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)  # a throwaway server; made anew each run
PROJECT = "Downtown Street Outreach"
PROJECTS = {PROJECT: {
    "teams": ["outreach-1"], "organization": "Tucson Police Department",
    "coc_code": "AZ-501", "geocode": "049019", "operating_start": "2024-07-01",
    "funders": [{"funder": 21, "grant_id": "SM-26-014", "start": "2025-10-01"}],
    "address": {"address1": "270 S Stone Ave", "city": "Tucson", "state": "AZ", "zip": "85701"},
    "geography_type": 1}}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 time in Tucson (UTC-7 all year)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc) + timedelta(hours=7)


def main() -> int:
    from fieldapp import keys
    keys.DEFAULT_KDF = KdfParams(n=2**12, r=8, p=1)  # throwaway caches: quick to unlock
    work = Path(tempfile.mkdtemp(prefix="tandem-samples-"))
    db_url = f"sqlite:///{work / 'agency.db'}"
    agency = make_engine(db_url)
    migrate(agency)
    with agency.begin() as conn:
        accounts.add_user(conn, "peer.lee", "peer", ["outreach-1"], PASSWORD, "Dana Lee")
        accounts.add_user(conn, "ofc.ramirez", "officer", ["mhst-1"], PASSWORD, "Luis Ramirez")
    directory.import_directory(agency, seeds.DIRECTORY_DIR)
    for key, value in (("agency_name", "Tucson Police Department Mental Health Support Team"),
                       ("hmis_projects", json.dumps(PROJECTS)), ("hmis_exit_after_days", "14"),
                       ("two_factor", "optional")):  # fictional accounts, passwords alone
        assert cli.main(["--db", db_url, "settings", "set", key, value]) == 0
    server = serve_in_thread(db_url)
    try:
        peer = online.login(work / "peer", server.url, "peer.lee", PASSWORD)
        officer = online.login(work / "officer", server.url, "ofc.ramirez", PASSWORD)
        engine.run_sync(peer)
        engine.run_sync(officer)
        _november(peer, officer)
        engine.run_sync(peer)
        engine.run_sync(officer)
        samples = ROOT / "docs" / "samples"
        code = cli.main(["--db", db_url, "export-hmis", "--from", "2026-11-01", "--to",
                         "2026-11-30", "--project", PROJECT, "--out",
                         str(samples / "hmis-street-outreach")])
        code |= cli.main(["--db", db_url, "export-fhir", "--from", "2026-11-01", "--to",
                          "2026-11-30", "--out", str(samples / "fhir-referrals.json")])
        peer.close()
        officer.close()
    finally:
        server.stop()
    return code


def _service(session, text: str) -> str:
    return laptop_directory.search(session.db, text)[0]["id"]


def _november(peer, officer) -> None:
    marisol = persons.add_person(peer, {"kind": "named", "first_name": "Marisol",
                                        "last_name": "Quintero", "date_of_birth": "1979-04-12"})
    blue = persons.add_person(peer, {"kind": "alias", "alias": "Blue Jacket"})
    ray = persons.add_person(peer, {"kind": "named", "first_name": "Ray", "birth_year": 1966})
    first = outreach.log_contact(peer, person_id=marisol, services_offered=["food"],
                                 supplies=["water"], place="Santa Rita Park, by the ramada",
                                 living_situation="unsheltered", at=at(3, 9, 40))
    outreach.log_contact(peer, person_id=marisol, services_offered=["housing_navigation",
                                                                    "mental_health"],
                         living_situation="unsheltered", engaged=True, at=at(10, 10, 5))
    housing = referrals.refer(peer, service_id=_service(peer, "housing navigation"),
                              category="housing", outreach_contact_id=first, at=at(3, 9, 50),
                              note="Ask for the Thursday intake")
    referrals.set_status(peer, housing, "accepted", at=at(5, 14))
    referrals.set_status(peer, housing, "completed", at=at(12, 11))
    outreach.log_contact(peer, person_id=blue, services_offered=["substance_use_support"],
                         supplies=["naloxone"], living_situation="unsheltered",
                         place="Under the 6th Ave <underpass>", at=at(4, 15, 20))
    later = outreach.log_contact(peer, person_id=blue, living_situation="emergency_shelter",
                                 at=at(24, 16))
    detox = referrals.refer(peer, service_id=_service(peer, "withdrawal management"),
                            category="substance_use", outreach_contact_id=later,
                            at=at(24, 16, 10))
    referrals.set_status(peer, detox, "declined", at=at(25, 9))
    outreach.log_contact(peer, person_id=ray, services_offered=["shelter_info"],
                         living_situation="staying_with_friends", at=at(6, 8, 30))
    for day, hour in ((2, 11), (9, 13), (17, 10)):  # people who gave no name
        outreach.log_contact(peer, services_offered=["food"], supplies=["socks"],
                             living_situation="unsheltered", at=at(day, hour))
    encounter = encounters.save_encounter(officer, {
        "presenting_situation": "mental_health_crisis", "started_at": at(14, 21, 15),
        "disposition": "referred", "place": "Ronstadt Transit Center",
        "person_ids": [persons.add_person(officer, {"kind": "alias", "alias": "Professor"})]})
    person = officer.db.execute("SELECT person_ids FROM encounter").fetchone()[0]
    referrals.refer(officer, service_id=_service(officer, "walk-in crisis"),
                    category="crisis_care", encounter_id=encounter,
                    person_id=json.loads(person)[0], at=at(14, 21, 55))


if __name__ == "__main__":
    sys.exit(main())
