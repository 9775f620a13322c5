"""The admin audit trail: what administrators do at the console and what happens to accounts
is recorded, read back with `tandem-server audit [--since] [--json]`, and the database itself
refuses to change or delete an event. SQLite and PostgreSQL."""

import io
import json
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sync.server import cli
from tests.conftest import PASSWORD


def test_console_actions_are_recorded_and_the_trail_cannot_be_rewritten(
        agency, laptop, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["--db", agency.db_url, "add-user", "ofc.new", "--role", "officer",
                     "--team", "mhst-1"]) == 0
    officer = laptop("ofc.ramirez")  # registers a device, signs in
    assert cli.main(["--db", agency.db_url, "settings", "set", "retention_days", "45"]) == 0
    assert cli.main(["--db", agency.db_url, "revoke-device", officer.device_id]) == 0
    capsys.readouterr()
    assert cli.main(["--db", agency.db_url, "audit", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    seen = [(e["action"], e["target"]) for e in events]
    assert ("user.added", "user:ofc.new") in seen
    assert ("device.registered", f"device:{officer.device_id}") in seen
    assert ("signin", "user:ofc.ramirez") in seen
    assert ("device.revoked", f"device:{officer.device_id}") in seen
    change = next(e for e in events if e["action"] == "setting.changed")
    assert change["detail"] == {"from": 3650, "to": 45} and change["actor"].startswith("cli:")
    assert cli.main(["--db", agency.db_url, "audit", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["--db", agency.db_url, "audit"]) == 0
    assert "device.revoked" in capsys.readouterr().out
    for statement in ("UPDATE admin_audit SET actor = 'nobody'", "DELETE FROM admin_audit"):
        with pytest.raises(DBAPIError, match="append-only"):
            with agency.engine.begin() as conn:
                conn.execute(text(statement))
    assert agency.scalar("SELECT count(*) FROM admin_audit") == len(events)
