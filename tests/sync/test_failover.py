"""PostgreSQL failover (issue 22): the agency's database has a replica kept by streaming
replication (pg_basebackup). The replica stops receiving, the laptops keep writing, the
primary is killed with a push in flight, the replica is promoted and the laptops are pointed
at it. Nobody marks the failover: the laptops' requests prove the server forgot changes, and
every record any laptop holds is back on the server, once.

Two throwaway clusters of their own (ports 19351 and 19352: below the range Linux hands to
outgoing connections, which once took 54352 first), made with Debian's cluster tools and run
as the postgres user, as PostgreSQL requires.
"""

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text
from sync_helpers import outreach

from fieldapp import changes, followups, persons
from sync import engine, online
from sync import protocol as P
from sync.server import cli
from sync.server.embedded import serve_in_thread
from tests.conftest import PASSWORD
from tests.sync.conftest import Agency

VERSION = (sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
           if os.path.isdir("/usr/lib/postgresql") else None)
PRIMARY, REPLICA = ("i22primary", 19351), ("i22replica", 19352)  # see tests/ports.py
SOCKETS = "/var/run/postgresql"
ROLE = "tandem:failover-test-only"


def as_postgres(*command: str, check: bool = True) -> str:
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else ["sudo", "-n", "-u",
                                                                          "postgres"]
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(command)}: {done.stderr or done.stdout}")
    return done.stdout.strip()


def psql(port: int, sql: str) -> str:
    return as_postgres("psql", "-h", SOCKETS, "-p", str(port), "-d", "postgres", "-Atqc", sql)


def drop(name: str) -> None:
    as_postgres("pg_dropcluster", "--stop", VERSION, name, check=False)


def wait_for(what, test, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def clusters():
    if not (VERSION and shutil.which("pg_createcluster") and shutil.which("pg_basebackup")):
        pytest.skip("Debian's PostgreSQL cluster tools are not installed here")
    for name, _port in (PRIMARY, REPLICA):
        drop(name)
    fast = ["-o", "fsync=off", "-o", "full_page_writes=off"]
    as_postgres("pg_createcluster", "-p", str(PRIMARY[1]), *fast, VERSION, PRIMARY[0], "--",
                "--no-sync")
    as_postgres("pg_ctlcluster", VERSION, PRIMARY[0], "start")
    user, password = ROLE.split(":")
    psql(PRIMARY[1], f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
    psql(PRIMARY[1], f"CREATE DATABASE tandem OWNER {user}")
    as_postgres("pg_createcluster", "-p", str(REPLICA[1]), *fast, VERSION, REPLICA[0], "--",
                "--no-sync")
    data = Path(f"/var/lib/postgresql/{VERSION}/{REPLICA[0]}")
    for child in data.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    as_postgres("pg_basebackup", "-h", SOCKETS, "-p", str(PRIMARY[1]), "-U", "postgres",
                "-D", str(data), "-R", "-X", "stream", "-c", "fast")
    as_postgres("pg_ctlcluster", VERSION, REPLICA[0], "start")
    try:
        yield {name: f"postgresql+psycopg://{ROLE}@127.0.0.1:{port}/tandem"
               for name, port in (PRIMARY, REPLICA)}
    finally:
        for name, _port in (PRIMARY, REPLICA):
            drop(name)


class KillDuringPush(HTTPAdapter):
    """Kills the primary while the second push of a sync is on its way to the server."""

    def __init__(self):
        super().__init__()
        self.pushes, self.killer = 0, None

    def send(self, request, **kwargs):
        if "/v1/push" in request.url:
            self.pushes += 1
            if self.pushes == 2:
                self.killer = threading.Thread(target=as_postgres, args=(
                    "pg_ctlcluster", VERSION, PRIMARY[0], "stop", "-m", "immediate"))
                self.killer.start()
        return super().send(request, **kwargs)


def held(session) -> set[tuple[str, str]]:
    return {(t, i) for t in P.PULLED_TABLES for (i,) in session.db.execute(f"SELECT id FROM [{t}]")}


def test_failover_to_a_replica_that_missed_the_last_commits_loses_nothing(
        clusters, tmp_path, capsys):
    primary = Agency(clusters[PRIMARY[0]])
    for name in ("ofc.writer", "ofc.puller", "ofc.late"):
        primary.add_user(name)
    writer, puller, late = (online.login(tmp_path / name, primary.url, name, PASSWORD)
                            for name in ("ofc.writer", "ofc.puller", "ofc.late"))
    person = persons.add_person(writer, {"kind": "alias", "alias": "Tall Boots"})
    fid = followups.create_follow_up(writer, {
        "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
    outreach(writer, 5, note="replicated")
    for session in (writer, puller, late):
        assert engine.run_sync(session)["check"] == "ok"

    def replayed() -> bool:
        sent = psql(PRIMARY[1], "SELECT pg_current_wal_lsn()")
        return psql(REPLICA[1], f"SELECT pg_last_wal_replay_lsn() >= '{sent}'") == "t"
    wait_for("the replica to catch up", replayed)
    # The replica stops receiving: what follows is committed on the primary alone.
    psql(REPLICA[1], "ALTER SYSTEM SET primary_conninfo = ''")
    psql(REPLICA[1], "SELECT pg_reload_conf()")
    wait_for("the WAL receiver to stop",
             lambda: psql(REPLICA[1], "SELECT count(*) FROM pg_stat_wal_receiver") == "0")

    for session in (writer, puller, late):  # their access tokens run out: each sync on the
        with session.db.atomic():  # primary alone renews its sign-in there
            session.db.execute("DELETE FROM access_token")
    outreach(writer, 7, note="lost with the primary")
    changes.patch(writer, "follow_up", fid, {"note": "seen at the library"})
    assert engine.run_sync(writer)["pushed"] == 8
    assert engine.run_sync(puller)["check"] == "ok"  # pulls what the replica never got
    outreach(late, 6, note="in flight")
    killer = KillDuringPush()
    http = requests.Session()
    http.mount("http://", killer)
    try:  # three pushes of two: the primary dies under the second, whatever it had done
        engine.run_sync(late, http=http, batch_size=2, max_attempts=3, backoff_s=0.05)
    except requests.ConnectionError:
        pass  # the server kept answering 503: its database is gone
    killer.killer.join()
    assert "down" in as_postgres("pg_lsclusters", "-h", VERSION, PRIMARY[0])
    primary.stop()

    as_postgres("pg_ctlcluster", VERSION, REPLICA[0], "promote")  # waits until it is done
    assert psql(REPLICA[1], "SELECT pg_is_in_recovery()") == "f"
    before = {name: held(s) for name, s in
              (("writer", writer), ("puller", puller), ("late", late))}
    everything = set().union(*before.values())
    server = serve_in_thread(clusters[REPLICA[0]])
    try:
        for session in (puller, late, writer):  # the writer comes back last
            summary = engine.run_sync(session, server.url)
            assert summary["check"] == "ok" and summary["rejected"] == 0, summary
        for session in (puller, late, writer):
            assert engine.run_sync(session, server.url)["check"] == "ok"
        check = create_engine(clusters[REPLICA[0]])
        with check.connect() as conn:
            rows = conn.execute(text("SELECT table_name, id, data FROM record")).all()
            generations = conn.execute(text("SELECT reason, detail FROM history_generation")).all()
            # each laptop renewed its sign-in on the primary alone: resumed, not signed out
            resumed = conn.execute(text(
                "SELECT count(DISTINCT device_id) FROM admin_audit WHERE action = 'token.resumed'"
            )).scalar()
            note = conn.execute(text("SELECT data::json->>'note' FROM record WHERE id = :i"),
                                {"i": fid}).scalar()
        check.dispose()
    finally:
        server.stop()
    assert everything <= {(t, i) for t, i, _ in rows}
    contacts = [data for t, _, data in rows if t == "outreach_contact"]
    assert len(contacts) == len(set(contacts)) == 5 + 7 + 6
    assert note == "seen at the library"
    assert [reason for reason, _ in generations] == ["detected"]
    assert resumed == 3
    for session in (writer, puller, late):
        assert held(session) == {(t, i) for t, i, _ in rows if t in P.PULLED_TABLES
                                 and t != "clinical_note"}
    assert cli.main(["--db", clusters[REPLICA[0]], "recoveries"]) == 0
    assert "detected" in capsys.readouterr().out
    for session in (writer, puller, late):
        session.close()
