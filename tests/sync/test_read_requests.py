"""Requests that only read run on PostgreSQL without BEGIN and COMMIT (db.reading): they still
refuse a revoked device on its very next request, see what was committed just before, and
hand their pooled connection back as a transaction for the next writer."""

import time
import uuid

import pytest
import requests
from sqlalchemy import select

from sync.server import cli, config
from sync.server.db import make_engine, migrate, read_meta, reading
from sync.server.tables import meta
from tests.conftest import PASSWORD

READS = ["/v1/directory", "/v1/summary", "/v1/manifest", "/v1/conflicts", "/v1/roster"]


def _sign_in(url: str, username: str) -> tuple[str, str]:
    device = str(uuid.uuid4())
    answer = requests.post(f"{url}/v1/login", timeout=10, json={
        "username": username, "password": PASSWORD, "device_id": device,
        "device_name": "unit 4471"})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"], device


def test_a_revoked_device_is_refused_on_its_next_read(agency):
    agency.add_user("ofc.ramirez")
    token, device = _sign_in(agency.url, "ofc.ramirez")
    auth = {"Authorization": f"Bearer {token}"}
    for path in READS:
        assert requests.get(agency.url + path, headers=auth, timeout=10).status_code == 200
    assert cli.main(["--db", agency.db_url, "revoke-device", device]) == 0
    for path in READS:
        answer = requests.get(agency.url + path, headers=auth, timeout=10)
        assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked"), path
    told = agency.scalar("SELECT count(*) FROM device_wipe WHERE device_id = :d AND "
                         "event = 'told'", d=device)
    assert told == len(READS)


def test_a_read_sees_what_was_committed_just_before(agency):
    agency.add_user("ofc.ramirez")
    token, device = _sign_in(agency.url, "ofc.ramirez")
    auth = {"Authorization": f"Bearer {token}"}
    before = requests.get(f"{agency.url}/v1/summary", headers=auth, timeout=10).json()
    op = {"op_id": str(uuid.uuid4()), "table": "person", "record_id": str(uuid.uuid4()),
          "kind": "create", "fields": {"team": "mhst-1", "kind": "alias", "alias": "by the wash"},
          "base": {}, "base_version": 0, "hlc": f"{int(time.time() * 1000):013d}-00001-{device}"}
    pushed = requests.post(f"{agency.url}/v1/push", headers=auth, json={"ops": [op]}, timeout=10)
    assert pushed.json()["results"][0]["status"] == "applied", pushed.text
    after = requests.get(f"{agency.url}/v1/summary", headers=auth, timeout=10).json()
    assert after["count"] == before["count"] + 1 and after["cursor"] > before["cursor"]
    manifest = requests.get(f"{agency.url}/v1/manifest", headers=auth, timeout=10).json()
    assert ["person", op["record_id"], 1] in manifest["records"]


def test_the_connection_goes_back_to_the_pool_as_a_transaction(db_url, monkeypatch):
    monkeypatch.setenv(config.POOL_SIZE, "1")
    monkeypatch.setenv(config.MAX_OVERFLOW, "0")
    engine = make_engine(db_url)
    migrate(engine)
    try:
        with reading(engine) as conn:
            epoch = read_meta(conn, "epoch")
        with pytest.raises(RuntimeError), engine.begin() as conn:  # the same pooled connection
            conn.execute(meta.update().where(meta.c.key == "epoch").values(value="half-done"))
            raise RuntimeError("the writer fails before it commits")
        with reading(engine) as conn:
            assert conn.scalar(select(meta.c.value).where(meta.c.key == "epoch")) == epoch
    finally:
        engine.dispose()
