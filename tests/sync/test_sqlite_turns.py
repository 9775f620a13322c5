"""A SQLite server's transactions take turns on a lock of the process (db._taking_turns), so
the next writer starts as the last one ends instead of sleeping in SQLite's growing steps.
SQLite's own wait is set to nothing here: a writer that reached the database while another
held it would fail at once ("database is locked") without the turn."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import event, insert, select

from sync.server import db
from sync.server.tables import meta


@pytest.fixture
def engines(tmp_path):
    """Two engines on one fresh file, as a server's workers threads and its commands share it,
    with SQLite's busy wait off."""
    url = f"sqlite:///{tmp_path / 'agency.db'}"
    made = [db.make_engine(url), db.make_engine(url)]
    db.migrate(made[0])
    for engine in made:
        event.listen(engine, "connect",
                     lambda dbapi_conn, _record: dbapi_conn.execute("PRAGMA busy_timeout = 0"))
    yield made
    for engine in made:
        engine.dispose()


def _turn(engine):
    return db._turns[str(Path(engine.url.database).resolve())]


def test_a_writer_waits_for_the_one_holding_the_database_and_then_writes(engines):
    first, second = engines
    holding, written, errors = threading.Event(), [], []

    def later_writer():
        holding.wait()
        try:
            with second.begin() as conn:
                conn.execute(insert(meta).values(key="second", value="2"))
            written.append("second")
        except Exception as e:  # noqa: BLE001 — the assertion below shows it
            errors.append(e)

    thread = threading.Thread(target=later_writer)
    thread.start()
    with first.begin() as conn:
        conn.execute(insert(meta).values(key="first", value="1"))
        holding.set()
        thread.join(0.5)
        assert thread.is_alive(), "the second writer ran while the first held the database"
        written.append("first")
    thread.join(30)
    assert not errors, errors
    assert written == ["first", "second"]
    with first.connect() as conn:
        keys = set(conn.scalars(select(meta.c.key)))
    assert {"first", "second"} <= keys


def test_the_turn_is_handed_back_however_a_transaction_ends(engines):
    engine = engines[0]
    turn = _turn(engine)
    with engine.begin() as conn:
        conn.execute(select(meta.c.key)).all()
        assert turn.locked()
    assert not turn.locked()  # committed

    with pytest.raises(RuntimeError), engine.begin() as conn:
        assert turn.locked()
        raise RuntimeError("undone")
    assert not turn.locked()  # rolled back

    conn = engine.connect()
    conn.begin()
    assert turn.locked()
    conn.invalidate()  # its connection closed without a commit or a rollback
    conn.close()
    assert not turn.locked()


def test_engines_on_one_file_share_one_turn(engines):
    first, second = engines
    assert _turn(first) is _turn(second)
