"""`tandem demo`: a local agency server on embedded SQLite with the seeds, the demo user signed in.

The server's files live under DIR/server/, apart from the laptop caches under DIR/users/.
On the first run the server gets the demo roster (every account with the documented demo
password) and the demo officer's laptop writes the seed case data, which the first sync
carries to the server; the server imports the seed directory, which laptops get by sync. Later
runs reuse both and just sync.
"""

from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import seeds
from fieldapp import demo, paths
from fieldapp.session import Session

from . import engine, online
from .server import accounts
from .server import directory as server_directory
from .server.db import make_engine
from .server.embedded import RunningServer, start_local_server
from .server.tables import app_user


def start(data_dir: Path, today: date | None = None) -> tuple[Session, RunningServer]:
    """Start the demo server, sign the demo user in against it, sync; the caller stops it."""
    server = start_local_server(paths.server_dir(data_dir))
    try:
        username, password = demo.credentials()
        server_db = make_engine(server.db_url)
        try:
            new_server = _add_roster(server_db, password)
            _import_directory(server_db)
        finally:
            server_db.dispose()
        session = online.login(data_dir, server.url, username, password, device_name="demo laptop")
        if new_server:
            demo.seed_case_data(session, today or date.today())
        engine.run_sync(session)
    except BaseException:
        server.stop()
        raise
    return session, server


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
