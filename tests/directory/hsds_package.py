"""Small HSDS packages written to disk by the directory tests."""

import csv
from pathlib import Path

REFERENCE = Path("/work/shared/reference/hsds-3.0/examples")
SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "directory"

HEADERS = {
    "organizations.csv": ["id", "name", "description", "email", "website"],
    "services.csv": ["id", "organization_id", "name", "alternate_name", "description", "status",
                     "eligibility_description", "minimum_age", "maximum_age"],
    "locations.csv": ["id", "organization_id", "name", "latitude", "longitude"],
    "service_at_location.csv": ["id", "service_id", "location_id"],
    "addresses.csv": ["id", "location_id", "address_1", "city", "state_province", "postal_code",
                      "country", "address_type"],
    "phones.csv": ["id", "service_id", "location_id", "number", "type"],
    "schedules.csv": ["id", "service_id", "location_id", "service_at_location_id", "timezone",
                      "freq", "byday", "bymonthday", "valid_from", "valid_to", "opens_at",
                      "closes_at"],
    "taxonomies.csv": ["id", "name", "description"],
    "taxonomy_terms.csv": ["id", "code", "name", "description", "parent_id", "taxonomy_id"],
    "attributes.csv": ["id", "link_id", "taxonomy_term_id", "link_type", "link_entity"],
    "units.csv": ["id", "name"],
    "service_capacity.csv": ["id", "service_id", "unit_id", "available", "maximum", "updated"],
}


def write_csv(path: Path, rows: list[dict], header: list[str] | None = None,
              encoding: str = "utf-8") -> Path:
    header = header or HEADERS.get(path.name) or list(rows[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


class Package:
    """A small HSDS 3.0 tabular package built up in a test, then written to a folder."""

    def __init__(self):
        self.files: dict[str, list[dict]] = {name: [] for name in HEADERS}
        self.files["taxonomies.csv"] = [
            {"id": "tx-cat", "name": "tandem-categories", "description": "categories"},
            {"id": "tx-flag", "name": "tandem-flags", "description": "flags"}]
        self.files["taxonomy_terms.csv"] = [
            {"id": "t-shelter", "code": "shelter", "name": "Shelter", "taxonomy_id": "tx-cat"},
            {"id": "t-food", "code": "food", "name": "Food", "taxonomy_id": "tx-cat"},
            {"id": "t-crisis", "code": "crisis", "name": "Crisis services", "taxonomy_id": "tx-cat"},
            {"id": "t-youth-shelter", "code": "youth-shelter", "name": "Youth shelter",
             "parent_id": "t-shelter", "taxonomy_id": "tx-cat"},
            {"id": "t-le", "code": "le-dropoff", "name": "Law enforcement drop-off",
             "taxonomy_id": "tx-flag"},
            {"id": "t-247", "code": "24-7", "name": "Open 24/7", "taxonomy_id": "tx-flag"}]
        self.files["units.csv"] = [{"id": "u-bed", "name": "Bed"}]
        self.files["organizations.csv"] = [{"id": "org-1", "name": "Desert Aid Society"}]

    def service(self, sid: str, name: str, *, description: str = "", terms=(), hours=None,
                point=None, phone=None, status="active", eligibility="", capacity=None):
        """hours: (byday, opens, closes) or a list of them; point: (lat, lon)."""
        f = self.files
        f["services.csv"].append({"id": sid, "organization_id": "org-1", "name": name,
                                  "description": description, "status": status,
                                  "eligibility_description": eligibility})
        for term in terms:
            f["attributes.csv"].append({"id": f"a-{sid}-{term}", "link_id": sid,
                                        "taxonomy_term_id": term, "link_type": "service",
                                        "link_entity": "service"})
        for i, (byday, opens, closes) in enumerate(
                [hours] if isinstance(hours, tuple) else hours or []):
            f["schedules.csv"].append({"id": f"s-{sid}-{i}", "service_id": sid, "timezone": "-7",
                                       "freq": "WEEKLY", "byday": byday, "opens_at": opens,
                                       "closes_at": closes})
        if point:
            f["locations.csv"].append({"id": f"l-{sid}", "organization_id": "org-1",
                                       "name": f"{name} site", "latitude": point[0],
                                       "longitude": point[1]})
            f["service_at_location.csv"].append({"id": f"sal-{sid}", "service_id": sid,
                                                 "location_id": f"l-{sid}"})
            f["addresses.csv"].append({"id": f"ad-{sid}", "location_id": f"l-{sid}",
                                       "address_1": "100 N Stone Ave", "city": "Tucson",
                                       "state_province": "AZ", "postal_code": "85701",
                                       "country": "US", "address_type": "physical"})
        if phone:
            f["phones.csv"].append({"id": f"p-{sid}", "service_id": sid, "number": phone,
                                    "type": "voice"})
        if capacity:
            available, maximum = capacity
            f["service_capacity.csv"].append({
                "id": f"c-{sid}", "service_id": sid, "unit_id": "u-bed", "available": available,
                "maximum": maximum, "updated": "2026-11-21T05:45:00-07:00"})
        return self

    def write(self, folder: Path) -> Path:
        for name, rows in self.files.items():
            write_csv(folder / name, rows)
        return folder
