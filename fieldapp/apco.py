"""APCO common codes: what a 911 center's CAD calls an incident type and a disposition.

The code lists (apco_codes.json) are APCO ANS 2.103.2-2019 (common incident types) and APCO ANS
1.111.2-2018 (common disposition codes) as NENA's EIDO standard (NENA-STA-021.1b-2022)
registers them. Tandem keeps its own words (a crew's disposition, a CAD's local call type) and
maps them to these codes through two agency settings (fieldapp/agency.py), whose defaults are
below; docs/cad-standards.md says why each default was chosen.
"""

import json
from importlib.resources import files

_CODES = json.loads(files(__package__).joinpath("apco_codes.json").read_text("utf-8"))
INCIDENT_TYPES: dict[str, str] = _CODES["incident_types"]  # code -> description
DISPOSITIONS: dict[str, str] = _CODES["dispositions"]  # "01".."45" -> description

# A local incident type (a CAD's own call type, or Tandem's word for a supervisor's task),
# compared without regard to case, to the APCO common incident type it is reported as.
DEFAULT_INCIDENT_TYPES = {
    "mental_health_crisis": "MNTL",  # Mental Person Non-Violent
    "mental_health_violent": "MTLV",  # Mental Person Violent
    "emotional_disturbance": "EDP",
    "suicidal_ideation": "SUICTHRT",  # Attempt Or Threatening Suicide
    "suicide": "SUICIDE",
    "substance_use": "INTOX",  # Intoxicated
    "overdose": "OD",
    "welfare_check": "WELFARE",  # Man Down Check, Welfare Check
    "homelessness": "CITASST",  # Public Assistance, Citizen Standby, Public Service
    "dispute": "CDX",  # Civil Dispute
    "domestic": "DVNA",  # Domestic Non-Violent
    "court_order": "COURT",  # Court Order Serve (a pickup order)
    "other": "CITASST",
    "scheduled_task": "ADMIN",  # Administrative, includes follow-ups
}

# A crew's disposition of an assignment (records.ASSIGNMENT_DISPOSITIONS) to the APCO common
# disposition code it is reported as.
DEFAULT_DISPOSITIONS = {
    "resolved_on_scene": "18",  # Assignment Completed/Settled By Contact
    "referred": "15",  # Referred to partner agency
    "transported_crc_voluntary": "16",  # Transport/Escort Given
    "transported_crc_involuntary": "16",
    "emergency_department": "16",
    "jail_booking": "03",  # Arrest
    "declined": "18",  # contact made; the person declined help
    "unfounded": "02",  # No Report Taken
    "gone_on_arrival": "14",  # Gone On Arrival / Unable To Locate
    "handled_by_patrol": "15",
    "completed": "18",
}

UNMAPPED = "unmapped"  # how a list or report names assignments with no code


def incident_type_for(mapping: dict[str, str], local_type: str | None) -> str | None:
    """The APCO incident type a local incident type maps to, or None when unmapped."""
    if not local_type:
        return None
    wanted = local_type.strip().casefold()
    for key, code in mapping.items():
        if key.casefold() == wanted:
            return code
    return None


def disposition_for(mapping: dict[str, str], disposition: str | None) -> str | None:
    return mapping.get(disposition) if disposition else None


def label(code: str | None, codes: dict[str, str]) -> str:
    """'MNTL Mental Person Non-Violent', or 'unmapped'."""
    if not code:
        return UNMAPPED
    return f"{code} {codes.get(code, '')}".strip()


def check_mapping(value, codes: dict[str, str], what: str, keys=None) -> dict[str, str]:
    """An agency's mapping as stored, or ValueError saying which entry is wrong."""
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object mapping {what} to APCO codes")
    for key, code in value.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 64:
            raise ValueError(f"{key!r}: a key must be text of 1–64 characters")
        if keys is not None and key not in keys:
            raise ValueError(f"{key!r} is not a {what}; one of {', '.join(keys)}")
        if code not in codes:
            raise ValueError(f"{key!r}: {code!r} is not an APCO code (e.g. "
                             f"{', '.join(list(codes)[:3])} …)")
    return dict(value)
