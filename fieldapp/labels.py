"""Codes as words: every stored choice (a status, a disposition, a flag, a table) as people
read it, and a figure's value as a reader wants it. The screens, the monthly report, the
shift summary and the supervisor's timeline all read them here, so one disposition reads
the same everywhere.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .metrics import Figure

# Words kept in capitals wherever they fall.
ACRONYMS = {"crc": "CRC", "id": "ID", "p1": "P1", "cad": "CAD", "hmis": "HMIS", "apco": "APCO",
            "roi": "ROI"}
# Codes that read better than their words spelled out.
SPECIAL = {
    "warm_handoff_crisis_line": "warm hand-off to crisis line",
    "doesnt_know": "doesn't know",
    "hotel_motel": "hotel or motel",
}


def text(code: str | None) -> str:
    """A code as a label or the start of a sentence: 'transported_crc_voluntary' ->
    'Transported CRC voluntary'; nothing for no code."""
    words = phrase(code)
    return words[:1].upper() + words[1:]


def phrase(code: str | None) -> str:
    """A code inside a sentence: 'crc_dropoff' -> 'CRC dropoff'."""
    if not code:
        return ""
    if code in SPECIAL:
        return SPECIAL[code]
    return " ".join(ACRONYMS.get(w, w) for w in code.replace("_", " ").split(" "))


def figure_value(figure: "Figure", short: bool = False) -> str:
    """A figure's value as a reader wants it: shares as %, minutes with a unit, time saved in
    hours (`short`: without the minutes too); a dash when there was nothing to measure."""
    v = figure.value
    if v is None:
        return "\u2013"
    if figure.unit == "share":
        return f"{v:.0%}"
    if figure.key == "patrol.time_saved_minutes":
        return f"{v / 60:,.1f} h" if short else f"{v / 60:,.1f} h ({v:,.0f} min)"
    if figure.unit == "minutes":
        return f"{v:.1f} min"
    if isinstance(v, float):
        return f"{v:.2f}"
    return f"{v:,}"
