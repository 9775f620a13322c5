"""Reading HSDS directories: the reference examples, the older 211 layout, and bad input."""

import json

import pytest
from hsds_package import REFERENCE, SEEDS, write_csv

from fieldapp.hsds import DirectoryError, Issue, read_directory

COUNSELLING = "ac148810-d857-441c-9679-408f346de14b"


def test_reference_tabular_example():
    d = read_directory(REFERENCE / "csv")
    (service,) = d.tables["dir_service"]
    assert service["id"] == COUNSELLING and service["name"] == "Community Counselling"
    assert service["minimum_age"] == 12 and service["status"] == "active"
    assert "£50 per hour" in service["fees_description"]
    (phone,) = d.tables["dir_phone"]
    assert phone["number"] == "+44 1234 234567" and phone["extension"] == "100"
    (schedule,) = d.tables["dir_schedule"]
    assert (schedule["freq"], schedule["byday"], schedule["opens_at"]) == ("WEEKLY", "TH,FR", "10:00:00")
    # The example's datapackage.json is not JSON, and latitude 100 is off the globe.
    assert any(w.file == "datapackage.json" for w in d.warnings)
    assert Issue("locations.csv", 2, "latitude",
                 "'100' is not a number from -90 to 90; value ignored") in d.warnings
    assert d.tables["dir_location"][0]["latitude"] is None
    assert d.summary()["services"] == 1 and d.summary()["phones"] == 1


def test_reference_json_list_and_single_object(tmp_path):
    listed = read_directory(REFERENCE / "service_full.json")
    single = tmp_path / "one.json"
    single.write_text(json.dumps(json.loads((REFERENCE / "service_full.json").read_text())))
    for d in (listed, read_directory(single)):
        assert [s["id"] for s in d.tables["dir_service"]] == [COUNSELLING]
        assert [p["number"] for p in d.tables["dir_phone"]] == ["+44 1234 234567"]
        assert len(d.tables["dir_service_at_location"]) == 1
        assert d.tables["dir_organization"][0]["id"] == d.tables["dir_service"][0]["organization_id"]
    assert listed.layout == "json"
    json.dumps(listed.as_dict())  # plain data all the way down


def test_json_api_page_and_nested_objects(tmp_path):
    service = {
        "id": "svc-1", "name": "Night Shelter", "status": "active",
        "organization": {"id": "org-1", "name": "Desert Aid"},
        "attributes": [{"id": "a1", "taxonomy_term": {
            "id": "t1", "code": "le-dropoff", "name": "LE drop-off",
            "taxonomy_detail": {"id": "tx", "name": "tandem-flags"}}}],
        "capacities": [{"id": "c1", "available": 3, "maximum": 20,
                        "unit": {"id": "u1", "name": "Bed"}, "updated": "2026-11-21T05:45:00Z"}],
        "service_at_locations": [{"id": "sal-1", "location": {
            "id": "loc-1", "latitude": 32.2, "longitude": -110.9,
            "addresses": [{"id": "ad-1", "address_1": "1 Main", "city": "Tucson"}]}}],
        "schedules": [{"id": "sc-1", "freq": "WEEKLY", "byday": "MO", "opens_at": "19:00",
                       "closes_at": "07:00", "timezone": -7}],
    }
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"total_items": 1, "contents": [service]}))
    d = read_directory(path)
    assert d.rejected == []
    assert d.tables["dir_taxonomy_term"][0]["taxonomy"] == "tandem-flags"
    assert d.tables["dir_service_term"] == [{"service_id": "svc-1", "term_id": "t1"}]
    assert d.tables["dir_capacity"][0]["unit"] == "Bed"
    assert d.tables["dir_address"][0]["location_id"] == "loc-1"
    assert d.tables["dir_schedule"][0]["timezone"] == "-7"


@pytest.mark.skipif(not (SEEDS / "services.csv").exists(), reason="demo directory not written yet")
def test_demo_directory_reads_cleanly():
    d = read_directory(SEEDS)
    assert d.rejected == [] and d.warnings == []
    codes = {t["code"] for t in d.tables["dir_taxonomy_term"] if t["taxonomy"] == "tandem-flags"}
    assert {"le-dropoff", "24-7"} <= codes
    assert d.tables["dir_capacity"] and all(c["unit"] for c in d.tables["dir_capacity"])


def test_missing_services_file_stops_the_read(tmp_path):
    write_csv(tmp_path / "phones.csv", [{"id": "p", "number": "1"}])
    with pytest.raises(DirectoryError, match="missing services.csv"):
        read_directory(tmp_path)


def test_missing_columns_are_all_named(tmp_path):
    write_csv(tmp_path / "services.csv", [{"id": "s1", "title": "x"}], ["id", "title"])
    write_csv(tmp_path / "phones.csv", [{"id": "p1", "phone": "1"}], ["id", "phone"])
    with pytest.raises(DirectoryError) as caught:
        read_directory(tmp_path)
    assert caught.value.problems == ["services.csv lacks column name", "phones.csv lacks column number"]


def test_missing_path_and_bad_json(tmp_path):
    with pytest.raises(DirectoryError, match="does not exist"):
        read_directory(tmp_path / "nowhere")
    bad = tmp_path / "d.json"
    bad.write_text("{not json")
    with pytest.raises(DirectoryError, match="d.json is not valid JSON"):
        read_directory(bad)


def test_bad_rows_are_rejected_with_file_row_field_and_reason(tmp_path, package):
    package.service("s1", "Night Shelter", point=(32.2, -110.9), phone="520-555-0100")
    package.service("s2", "Food Bank")
    package.files["services.csv"] += [{"id": "s1", "name": "Copy"}, {"id": "s3", "name": ""}]
    package.files["phones.csv"].append({"id": "p9", "service_id": "ghost", "number": "1"})
    package.files["schedules.csv"] += [
        {"id": "x1", "service_id": "s1", "freq": "DAILY", "opens_at": "09:00", "closes_at": "17:00"},
        {"id": "x2", "service_id": "s2", "freq": "MONTHLY", "byday": "2XX", "opens_at": "09:00"},
        {"id": "x3", "service_id": "s2", "freq": "WEEKLY", "byday": "MO", "opens_at": "25:00"},
        {"id": "x4", "service_id": "s2", "freq": "WEEKLY", "byday": "MO", "opens_at": "9:00 AM",
         "closes_at": "5 PM", "timezone": "Mars/Base"}]
    package.files["locations.csv"].append({"id": "l9", "name": "Odd", "latitude": "north",
                                           "longitude": "-110"})
    package.files["service_capacity.csv"].append({"id": "c9", "service_id": "s2", "unit_id": "u-bed",
                                                  "available": "lots", "maximum": "4"})
    d = read_directory(package.write(tmp_path))
    assert set(d.rejected) == {
        Issue("services.csv", 4, "id", "duplicate id 's1' (first at row 2)"),
        Issue("services.csv", 5, "name", "name is required"),
        Issue("phones.csv", 3, "service_id", "service_id 'ghost' is not a known service"),
        Issue("schedules.csv", 2, "freq", "'DAILY' is not WEEKLY or MONTHLY"),
        Issue("schedules.csv", 3, "byday", "'2XX' is not a day code (MO..SU, or 2MO / -1FR)"),
        Issue("schedules.csv", 4, "opens_at", "'25:00' is not a time of day"),
        Issue("schedules.csv", 5, "timezone",
              "'Mars/Base' is neither a UTC offset in hours nor a time zone name"),
        Issue("service_capacity.csv", 2, "available", "'lots' is not a whole number of at least 0"),
    }
    assert Issue("locations.csv", 3, "latitude", "'north' is not a number from -90 to 90; value ignored") \
        in d.warnings
    assert [s["id"] for s in d.tables["dir_service"]] == ["s1", "s2"]
    assert d.summary()["rejected_rows"] == 8


def test_byte_order_mark_is_ignored(tmp_path):
    write_csv(tmp_path / "services.csv", [{"id": "s1", "name": "Café Meals"}], ["id", "name"],
              encoding="utf-8-sig")
    d = read_directory(tmp_path)
    assert d.tables["dir_service"][0]["name"] == "Café Meals" and d.warnings == []


def test_windows_1252_is_read_and_reported(tmp_path):
    write_csv(tmp_path / "services.csv", [{"id": "s1", "name": "Café “Esperanza” – Meals"}],
              ["id", "name"], encoding="cp1252")
    d = read_directory(tmp_path)
    assert d.tables["dir_service"][0]["name"] == "Café “Esperanza” – Meals"
    assert d.warnings == [Issue("services.csv", 2, None,
                                "not UTF-8; the file was read as Windows-1252 (cp1252)")]


def test_stray_quote_loses_only_its_line(tmp_path):
    (tmp_path / "services.csv").write_text(
        'id,name,description\n'
        's1,Shelter,"Beds, showers\nand meals"\n'      # a real two-line field: fine
        's2,"Bad quote,desc\n'                         # the quote never closes
        's3,Food Bank,Hot meals\n'
        's4,Clinic,"Walk-in"\n', encoding="utf-8")
    d = read_directory(tmp_path)
    assert [s["id"] for s in d.tables["dir_service"]] == ["s1", "s3", "s4"]
    assert d.tables["dir_service"][0]["description"] == "Beds, showers\nand meals"
    (issue,) = d.rejected
    assert (issue.file, issue.row) == ("services.csv", 4) and "stray quote" in issue.reason


def test_wrong_number_of_values(tmp_path):
    (tmp_path / "services.csv").write_text("id,name\ns1,A\ns2,B,extra\n")
    d = read_directory(tmp_path)
    assert d.rejected == [Issue("services.csv", 3, None, "has 3 values but the header has 2 columns")]


def test_older_211_layout(tmp_path):
    write_csv(tmp_path / "services.csv", [{"id": "s1", "name": "Pantry"}], ["id", "name"])
    write_csv(tmp_path / "locations.csv", [{"id": "l1", "name": "Hall"}], ["id", "name"])
    write_csv(tmp_path / "services_at_location.csv",
              [{"id": "sal1", "service_id": "s1", "location_id": "l1"}])
    write_csv(tmp_path / "physical_addresses.csv",
              [{"id": "a1", "location_id": "l1", "address_1": "5 Elm", "city": "Tucson"}])
    write_csv(tmp_path / "regular_schedules.csv", [
        {"id": "r1", "service_id": "s1", "weekday": "Monday", "opens_at": "9:00", "closes_at": "17:00"},
        {"id": "r2", "service_id": "s1", "weekday": "7", "opens_at": "10:00", "closes_at": "12:00"},
        {"id": "r3", "service_id": "s1", "weekday": "Caturday", "opens_at": "1:00", "closes_at": "2:00"}])
    write_csv(tmp_path / "holiday_schedules.csv", [
        {"id": "h1", "service_id": "s1", "closed": "true", "start_date": "2026-12-25",
         "end_date": "2026-12-25", "opens_at": "", "closes_at": ""}])
    write_csv(tmp_path / "taxonomy.csv", [{"id": "food", "name": "Food", "parent_id": "",
                                           "vocabulary": "211"}])
    write_csv(tmp_path / "services_taxonomy.csv", [{"id": "st1", "service_id": "s1",
                                                    "taxonomy_id": "food"}])
    d = read_directory(tmp_path)
    assert "1.x" in d.layout
    assert [(s["byday"], s["holiday"], s["closed"]) for s in d.tables["dir_schedule"]] == [
        ("MO", 0, 0), ("SU", 0, 0), ("MO,TU,WE,TH,FR,SA,SU", 1, 1)]
    assert d.rejected == [Issue("regular_schedules.csv", 4, "weekday",
                                "'Caturday' is not a day of the week")]
    assert d.tables["dir_service_term"] == [{"service_id": "s1", "term_id": "food"}]
    assert d.tables["dir_taxonomy_term"][0]["taxonomy"] == "211"
    assert d.tables["dir_address"][0]["address_1"] == "5 Elm"
