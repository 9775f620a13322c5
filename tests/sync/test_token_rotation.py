"""Refresh tokens rotate at every use, and a laptop never strands itself: an answer lost on
the way, or a crash after the server rotated but before the laptop kept the new token, is
asked again with the same pair and gets the same answer. A copy of a token used after the
laptop used it revokes the whole sign-in. Real server and laptop, SQLite and PostgreSQL, with
and without a keyring."""

import pytest
import requests

from fieldapp.session import unlock
from sync import credentials, engine
from sync.transport import SyncFailed
from tests.conftest import PASSWORD

from sync_helpers import LoseResponses, http_with, outreach


@pytest.fixture(params=["keyring", "no keyring"])
def keyring_kind(request):
    if request.param == "keyring":
        return request.getfixturevalue("memory_keyring")
    return None


def expire_access(session) -> None:
    """A quarter of an hour on: the sign-in's access token ran out, so the next sync
    refreshes (rotating the refresh token)."""
    with session.db.atomic():
        session.db.execute("DELETE FROM access_token")


def reused(agency) -> int:
    return agency.scalar("SELECT count(*) FROM admin_audit WHERE action = 'token.reused'")


def test_a_lost_answer_and_a_crash_mid_rotation_leave_the_laptop_signed_in(
        agency, laptop, keyring_kind, monkeypatch):
    officer = laptop("ofc.ramirez")
    first = credentials.load_refresh_token(officer)
    lossy = LoseResponses("/refresh", times=1)  # the server rotated; the laptop heard nothing
    expire_access(officer)
    assert engine.run_sync(officer, http=http_with(lossy), backoff_s=0)["check"] == "ok"
    assert lossy.lost == 1 and credentials.load_refresh_token(officer) != first

    def crash(self, token):  # the power goes out before the new token is written
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(credentials.RefreshTokens, "rotated", crash)
    outreach(officer, 2)
    expire_access(officer)
    with pytest.raises(KeyboardInterrupt):
        engine.run_sync(officer)
    monkeypatch.undo()
    current, proposed = credentials.RefreshTokens(officer).load()
    assert proposed  # the pair the laptop asked with is still here
    officer.close()
    again = unlock(officer.data_dir, officer.username, PASSWORD)  # the laptop starts again
    summary = engine.run_sync(again)
    assert summary["check"] == "ok" and summary["pushed"] == 2
    assert credentials.RefreshTokens(again).load() == (proposed, None)
    assert engine.run_sync(again)["check"] == "ok"
    assert reused(agency) == 0
    again.close()


def test_a_copy_used_after_the_laptop_revokes_the_sign_in(agency, laptop):
    officer = laptop("ofc.ramirez")
    copied = credentials.load_refresh_token(officer)
    expire_access(officer)
    engine.run_sync(officer)  # rotates
    thief = requests.post(f"{agency.url}/v1/refresh", json={"refresh_token": copied}, timeout=30)
    assert thief.status_code == 401 and thief.json()["code"] == "token_reused"
    assert reused(agency) == 1
    with pytest.raises(SyncFailed, match="sign in again online"):
        engine.run_sync(officer)  # its access token and its next refresh are revoked too
