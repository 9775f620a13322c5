"""The encrypted cache: how it is opened, that it is encrypted, and that keys guard it. What a
thief can do with a cache and its wrapped key, and password changes, are tests/test_security_keys.py's."""

import pytest

from fieldapp import keys, paths, schema, session as sessions
from fieldapp.errors import KeyMissing, WrongPassword
from fieldapp.store import is_encrypted
from tests.conftest import PASSWORD, make_session


def test_cache_pragmas(officer):
    db = officer.db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")


def test_cache_file_holds_no_plaintext(officer, data_dir):
    from fieldapp import encounters
    secret = "Subject-disclosed-XQ7 plans; prefers Spanish"
    encounters.save_encounter(officer, {"presenting_situation": "welfare_check",
                                        "police_note": secret})
    officer.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b""
    for f in paths.user_dir(data_dir, officer.username).iterdir():
        raw += f.read_bytes()
    # Fragments long enough that random ciphertext cannot hold them by chance (3 bytes can).
    for fragment in (b"Subject-disclosed", b"XQ7 plans", b"prefers Spanish"):
        assert fragment not in raw
    assert is_encrypted(officer.cache_path)


def test_plain_sqlite_cannot_read_cache(officer):
    import sqlite3
    conn = sqlite3.connect(officer.cache_path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def test_unlock_with_password_and_reject_wrong_one(officer, data_dir):
    officer.close()
    again = sessions.unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert again.profile.role == "officer"
    assert again.device_id == officer.device_id
    again.close()
    with pytest.raises(WrongPassword):
        sessions.unlock(data_dir, "ofc.ramirez", "not the password")


def test_key_file_beside_cache_without_keyring(officer):
    key_file = officer.cache_path.with_name("key.json")
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o077 == 0
    text = key_file.read_text()
    assert officer.data_key.hex() not in text


def test_missing_key_says_what_to_do(officer, data_dir):
    keys.KeyStore(officer.cache_path).delete()
    with pytest.raises(KeyMissing, match="sign in online again"):
        sessions.unlock(data_dir, "ofc.ramirez", PASSWORD)


def test_wrapped_key_is_bound_to_its_user():
    wrapped = keys.wrap(b"k" * 32, "pw", "alice")
    wrapped["label"] = "bob"
    with pytest.raises(WrongPassword):
        keys.unwrap(wrapped, "pw")


def test_each_user_has_own_cache(data_dir):
    a = make_session(data_dir, "ofc.a")
    b = make_session(data_dir, "clin.b", "clinician")
    assert a.cache_path != b.cache_path
    assert a.data_key != b.data_key
    assert a.device_id != b.device_id
    a.close(); b.close()
    assert [p.parent.name for p in paths.cache_paths(data_dir)] == ["clin.b", "ofc.a"]


def test_new_cache_is_at_latest_schema(officer):
    assert schema.schema_version(officer.db) == schema.latest_version()


def test_the_cache_and_its_folder_are_the_users_alone(officer):
    """Encrypted or not, a cache is nobody else's to read or list (as key.json already is),
    and its WAL, which SQLite makes with the database's permissions, too."""
    from fieldapp import outreach
    outreach.log_contact(officer, supplies=["water"])
    path = officer.cache_path
    assert path.parent.stat().st_mode & 0o777 == 0o700
    for part in (path, path.with_name(path.name + "-wal")):
        assert part.stat().st_mode & 0o777 == 0o600, part
