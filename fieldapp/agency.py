"""Agency settings: policy the agency sets once, on its server, for every laptop.

Each setting is declared here once, with its default, how a value is checked and what it is
for. The server keeps the agency's values (`tandem-server settings`), every pull delivers them,
and a laptop keeps the latest it received in its cache (table `agency_setting`), so they hold
offline too. A laptop that has never synced uses the defaults.

Laptop preferences of one user (theme, lock minutes) are `settings.py`'s, not these.
"""

import copy
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from . import apco, hmis_project
from .errors import ValidationError
from .records import ASSIGNMENT_DISPOSITIONS
from .timeutil import utc_now


def _time_zone(value: Any) -> str:
    if not isinstance(value, str) or value not in available_timezones():
        raise ValueError("must be an IANA time zone name such as America/Phoenix")
    return value


def _apco_incident_types(value: Any) -> dict:
    return apco.check_mapping(value, apco.INCIDENT_TYPES, "local incident types")


def _apco_dispositions(value: Any) -> dict:
    return apco.check_mapping(value, apco.DISPOSITIONS, "disposition", ASSIGNMENT_DISPOSITIONS)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
        raise ValueError("must be text of 1–200 characters")
    return value.strip()


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ValueError("must be a whole number of days from 1 to 3650")
    return value


def _yes_no(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _speed(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 5 <= value <= 130:
        raise ValueError("must be a speed in km/h from 5 to 130")
    return float(value)


def _whole(minimum: int, maximum: int, unit: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not (
                minimum <= value <= maximum):
            raise ValueError(f"must be a whole number of {unit} from {minimum} to {maximum}")
        return value
    return check


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value
    return check


@dataclass(frozen=True)
class AgencySetting:
    key: str
    default: Any
    check: Callable[[Any], Any]  # returns the value to store, or raises ValueError saying why
    help: str


SETTINGS: dict[str, AgencySetting] = {s.key: s for s in [
    AgencySetting("time_zone", "America/Phoenix", _time_zone,
                  "the agency's time zone (IANA name): every time shown, computed or reported "
                  "on a laptop or the server reads in it"),
    AgencySetting("agency_name", "Co-responder program", _name,
                  "the agency's name, as other systems see it (the requester of FHIR "
                  "referrals)"),
    AgencySetting("apco_incident_types", apco.DEFAULT_INCIDENT_TYPES, _apco_incident_types,
                  "the whole table (JSON) from local incident types (a CAD's call types, "
                  "Tandem's situations) to APCO common incident types; docs/cad-standards.md"),
    AgencySetting("apco_dispositions", apco.DEFAULT_DISPOSITIONS, _apco_dispositions,
                  "the whole table (JSON) from a crew's dispositions to APCO common "
                  "disposition codes; docs/cad-standards.md"),
    AgencySetting("hmis_projects", {}, hmis_project.check_projects,
                  "the HMIS street outreach projects (JSON: name -> organization, CoC code, "
                  "geocode, funders, teams, …) that 'tandem-server export-hmis' writes; "
                  "docs/hmis.md"),
    AgencySetting("hmis_exit_after_days", 90, _days,
                  "an outreach enrollment exits on its last contact once this many days pass "
                  "with no other contact (HMIS export)"),
    AgencySetting("crc_notice_names", False, _yes_no,
                  "whether a pre-arrival notice to the CRC may carry the person's name (true) "
                  "or never does (false: minimum necessary)"),
    AgencySetting("crc_eta_speed_kmh", 40.0, _speed,
                  "the average speed (km/h, straight-line distance) a laptop assumes to "
                  "estimate a unit's arrival time at the CRC from where it is"),
    AgencySetting("two_factor", "required", _one_of("required", "optional"),
                  "required: every online sign-in needs a code from the user's authenticator "
                  "app (a user without one enrols at sign-in); optional: only users who "
                  "enrolled give one"),
    AgencySetting("offline_unlock_hours", 12, _whole(1, 168, "hours"),
                  "after an online sign-in (with its second factor), how long the password "
                  "alone unlocks the laptop's cache offline and the laptop keeps syncing; past "
                  "it the laptop asks for an online sign-in, drafts kept"),
    AgencySetting("retention_days", 90, _whole(1, 3650, "days"),
                  "closed records older than this leave the laptops on their next sync (open "
                  "follow-ups, active releases and unsynced changes stay); the server keeps "
                  "everything"),
    AgencySetting("clock_skew_max_minutes", 5, _whole(1, 1440, "minutes"),
                  "how far ahead of the server's clock a change's clock stamp may be; the "
                  "server clamps a later one and flags it, and no laptop's clock moves further "
                  "ahead of its own than this"),
    AgencySetting("signin_lockout_failures", 5, _whole(3, 10, "failed sign-ins"),
                  "consecutive failed online sign-ins that lock an account (the ones before "
                  "wait 1, 2, 4… seconds; CJIS allows at most 5)"),
    AgencySetting("signin_lockout_minutes", 10, _whole(1, 1440, "minutes"),
                  "how long a locked account waits; each further failure doubles it"),
]}


def setting(key: str) -> AgencySetting:
    """The declared setting, or ValidationError listing the ones there are."""
    if key not in SETTINGS:
        raise ValidationError("agency setting", {
            key: f"unknown setting; one of {', '.join(sorted(SETTINGS))}"})
    return SETTINGS[key]


def checked(key: str, value: Any) -> Any:
    """`value` as stored for `key`, or ValidationError naming the setting and what is wrong."""
    try:
        return setting(key).check(value)
    except (ValueError, TypeError) as e:
        raise ValidationError("agency setting", {key: str(e)}) from None


def from_text(key: str, text: str) -> Any:
    """A value typed on a command line: JSON when it parses as JSON, else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return checked(key, value)


def effective(stored: dict[str, Any]) -> dict[str, Any]:
    """Every setting's value: the stored one where it is valid, else the default."""
    values = {}
    for key, setting in SETTINGS.items():
        try:
            values[key] = (setting.check(stored[key]) if key in stored
                           else copy.deepcopy(setting.default))
        except (ValueError, TypeError):
            values[key] = copy.deepcopy(setting.default)
    return values


# --- the laptop's copy ------------------------------------------------------------------------

def read(db) -> dict[str, Any]:
    """The settings this laptop last received (defaults for any it never did)."""
    return effective({key: json.loads(value) for key, value in
                      db.execute("SELECT key, value FROM agency_setting")})


def get(db, key: str) -> Any:
    return read(db)[key]


def zone(db) -> ZoneInfo:
    """The agency's time zone, for every time this laptop shows or computes."""
    try:
        return ZoneInfo(get(db, "time_zone"))
    except ZoneInfoNotFoundError:  # pragma: no cover - checked when set
        return ZoneInfo(SETTINGS["time_zone"].default)


def today(db) -> date:
    """Today's date in the agency's time zone (what is due today, overdue, in force)."""
    return utc_now().astimezone(zone(db)).date()


def store(db, values: dict[str, Any]) -> None:
    """Keep what the server sent (call inside the pull's transaction). Keys this version does
    not know are kept too, for a later version; values are checked only when read."""
    db.conn.executemany("INSERT OR REPLACE INTO agency_setting (key, value) VALUES (?, ?)",
                        [(key, json.dumps(value)) for key, value in values.items()])
