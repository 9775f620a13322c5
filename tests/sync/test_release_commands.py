"""`tandem-server releases list` and `releases import` on a real server database (SQLite and
PostgreSQL), and the team roster the server tells laptops: what they print, what they refuse,
and the records reaching a clinician's and an officer's laptops."""

import json
from datetime import timedelta

import requests

from fieldapp import encounters, persons, releases, roster
from sync import engine
from sync.server import cli

from tests.sync.test_consent_gate import Stranger

TEAM = "mhst-1"
HEADER = ("First Name,Last Name,Date of Birth,Alias,Discloser,Recipient,Purpose,Signed On,"
          "Expires On,Expiry Event,Signed By\n")


def _import(agency, tmp_path, text, team=TEAM):
    path = tmp_path / "releases.csv"
    path.write_text(text, encoding="utf-8")
    return cli.main(["--db", agency.db_url, "releases", "import", str(path), "--team", team])


def _releases(agency):
    return [json.loads(r["data"]) for r in agency.rows(
        "SELECT data FROM record WHERE table_name = 'release_of_information'")]


def test_a_signed_file_is_imported_and_reaches_the_laptops(agency, laptop, tmp_path, capsys):
    clinician = laptop("clin.okafor", "clinician")
    officer = laptop("ofc.ramirez", "officer")
    dana = persons.add_person(clinician, {"kind": "named", "first_name": "Dana",
                                          "last_name": "Whitfield",
                                          "date_of_birth": "1988-03-02"})
    eid = encounters.save_documentation(clinician, "5b1f0a4e-0000-4000-8000-0000000000aa", {
        "presenting_situation": "substance_use"}, [{"id": dana, "kind": "named"}],
        note="Methadone clinic, daily.")
    engine.run_sync(clinician)
    today = releases.today()
    soon, later = today + timedelta(days=3), today + timedelta(days=200)
    text = (HEADER
            + f"dana,WHITFIELD,03/02/1988,,Adaeze Okafor LPC,role:officer,coordinated care,"
              f"{today - timedelta(days=2)},{soon},discharge from the program,\n"
            + f",,,Preacher,CRC clinician,user:ofc.ramirez,follow-up,{today},{later},,"
              "guardian: R. Vale\n")
    assert _import(agency, tmp_path, text) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "2 release(s) imported, 1 new person(s)" in out
    imported = sorted(_releases(agency), key=lambda r: r["recipient"])
    assert [(r["person_id"] == dana, r["expiry_event"], r["signed_by"]) for r in imported] == [
        (True, "discharge from the program", "the patient"), (False, None, "guardian: R. Vale")]

    assert _import(agency, tmp_path, text) == 0  # again: nothing new
    assert "0 release(s) imported" in capsys.readouterr().out and len(_releases(agency)) == 2

    engine.run_sync(clinician)
    [expiring] = releases.expiring(clinician)
    assert (expiring["person_id"], expiring["days_left"]) == (dana, 3)
    engine.run_sync(officer)  # the release opens the gate for him
    assert [r[0] for r in officer.db.execute("SELECT encounter_id FROM clinical_note")] == [eid]

    assert cli.main(["--db", agency.db_url, "releases", "list", "--team", TEAM]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert "Dana Whitfield → role:officer" in lines[1] and "expiring (3 days left)" in lines[1]
    assert "“Preacher” → user:ofc.ramirez" in lines[0] and "guardian: R. Vale" in lines[0]
    releases.revoke_release(clinician, expiring["id"])
    engine.run_sync(clinician)
    assert cli.main(["--db", agency.db_url, "releases", "list", "--in-force", "--json"]) == 0
    listed = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [(r["person"], r["status"]) for r in listed] == [("“Preacher”", "in force")]


def test_a_file_with_any_bad_row_imports_nothing_and_says_where(agency, laptop, tmp_path,
                                                                capsys):
    laptop("ofc.ramirez", "officer")
    today = releases.today()
    text = (HEADER
            + f"Dana,Whitfield,,,Okafor,role:officer,care,{today},{today + timedelta(days=9)},,\n"
            + f"Sam,Vale,,,Okafor,MHST officers,care,{today},2020-01-01,,\n"
            + f"Ray,Lee,31/02/1990,,,user:nobody,care,{today},{today},,\n"
            + f",,,,Okafor,role:mayor,,{today},{today},,\n")
    assert _import(agency, tmp_path, text) == 1
    out = capsys.readouterr().out
    assert "nothing was imported" in out
    for expected in ("row 3, recipient: must be user:<username>",
                     "row 3, expires_on: must not be before signed_on",
                     "row 4, date_of_birth: '31/02/1990' is not a date",
                     "row 4, discloser: required", "row 4, recipient: no user 'nobody'",
                     "row 5, recipient: unknown role 'mayor'", "row 5, purpose: required",
                     "row 5, person_id: name the patient"):
        assert expected in out, out
    assert "row 2" not in out  # the good row: but it too waits for a clean file
    assert _releases(agency) == [] and agency.scalar(
        "SELECT count(*) FROM record WHERE table_name = 'person'") == 0

    (tmp_path / "bad.csv").write_text("Name,Signed\nx,y\n", encoding="utf-8")
    assert cli.main(["--db", agency.db_url, "releases", "import", str(tmp_path / "bad.csv"),
                     "--team", TEAM]) == 2
    assert "missing column(s) discloser, recipient, purpose" in capsys.readouterr().err


def test_the_roster_names_teammates_and_their_cars_only(agency, laptop, capsys):
    officer = laptop("ofc.ramirez", "officer")
    laptop("clin.okafor", "clinician")
    agency.add_user("ofc.diaz", "officer", teams=("mhst-2",))
    agency.add_user("sgt.morales", "supervisor", teams=("mhst-1", "mhst-2"))
    assert cli.main(["--db", agency.db_url, "set-car", "clin.okafor", "--unit", "MHST-11",
                     "--vehicle", "V-2214"]) == 0
    assert cli.main(["--db", agency.db_url, "set-car", "nobody", "--unit", "X"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    assert cli.main(["--db", agency.db_url, "set-car", "ofc.ramirez", "--unit", "X" * 40]) == 2
    assert "longer than 32" in capsys.readouterr().err
    with agency.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE app_user SET disabled = true WHERE username = 'ofc.diaz'")

    assert engine.run_sync(officer)["roster"] == 3
    members = {m["username"]: m for m in roster.members(officer)}
    assert set(members) == {"ofc.ramirez", "clin.okafor", "sgt.morales"}
    assert members["sgt.morales"]["teams"] == ["mhst-1"]  # not the teams he shares elsewhere
    assert roster.car(officer, "clin.okafor") == {"unit": "MHST-11", "vehicle": "V-2214"}
    answer = requests.get(f"{agency.url}/v1/roster", timeout=30)
    assert answer.status_code == 401
    agency.add_user("admin.lee", "admin", teams=("agency-it",))
    admin = Stranger(agency, "admin.lee")
    answer = requests.get(f"{agency.url}/v1/roster", headers=admin.headers, timeout=30)
    assert answer.json() == {"members": [{
        "username": "admin.lee", "display_name": "admin.lee", "role": "admin",
        "teams": ["agency-it"], "unit": None, "vehicle": None}]}


def test_the_roster_matches_whole_team_names_whatever_they_hold(agency, laptop):
    """The server picks teammates by their team's JSON text: a name with LIKE's wildcards,
    one that begins another, or one beyond ASCII must match exactly itself."""
    officer = laptop("ofc.pct", "officer", teams=("50%_unit",))
    agency.add_user("ofc.same", teams=("mhst-1", "50%_unit"))
    agency.add_user("ofc.wild", teams=("50xxunit",))
    agency.add_user("ofc.longer", teams=("50%_unit-2",))
    agency.add_user("ofc.quoted", teams=('"50%_unit"',))
    engine.run_sync(officer)
    assert {m["username"] for m in roster.members(officer)} == {"ofc.pct", "ofc.same"}

    peer = laptop("peer.lopez", "peer", teams=("équipe-1",))
    agency.add_user("peer.ng", "peer", teams=("équipe-1",))
    agency.add_user("peer.ho", "peer", teams=("equipe-1",))
    engine.run_sync(peer)
    assert {m["username"] for m in roster.members(peer)} == {"peer.lopez", "peer.ng"}
