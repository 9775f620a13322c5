"""The per-team sums the end-of-sync summary reads (sync/server/record_sums.py) stay equal to
a recount of the records, through creates, edits, conflicts, deletes and compaction, on
SQLite and PostgreSQL."""

from sqlalchemy import select
from sync_helpers import follow_up, outreach

from fieldapp import changes
from sync import engine
from sync.server import record_sums
from sync.server.cli import main
from sync.server.tables import record_sum


def kept_then_recounted(agency):
    with agency.engine.begin() as conn:
        kept = sorted(tuple(r) for r in conn.execute(select(record_sum)))
        record_sums.rebuild(conn)
        recounted = sorted(tuple(r) for r in conn.execute(select(record_sum)))
    return kept, recounted


def test_sums_match_a_recount_through_every_kind_of_write(agency, laptop, capsys):
    a, b = laptop("ofc.a"), laptop("ofc.b")
    other_team = laptop("ofc.c", teams=("mhst-2",))
    sergeant = laptop("sgt.s", "supervisor", ("mhst-1", "mhst-2"))
    outreach(a, 5)
    outreach(other_team, 2)
    shared, gone = follow_up(a), follow_up(a)
    for session in (a, other_team, b):
        assert engine.run_sync(session)["check"] == "ok"
    changes.patch(a, "follow_up", shared, {"priority": 1})
    changes.patch(b, "follow_up", shared, {"priority": 3})  # the same field: a conflict
    changes.delete(b, "follow_up", gone)
    for session in (a, b, a, sergeant):
        assert engine.run_sync(session)["check"] == "ok"
    kept, recounted = kept_then_recounted(agency)
    assert kept == recounted
    assert {(team, table) for team, table, *_ in kept} >= {
        ("mhst-1", "outreach_contact"), ("mhst-1", "follow_up"), ("mhst-2", "outreach_contact")}

    assert main(["--db", agency.db_url, "compact", "--keep-days", "0"]) == 0
    assert '"discarded": 1' in capsys.readouterr().out
    kept, recounted = kept_then_recounted(agency)
    assert kept == recounted
    assert engine.run_sync(b)["check"] in ("ok", "repaired")
    assert engine.run_sync(sergeant)["check"] in ("ok", "repaired")
    assert engine.run_sync(b)["check"] == "ok"
