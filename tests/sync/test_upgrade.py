"""Upgrading from the previous release, as a fleet does: one laptop at a time, the server
once. The previous release (tag PREVIOUS) runs from a git worktree of its own, its code alone
on sys.path, in processes of its own: its `tandem-server` makes the agency database (SQLite or
PostgreSQL) and serves it; its laptops sign in, do a shift's work, sync, and go on offline,
leaving an outbox. Then this release, for real: its laptop opens and migrates that cache and
refuses the old server (it must be updated first), the agency runs this release's
`tandem-server init` on the old database, an old laptop is told to update and keeps its outbox,
and this release's laptop syncs everything across. Nothing lost, nothing twice."""

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp import __version__
from fieldapp.records import RECORD_TYPES
from fieldapp.schema import latest_version, schema_version
from fieldapp.session import unlock
from sync import engine
from sync.transport import VersionMismatch
from tests.agency_process import ROOT, command, server_command, serving
from tests.conftest import PASSWORD

PREVIOUS = "v0.1.0"
# Its commit, an ancestor of main: a clone made without tags (as CI makes) still has it.
PREVIOUS_COMMIT = "b45e4fb1896223b50b7dfb6673ba677b3ded45fa"
OFFICER, PEER = "ofc.upgrade", "peer.behind"
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def snapshot(db, tables) -> dict:
    """Every row of `tables`, as {table: rows sorted by their JSON}: what a laptop holds."""
    out = {}
    for table in tables:
        cursor = db.execute(f"SELECT * FROM [{table}]")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


# Run by the previous release: its own services do a shift's work on its own cache.
LAPTOP_WORK = inspect.getsource(snapshot) + """
import json
import sys
from datetime import date

import fieldapp
from fieldapp import demo, drafts, followups, outreach, persons, shifts
from fieldapp.records import RECORD_TYPES
from fieldapp.session import unlock

work, data_dir, user, password = sys.argv[1:5]
session = unlock(data_dir, user, password)
db = session.db
if work == "seed":  # the demo's case data: persons, follow-ups, assignments
    demo.seed_case_data(session, date(2026, 11, 20))
if work == "offline":  # each kind of op: create, patch, append; and a draft typed half-way
    shift = shifts.start_shift(session, "MHST-11", vehicle="U-4")
    shifts.set_status(session, shift, "en_route", note="typed offline before the upgrade")
    person = db.execute("SELECT id FROM person ORDER BY id LIMIT 1").fetchone()[0]
    persons.update_person(session, person, {"safety_cautions": "dog in the yard; added offline"})
    follow_up = db.execute("SELECT id FROM follow_up WHERE status = 'open' ORDER BY id"
                           ).fetchone()[0]
    followups.log_attempt(session, follow_up, "visit", "left_message", note="card on the door")
if work in ("offline", "peer"):
    outreach.log_contact(session, supplies=["water", "socks"], note="under the 22nd St bridge")
    drafts.save_draft(session, "encounter:new", "encounter", {"police_note": "half-typed"})
print(json.dumps({"version": fieldapp.__version__, "code": fieldapp.__file__,
                  "snapshot": snapshot(db, [*RECORD_TYPES, "outbox", "draft"])}, default=str))
session.close()
"""


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """A git worktree of the previous release, removed afterwards."""
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet",
                            f"{PREVIOUS_COMMIT}^{{commit}}"], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(f"the previous release {PREVIOUS} ({PREVIOUS_COMMIT[:7]}) is not in this "
                    "clone's history: clone it whole, not shallow")
    tag = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet",
                          f"{PREVIOUS}^{{commit}}"], capture_output=True, text=True)
    assert tag.returncode != 0 or tag.stdout.strip() == PREVIOUS_COMMIT, \
        f"the tag {PREVIOUS} names another commit than PREVIOUS_COMMIT"
    folder = tmp_path_factory.mktemp("releases") / PREVIOUS
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder),
                    PREVIOUS_COMMIT], check=True, capture_output=True)
    yield folder
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                   check=True, capture_output=True)


def old_tandem(previous: Path, data_dir: Path, *args: str, check: bool = True):
    """The previous release's `tandem` command (the password on stdin)."""
    done = subprocess.run([*command(previous, "ui.cli"), *args, "--data-dir", str(data_dir)],
                          input=PASSWORD + "\n", capture_output=True, text=True, cwd=previous,
                          env={**os.environ, **NO_KEYRING}, timeout=300)
    assert not check or done.returncode == 0, f"tandem {args} ({PREVIOUS}):\n{done.stderr}"
    return done


def old_laptop(previous: Path, work: str, data_dir: Path, user: str) -> dict:
    """The previous release's services at work on a cache; returns what the cache holds."""
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, "
                           f"{str(previous)!r})\n" + LAPTOP_WORK, work, str(data_dir), user,
                           PASSWORD], capture_output=True, text=True, cwd=previous,
                          env={**os.environ, **NO_KEYRING}, timeout=300)
    assert done.returncode == 0, f"{work} ({PREVIOUS}):\n{done.stderr}"
    held = json.loads(done.stdout.splitlines()[-1])
    assert held["version"] != __version__ and held["code"].startswith(str(previous)), held
    return held


def pending(held: dict) -> list[str]:
    return [op["op_id"] for op in held["snapshot"]["outbox"] if op["state"] == "pending"]


def test_a_previous_release_cache_and_server_upgrade_with_nothing_lost(previous, db_url,
                                                                        tmp_path):
    # The previous release: its server, a shift's work synced, more work offline, a draft.
    server_command(db_url, "init", code=previous)
    for user, role, team in ((OFFICER, "officer", "mhst-1"), (PEER, "peer", "outreach-1")):
        server_command(db_url, "add-user", user, "--role", role, "--team", team,
                       code=previous, stdin=PASSWORD)
    server_command(db_url, "import-directory", str(previous / "seeds" / "directory"),
                   code=previous)
    officer_dir, peer_dir = tmp_path / "officer-laptop", tmp_path / "peer-laptop"
    with serving(db_url, tmp_path / "old-server.log", code=previous) as old_url:
        old_tandem(previous, officer_dir, "login", "--server", old_url, "--user", OFFICER)
        old_laptop(previous, "seed", officer_dir, OFFICER)
        old_tandem(previous, officer_dir, "sync", "--user", OFFICER)
        before = old_laptop(previous, "offline", officer_dir, OFFICER)
        old_tandem(previous, peer_dir, "login", "--server", old_url, "--user", PEER)
        peer_before = old_laptop(previous, "peer", peer_dir, PEER)
        waiting = pending(before)
        assert len(waiting) >= 5 and before["snapshot"]["draft"]

        # This release opens and migrates the old cache: every row is there as it was.
        session = unlock(officer_dir, OFFICER, PASSWORD)
        assert schema_version(session.db) == latest_version()
        tables = list(before["snapshot"])
        opened = snapshot(session.db, tables)
        for table in tables:
            for row in before["snapshot"][table]:
                assert any(row.items() <= new.items() for new in opened[table]), (table, row)

        # Against the old server it stops at the first answer: the server must be updated.
        with pytest.raises(VersionMismatch, match="the agency server must be updated to sync"):
            engine.run_sync(session)
        assert [op["op_id"] for op in snapshot(session.db, ["outbox"])["outbox"]
                if op["state"] == "pending"] == waiting

    # The agency upgrades its server with this release, and then requires it of laptops.
    server_command(db_url, "init")
    with serving(db_url, tmp_path / "server.log", port=int(old_url.rsplit(":", 1)[1]),
                 env={"TANDEM_MIN_APP_VERSION": __version__}):  # at the agency's same address
        refused = old_tandem(previous, peer_dir, "sync", "--user", PEER, check=False)
        assert refused.returncode == 1 and "update Tandem to sync" in refused.stderr
        assert f"accepts Tandem {__version__} or later" in refused.stderr, refused.stderr
        still = old_laptop(previous, "dump", peer_dir, PEER)
        assert still["snapshot"]["outbox"] == peer_before["snapshot"]["outbox"]
        assert pending(still) and still["snapshot"]["draft"] == peer_before["snapshot"]["draft"]

        summary = engine.run_sync(session)
        assert summary["pushed"] == len(waiting), summary
        assert (summary["conflicts"], summary["rejected"], summary["check"]) == (0, 0, "ok")
        held = snapshot(session.db, [*RECORD_TYPES, "outbox", "draft"])
        device = session.device_id
        session.close()

    assert not [op for op in held["outbox"] if op["state"] == "pending"]
    assert held["draft"] == before["snapshot"]["draft"]  # local, never synced, still there
    ours = {(t, r["id"]) for t in RECORD_TYPES for r in held[t]}
    assert {(t, r["id"]) for t in before["snapshot"] if t in RECORD_TYPES
            for r in before["snapshot"][t]} <= ours
    server = server_records(db_url)
    for table in RECORD_TYPES:  # everything the laptop holds is on the server, the same
        for row in held[table]:
            _, stored = server[(table, row["id"])]
            for name, value in stored.items():
                assert row[name] == value, (table, row["id"], name)
    written_here = {key for key, (by, _) in server.items() if by == device}
    assert written_here <= ours, "the server holds records of this laptop it does not"
    for note in ("typed offline before the upgrade", "under the 22nd St bridge"):  # once each
        assert [d.get("note") for _, d in server.values()].count(note) == 1, note


def server_records(db_url: str) -> dict:
    """(table, id) -> (the device that wrote it, its stored fields), for every record on the
    agency server."""
    from sqlalchemy import text

    from sync.server.db import make_engine

    agency = make_engine(db_url)
    try:
        with agency.connect() as conn:
            rows = conn.execute(text("SELECT table_name, id, device, data FROM record")).all()
    finally:
        agency.dispose()
    return {(table, id_): (device, json.loads(data)) for table, id_, device, data in rows}
