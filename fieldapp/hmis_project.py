"""An agency's HMIS street outreach projects: the agency setting `hmis_projects` and its check.

One entry per project, keyed by the project's name (what `tandem-server export-hmis --project`
names). Each says which teams' outreach contacts belong to it and what HUD's project files
need that Tandem does not otherwise know: the organization, the Continuum of Care, the
funders. Example (docs/hmis.md explains every key):

    {"Downtown Street Outreach": {
        "teams": ["outreach-1"], "organization": "Tucson Police Department",
        "coc_code": "AZ-501", "geocode": "049019", "operating_start": "2024-07-01",
        "funders": [{"funder": 21, "grant_id": "SM-26-014", "start": "2025-10-01"}],
        "address": {"address1": "270 S Stone Ave", "city": "Tucson", "state": "AZ",
                    "zip": "85701"}}}
"""

import re
from datetime import date
from typing import Any

from . import hmis_spec

REQUIRED = ("teams", "organization", "coc_code", "geocode", "operating_start", "funders")
OPTIONAL = ("operating_end", "address", "geography_type", "victim_service_provider",
            "project_id")
FUNDER_KEYS = ("funder", "grant_id", "start", "end", "other")
ADDRESS_KEYS = {"address1": 100, "address2": 100, "city": 50, "state": 2, "zip": 5}
PATTERNS = {"coc_code": (r"[A-Za-z]{2}-[0-9]{3}", "two letters, a dash and three digits, "
                                                   "like AZ-501"),
            "geocode": (r"[0-9]{6}", "six digits (HUD's geocode), like 049019"),
            "project_id": (r"[A-Za-z0-9_-]{1,32}", "1–32 letters, digits, '-' or '_'"),
            "state": (r"[A-Za-z]{2}", "a two-letter USPS abbreviation"),
            "zip": (r"[0-9]{5}", "five digits")}


def check_projects(value: Any) -> dict:
    """The projects as stored, or ValueError naming the project and key that is wrong."""
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object: project name -> its settings")
    for name, project in value.items():
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            raise ValueError(f"{name!r}: a project name must be 1–200 characters")
        try:
            _check_project(project)
        except ValueError as e:
            raise ValueError(f"project {name!r}: {e}") from None
    return value


def _check_project(p: Any) -> None:
    if not isinstance(p, dict):
        raise ValueError("must be a JSON object")
    unknown = sorted(set(p) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; keys are {', '.join(REQUIRED + OPTIONAL)}")
    missing = [k for k in REQUIRED if p.get(k) in (None, "", [])]
    if missing:
        raise ValueError(f"{missing[0]} is required")
    teams = p["teams"]
    if not isinstance(teams, list) or not all(isinstance(t, str) and 1 <= len(t) <= 64
                                              for t in teams):
        raise ValueError("teams must be a list of team names")
    _text(p, "organization", 200)
    for key in ("coc_code", "geocode", "project_id"):
        if key in p:
            _pattern(p, key)
    start = _date(p, "operating_start")
    if p.get("operating_end") is not None and _date(p, "operating_end") < start:
        raise ValueError("operating_end is before operating_start")
    if not isinstance(p["funders"], list):
        raise ValueError("funders must be a list")
    for n, funder in enumerate(p["funders"]):
        try:
            _check_funder(funder)
        except ValueError as e:
            raise ValueError(f"funders[{n}]: {e}") from None
    if p.get("geography_type") not in (None, *sorted(hmis_spec.LISTS["2.03.4"])):
        raise ValueError("geography_type must be 1 (urban), 2 (suburban), 3 (rural) or 99")
    if not isinstance(p.get("victim_service_provider", False), bool):
        raise ValueError("victim_service_provider must be true or false")
    address = p.get("address", {})
    if not isinstance(address, dict) or set(address) - set(ADDRESS_KEYS):
        raise ValueError(f"address must be an object with keys {', '.join(ADDRESS_KEYS)}")
    for key, longest in ADDRESS_KEYS.items():
        if address.get(key) is not None:
            _text(address, key, longest)
            if key in PATTERNS:
                _pattern(address, key)


def _check_funder(f: Any) -> None:
    if not isinstance(f, dict) or set(f) - set(FUNDER_KEYS):
        raise ValueError(f"must be an object with keys {', '.join(FUNDER_KEYS)}")
    code = f.get("funder")
    if isinstance(code, bool) or code not in hmis_spec.LISTS["2.06.1"]:
        raise ValueError("funder must be a FY2026 funding source code (HMIS list 2.06.1), "
                         "e.g. 11 ESG street outreach, 21 HHS PATH, 46 local or other")
    if code == hmis_spec.OTHER_FUNDER and not f.get("other"):
        raise ValueError("other (the funder's name) is required when funder is 46")
    for key in ("grant_id", "other"):
        if f.get(key) is not None:
            _text(f, key, 100)
    start = _date(f, "start")
    if f.get("end") is not None and _date(f, "end") < start:
        raise ValueError("end is before start")


def _text(d: dict, key: str, longest: int) -> None:
    if not isinstance(d[key], str) or not 1 <= len(d[key].strip()) <= longest:
        raise ValueError(f"{key} must be text of 1–{longest} characters")


def _pattern(d: dict, key: str) -> None:
    pattern, what = PATTERNS[key]
    if not isinstance(d[key], str) or not re.fullmatch(pattern, d[key]):
        raise ValueError(f"{key} must be {what}, not {d[key]!r}")


def _date(d: dict, key: str) -> date:
    try:
        return date.fromisoformat(d[key])
    except (TypeError, ValueError, KeyError):
        raise ValueError(f"{key} must be a date like 2025-10-01") from None
