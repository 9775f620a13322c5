"""`tandem-server` as an agency runs it: each command in a process of its own, from a given
copy of the code (this checkout, or an older release's worktree), serving on a free port."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]


def command(code: Path, module: str) -> list[str]:
    """`python -m module` with `code` first on sys.path, whatever this venv has installed."""
    return [sys.executable, "-c",
            f"import runpy, sys; sys.path.insert(0, {str(code)!r}); "
            f"runpy.run_module({module!r}, run_name='__main__')"]


def server_command(db_url: str, *args: str, code: Path = ROOT, stdin: str | None = None,
                   env: dict | None = None) -> str:
    """Run one `tandem-server` command; its output, or a failure showing it."""
    done = subprocess.run([*command(code, "sync.server.cli"), "--db", db_url, *args],
                          input=stdin, capture_output=True, text=True, cwd=code, timeout=300,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, (f"tandem-server {' '.join(args)} ({code}) failed:\n"
                                  f"{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def serving(db_url: str, log: Path, *, code: Path = ROOT, env: dict | None = None,
            port: int = 0):
    """`tandem-server serve` on `port` (a free one if 0) until the block ends; yields its URL.
    Its JSON-lines log (one line per request) goes to `log`."""
    port = port or free_port()
    with log.open("wb") as log_file:  # the child keeps its own copy of the handle
        process = subprocess.Popen(
            [*command(code, "sync.server.cli"), "--db", db_url, "serve", "--port", str(port)],
            cwd=code, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
            stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/v1/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"tandem-server serve did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
