"""`tandem login` and `tandem sync` as a person at a terminal (or a script) runs them."""

import io
import json
import sys

import pytest

from fieldapp.session import unlock
from tests.conftest import PASSWORD
from ui import cli

from sync_helpers import outreach


@pytest.fixture
def stdin(monkeypatch):
    def feed(text):
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    return feed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_login_then_sync_from_the_command_line(agency, tmp_path, stdin, capsys):
    agency.add_user("ofc.ramirez")
    data_dir = tmp_path / "laptop"
    stdin(PASSWORD + "\n")
    assert cli.main(["login", "--server", agency.url, "--user", "ofc.ramirez",
                     "--data-dir", str(data_dir)]) == 0
    assert "signed in as ofc.ramirez (officer" in capsys.readouterr().out
    session = unlock(data_dir, "ofc.ramirez", PASSWORD)
    outreach(session, 3)
    session.close()
    stdin(PASSWORD + "\n")
    assert cli.main(["sync", "--data-dir", str(data_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["pushed"] == 3 and summary["check"] == "ok"
    stdin("wrong password\n")
    assert cli.main(["sync", "--data-dir", str(data_dir)]) == 1
    assert "password" in capsys.readouterr().err
    stdin("wrong password\n")
    assert cli.main(["login", "--server", agency.url, "--user", "nobody",
                     "--data-dir", str(tmp_path / "other")]) == 1
    assert "wrong user name or password" in capsys.readouterr().err
