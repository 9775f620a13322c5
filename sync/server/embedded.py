"""Running the server inside another program: the demo and the tests start a real uvicorn on
a loopback port (a free one unless they ask for one) in a background thread."""

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .. import protocol as P
from . import agency_settings
from .api import create_app
from .db import make_engine, migrate


@dataclass
class RunningServer:
    url: str
    db_url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def serve_in_thread(db_url: str, host: str = "127.0.0.1", port: int = 0,
                    min_app_version: str = P.OLDEST_LAPTOP) -> RunningServer:
    """Serve the database at `db_url` (already initialised) until `.stop()`; OSError
    (EADDRINUSE) if another program holds `port`."""
    app = create_app(db_url, min_app_version)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="tandem-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the local agency server did not start")
        time.sleep(0.02)
    return RunningServer(f"http://{host}:{sock.getsockname()[1]}", db_url, server, thread)


def start_local_server(directory: Path, port: int = 0) -> RunningServer:
    """The demo's server: an embedded SQLite database in `directory`, initialised if new,
    served on loopback `port` (0: a free one). Returns the running server (its `.url`,
    `.stop()`). Its accounts are fictional and on this laptop, so it asks for no second
    factor."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'agency.db'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "optional")
    engine.dispose()
    return serve_in_thread(url, port=port)
