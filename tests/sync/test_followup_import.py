"""The CRC discharge list: `tandem-server import-followups` on a real server database (SQLite
and PostgreSQL), the records reaching a team laptop, and the same parsing on the laptop."""

import json

import pytest

from fieldapp import followup_import, persons
from fieldapp.followup_import import ImportFileError, read_rows
from sync import engine
from sync.server import cli

TEAM = "mhst-1"
HEADER = "Last Name,First Name,Date of Birth,Discharged On,Priority,Note\n"


def run(agency, tmp_path, text, encoding="utf-8", team=TEAM, capsys=None):
    path = tmp_path / "discharges.csv"
    path.write_bytes(text.encode(encoding))
    return cli.main(["--db", agency.db_url, "import-followups", str(path), "--team", team])


def server(agency, table):
    return [json.loads(r["data"]) | {"id": r["id"]} for r in agency.rows(
        "SELECT id, data FROM record WHERE table_name = :t AND team = :team AND NOT deleted",
        t=table, team=TEAM)]


def test_good_file_creates_persons_and_follow_ups_that_reach_laptops(agency, laptop, tmp_path,
                                                                     capsys):
    officer = laptop("ofc.ramirez")
    known = persons.add_person(officer, {"kind": "named", "first_name": "Dana",
                                         "last_name": "Whitfield", "date_of_birth": "1988-03-02"})
    engine.run_sync(officer)
    code = run(agency, tmp_path,
               "\ufeff" + HEADER +  # a byte-order mark, as Excel writes it
               "WHITFIELD,dana,03/02/1988,2026-05-14,1,Discharged to shelter\n"
               "Núñez,José,1990-07-01,2026-05-14,,\n", encoding="utf-8")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 follow-up(s) created: 1 for known persons, 1 new person(s)" in out
    follow_ups = {f["person_id"]: f for f in server(agency, "follow_up")}
    assert follow_ups[known]["due_on"] == "2026-05-15" and follow_ups[known]["priority"] == 1
    assert follow_ups[known]["reason"] == "crc_discharge"
    # a row without a note says when the person left the CRC, in the app's one date format
    # (issue 14, defect 12: the history read "2026-05-14" beside "Thu 14 May")
    assert [f["note"] for f in follow_ups.values() if f["person_id"] != known] == [
        "CRC discharge Thu 14 May"]
    new = [p for p in server(agency, "person") if p["id"] != known]
    assert [(p["first_name"], p["last_name"]) for p in new] == [("José", "Núñez")]
    engine.run_sync(officer)
    held = {r[0] for r in officer.db.execute("SELECT person_id FROM follow_up")}
    assert held == {known, new[0]["id"]}


def test_duplicates_of_open_follow_ups_are_skipped(agency, tmp_path, capsys):
    rows = HEADER + "Whitfield,Dana,1988-03-02,2026-05-14,,\n"
    assert run(agency, tmp_path, rows) == 0
    capsys.readouterr()
    assert run(agency, tmp_path, rows + "Whitfield,Dana,1988-03-02,2026-05-15,,\n") == 0
    out = capsys.readouterr().out
    assert "0 follow-up(s) created" in out and "2 row(s) skipped" in out
    assert ("row 2, last_name: Dana Whitfield already has an open CRC discharge follow-up "
            "due Fri 15 May") in out
    assert len(server(agency, "follow_up")) == 1 and len(server(agency, "person")) == 1


def test_bad_rows_are_reported_with_row_field_and_reason(agency, tmp_path, capsys):
    code = run(agency, tmp_path, HEADER +
               "Whitfield,Dana,1988-03-02,14.05.2026,,\n"
               ",Sam,,2026-05-14,,\n"
               "Ortiz,Luis,,2026-05-14,5,\n"
               "Ortiz,Ana,,2026-05-14,,ok\n", encoding="latin-1")
    out = capsys.readouterr().out
    assert code == 1
    assert "row 2, discharged_on: '14.05.2026' is not a date" in out
    assert "row 3, last_name: required" in out
    assert "row 4, priority: '5' is not 1, 2 or 3" in out
    assert "1 follow-up(s) created" in out  # the good row still goes in
    assert [p["first_name"] for p in server(agency, "person")] == ["Ana"]


def test_missing_column_is_a_clear_error(agency, tmp_path, capsys):
    code = run(agency, tmp_path, "last_name,first_name\nWhitfield,Dana\n")
    err = capsys.readouterr().err
    assert code == 2
    assert "missing column(s) discharged_on" in err and "discharges.csv" in err
    assert server(agency, "follow_up") == []


def test_latin1_file_is_read():
    rows = read_rows(("last_name,first_name,discharged_on\nNúñez,José,2026-05-14\n")
                     .encode("latin-1"))
    assert rows == [(2, {"last_name": "Núñez", "first_name": "José",
                         "discharged_on": "2026-05-14"})]


def test_a_utf16_file_is_read_and_one_with_other_separators_says_so():
    """Excel's "Unicode Text" is UTF-16 with tabs; a comma-decimal locale saves semicolons."""
    text = "last_name,first_name,discharged_on\nNúñez,José,2026-05-14\n"
    assert read_rows(text.encode("utf-16")) == [(2, {
        "last_name": "Núñez", "first_name": "José", "discharged_on": "2026-05-14"})]
    for separator, name in (("\t", "tabs"), (";", "semicolons")):
        with pytest.raises(ImportFileError) as e:
            read_rows(text.replace(",", separator).encode("utf-16"), "discharges.txt")
        assert "discharges.txt: missing column(s) first_name, last_name, discharged_on" in \
            str(e.value)
        assert f"separated by {name}, not commas" in str(e.value)


def test_same_name_without_birth_date_is_not_guessed():
    people = [{"id": "a", "first_name": "Luis", "last_name": "Ortiz", "date_of_birth": None},
              {"id": "b", "first_name": "Luis", "last_name": "Ortiz",
               "date_of_birth": "1970-01-01"}]
    plan = followup_import.plan(
        [(2, {"first_name": "Luis", "last_name": "Ortiz", "discharged_on": "2026-05-14"})],
        people, [], TEAM)
    assert plan.follow_ups == [] and "matches 2 people" in str(plan.problems[0])


def test_empty_file():
    with pytest.raises(ImportFileError, match="empty"):
        read_rows(b"")


def test_supervisor_imports_on_the_laptop_offline(agency, laptop):
    sergeant = laptop("sgt.lee", "supervisor")
    data = (HEADER + "Whitfield,Dana,1988-03-02,2026-05-14,,\n").encode()
    plan = followup_import.import_on_laptop(sergeant, data, TEAM)
    assert len(plan.follow_ups) == 1 and len(plan.persons) == 1
    again = followup_import.import_on_laptop(sergeant, data, TEAM)
    assert again.follow_ups == [] and len(again.skipped) == 1
    summary = engine.run_sync(sergeant)
    assert summary["rejected"] == 0
    assert len(server(agency, "follow_up")) == 1
