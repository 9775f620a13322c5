"""Directory search: ranking, prefixes, typos, filters, and what each result carries."""

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp import directory
from fieldapp.hsds import read_directory

TUCSON = timezone(timedelta(hours=-7))
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=TUCSON)
MONDAY_NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=TUCSON)
DOWNTOWN = (32.2217, -110.9695)


@pytest.fixture
def db(cache, package, tmp_path):
    package.service("by-description", "Community Meals",
                    description="Hot meals; ask about a shelter bed nearby.",
                    hours=("MO,TU,WE,TH,FR", "11:00", "13:00"), point=(32.25, -110.95))
    package.service("by-term", "Casa Esperanza", terms=["t-shelter"],
                    description="Beds for women and children.",
                    hours=("MO,TU,WE,TH,FR,SA,SU", "19:00", "07:00"), point=(32.30, -110.90),
                    capacity=(4, 30), phone="520-555-0120")
    package.service("by-name", "Shelter Intake Line", description="Call for a bed.",
                    phone="520-555-0121", eligibility="Adults 18 and over")
    package.service("crc", "Crisis Response Center - Law Enforcement Entrance",
                    terms=["t-crisis", "t-le", "t-247"], point=(32.243, -110.934),
                    hours=("MO,TU,WE,TH,FR,SA,SU", "00:00", "23:59"), phone="520-555-0110")
    package.service("youth", "Youth Emergency Beds", terms=["t-youth-shelter"],
                    point=(32.1, -110.8), hours=("MO,TU,WE,TH,FR,SA,SU", "00:00", "23:59"))
    package.service("closed-down", "Old Shelter Annex", status="defunct")
    package.service("pantry", "Food Pantry", terms=["t-food"], point=(32.2218, -110.9696),
                    hours=("MO,WE", "09:00", "12:00"))
    directory.replace_directory(cache, read_directory(package.write(tmp_path / "dir")))
    return cache


def ids(results):
    return [r["id"] for r in results]


def test_ranking_name_then_terms_then_description(db):
    found = ids(directory.search(db, "shelter", at=MONDAY_NOON))
    assert found[0] == "by-name"
    assert set(found[1:3]) == {"by-term", "youth"}  # "Shelter" and its child "Youth shelter"
    assert found[3:] == ["by-description"]


def test_name_matches_come_shortest_name_first(cache, package, tmp_path):
    # What bm25 on the name column orders by when each word occurs once: the name's length.
    names = ["Shelter Beds for Families with Children", "Shelter", "Night Shelter",
             "Shelter and Showers for Veterans", "Winter Shelter Overflow"]
    for i, name in enumerate(names):
        package.service(f"s{i}", name)
    directory.replace_directory(cache, read_directory(package.write(tmp_path / "dir")))
    found = [r["name"] for r in directory.search(cache, "shel", at=MONDAY_NOON)]
    assert found == sorted(names, key=lambda n: len(n.split()))
    bm25 = [n for (n,) in cache.execute(
        "SELECT d.name FROM dir_fts JOIN dir_doc d ON d.n = dir_fts.rowid "
        "WHERE dir_fts MATCH '{name} : \"shel\"*' ORDER BY rank")]
    assert [len(n.split()) for n in found] == [len(n.split()) for n in bm25]


def test_prefixes_match_as_you_type(db):
    # One or two letters: names only (unranked); from three letters on, the full ranked search.
    for typed in ("s", "sh"):
        assert set(ids(directory.search(db, typed, at=MONDAY_NOON))) == {"by-name"}
    for typed in ("she", "shel", "shelt", "shelte"):
        assert ids(directory.search(db, typed, at=MONDAY_NOON)) == ids(
            directory.search(db, "shelter", at=MONDAY_NOON))
    assert ids(directory.search(db, "crisis resp", at=MONDAY_NOON)) == ["crc"]
    assert ids(directory.search(db, "CRISIS  Respónse", at=MONDAY_NOON)) == ["crc"]


def test_a_typo_still_finds_it(db):
    results = directory.search(db, "shleter", at=MONDAY_NOON)
    assert results.corrected_query == "shelter"
    assert ids(results) == ids(directory.search(db, "shelter", at=MONDAY_NOON))
    assert directory.search(db, "pantyr", at=MONDAY_NOON).corrected_query == "pantry"
    assert directory.search(db, "xqzvw", at=MONDAY_NOON) == []
    exact = directory.search(db, "shelter", at=MONDAY_NOON)
    assert exact.corrected_query is None


def test_a_word_no_service_has_is_left_out_and_the_search_says_so(db):
    """At 2 a.m. an officer types what they want as they would say it."""
    for typed in ("shelter tonight", "tonight shelter", "shleter tonight please"):
        results = directory.search(db, typed, at=MONDAY_NOON)
        assert results.corrected_query == "shelter", typed
        assert ids(results) == ids(directory.search(db, "shelter", at=MONDAY_NOON))
    assert ids(directory.search(db, "youth beds tonight", at=MONDAY_NOON)) == ["youth"]
    assert directory.search(db, "xqzvw tonight", at=MONDAY_NOON) == []
    # every word known, no service with all of them: nothing, rather than a guess
    assert directory.search(db, "pantry youth", at=MONDAY_NOON) == []


def test_inactive_services_are_not_listed(db):
    assert "closed-down" not in ids(directory.search(db, "annex", at=MONDAY_NOON))


def test_category_filter_includes_child_terms(db):
    assert set(ids(directory.search(db, "", categories=["shelter"], at=MONDAY_NOON))) == {
        "by-term", "youth"}
    assert ids(directory.search(db, "", categories=["Food"], at=MONDAY_NOON)) == ["pantry"]
    assert directory.search(db, "", categories=["no-such-category"]) == []


def test_open_now_filter(db):
    assert set(ids(directory.search(db, "", open_now=True, at=MONDAY_NOON - timedelta(hours=1)))) == {
        "by-description", "crc", "youth", "pantry"}
    # The pantry closes at noon: closing time itself is closed.
    assert set(ids(directory.search(db, "", open_now=True, at=MONDAY_NOON))) == {
        "by-description", "crc", "youth"}
    assert set(ids(directory.search(db, "", open_now=True, at=MONDAY_NIGHT))) == {
        "by-term", "crc", "youth"}


def test_flag_filters(db):
    assert ids(directory.search(db, "", le_dropoff=True)) == ["crc"]
    assert set(ids(directory.search(db, "", twenty_four_seven=True))) == {"crc", "youth"}
    assert ids(directory.search(db, "beds", twenty_four_seven=True)) == ["youth"]


def test_near_orders_by_distance_and_limits_radius(db):
    results = directory.search(db, "", near=DOWNTOWN, at=MONDAY_NOON)
    distances = [r["distance_km"] for r in results]
    assert results[0]["id"] == "pantry" and distances == sorted(distances)
    assert all(r["latitude"] is not None for r in results)
    within = directory.search(db, "", near=DOWNTOWN, within_km=5, at=MONDAY_NOON)
    assert ids(within) == ["pantry", "by-description", "crc"]
    assert directory.haversine_km((32.2217, -110.9695), (33.4484, -112.0740)) == pytest.approx(
        171, abs=2)  # Tucson to Phoenix


def test_each_result_carries_what_the_team_needs(db):
    (casa,) = directory.search(db, "esperanza", at=MONDAY_NIGHT)
    assert casa["hours_today"] == "until 7:00 AM, 7:00 PM – 7:00 AM"
    assert casa["open_now"] is True
    assert casa["phones"] == [{"number": "520-555-0120", "extension": None, "type": "voice",
                               "description": None}]
    assert casa["address"] == "100 N Stone Ave, Tucson, AZ 85701"
    assert casa["capacity"] == [{"unit": "Bed", "available": 4, "maximum": 30, "description": None,
                                 "as_of": "2026-11-21T12:45:00.000Z"}]
    assert casa["categories"] == ["Shelter"] and casa["organization"] == "Desert Aid Society"
    (line,) = directory.search(db, "intake", at=MONDAY_NIGHT)
    assert line["eligibility"] == "Adults 18 and over"
    assert line["open_now"] is None and line["hours_today"] == "Hours not listed"
    (crc,) = directory.search(db, "crisis", at=MONDAY_NIGHT)
    assert crc["twenty_four_seven"] and crc["le_dropoff"] and crc["hours_today"] == "Open 24 hours"
    assert crc["categories"] == ["Crisis services"]


def test_limit(db):
    assert len(directory.search(db, "", limit=2)) == 2


def test_search_command_json_and_text(db):
    out = io.StringIO()
    assert directory.search_command(db, "shleter", near="32.22,-110.97", as_json=True, out=out) == 0
    payload = json.loads(out.getvalue())
    assert payload["corrected_query"] == "shelter"
    assert {r["id"] for r in payload["results"]} == {"by-term", "youth", "by-description"}  # located
    text = io.StringIO()
    directory.search_command(db, "crisis", out=text)
    assert "Crisis Response Center" in text.getvalue() and "520-555-0110" in text.getvalue()
    assert directory.search_command(db, "x", near="north", out=io.StringIO()) == 2


def test_phones_come_voice_first_and_the_number_to_call_is_never_a_fax(cache):
    """The CRC's law-enforcement entrance lists a call-ahead line and a fax for paperwork; the
    fax's id sorts first, and once it was what 'Copy phone' copied and the row showed."""
    import seeds
    directory.replace_directory(cache, read_directory(seeds.DIRECTORY_DIR))
    crc = next(r for r in directory.search(cache, "law enforcement drop-off")
               if "Law Enforcement" in r["name"])
    assert [p["type"] for p in crc["phones"]] == ["voice", "fax"]
    assert crc["phone"]["number"] == "520-555-0110"


@pytest.mark.parametrize(("types", "called", "in_order"), [
    (["fax", "voice"], "voice", ["voice", "fax"]),
    (["text", "hotline"], "hotline", ["hotline", "text"]),
    (["fax", "cell", "voice"], "voice", ["voice", "cell", "fax"]),
    (["pager", None], None, [None, "pager"]),
    (["fax", "text", "textphone"], "none", ["textphone", "text", "fax"]),
    (["FAX", "Voice"], "Voice", ["Voice", "FAX"]),
])
def test_the_number_to_call_is_a_voice_line(types, called, in_order):
    phones = [{"number": f"520-555-01{n:02d}", "type": t} for n, t in enumerate(types)]
    chosen = directory.number_to_call(phones)
    assert (chosen["type"] if chosen else "none") == called
    assert [p["type"] for p in directory.phones_in_order(phones)] == in_order
