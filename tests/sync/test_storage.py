"""What the server keeps of each record and op, on SQLite and PostgreSQL: field stamps and op
results in their compact forms (sync/server/stored.py), deciding conflicts and answering
duplicates exactly as before, and migration 0014 converting real pushed data both ways.

Ops go as raw HTTP, as anyone with the URL could send them, with stamps the test chooses."""

import json
import time

from alembic import command
from alembic.config import Config
from sqlalchemy import event

from sync import protocol as P
from sync.server import intake, record_sums, stored
from sync.server.db import MIGRATIONS, make_engine
from sync.server.tables import record
from tests.sync.conftest import Agency
from tests.sync.test_hostile_client import Client, op, stamp

TEAM = "mhst-1"
NOW = "2026-11-01T10:00:00.000Z"
ENCOUNTER = {"team": TEAM, "started_at": NOW, "presenting_situation": "welfare_check",
             "police_note": "calm"}
E, F = "0190a000-0000-7000-8000-00000000000e", "0190a000-0000-7000-8000-00000000000f"


def history(agency):
    """Two devices of one team: a create, a field first set by an edit, a conflict won and
    one lost on a field still stamped as created, a rejected op, a delete that meets an edit
    it had not seen, a plain delete. Returns (a, b, every op, stamps by name, answers)."""
    agency.add_user("ofc.a", "officer", [TEAM])
    agency.add_user("ofc.b", "officer", [TEAM])
    a, b = Client(agency, "ofc.a"), Client(agency, "ofc.b")
    ms = int(time.time() * 1000) - 60_000
    t = {k: stamp(ms + i * 1000) for i, k in enumerate(("made", "place", "lost", "won", "del",
                                                        "f", "f_del"))}
    steps = [
        (a, op("encounter", ENCOUNTER, record_id=E, hlc=t["made"])),
        (a, op("encounter", {"place": "100 N Stone Ave"}, "patch", E, t["place"], 1)),
        (b, op("encounter", {"police_note": "agitated"}, "patch", E, t["won"], 1,
               {"police_note": "what b saw"})),
        (a, op("encounter", {"police_note": "resting"}, "patch", E, t["lost"], 2,
               {"police_note": "calm"})),
        (a, op("encounter", {"place": "x"}, "patch", "no-such-record", t["lost"], 1)),
        (b, op("encounter", {}, "delete", E, t["del"], 3)),
        (a, op("encounter", {**ENCOUNTER, "place": "Speedway"}, record_id=F, hlc=t["f"])),
        (a, op("encounter", {}, "delete", F, t["f_del"], 1)),
    ]
    answers = [client.push(o)[0] for client, o in steps]
    return a, b, [o for _, o in steps], t, answers


def seen_by(client):
    """What a laptop is served: every record from cursor 0, and the end-of-sync summary."""
    page = client.call("GET", "/pull", params={"after": 0}).json()
    summary = client.call("GET", "/summary").json()
    return page["records"], summary


def test_stamps_and_results_are_kept_compactly_and_decide_as_before(agency):
    a, b, ops, t, answers = history(agency)
    assert [r["status"] for r in answers] == [P.APPLIED, P.APPLIED, P.CONFLICT, P.CONFLICT,
                                              P.REJECTED, P.CONFLICT, P.APPLIED, P.APPLIED]
    assert answers[2]["conflicts"] == [{"field": "police_note", "kept": "agitated",
                                        "other": "calm"}]  # won against the create's stamp
    assert answers[3]["conflicts"] == [{"field": "police_note", "kept": "agitated",
                                        "other": "resting"}]  # lost to the later stamp
    assert answers[5]["conflicts"][0]["field"] == P.DELETE_FIELD  # a's edit came after b's base

    stamps = {r["id"]: r["field_hlc"] for r in agency.rows("SELECT id, field_hlc FROM record")}
    # Only the fields whose last write is not the create's, grouped by stamp: the fields the
    # create stamped, the conflict's loser and the deletes add nothing.
    assert json.loads(stamps[E]) == {t["place"]: ["place"], t["won"]: ["police_note"]}
    assert stamps[F] == "{}"
    kept = {r["op_id"]: r["result"] for r in agency.rows("SELECT op_id, result FROM applied_op")}
    assert [kept[o["op_id"]] for o in ops] == [
        "1", "2[]", *(json.dumps({k: v for k, v in answers[i].items() if k != "op_id"},
                                 separators=(",", ":")) for i in (2, 3, 4, 5)), "1", "2[]"]

    for client, mine in ((a, [0, 1, 3, 4, 6, 7]), (b, [2, 5])):  # each op pushed again
        again = client.push(*(ops[i] for i in mine))
        assert [r["status"] for r in again] == [P.DUPLICATE] * len(mine)
        assert [r["original"] for r in again] == [answers[i] for i in mine]
        assert [list(r["original"]) for r in again] == [list(answers[i]) for i in mine]

    # Stamps still decide: an edit stamped before the create's on a field the create stamped
    # loses; one between "place" and now wins over the edit's stamp kept for "place".
    early = a.push(op("encounter", {"presenting_situation": "substance_use"}, "patch", E,
                      stamp(int(t["made"][:13]) - 1), 1,
                      {"presenting_situation": "suicidal_ideation"}))[0]
    assert early["conflicts"][0]["kept"] == "welfare_check"
    later = a.push(op("encounter", {"place": "Oracle Rd"}, "patch", E, stamp(), 1,
                      {"place": "x"}))[0]
    assert later["conflicts"][0]["kept"] == "Oracle Rd"


def _alembic(url: str, action, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        action(config, revision)
    engine.dispose()


OLD_ROWS = 1_500  # more than one batch of the migration's


def _old_rows(url: str) -> None:
    """Records and ops as a server at 0013 wrote them (another team's, so the pulls compared
    are unchanged): every field's stamp, and each result with its op_id."""
    engine = make_engine(url)
    made, edited = stamp(1_700_000_000_000, "old"), stamp(1_700_000_000_500, "old")
    with engine.begin() as conn:
        top = conn.exec_driver_sql("SELECT max(change_seq) FROM record").scalar()
        data = {"team": "mhst-2", "started_at": NOW, "place": "old"}
        conn.execute(record.insert(), [{
            "id": f"old-{i:05d}", "table_name": "encounter", "team": "mhst-2",
            "clinical": False, "version": 2, "change_seq": top + 1 + i, "deleted": False,
            "data": json.dumps(data, separators=(",", ":")), "field_hlc": json.dumps(
                {"team": made, "started_at": made, "place": edited}, separators=(",", ":")),
            "created_hlc": made, "updated_hlc": edited, "author": "ofc.x", "device": "dev-old"}
            for i in range(OLD_ROWS)])
        conn.exec_driver_sql(
            "INSERT INTO applied_op (device_id, op_id, table_name, record_id, result, applied_at)"
            " VALUES (?, ?, 'encounter', ?, ?, ?)" if conn.dialect.name == "sqlite" else
            "INSERT INTO applied_op (device_id, op_id, table_name, record_id, result, applied_at)"
            " VALUES (%s, %s, 'encounter', %s, %s, %s)",
            [("dev-old", f"op-{i:05d}", f"old-{i:05d}",
              f'{{"op_id":"op-{i:05d}","status":"applied","version":2,"conflicts":[]}}', NOW)
             for i in range(OLD_ROWS)])
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval('record_change_seq', "
                                 "(SELECT max(change_seq) FROM record))")
        else:
            conn.exec_driver_sql("UPDATE change_counter SET value = "
                                 "(SELECT max(change_seq) FROM record)")
        record_sums.rebuild(conn)
    engine.dispose()


def test_0014_converts_pushed_data_both_ways_and_serves_the_same(db_url):
    agency = Agency(db_url)
    try:
        a, b, ops, t, answers = history(agency)
        before = seen_by(a)
        compact = {r["id"]: r["field_hlc"]
                   for r in agency.rows("SELECT id, field_hlc FROM record")}
        results = {r["op_id"]: r["result"] for r in agency.rows("SELECT op_id, result "
                                                                "FROM applied_op")}
    finally:
        agency.stop()

    _alembic(db_url, command.downgrade, "0013")
    old = make_engine(db_url)
    with old.connect() as conn:
        rows = {r.id: r for r in conn.exec_driver_sql(
            "SELECT id, data, field_hlc, created_hlc FROM record")}
        for row in rows.values():  # every field stamped, as 0013 kept them
            stamps = json.loads(row.field_hlc)
            assert set(stamps) == set(json.loads(row.data))
        assert json.loads(rows[E].field_hlc) == {**dict.fromkeys(ENCOUNTER, t["made"]),
                                                 "place": t["place"], "police_note": t["won"]}
        for op_id, result in conn.exec_driver_sql("SELECT op_id, result FROM applied_op"):
            assert result.startswith(f'{{"op_id":"{op_id}",')
            assert json.loads(result) == stored.result_from(op_id, results[op_id])
    old.dispose()
    _old_rows(db_url)

    agency = Agency(db_url)  # migrates to head, as 'tandem-server init' or 'serve' does
    try:
        a.url = b.url = agency.url + "/v1"  # the same sign-ins, on the upgraded server
        assert seen_by(a) == before
        for client, mine in ((a, [0, 1, 3, 4, 6, 7]), (b, [2, 5])):
            assert [r["original"] for r in client.push(*(ops[i] for i in mine))] == [
                answers[i] for i in mine]
        now = {r["id"]: r["field_hlc"] for r in agency.rows("SELECT id, field_hlc FROM record")}
        for i, text in compact.items():
            assert stored.stamps_from(now[i]) == stored.stamps_from(text)
        assert {r["op_id"]: r["result"] for r in agency.rows(
            "SELECT op_id, result FROM applied_op WHERE device_id <> 'dev-old'")} == results
        old_ops = {r["result"] for r in agency.rows(
            "SELECT result FROM applied_op WHERE device_id = 'dev-old'")}
        assert old_ops == {"2[]"}
        old_stamps = {r["field_hlc"] for r in agency.rows(
            "SELECT field_hlc FROM record WHERE team = 'mhst-2'")}
        assert old_stamps == {json.dumps({stamp(1_700_000_000_500, "old"): ["place"]},
                                         separators=(",", ":"))}
        # the stamps converted still decide: the conflict's winner stays against an earlier edit
        late = a.push(op("encounter", {"police_note": "asleep"}, "patch", E, t["lost"], 1,
                         {"police_note": "x"}))[0]
        assert late["conflicts"][0]["kept"] == "agitated"
        sums = agency.rows("SELECT team, table_name, count, total FROM record_sum "
                           "ORDER BY team, table_name")
        with agency.engine.begin() as conn:
            record_sums.rebuild(conn)
        assert agency.rows("SELECT team, table_name, count, total FROM record_sum "
                           "ORDER BY team, table_name") == sums
    finally:
        agency.stop()


def test_the_intake_boards_query_uses_the_index_that_holds_only_its_tables(agency):
    """The creation-stamp index keeps only the board's tables' rows (a partial index); the
    board's query must still be one the database answers from it, on SQLite too, which uses a
    partial index only when the query repeats its condition."""
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with agency.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", seen)
        intake._recent(conn, "crc_notice", 12)
        event.remove(conn, "before_cursor_execute", seen)
        (statement, parameters), = [s for s in statements if "created_hlc" in s[0]]
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: force the choice
            plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement,
                                                              parameters))
        else:
            plan = " ".join(r[-1] for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))
    assert "record_table_created" in plan, plan
