"""A revoked laptop pushes nothing more, deletes the user's cache and keyring entries on its
next contact, and the server logs both its order to wipe and the laptop's report."""

import pytest

from fieldapp import keys
from sync import credentials, engine, online, transport
from sync.server import cli
from tests.conftest import PASSWORD

from sync_helpers import outreach


def _wipe_log(agency, device_id):
    return [r["event"] for r in agency.rows(
        "SELECT event FROM device_wipe WHERE device_id = :d ORDER BY id", d=device_id)]


def test_revoked_laptop_is_wiped_on_contact_and_the_server_logs_it(agency, laptop,
                                                                  memory_keyring):
    officer = laptop("ofc.ramirez")
    outreach(officer, 2)
    engine.run_sync(officer)
    held = dict(memory_keyring.entries)
    assert any(keys.KEYRING_SERVICE in str(k) for k in held)  # wrapped key and token stored
    unsent = outreach(officer, 3, note="typed after the revocation")
    device, path = officer.device_id, officer.cache_path
    assert cli.main(["--db", agency.db_url, "revoke-device", device]) == 0

    with pytest.raises(transport.DeviceRevoked):
        engine.run_sync(officer)

    assert not path.parent.exists()
    assert held and not set(held) & set(memory_keyring.entries), memory_keyring.entries
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'outreach_contact'") == 2
    assert not [i for i in unsent if agency.scalar("SELECT count(*) FROM record WHERE id = :i",
                                                   i=i)]
    assert _wipe_log(agency, device) == ["told", "wiped"]


def test_signing_in_again_on_a_revoked_laptop_wipes_it(agency, laptop):
    officer = laptop("ofc.ramirez")
    device, path = officer.device_id, officer.cache_path
    data_dir = path.parent.parent.parent
    officer.close()
    assert cli.main(["--db", agency.db_url, "revoke-device", device]) == 0
    with pytest.raises(transport.DeviceRevoked):
        online.login(data_dir, agency.url, "ofc.ramirez", PASSWORD)
    assert not path.exists()
    assert _wipe_log(agency, device) == ["told", "wiped"]


def test_wipe_report_needs_a_revoked_device_and_a_known_token(agency, laptop):
    import requests

    officer = laptop("ofc.ramirez")
    token = credentials.load_refresh_token(officer)
    answer = requests.post(f"{agency.url}/v1/wiped", json={"refresh_token": token}, timeout=10)
    assert answer.status_code == 409 and "not revoked" in answer.json()["detail"]
    answer = requests.post(f"{agency.url}/v1/wiped", json={"refresh_token": "nope"}, timeout=10)
    assert answer.status_code == 401
    assert _wipe_log(agency, officer.device_id) == []
