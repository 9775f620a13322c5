"""Small builders and fault injectors shared by the sync tests."""

import requests
from requests.adapters import HTTPAdapter

from fieldapp import changes, followups, persons


def outreach(session, n, note="x"):
    return [changes.create(session, "outreach_contact", {
        "team": session.profile.team, "contacted_at": "2026-05-01T10:00:00.000Z",
        "note": f"{note} {i}"}) for i in range(n)]


def follow_up(session):
    person = persons.add_person(session, {"kind": "alias", "alias": "Blue Jacket"})
    return followups.create_follow_up(session, {
        "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})


class LoseResponses(HTTPAdapter):
    """Sends the request for real, then throws the response away: the server committed, the
    laptop never hears about it."""

    def __init__(self, path: str, times: int = 1):
        super().__init__()
        self.path, self.remaining, self.lost = path, times, 0

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        if self.path in request.url and self.remaining > 0:
            self.remaining -= 1
            self.lost += 1
            _ = response.content
            raise requests.ConnectionError("response lost after the server committed")
        return response


def http_with(adapter) -> requests.Session:
    http = requests.Session()
    http.mount("http://", adapter)
    return http


class CutResponses(HTTPAdapter):
    """Cuts the body of matching answers at a random byte, as a dropped connection would."""

    def __init__(self, path: str, times: int, rng):
        super().__init__()
        self.path, self.remaining, self.rng, self.cut = path, times, rng, 0

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        if self.path in request.url and self.remaining > 0 and len(response.content) > 2:
            self.remaining -= 1
            self.cut += 1
            response._content = response.content[:self.rng.randrange(1, len(response.content) - 1)]
        return response


# --- backups and restores of the test agency's database --------------------------------------

def _libpq(db_url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup_server(agency, path) -> str:
    """Back the agency's database up as its admin would: `tandem-server backup` on SQLite
    (online), pg_dump on PostgreSQL (docs/deployment.md)."""
    import subprocess

    from sync.server import cli
    if agency.db_url.startswith("sqlite"):
        assert cli.main(["--db", agency.db_url, "backup", "--out", str(path)]) == 0
    else:
        subprocess.run(["pg_dump", "-Fc", "-f", str(path), _libpq(agency.db_url)], check=True,
                       capture_output=True, timeout=120)
    return str(path)


def restore_server(agency, path, *, mark: bool = True) -> None:
    """Restore a backup as documented: `tandem-server restore` on SQLite (the server keeps
    running); on PostgreSQL stop the server, pg_restore, `tandem-server mark-restored`, start.
    `mark=False` restores without telling Tandem (SQLite: a plain page copy)."""
    import sqlite3
    import subprocess
    from contextlib import closing

    from sync.server import cli
    from sync.server.embedded import serve_in_thread
    if agency.db_url.startswith("sqlite"):
        if mark:
            assert cli.main(["--db", agency.db_url, "restore", str(path)]) == 0
            return
        live = agency.db_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(live)) as target:
            source.backup(target)
        return
    port = int(agency.url.rsplit(":", 1)[1])
    agency.running.stop()
    agency.engine.dispose()
    subprocess.run(["pg_restore", "--clean", "--if-exists", "-d", _libpq(agency.db_url),
                    str(path)], check=True, capture_output=True, timeout=120)
    if mark:
        assert cli.main(["--db", agency.db_url, "mark-restored", "--reason", "test"]) == 0
    agency.running = serve_in_thread(agency.db_url, port=port)

