"""A cache damaged on disk is found (its first pages by any opening, the rest by the page check
after sign-in) and rebuilt at the next sign-in, keeping what only it held: real encrypted
caches, damaged by overwriting bytes of their pages as a failing disk would."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sqlcipher3

from fieldapp import cache_rebuild, drafts, keys, outreach, settings
from fieldapp.errors import CacheDamaged
from fieldapp.session import unlock
from fieldapp.store import open_cache
from tests.conftest import PASSWORD, make_session

PAGE = 4096  # SQLCipher's page size


def damage(path, *pages: int) -> None:
    """Overwrite most of each page (1-based, as SQLite counts; negative counts from the end)."""
    data = bytearray(path.read_bytes())
    count = len(data) // PAGE
    noise = random.Random(7)
    for page in pages:
        start = ((page if page > 0 else count + 1 + page) - 1) * PAGE + 64
        data[start:start + 3000] = bytes(noise.randrange(256) for _ in range(3000))
    path.write_bytes(data)


def filler(session, rows: int = 400) -> None:
    """Rows that exist elsewhere too (the directory, pulled from the agency), written last, so
    the last pages of the file are theirs."""
    with session.db.atomic():
        for i in range(rows):
            session.db.execute("INSERT INTO dir_organization (id, name, description) "
                               "VALUES (?, ?, ?)", [f"org-{i}", f"Org {i}", "x" * 900])


def signed_in_after_the_check(data_dir):
    """Sign in on a cache damaged past its first pages: the page check after that sign-in
    finds it and says what to do; the next sign-in rebuilds it."""
    session = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        said = cache_rebuild.check_pages(session)
    finally:
        session.close()
    assert said.startswith("This laptop's copy of your records is damaged on its disk. Sign "
                           "out and sign in again")
    return unlock(data_dir, "ofc.ramirez", PASSWORD)


def pending(session) -> list[tuple]:
    return session.db.execute("SELECT seq, op_id, table_name, fields, hlc FROM outbox "
                              "ORDER BY seq").fetchall()


def test_a_damaged_cache_is_rebuilt_with_its_unsent_changes_drafts_and_identity(data_dir):
    officer = make_session(data_dir)
    outreach.log_contact(officer, supplies=["water"], place="Under the 4th Ave bridge")
    drafts.save_draft(officer, "encounter:new", "encounter", {"place": "Behind the transit center"})
    with officer.db.atomic():
        settings.put(officer.db, "lock_after_minutes", 5)
    device, ops = officer.device_id, pending(officer)
    filler(officer)
    path = officer.cache_path
    officer.close()
    damage(path, -3, -20)

    session = signed_in_after_the_check(data_dir)
    try:
        assert pending(session) == ops and len(ops) == 1  # the contact
        assert drafts.load_draft(session, "encounter:new")["place"] == "Behind the transit center"
        assert settings.get(session.db, "lock_after_minutes") == 5
        assert session.device_id == device  # the server still knows which ops it applied
        state = session.db.execute("SELECT pull_cursor, last_sync_at FROM sync_state").fetchone()
        assert tuple(state) == (None, None)  # everything comes back with the next sync
        assert session.db.execute("SELECT count(*) FROM dir_organization").fetchone()[0] == 0
        notice = session.damage_notice
        assert f"{len(ops)} change(s) not yet sent and 1 draft(s) were kept" in notice
        assert "could not be read" not in notice
    finally:
        session.close()
    aside = sorted(path.parent.glob("cache.damaged-*.db"))
    assert len(aside) == 1 and aside[0].name in notice
    assert sorted(path.parent.glob("key.damaged-*.json"))  # agency IT can open the copy
    with pytest.raises(CacheDamaged):
        open_cache(aside[0], session.data_key, check=True)  # kept as it was, damage and all


def test_rows_of_the_outbox_around_a_damaged_page_are_kept_and_the_loss_is_said(data_dir):
    officer = make_session(data_dir)
    with officer.db.atomic():  # many unsent changes, filling the last pages of the file
        for i in range(600):
            officer.db.execute(
                "INSERT INTO outbox (op_id, table_name, record_id, kind, fields, base, "
                "base_version, hlc, created_at) VALUES (?, 'outreach_contact', ?, 'create', "
                "?, '{}', 0, ?, '2026-12-02T05:00:00.000Z')",
                [f"op-{i:04}", f"rec-{i:04}", json.dumps({"place": "y" * 600}),
                 f"1764651600000-{i:05}-{officer.device_id}"])
    ops = pending(officer)
    path = officer.cache_path
    officer.close()
    damage(path, -10)

    session = signed_in_after_the_check(data_dir)
    try:
        kept = pending(session)
        assert 0 < len(kept) < len(ops) and set(kept) <= set(ops), session.damage_notice
        assert "Some changes not yet sent could not be read" in session.damage_notice
    finally:
        session.close()


def test_an_undamaged_cache_opens_as_it_is_and_passes_the_check(data_dir):
    officer = make_session(data_dir)
    outreach.log_contact(officer, supplies=["socks"])
    ops = pending(officer)
    officer.close()
    session = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        assert pending(session) == ops and session.damage_notice == ""
        assert cache_rebuild.check_pages(session) == ""
    finally:
        session.close()
    assert not cache_rebuild.marked(session.cache_path)
    assert not list(session.cache_path.parent.glob("*.damaged-*"))


def test_a_cache_damaged_where_it_says_whose_it_is_is_set_aside_with_a_clear_error(data_dir):
    officer = make_session(data_dir)
    path = officer.cache_path
    officer.close()
    damage(path, 1)
    with pytest.raises(CacheDamaged, match="damaged beyond rebuilding here") as e:
        unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert e.value.set_aside.exists() and not path.exists()
    assert "Sign in online to start a new one" in str(e.value)


def test_a_headless_command_says_the_cache_was_rebuilt(data_dir):
    """`tandem search` (or `tandem sync`) on a damaged cache works on the rebuilt one, and
    says so on stderr: an admin's script sees it in its log."""
    officer = make_session(data_dir)
    outreach.log_contact(officer, supplies=["water"])
    filler(officer)
    path = officer.cache_path
    officer.close()
    damage(path, -2)
    session = unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert cache_rebuild.check_pages(session)  # the app's check, after its sign-in
    session.close()
    out = subprocess.run([sys.executable, "-m", "ui.cli", "search", "shelter", "--data-dir",
                          str(data_dir)], input=PASSWORD + "\n", capture_output=True, text=True,
                         cwd=Path(__file__).parents[1])
    assert out.returncode == 0, out.stderr
    assert "has been rebuilt: 1 change(s) not yet sent and 0 draft(s) were kept" in out.stderr


def test_the_damaged_copys_key_is_kept_when_it_lived_in_the_keyring(data_dir, memory_keyring):
    """With the key in the OS keyring, the new cache's key replaces it there: the damaged
    copy keeps its own, wrapped by the same password, in a file readable by this account."""
    officer = make_session(data_dir)
    data_key, path = officer.data_key, officer.cache_path
    assert not path.with_name("key.json").exists()  # in the keyring
    officer.close()
    damage(path, 1)
    with pytest.raises(CacheDamaged) as e:
        unlock(data_dir, "ofc.ramirez", PASSWORD)
    kept = sorted(path.parent.glob("key.damaged-*.json"))
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o777 == 0o600
    assert keys.unwrap(json.loads(kept[0].read_text()), PASSWORD) == data_key
    assert e.value.set_aside.name.replace("cache.", "key.").replace(".db", ".json") == \
        kept[0].name


def test_a_job_that_meets_a_damaged_page_before_the_check_says_so_and_marks_it(data_dir):
    """What the UI's workers hand back (ui/tasks.py): the notice, not a bug report, and the
    next sign-in rebuilds the cache as if the page check had found it."""
    session = make_session(data_dir)
    filler(session)
    path = session.cache_path
    session.close()
    damage(path, -2, -3)
    session = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        with pytest.raises(sqlcipher3.DatabaseError) as met:
            session.db.execute("SELECT sum(length(description)) FROM dir_organization").fetchone()
        told = cache_rebuild.damage_met(session, met.value)
        assert isinstance(told, CacheDamaged) and str(told) == cache_rebuild.DAMAGE_FOUND
        assert cache_rebuild.marked(path)
        other = sqlcipher3.OperationalError("malformed JSON")
        assert cache_rebuild.damage_met(session, other) is None
    finally:
        session.close()
    rebuilt = unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert "has been rebuilt" in rebuilt.damage_notice
    rebuilt.close()
