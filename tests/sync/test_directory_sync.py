"""The resource directory from the agency server to laptops: `tandem-server import-directory`
stores it per service, and every laptop pulls only the services that changed, before its case
data. Runs on SQLite and PostgreSQL, against a real server."""

import csv
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

import seeds
from fieldapp import directory, followups, hsds, persons
from fieldapp.store import open_cache
from sync import credentials, engine, transport
from sync.server import cli
from sync.server import directory as server_directory

HSDS_EXAMPLE = Path("/work/shared/reference/hsds-3.0/examples/csv")
AT = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)
QUERIES = ("crisis", "shelter", "detox", "food", "988", "veterans")


def copy_of_seeds(tmp_path) -> Path:
    folder = tmp_path / "directory-copy"
    shutil.copytree(seeds.DIRECTORY_DIR, folder)
    return folder


def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV with `change(rows)` applied to its records (header kept)."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    rows = change(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerows(rows)


def import_cli(agency, path, capsys) -> tuple[int, str, str]:
    code = cli.main(["import-directory", str(path), "--db", agency.db_url])
    out, err = capsys.readouterr()
    return code, out, err


def directory_version(session) -> int:
    row = session.db.execute("SELECT value FROM dir_meta WHERE key = ?",
                             [engine.DIRECTORY_VERSION]).fetchone()
    return int(row[0]) if row else 0


def names(session) -> set[str]:
    return {r[0] for r in session.db.execute("SELECT name FROM dir_service")}


def cards(db) -> dict[str, str]:
    return dict(db.execute("SELECT d.service_id, c.card FROM dir_doc d JOIN dir_card c "
                           "ON c.n = d.n").fetchall())


def by_id(results) -> dict[str, dict]:
    return {r["id"]: r for r in results}


def transport_for(session, agency) -> transport.Transport:
    return credentials.transport_for(session)


def test_laptop_gets_the_imported_directory_and_searches_it_like_a_local_import(
        agency, laptop, tmp_path):
    result = server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    assert len(result.added) == 61 and result.version == 61 and not result.changed
    officer = laptop("ofc.directory")
    summary = engine.run_sync(officer)
    assert summary["directory_pulled"] == 61 and summary["directory_error"] is None
    assert directory_version(officer) == 61

    # The same cards and search results as a laptop that read the HSDS files itself (equal
    # scores may come in another order: services were indexed in another order).
    local = open_cache(tmp_path / "local.db", os.urandom(32))
    try:
        directory.replace_directory(local, hsds.read_directory(seeds.DIRECTORY_DIR))
        assert cards(officer.db) == cards(local) and len(cards(local)) == 61
        for query in QUERIES:
            synced = directory.search(officer.db, query, at=AT)
            assert by_id(synced) == by_id(directory.search(local, query, at=AT)), query
        assert directory.search(officer.db, "crisis", at=AT)
        near = (32.2217, -110.9265)
        assert (directory.search(officer.db, "", near=near, open_now=True, at=AT)
                == directory.search(local, "", near=near, open_now=True, at=AT))
    finally:
        local.close()

    # Every role reads the directory: reference data, not case data.
    for name, role in (("peer.directory", "peer"), ("clin.directory", "clinician"),
                       ("sgt.directory", "supervisor")):
        other = laptop(name, role=role, teams=("mhst-1", "mhst-2"))
        assert engine.run_sync(other)["directory_pulled"] == 61
        assert directory.search(other.db, "crisis", at=AT)


def test_hsds_reference_example_then_the_seeds_replace_it(agency, laptop, capsys):
    code, out, _ = import_cli(agency, HSDS_EXAMPLE, capsys)
    assert code == 0 and "1 services" in out and "1 added" in out
    officer = laptop("ofc.example")
    engine.run_sync(officer)
    (example,) = hsds.read_directory(HSDS_EXAMPLE).tables["dir_service"]
    assert names(officer) == {example["name"]}
    found = directory.search(officer.db, example["name"], at=AT)
    assert [r["id"] for r in found] == [example["id"]]

    code, out, _ = import_cli(agency, seeds.DIRECTORY_DIR, capsys)
    assert code == 0 and "61 added, 0 changed, 1 removed, 0 unchanged" in out
    assert engine.run_sync(officer)["directory_pulled"] == 62
    assert example["name"] not in names(officer) and len(names(officer)) == 61


def test_identical_reimport_changes_nothing_and_the_laptop_pulls_nothing(agency, laptop):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.again")
    engine.run_sync(officer)
    stored = agency.rows("SELECT service_id, seq, content_hash FROM directory_service "
                         "ORDER BY service_id")

    again = server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    assert (again.added, again.changed, again.removed, again.unchanged) == ([], [], [], 61)
    assert again.version == 61
    assert agency.rows("SELECT service_id, seq, content_hash FROM directory_service "
                       "ORDER BY service_id") == stored
    assert agency.scalar("SELECT value FROM meta WHERE key = 'directory_version'") == "61"

    summary = engine.run_sync(officer)
    assert summary["directory_pulled"] == 0 and directory_version(officer) == 61
    page = transport_for(officer, agency).call("GET", "/directory", params={"since": 61})
    assert page["services"] == [] and page["version"] == 61 and not page["more"]


def test_one_renamed_service_is_one_change_on_the_laptop(agency, laptop, tmp_path, capsys):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.rename")
    engine.run_sync(officer)
    copy = copy_of_seeds(tmp_path)
    renamed = {}

    def rename(rows):
        renamed.update(rows[5])
        rows[5]["name"] = "Saguaro Overnight Respite"
        return rows

    edit_csv(copy / "services.csv", rename)
    code, out, _ = import_cli(agency, copy, capsys)
    assert code == 0 and "0 added, 1 changed, 0 removed, 60 unchanged" in out
    assert "directory version 62" in out

    page = transport_for(officer, agency).call("GET", "/directory", params={"since": 61})
    assert [s["id"] for s in page["services"]] == [renamed["id"]]
    summary = engine.run_sync(officer)
    assert summary["directory_pulled"] == 1 and directory_version(officer) == 62
    assert "Saguaro Overnight Respite" in names(officer)
    assert renamed["name"] not in names(officer)
    hits = directory.search(officer.db, "saguaro overnight", at=AT)
    assert hits and hits[0]["id"] == renamed["id"]
    assert len(names(officer)) == 61


def test_a_removed_service_is_removed_on_the_laptop(agency, laptop, tmp_path, capsys):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.remove")
    engine.run_sync(officer)
    copy = copy_of_seeds(tmp_path)
    gone = {}

    def drop(rows):
        gone.update(rows.pop(3))
        return rows

    edit_csv(copy / "services.csv", drop)
    for linked in ("service_at_location.csv", "phones.csv", "schedules.csv",
                   "service_capacity.csv"):
        edit_csv(copy / linked, lambda rows: [r for r in rows if r.get("service_id") != gone["id"]])
    edit_csv(copy / "attributes.csv", lambda rows: [r for r in rows if r["link_id"] != gone["id"]])
    code, out, _ = import_cli(agency, copy, capsys)
    assert code == 0 and "0 added, 0 changed, 1 removed, 60 unchanged" in out
    assert agency.scalar("SELECT deleted FROM directory_service WHERE service_id = :s",
                         s=gone["id"]) in (True, 1)

    assert directory.search(officer.db, gone["name"], at=AT)[0]["id"] == gone["id"]
    assert engine.run_sync(officer)["directory_pulled"] == 1
    assert gone["name"] not in names(officer) and len(names(officer)) == 60
    assert gone["id"] not in {r["id"] for r in directory.search(officer.db, gone["name"], at=AT)}
    assert not officer.db.execute("SELECT count(*) FROM dir_service_at_location "
                                  "WHERE service_id = ?", [gone["id"]]).fetchone()[0]

    # A laptop that signs in now gets the 60 services, the removal as a no-op.
    late = laptop("ofc.late")
    assert engine.run_sync(late)["directory_pulled"] == 61
    assert names(late) == names(officer)


def test_a_directory_that_cannot_be_read_leaves_the_old_one_in_service(
        agency, laptop, tmp_path, capsys):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.bad")
    engine.run_sync(officer)
    stored = agency.rows("SELECT * FROM directory_service ORDER BY service_id")

    no_services = copy_of_seeds(tmp_path)
    (no_services / "services.csv").unlink()
    code, out, err = import_cli(agency, no_services, capsys)
    assert code != 0 and out == ""
    assert "missing services.csv" in err and "unchanged" in err

    no_name = tmp_path / "no-name"
    shutil.copytree(seeds.DIRECTORY_DIR, no_name)
    with (no_name / "services.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    at = rows[0].index("name")
    with (no_name / "services.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(r[:at] + r[at + 1:] for r in rows)
    code, _, err = import_cli(agency, no_name, capsys)
    assert code != 0 and "services.csv lacks column name" in err

    code, _, err = import_cli(agency, tmp_path / "nowhere", capsys)
    assert code != 0 and "does not exist" in err

    assert agency.rows("SELECT * FROM directory_service ORDER BY service_id") == stored
    assert agency.scalar("SELECT value FROM meta WHERE key = 'directory_version'") == "61"
    assert engine.run_sync(officer)["directory_pulled"] == 0
    assert len(names(officer)) == 61 and directory.search(officer.db, "crisis", at=AT)


def test_cli_prints_counts_and_every_rejected_row(agency, tmp_path, capsys):
    code, out, err = import_cli(agency, seeds.DIRECTORY_DIR, capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        (f"read {seeds.DIRECTORY_DIR} (tabular): 61 services, 37 locations, 82 phones, "
         "75 schedules, 25 organizations, 21 taxonomy terms, 0 rejected rows, 0 warnings"),
        "directory version 61: 61 added, 0 changed, 0 removed, 0 unchanged"]

    copy = copy_of_seeds(tmp_path)

    def unnamed(rows):
        rows[1]["name"] = ""
        return rows

    edit_csv(copy / "services.csv", unnamed)
    edit_csv(copy / "phones.csv", lambda rows: [{**rows[0], "number": ""}, *rows[1:]])
    code, out, _ = import_cli(agency, copy, capsys)
    lines = out.splitlines()
    assert code == 0
    assert "60 services" in lines[0] and "rejected rows" in lines[0]
    assert "services.csv row 3, field name: name is required" in out
    assert "phones.csv row 2, field number: number is required" in out
    assert all(line.startswith(("rejected: ", "warning: ")) for line in lines[2:])
    assert sum(line.startswith("rejected: ") for line in lines) == int(
        lines[0].split(" rejected rows")[0].rsplit(" ", 1)[1])
    assert "1 removed" in lines[1]


def test_directory_pages_and_needs_a_signed_in_caller(agency, laptop):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.pages")
    link = transport_for(officer, agency)
    assert engine.pull_directory(officer, link, page_size=7) == 61
    assert len(names(officer)) == 61 and directory_version(officer) == 61
    pages = link.requests_made
    assert pages >= 61 // 7

    answer = requests.get(f"{agency.url}/v1/directory", timeout=10)
    assert answer.status_code == 401
    answer = requests.get(f"{agency.url}/v1/directory", params={"since": -1},
                          headers={"Authorization": f"Bearer {link.access_token}"},
                          timeout=10)
    assert answer.status_code == 422


class NoDirectoryEndpoint(HTTPAdapter):
    """Sends directory requests to a path the server does not have, and asks no pull for the
    directory's changes (an older server's pull brings none)."""

    def send(self, request, **kwargs):
        request.url = re.sub(r"directory_since=\d+&?", "", request.url.replace(
            "/v1/directory", "/v1/no-such-endpoint"))
        return super().send(request, **kwargs)


def test_a_failed_directory_step_still_syncs_case_data(agency, laptop):
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.fails")
    person = persons.add_person(officer, {"kind": "alias", "alias": "Green Coat"})
    followups.create_follow_up(officer, {"person_id": person, "reason": "post_crisis_check",
                                         "due_on": "2026-06-01"})
    http = requests.Session()
    http.mount("http://", NoDirectoryEndpoint())
    summary = engine.run_sync(officer, http=http)
    assert "404" in summary["directory_error"]
    assert summary["check"] == "ok"
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'follow_up'") == 1
    assert officer.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert names(officer) == set() and directory_version(officer) == 0

    summary = engine.run_sync(officer)
    assert summary["directory_pulled"] == 61 and summary["directory_error"] is None
