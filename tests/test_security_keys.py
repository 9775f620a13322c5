"""A stolen laptop: the cache file plus its wrapped key (keyring entry or key.json) open nothing
without the password; a password change rewraps the key and leaves the cache's bytes alone.

Every test runs twice: with a keyring (the test backend) and without one (key.json)."""

import base64
import hashlib
import json
import shutil

import pytest
import sqlcipher3

from fieldapp import encounters, keys, paths
from fieldapp import session as sessions
from fieldapp.errors import CacheUnreadable, WrongPassword
from fieldapp.store import open_cache
from tests.conftest import PASSWORD, make_session

SECRET = "Subject-disclosed-QZ9 plan to stay with sister"


@pytest.fixture(params=["keyring", "key-file"])
def where(request):
    if request.param == "keyring":
        request.getfixturevalue("memory_keyring")
    return request.param


@pytest.fixture
def signed_out(data_dir, where):
    """ofc.ramirez wrote a note and signed out: what is left on the laptop."""
    s = make_session(data_dir)
    encounters.save_encounter(s, {"presenting_situation": "welfare_check", "police_note": SECRET})
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data_key = s.data_key
    s.close()
    return data_key


def stolen(data_dir, tmp_path) -> tuple:
    """What a thief copies: every file in the user's folder, and the wrapped key text."""
    loot = tmp_path / "loot"
    shutil.copytree(paths.user_dir(data_dir, "ofc.ramirez"), loot)
    wrapped_text = json.dumps(keys.KeyStore(paths.cache_path(data_dir, "ofc.ramirez")).load())
    return loot / "cache.db", wrapped_text


def opens(path, pragma_key: str) -> bool:
    conn = sqlcipher3.connect(str(path))
    try:
        conn.execute(f"PRAGMA key = {pragma_key}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def test_wrapped_key_is_where_it_should_be(data_dir, signed_out, where):
    key_file = paths.cache_path(data_dir, "ofc.ramirez").with_name("key.json")
    assert key_file.exists() == (where == "key-file")


def test_stolen_cache_and_wrapped_key_open_nothing_without_the_password(
        data_dir, tmp_path, signed_out):
    cache, wrapped_text = stolen(data_dir, tmp_path)
    wrapped = json.loads(wrapped_text)
    blob = base64.b64decode(wrapped["wrapped"])
    salt = base64.b64decode(wrapped["salt"])
    # The data key itself appears nowhere in what was stolen, in any usual spelling.
    loot = b"".join(f.read_bytes() for f in cache.parent.iterdir()) + wrapped_text.encode()
    for spelling in (signed_out, signed_out.hex().encode(), base64.b64encode(signed_out)):
        assert spelling not in loot
    assert SECRET.encode() not in loot
    # Everything a thief can make from the loot, tried as the SQLCipher key.
    attempts = {
        "no key": "''",
        "sealed blob, first 32 bytes": f"\"x'{blob[:32].hex()}'\"",
        "sealed blob, last 32 bytes": f"\"x'{blob[-32:].hex()}'\"",
        "sha256 of the key file": f"\"x'{hashlib.sha256(wrapped_text.encode()).hexdigest()}'\"",
        "the wrapped text as a passphrase": "'" + wrapped_text.replace("'", "''") + "'",
        "the salt, padded": f"\"x'{(salt * 2).hex()}'\"",
        # Even the right password is no SQLCipher passphrase: the cache's key is random.
        "the password itself": f"'{PASSWORD}'",
        "sha256 of the password": f"\"x'{hashlib.sha256(PASSWORD.encode()).hexdigest()}'\"",
    }
    opened = [name for name, pragma in attempts.items() if opens(cache, pragma)]
    assert opened == []
    # A wrong password's derived key fails the seal, so it never reaches the cache.
    for guess in ("password", "correct horse", PASSWORD.upper(), ""):
        with pytest.raises(WrongPassword):
            keys.unwrap(wrapped, guess)
    # The control: with the password the same loot opens, so the attempts above could succeed.
    data_key = keys.unwrap(wrapped, PASSWORD)
    assert data_key == signed_out
    db = open_cache(cache, data_key, migrate=False)
    assert db.execute("SELECT police_note FROM encounter").fetchone()[0] == SECRET
    db.close()


def test_tampered_wrapped_key_is_refused(data_dir, signed_out):
    wrapped = keys.KeyStore(paths.cache_path(data_dir, "ofc.ramirez")).load()
    blob = bytearray(base64.b64decode(wrapped["wrapped"]))
    blob[0] ^= 1
    with pytest.raises(WrongPassword):
        keys.unwrap({**wrapped, "wrapped": base64.b64encode(bytes(blob)).decode()}, PASSWORD)
    # Lowering the work factor in the stored parameters derives another key: no shortcut.
    with pytest.raises(WrongPassword):
        keys.unwrap({**wrapped, "n": wrapped["n"] // 2}, PASSWORD)


def test_a_wrong_data_key_cannot_read_the_cache(data_dir, signed_out):
    with pytest.raises(CacheUnreadable):
        open_cache(paths.cache_path(data_dir, "ofc.ramirez"), bytes(32))


def test_change_password_rewraps_without_reencrypting(data_dir, signed_out):
    user = paths.user_dir(data_dir, "ofc.ramirez")
    before = {f.name: f.read_bytes() for f in user.iterdir() if f.name.startswith("cache.db")}
    store = keys.KeyStore(paths.cache_path(data_dir, "ofc.ramirez"))
    wrapped_before = store.load()
    sessions.change_password(data_dir, "ofc.ramirez", PASSWORD, "a brand new passphrase")
    after = {f.name: f.read_bytes() for f in user.iterdir() if f.name.startswith("cache.db")}
    assert after == before  # the cache (and its WAL) untouched: nothing re-encrypted
    wrapped_after = store.load()
    assert wrapped_after["salt"] != wrapped_before["salt"]
    assert wrapped_after["wrapped"] != wrapped_before["wrapped"]
    with pytest.raises(WrongPassword):
        sessions.unlock(data_dir, "ofc.ramirez", PASSWORD)
    with pytest.raises(WrongPassword):
        keys.unwrap(wrapped_after, PASSWORD)
    s = sessions.unlock(data_dir, "ofc.ramirez", "a brand new passphrase")
    assert s.data_key == signed_out
    assert s.db.execute("SELECT police_note FROM encounter").fetchone()[0] == SECRET
    s.close()


def test_change_password_needs_the_old_one(data_dir, signed_out):
    with pytest.raises(WrongPassword):
        sessions.change_password(data_dir, "ofc.ramirez", "not it", "new one")
    sessions.unlock(data_dir, "ofc.ramirez", PASSWORD).close()


def test_shipped_kdf_costs_real_work():
    """The shipped parameters (tests use cheap ones, see conftest) are what the benchmark
    bench/bench_kdf.py measures at >= 0.25 s per guess; each wrapped key records its own."""
    shipped = keys.KdfParams()
    assert (shipped.n, shipped.r) >= (2**17, 8)
    assert 128 * shipped.n * shipped.r >= 128 * 2**20  # bytes of memory per guess
    wrapped = keys.wrap(b"k" * 32, "pw", "alice", shipped)
    assert (wrapped["n"], wrapped["r"], wrapped["p"]) == (shipped.n, shipped.r, shipped.p)
    assert keys.unwrap(wrapped, "pw") == b"k" * 32
