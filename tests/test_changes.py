"""The change journal: every change and its outbox op together, or neither."""

import json

import pytest

from fieldapp import changes, shifts
from fieldapp.errors import NotFound, TandemError, ValidationError


def _count(session, table):
    return session.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]


def test_create_writes_row_and_op(officer):
    pid = changes.create(officer, "person", {"team": "mhst-1", "kind": "alias", "alias": "Sparrow"})
    row = officer.db["person"].get(pid)
    assert row["author"] == "ofc.ramirez" and row["device"] == officer.device_id
    assert row["server_version"] == 0 and row["deleted"] == 0
    assert row["created_hlc"] == row["updated_hlc"]
    op = next(officer.db.query("SELECT * FROM outbox WHERE record_id = ?", [pid]))
    assert op["kind"] == "create" and op["base_version"] == 0 and op["state"] == "pending"
    assert json.loads(op["fields"])["alias"] == "Sparrow"
    assert op["hlc"] == row["created_hlc"]


def test_ids_are_uuid7_and_time_ordered(officer):
    import uuid
    ids = [changes.create(officer, "person", {"team": "t", "kind": "anonymous"}) for _ in range(5)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids)


def test_patch_records_changed_fields_with_base_values(officer):
    pid = changes.create(officer, "person", {"team": "t", "kind": "alias", "alias": "Sparrow"})
    officer.db["person"].update(pid, {"server_version": 4})  # as if synced
    changed = changes.patch(officer, "person", pid, {"alias": "Wren", "high_utilizer": True})
    assert changed == {"alias": "Wren", "high_utilizer": 1}
    op = list(officer.db.query("SELECT * FROM outbox WHERE kind = 'patch'"))[0]
    assert json.loads(op["base"]) == {"alias": "Sparrow", "high_utilizer": None}
    assert op["base_version"] == 4


def test_patch_without_change_writes_no_op(officer):
    pid = changes.create(officer, "person", {"team": "t", "kind": "alias", "alias": "Sparrow"})
    before = _count(officer, "outbox")
    assert changes.patch(officer, "person", pid, {"alias": "Sparrow"}) == {}
    assert _count(officer, "outbox") == before


def test_delete_is_a_tombstone_with_an_op(officer):
    pid = changes.create(officer, "person", {"team": "t", "kind": "anonymous"})
    changes.delete(officer, "person", pid)
    assert officer.db["person"].get(pid)["deleted"] == 1
    with pytest.raises(NotFound):
        changes.get(officer, "person", pid)
    assert [r["kind"] for r in officer.db.query(
        "SELECT kind FROM outbox WHERE record_id = ? ORDER BY seq", [pid])] == ["create", "delete"]


def test_append_only_records_refuse_patch_and_delete(officer):
    sid = shifts.start_shift(officer, "MHST-11")
    event = shifts.timeline(officer, sid)[0]["id"]
    with pytest.raises(TandemError, match="append-only"):
        changes.patch(officer, "shift_event", event, {"note": "x"})
    with pytest.raises(TandemError, match="append-only"):
        changes.delete(officer, "shift_event", event)
    op = next(officer.db.query("SELECT kind FROM outbox WHERE record_id = ?", [event]))
    assert op["kind"] == "append"


def test_failure_between_row_and_op_leaves_neither(officer):
    """A fault injected at the outbox write (a trigger that aborts) rolls the change back."""
    officer.db.execute("""CREATE TEMP TRIGGER fail_outbox BEFORE INSERT ON outbox
                          BEGIN SELECT RAISE(ABORT, 'injected disk fault'); END""")
    rows, ops = _count(officer, "person"), _count(officer, "outbox")
    with pytest.raises(Exception, match="injected disk fault"):
        changes.create(officer, "person", {"team": "t", "kind": "anonymous"})
    assert (_count(officer, "person"), _count(officer, "outbox")) == (rows, ops)
    officer.db.execute("DROP TRIGGER fail_outbox")
    pid = changes.create(officer, "person", {"team": "t", "kind": "alias", "alias": "A"})
    officer.db.execute("""CREATE TEMP TRIGGER fail_outbox BEFORE INSERT ON outbox
                          BEGIN SELECT RAISE(ABORT, 'injected disk fault'); END""")
    with pytest.raises(Exception, match="injected disk fault"):
        changes.patch(officer, "person", pid, {"alias": "B"})
    assert officer.db["person"].get(pid)["alias"] == "A"


def test_failure_in_row_write_leaves_no_op(officer):
    officer.db.execute("""CREATE TEMP TRIGGER fail_person BEFORE INSERT ON person
                          BEGIN SELECT RAISE(ABORT, 'injected'); END""")
    ops = _count(officer, "outbox")
    with pytest.raises(Exception, match="injected"):
        changes.create(officer, "person", {"team": "t", "kind": "anonymous"})
    assert _count(officer, "outbox") == ops


def test_clock_state_is_saved_with_the_change(officer, data_dir):
    from fieldapp.session import unlock
    from tests.conftest import PASSWORD
    changes.create(officer, "person", {"team": "t", "kind": "anonymous"})
    stamp = officer.db.execute("SELECT max(hlc) FROM outbox").fetchone()[0]
    officer.close()
    again = unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert again.clock.now() > stamp
    again.close()


def test_validation_names_every_bad_field_and_writes_nothing(officer):
    before = _count(officer, "outbox")
    with pytest.raises(ValidationError) as e:
        changes.create(officer, "follow_up", {
            "team": "t", "person_id": "nobody", "reason": "vibes", "due_on": "soon",
            "priority": "high", "extra": 1})
    assert set(e.value.problems) == {"reason", "due_on", "priority", "extra", "status"}
    assert _count(officer, "outbox") == before


def test_unknown_reference_is_named(officer):
    with pytest.raises(ValidationError) as e:
        changes.create(officer, "follow_up", {
            "team": "t", "person_id": "0000", "reason": "court_order", "due_on": "2026-11-21",
            "priority": 1, "status": "open"})
    assert e.value.problems == {"person_id": "no person with id 0000"}


def test_oversized_note_is_refused(officer):
    from fieldapp import encounters
    with pytest.raises(ValidationError) as e:
        encounters.save_encounter(officer, {"presenting_situation": "other",
                                            "police_note": "x" * 20_001})
    assert "too long" in e.value.problems["police_note"]
    assert _count(officer, "encounter") == 0


def test_sensitive_changes_are_audited_in_the_same_transaction(officer):
    pid = changes.create(officer, "person", {"team": "t", "kind": "anonymous"})
    events = list(officer.db.query("SELECT * FROM audit_event WHERE record_id = ?", [pid]))
    assert [e["action"] for e in events] == ["person.create"]
    assert events[0]["actor"] == "ofc.ramirez" and events[0]["device"] == officer.device_id


def test_a_submitted_shift_changes_only_by_amendment(officer):
    from fieldapp import review
    shift_id = shifts.start_shift(officer, "MHST-1A")
    eid = changes.create(officer, "encounter", {
        "team": "mhst-1", "shift_id": shift_id, "started_at": "2026-05-01T10:00:00.000Z",
        "presenting_situation": "welfare_check"})
    changes.patch(officer, "encounter", eid, {"disposition": "referred"})  # still open: fine
    shifts.end_shift(officer, shift_id)
    ops = _count(officer, "outbox")
    for attempt in (lambda: changes.patch(officer, "encounter", eid, {"disposition": "declined"}),
                    lambda: changes.delete(officer, "encounter", eid),
                    lambda: changes.patch(officer, "shift", shift_id, {"vehicle": "Unit 9"})):
        with pytest.raises(TandemError, match="amendment"):
            attempt()
    assert changes.get(officer, "encounter", eid)["disposition"] == "referred"
    assert _count(officer, "outbox") == ops  # nothing half-written
    review.amend(officer, "encounter", eid, {"disposition": "declined"}, "typo at the scene")
    assert changes.get(officer, "encounter", eid)["disposition"] == "declined"
    amendment = next(officer.db.query("SELECT * FROM amendment"))
    assert amendment["record_id"] == eid and "declined" in amendment["changes"]


def test_text_a_database_cannot_keep_is_refused_before_it_is_queued(officer):
    """A paste can carry an unseen NUL, which the server refuses: the laptop refuses it at
    the form, saying where, instead of queueing a change the server would reject."""
    before = _count(officer, "outbox")
    with pytest.raises(ValidationError) as e:
        changes.create(officer, "outreach_contact", {
            "team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z",
            "note": "Under the Grant Rd overpass\x00, north side"})
    assert e.value.problems["note"].startswith("contains a NUL character")
    assert "after 'he Grant Rd overpass'" in e.value.problems["note"]
    with pytest.raises(ValidationError) as e:  # in a list item, a lone surrogate
        changes.create(officer, "outreach_contact", {
            "team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z",
            "services_offered": ["food\ud800"]})
    assert "unpaired surrogate" in e.value.problems["services_offered"]
    with pytest.raises(ValidationError) as e:  # a NUL, in an item
        changes.create(officer, "outreach_contact", {
            "team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z",
            "services_offered": ["food", "fo\x00od"]})
    assert e.value.problems["services_offered"].startswith("item 2: contains a NUL character")
    assert "after 'fo'" in e.value.problems["services_offered"]
    assert _count(officer, "outbox") == before


def test_list_items_are_held_to_what_their_readers_expect(officer):
    """A list's items are codes, ids or flat objects of known keys: an object where a code
    belongs, or a code where an object belongs, is refused with the item and what it must be,
    not stored for a screen or an export to trip over."""
    before = _count(officer, "outbox")
    contact = {"team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z"}
    refused = [
        ("outreach_contact", {**contact, "services_offered": ["food", {"name": "food"}]},
         "services_offered", "item 2: must be text, not an object"),
        ("outreach_contact", {**contact, "supplies": ["water", "tent"]},
         "supplies", "item 2: must be one of water, food_pack"),
        ("outreach_contact", {**contact, "services_offered": [["food"]]},
         "services_offered", "item 1: must be text, not a list"),
        ("outreach_contact", {**contact, "services_offered": "food"},
         "services_offered", "must be a list, not str"),
        ("shift", {"team": "mhst-1", "unit": "MH-1", "members": ["ofc.ramirez"],
                   "started_at": "2026-05-01T10:00:00.000Z"},
         "members", "item 1: must be an object with username, role, not text"),
        ("shift", {"team": "mhst-1", "unit": "MH-1", "started_at": "2026-05-01T10:00:00.000Z",
                   "members": [{"username": "ofc.ramirez", "role": "officer", "x": 1}]},
         "members", "item 1: unknown key 'x'"),
        ("shift", {"team": "mhst-1", "unit": "MH-1", "started_at": "2026-05-01T10:00:00.000Z",
                   "members": [{"role": "officer"}]},
         "members", "item 1: needs its username as text"),
        ("shift", {"team": "mhst-1", "unit": "MH-1", "started_at": "2026-05-01T10:00:00.000Z",
                   "members": [{"username": "ofc.ramirez", "role": {"r": [1]}}]},
         "members", "item 1: role must be text, a number or null, not an object"),
        ("shift", {"team": "mhst-1", "unit": "MH-1", "started_at": "2026-05-01T10:00:00.000Z",
                   "members": [{"username": "x" * 65, "role": "officer"}]},
         "members", "item 1: username too long (65 characters; at most 64)"),
        ("encounter", {"team": "mhst-1", "started_at": "2026-05-01T10:00:00.000Z",
                       "presenting_situation": "other", "person_ids": ["p" * 37]},
         "person_ids", "item 1: too long (37 characters; at most 36)"),
    ]
    for table, values, field, message in refused:
        with pytest.raises(ValidationError) as e:
            changes.create(officer, table, values)
        assert e.value.problems[field].startswith(message), (values, e.value.problems)
    assert _count(officer, "outbox") == before
    changes.create(officer, "outreach_contact", {**contact, "services_offered": ["food"],
                                                 "supplies": ["water", "blanket"]})
    assert _count(officer, "outbox") == before + 1
