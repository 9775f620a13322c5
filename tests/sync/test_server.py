"""The agency server on its own: commands, accounts, scope, and bad requests."""

import gzip
import json
import subprocess
import sys

import pytest
import requests
import sqlalchemy as sa

from fieldapp import encounters
from sync import credentials, engine, protocol, transport
from sync.server import cli, tables
from sync.server.db import make_engine, migrate

from sync_helpers import outreach


def test_commands_print_what_they_did_and_refuse_bad_arguments(tmp_path, capsys, monkeypatch):
    db = f"sqlite:///{tmp_path / 'agency.db'}"
    assert cli.main(["--db", db, "init"]) == 0
    assert "is ready" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", _stdin("a long password\n"))
    assert cli.main(["--db", db, "add-user", "ofc.a", "--role", "officer", "--team", "mhst-1"]) == 0
    assert "added user ofc.a" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", _stdin("a long password\n"))
    assert cli.main(["--db", db, "add-user", "ofc.a", "--role", "officer", "--team", "x"]) == 2
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", _stdin("short\n"))
    assert cli.main(["--db", db, "add-user", "ofc.b", "--role", "officer", "--team", "x"]) == 2
    assert "at least 8" in capsys.readouterr().err
    assert cli.main(["--db", db, "revoke-device", "no-such-device"]) == 2
    assert "no device" in capsys.readouterr().err
    assert cli.main(["--db", "nonsense", "init"]) == 2
    assert "not a database URL" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--db", db, "add-user", "ofc.c", "--role", "mayor", "--team", "x"])
    assert exit_info.value.code == 2


def test_console_script_entry_runs_as_a_process(tmp_path):
    db = f"sqlite:///{tmp_path / 'agency.db'}"
    done = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", db, "init"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", db, "add-user",
                           "sgt.k", "--role", "supervisor", "--team", "mhst-1", "--team",
                           "mhst-2"], input="a long password\n", capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "mhst-2" in done.stdout


def test_migrations_make_every_table_and_column_the_queries_use(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    found = sa.inspect(engine)
    for table in tables.metadata.tables.values():
        columns = {c["name"] for c in found.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    engine.dispose()


def test_officer_pull_never_contains_a_clinical_note(agency, laptop):
    clinician = laptop("clin.okafor", "clinician")
    officer = laptop("ofc.ramirez", "officer")
    encounter = encounters.save_encounter(clinician, {"presenting_situation": "welfare_check"})
    encounters.add_clinical_note(clinician, encounter, "PHI: disclosed substance use")
    engine.run_sync(clinician)
    summary = engine.run_sync(officer)
    assert summary["check"] == "ok"
    assert officer.db.execute("SELECT count(*) FROM encounter").fetchone()[0] == 1
    assert officer.db.execute("SELECT count(*) FROM clinical_note").fetchone()[0] == 0
    # and on the wire: the officer's raw pull, page by page
    link = credentials.transport_for(officer)
    page = link.call("GET", "/pull", params={"after": 0})
    assert page["records"] and all(r["table"] != "clinical_note" for r in page["records"])
    assert "PHI" not in json.dumps(page)
    # the clinician's copy has it
    engine.run_sync(clinician)
    assert clinician.db.execute("SELECT count(*) FROM clinical_note").fetchone()[0] == 1


def test_team_scope_and_supervisors_see_their_teams(agency, laptop):
    one = laptop("ofc.one", teams=("mhst-1",))
    two = laptop("ofc.two", teams=("mhst-2",))
    sergeant = laptop("sgt.k", "supervisor", teams=("mhst-1", "mhst-2"))
    outreach(one, 3)
    outreach(two, 2)
    engine.run_sync(one), engine.run_sync(two)
    engine.run_sync(one), engine.run_sync(two), engine.run_sync(sergeant)
    count = "SELECT count(*) FROM outreach_contact"
    assert one.db.execute(count).fetchone()[0] == 3
    assert two.db.execute(count).fetchone()[0] == 2
    assert sergeant.db.execute(count).fetchone()[0] == 5


def test_writes_outside_the_users_scope_are_rejected_and_block_only_their_record(agency, laptop):
    officer = laptop("ofc.ramirez")
    good = outreach(officer, 2)
    officer.db.execute("INSERT INTO outbox (op_id, table_name, record_id, kind, fields, base, "
                       "base_version, hlc, created_at) VALUES ('bad-op', 'outreach_contact', "
                       "'rec-x', 'append', ?, '{}', 0, '0000000000001-00000-d', 'now')",
                       [json.dumps({"team": "someone-else", "contacted_at": "2026-05-01T10:00:00Z"})])
    officer.db.conn.commit()
    summary = engine.run_sync(officer)
    assert summary["rejected"] == 1 and summary["pushed"] == 2
    state, error = officer.db.execute(
        "SELECT state, last_error FROM outbox WHERE op_id = 'bad-op'").fetchone()
    assert state == "rejected" and "not a member of team" in error
    assert agency.scalar("SELECT count(*) FROM record") == len(good)


def test_malformed_requests_get_4xx_with_a_message(agency, laptop):
    officer = laptop("ofc.ramirez")
    token = credentials.transport_for(officer)
    token._refresh()
    auth = {"Authorization": f"Bearer {token.access_token}"}
    url = agency.url + protocol.PREFIX
    cases = [
        requests.post(url + "/push", data="{not json", headers={**auth, "Content-Type": "application/json"}),
        requests.post(url + "/push", json={"ops": "many"}, headers=auth),
        requests.post(url + "/push", json=[1, 2], headers=auth),
        requests.post(url + "/push", json={"ops": [{"op_id": "x"}]}, headers=auth),
        requests.post(url + "/push", json={"ops": []}),
        requests.post(url + "/push", json={"ops": []}, headers={"Authorization": "Bearer nope"}),
        requests.get(url + "/pull", params={"after": -1}, headers=auth),
        requests.get(url + "/pull", params={"after": "abc"}, headers=auth),
        requests.get(url + "/pull", params={"limit": 10**9}, headers=auth),
        requests.post(url + "/login", json={"username": "ofc.ramirez", "password": "wrong"}),
        requests.post(url + "/login", json={"username": 5}),
        requests.post(url + "/refresh", json={"refresh_token": "stolen"}),
        requests.post(url + "/push", data=b"\x1f\x8b garbage",
                      headers={**auth, "Content-Encoding": "gzip", "Content-Type": "application/json"}),
        requests.post(url + "/records", json={"ids": [1, 2]}, headers=auth),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, (response.request.url, response.status_code, response.text)
        assert response.json()["detail"]
    op = {"op_id": "o1", "table": "no_such_table", "record_id": "r", "kind": "create",
          "fields": {}, "base": {}, "base_version": 0, "hlc": "0000000000001-00000-d"}
    answer = requests.post(url + "/push", json={"ops": [op]}, headers=auth)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["status"] == "rejected"


def test_bodies_over_the_limit_get_413(agency):
    url = agency.url + protocol.PREFIX + "/push"
    big = b"x" * (protocol.REQUEST_MAX_BYTES + 1)
    assert requests.post(url, data=big).status_code == 413
    bomb = gzip.compress(b" " * (protocol.REQUEST_MAX_BYTES + 10))
    response = requests.post(url, data=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413 and "unpacked" in response.json()["detail"]


def test_openapi_describes_the_api(agency):
    spec = requests.get(agency.url + "/openapi.json").json()
    assert {"/v1/push", "/v1/pull", "/v1/login", "/v1/summary"} <= set(spec["paths"])


def test_revoked_device_is_wiped_on_next_contact(agency, laptop):
    officer = laptop("ofc.ramirez")
    outreach(officer, 1)
    engine.run_sync(officer)
    path = officer.cache_path
    assert cli.main(["--db", agency.db_url, "revoke-device", officer.device_id]) == 0
    with pytest.raises(transport.DeviceRevoked):
        engine.run_sync(officer)
    assert not path.exists() and not path.with_name("key.json").exists()


def test_refresh_token_is_kept_inside_the_encrypted_cache_without_a_keyring(agency, laptop):
    officer = laptop("ofc.ramirez")
    token = credentials.load_refresh_token(officer)
    assert token and officer.db.execute("SELECT refresh_token FROM sync_credential").fetchone()[0] == token
    for f in officer.cache_path.parent.iterdir():
        assert token.encode() not in f.read_bytes(), f


def test_refresh_token_goes_to_the_keyring_when_there_is_one(agency, laptop, memory_keyring):
    officer = laptop("ofc.ramirez")
    token = credentials.load_refresh_token(officer)
    assert token in memory_keyring.entries.values()
    assert officer.db.execute("SELECT count(*) FROM sync_credential").fetchone()[0] == 0


def test_plain_http_only_to_localhost():
    with pytest.raises(Exception, match="only to localhost"):
        transport.check_server_url("http://tandem.example.gov")
    assert transport.check_server_url("https://tandem.example.gov/") == "https://tandem.example.gov"


class _stdin:
    def __init__(self, text):
        self.text = text

    def readline(self):
        return self.text
