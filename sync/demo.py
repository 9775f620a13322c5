"""`tandem demo`: a local agency server on embedded SQLite with the seeds, the demo user signed in.

The server's files live under DIR/server/, apart from the laptop caches under DIR/users/.
On the first run the server gets the demo roster (every account with the documented demo
password) and the demo officer's laptop writes the seed case data, which the first sync
carries to the server; the server imports the seed directory, which laptops get by sync. Later
runs reuse both and just sync.

The server keeps one address across runs, http://127.0.0.1:DEMO_PORT, so every demo user's
cache (each signed in to it once) finds it again. The port is kept in DIR/server/port; if
another program holds it, the server takes a free port, keeps that one from then on, and
every demo cache on this laptop is pointed at the new address.
"""

import errno
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import requests
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import seeds
from fieldapp import demo, paths
from fieldapp.errors import TandemError
from fieldapp.session import Session, unlock

from . import engine, online
from .server import accounts
from .server import directory as server_directory
from .server.db import make_engine, read_meta
from .server.embedded import RunningServer, start_local_server
from .server.tables import app_user
from .transport import LOCAL_HOSTS

DEMO_PORT = 8470
PORT_FILE = "port"


def start(data_dir: Path, today: date | None = None,
          port: int = DEMO_PORT) -> tuple[Session, RunningServer]:
    """Start the demo server (on `port` the first time, then on the port it kept), sign the
    demo user in against it, sync; the caller stops it."""
    server, moved = _serve(paths.server_dir(data_dir), port)
    try:
        username, password = demo.credentials()
        server_db = make_engine(server.db_url)
        try:
            new_server = _add_roster(server_db, password)
            _import_directory(server_db)
        finally:
            server_db.dispose()
        if moved:
            _point_caches_at(data_dir, server.url, password, but=username)
        session = online.login(data_dir, server.url, username, password, device_name="demo laptop")
        if new_server:
            demo.seed_case_data(session, today or date.today())
        engine.run_sync(session)
    except BaseException:
        server.stop()
        raise
    return session, server


def _serve(server_dir: Path, first_port: int) -> tuple[RunningServer, bool]:
    """The server on the port it kept (`first_port` on a first run); a free port, kept from
    then on, when another program holds that one. Also whether the address is not the one
    kept (caches may know another). TandemError if it is this demo's own server, already
    running (another `tandem demo` on the same folder)."""
    kept = server_dir / PORT_FILE
    text = kept.read_text().strip() if kept.exists() else ""
    wanted = int(text) if text.isdigit() else first_port
    try:
        server = start_local_server(server_dir, wanted)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        if _already_running(server_dir, wanted):
            raise TandemError(f"the demo is already running from {server_dir.parent} (its "
                              f"server is on http://127.0.0.1:{wanted}): use that window, or "
                              "close it first") from None
        server = start_local_server(server_dir, 0)
        print(f"tandem demo: port {wanted} is taken by another program; the demo server is on "
              f"{server.url} from now on", file=sys.stderr)
    port = server.url.rsplit(":", 1)[1]
    kept.write_text(port)
    return server, port != text


def _already_running(server_dir: Path, port: int) -> bool:
    """Whether what answers on `port` is this folder's own demo server (the same epoch)."""
    server_db = make_engine(f"sqlite:///{server_dir / 'agency.db'}")  # migrated by now
    try:
        with server_db.connect() as conn:
            epoch = read_meta(conn, "epoch")
    finally:
        server_db.dispose()
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=3).json()
    except (requests.RequestException, ValueError):
        return False
    return isinstance(answer, dict) and answer.get("epoch") == epoch


def _point_caches_at(data_dir: Path, url: str, password: str, but: str) -> None:
    """Every demo user's cache here that knows the demo server at another loopback address
    (an earlier run's) is pointed at `url`. A cache whose password is no longer the demo's is
    left as it is, and said so (its user can change the address in Settings)."""
    for path in paths.cache_paths(data_dir):
        username = path.parent.name
        if username == but:  # signing in online sets it
            continue
        try:
            session = unlock(data_dir, username, password)
        except TandemError:
            print(f"tandem demo: {username}'s cache does not open with the demo password; "
                  f"set the server address to {url} in Settings", file=sys.stderr)
            continue
        try:
            known = session.db.execute(
                "SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
            if known and known != url and urlparse(known).hostname in LOCAL_HOSTS:
                with session.db.atomic():
                    session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1", [url])
        finally:
            session.close()


def _add_roster(server_db: Engine, password: str) -> bool:
    """Create the roster's accounts if the server has none yet; True when it was new."""
    with server_db.begin() as conn:
        if conn.scalar(select(func.count()).select_from(app_user)):
            return False
        roster = seeds.load("roster")
        cars = {member: unit for unit in roster["units"] for member in unit["default_members"]}
        for user in roster["users"]:
            teams = user.get("teams") or [user["team"]]
            car = cars.get(user["username"], {})
            accounts.add_user(conn, user["username"], user["role"], teams, password,
                              user.get("display_name", ""), car.get("call_sign"),
                              car.get("vehicle"))
    return True


def _import_directory(server_db: Engine) -> None:
    """Import the seed resource directory into the server if it has none yet."""
    with server_db.connect() as conn:
        if server_directory.current_version(conn):
            return
    server_directory.import_directory(server_db, seeds.DIRECTORY_DIR)
