"""Where a wrapped key is read from when both the keyring and key.json could hold one."""

import keyring
import keyring.backends.fail

from fieldapp import keys


def test_key_file_wins_over_an_older_keyring_entry(memory_keyring, tmp_path):
    store = keys.KeyStore(tmp_path / "cache.db")
    store.save({"wrapped": "first"})  # keyring available: kept there
    assert memory_keyring.entries and not store.file_path.exists()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store.save({"wrapped": "second"})  # keyring gone for a while: kept in the file
    keyring.set_keyring(memory_keyring)  # back, still holding the first key
    assert store.load() == {"wrapped": "second"}
    store.save({"wrapped": "third"})  # a save to the keyring removes the file
    assert not store.file_path.exists() and store.load() == {"wrapped": "third"}
