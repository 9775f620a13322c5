"""Loading a directory into the cache: atomic, idempotent, and change-aware."""

import os

import pytest
from hsds_package import SEEDS

from fieldapp import directory
from fieldapp.hsds import read_directory
from fieldapp.store import open_cache


def build(package, tmp_path, name="dir"):
    return read_directory(package.write(tmp_path / name))


def snapshot(db):
    return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            for t in ("dir_service", "dir_phone", "dir_schedule", "dir_doc", "dir_fuzzy")}


@pytest.fixture
def two_services(package):
    package.service("s1", "Night Shelter", terms=["t-shelter"], hours=("MO,TU", "19:00", "07:00"),
                    point=(32.22, -110.97), phone="520-555-0100")
    package.service("s2", "Food Bank", terms=["t-food"], phone="520-555-0101")
    return package


def test_first_load_then_identical_reimport_writes_nothing(cache, two_services, tmp_path):
    first = directory.replace_directory(cache, build(two_services, tmp_path, "a"))
    assert first["added"] == ["s1", "s2"] and first["rows_written"]["dir_service"] == 2
    before = snapshot(cache)
    changes = cache.conn.total_changes
    again = directory.replace_directory(cache, build(two_services, tmp_path, "b"))
    assert again == {"added": [], "changed": [], "removed": [], "unchanged": 2, "rows_written": {}}
    assert cache.conn.total_changes == changes
    assert snapshot(cache) == before


def test_per_service_changes_are_detected(cache, two_services, tmp_path):
    directory.replace_directory(cache, build(two_services, tmp_path, "a"))
    two_services.files["phones.csv"][1]["number"] = "520-555-0199"
    two_services.service("s3", "Detox Center")
    result = directory.replace_directory(cache, build(two_services, tmp_path, "b"))
    assert (result["added"], result["changed"], result["removed"]) == (["s3"], ["s2"], [])
    assert result["rows_written"] == {"dir_service": 1, "dir_phone": 1}
    two_services.files["services.csv"] = [s for s in two_services.files["services.csv"]
                                          if s["id"] != "s1"]
    for name in ("attributes.csv", "schedules.csv", "service_at_location.csv", "phones.csv"):
        two_services.files[name] = [r for r in two_services.files[name]
                                    if r.get("service_id", r.get("link_id")) != "s1"]
    result = directory.replace_directory(cache, build(two_services, tmp_path, "c"))
    assert result["removed"] == ["s1"]
    assert [r["id"] for r in directory.search(cache, "shelter")] == []
    assert [r["id"] for r in directory.search(cache, "detox")] == ["s3"]


def test_services_are_numbered_by_the_length_of_their_name(cache, two_services, tmp_path,
                                                           monkeypatch):
    # The search's name tier reads the index in number order: shortest name first. A cache
    # numbered before this scheme (1, 2, ...) moves to it on its next load, and the move is
    # not reported as a change.
    with monkeypatch.context() as before_the_scheme:
        before_the_scheme.setattr(directory, "_rank_bucket", lambda doc: 0)
        directory.replace_directory(cache, build(two_services, tmp_path, "a"))
    assert sorted(n for (n,) in cache.execute("SELECT n FROM dir_doc")) == [1, 2]
    words = {"s1": 2, "s2": 2}
    two_services.files["services.csv"][0]["name"] = "Night Shelter for Families"
    words["s1"] = 4
    result = directory.replace_directory(cache, build(two_services, tmp_path, "b"))
    assert (result["added"], result["changed"], result["removed"]) == ([], ["s1"], [])
    numbers = dict(cache.execute("SELECT service_id, n FROM dir_doc").fetchall())
    assert {sid: n >> directory.RANK_BITS for sid, n in numbers.items()} == words
    assert [r["id"] for r in directory.search(cache, "food")] == ["s2"]
    assert [r["id"] for r in directory.search(cache, "families")] == ["s1"]


def test_failure_mid_load_leaves_the_old_directory(cache, two_services, tmp_path):
    directory.replace_directory(cache, build(two_services, tmp_path, "a"))
    before = snapshot(cache)
    two_services.service("s3", "Detox Center", phone="520-555-0102")
    broken = build(two_services, tmp_path, "b")
    broken.tables["dir_phone"][-1]["number"] = None  # NOT NULL: fails after services are written
    with pytest.raises(Exception, match="NOT NULL"):
        directory.replace_directory(cache, broken)
    assert snapshot(cache) == before
    assert [r["id"] for r in directory.search(cache, "shelter")] == ["s1"]


def test_failure_while_indexing_leaves_the_old_directory(cache, two_services, tmp_path,
                                                          monkeypatch):
    directory.replace_directory(cache, build(two_services, tmp_path, "a"))
    before = snapshot(cache)
    two_services.service("s3", "Detox Center")

    def disk_full(db):
        raise OSError("disk full")
    monkeypatch.setattr(directory, "_rebuild_fuzzy", disk_full)
    with pytest.raises(OSError):
        directory.replace_directory(cache, build(two_services, tmp_path, "b"))
    assert snapshot(cache) == before


def test_other_connections_see_the_old_directory_until_commit(tmp_path, two_services):
    key = os.urandom(32)
    writer = open_cache(tmp_path / "c.db", key)
    reader = open_cache(tmp_path / "c.db", key)
    try:
        directory.replace_directory(writer, build(two_services, tmp_path, "a"))
        two_services.service("s3", "Detox Center")
        new = build(two_services, tmp_path, "b")
        seen_during = []
        real_rebuild = directory._rebuild_fuzzy

        def peek(db):  # runs inside the writer's transaction, after all rows are written
            real_rebuild(db)
            seen_during.append(reader.execute("SELECT count(*) FROM dir_service").fetchone()[0])
        directory._rebuild_fuzzy = peek
        try:
            directory.replace_directory(writer, new)
        finally:
            directory._rebuild_fuzzy = real_rebuild
        assert seen_during == [2]
        assert reader.execute("SELECT count(*) FROM dir_service").fetchone()[0] == 3
    finally:
        writer.close()
        reader.close()


@pytest.mark.skipif(not (SEEDS / "services.csv").exists(), reason="demo directory not written yet")
def test_demo_directory_loads_and_reloads(cache):
    first = directory.replace_directory(cache, read_directory(SEEDS))
    assert first["added"] and not first["changed"]
    assert directory.replace_directory(cache, read_directory(SEEDS))["rows_written"] == {}
    info = directory.directory_info(cache)
    assert info["timezone"] == "America/Phoenix"
    assert info["summary"]["services"] == len(first["added"])


def test_unknown_time_zone_is_refused_before_loading(cache, two_services, tmp_path):
    with pytest.raises(ValueError):
        directory.replace_directory(cache, build(two_services, tmp_path), "Mars/Base")
    assert cache.execute("SELECT count(*) FROM dir_service").fetchone()[0] == 0
