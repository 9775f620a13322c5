"""Opening a cache for a headless command (`tandem sync`, `tandem search`): which user, and
their password read from stdin, so no password sits in shell history or a process list."""

import sys
from pathlib import Path

from . import paths
from .errors import TandemError
from .session import Session, unlock


def read_password(stdin=None) -> str:
    line = (stdin or sys.stdin).readline().rstrip("\r\n")
    if not line:
        raise TandemError("no password on stdin")
    return line


def choose_user(data_dir: Path, username: str | None) -> str:
    """The named user, or the only one with a cache here."""
    if username is not None:
        return username
    users = [p.parent.name for p in paths.cache_paths(data_dir)]
    if len(users) != 1:
        raise TandemError(f"{len(users)} users have caches in {data_dir}; name one with --user"
                          if users else f"no one has signed in under {data_dir}; run tandem login")
    return users[0]


def open_session(data_dir: Path, username: str | None) -> Session:
    """The session; a cache found damaged and rebuilt on the way says so on stderr."""
    session = unlock(data_dir, choose_user(data_dir, username), read_password())
    if session.damage_notice:
        print(f"tandem: {session.damage_notice}", file=sys.stderr)
    return session
