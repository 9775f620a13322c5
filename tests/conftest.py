"""Shared fixtures: no test touches real user data, a real keyring, or a real display."""

import os
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from fieldapp import keys
from fieldapp.session import Profile, create_cache

# Cheap key derivation for tests; the real parameters are tested in test_keys.py.
TEST_KDF = keys.KdfParams(n=2**10, r=8, p=1)
PASSWORD = "correct horse battery"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps entries in a dict: the OS keyring, minus the OS."""

    priority = 10

    def __init__(self):
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError(username)
        del self.entries[(service, username)]


TESTS = Path(__file__).parent
# The suites that drive a real X display and time real windows: run one test at a time.
ON_A_DISPLAY = ("e2e", "bundle", "browser")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """For pytest-xdist's `--dist loadgroup` (tests/run runs a worker per core): a test file stays
    on one worker, so its module fixtures are made once, and the suites on a display form one
    group, so they never compete with each other for the screen or the clock."""
    for item in items:
        where = Path(item.path).relative_to(TESTS)
        group = "display" if where.parts[0] in ON_A_DISPLAY else where.as_posix()
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Every user directory and the keyring point somewhere temporary; no keyring by default."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setattr(keys, "DEFAULT_KDF", TEST_KDF)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring():
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def t0():
    """Now, as a test's clock starts: a time before a cache's last sign-in would be a laptop
    clock set back (fieldapp/reauth.py)."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def make_session(data_dir, username="ofc.ramirez", role="officer", teams=("mhst-1",)):
    return create_cache(data_dir, Profile(username, role, tuple(teams), username), PASSWORD)


@pytest.fixture
def officer(data_dir):
    s = make_session(data_dir)
    yield s
    s.close()


@pytest.fixture
def clinician(data_dir):
    s = make_session(data_dir, "clin.okafor", "clinician")
    yield s
    s.close()


@pytest.fixture
def peer(data_dir):
    s = make_session(data_dir, "peer.lee", "peer", ("outreach-1",))
    yield s
    s.close()
