"""One call's record as the pair reads it: the encounter, its people, and every note with who
wrote it and when (fieldapp.encounters.record_of_call). Shown by the encounter list and, for
an encounter opened to add to it, by the encounter form."""

from html import escape

from fieldapp import persons
from fieldapp.records import record_type

from .qt import QTextBrowser
from .timefmt import day_clock
from .widgets import pretty

_FLAGS = [f.name for f in record_type("encounter").fields
          if f.type is bool]


def html(call: dict, with_notes: bool = True) -> str:
    """The record as HTML (every value escaped)."""
    e = call["encounter"]
    parts = [f"<h3>{escape(pretty(e['presenting_situation']))} · "
             f"{escape(day_clock(e['started_at']))}</h3>"]
    facts = []
    if e.get("cad_incident"):
        facts.append(f"CAD {escape(e['cad_incident'])}")
    if e.get("place"):
        facts.append(escape(e["place"]))
    facts.append("Disposition: " + escape(pretty(e["disposition"]) or "not yet"))
    parts.append("<p>" + " · ".join(facts) + "</p>")
    if e.get("call_summary"):
        parts.append(f"<p><i>{escape(e['call_summary'])}</i></p>")
    if call["people"]:
        people = ", ".join(escape(persons.label(p)) + (
            f" <b>⚠ {escape(p['safety_cautions'])}</b>" if p.get("safety_cautions") else "")
            for p in call["people"])
        parts.append(f"<p>People: {people}</p>")
    flags = [pretty(f) for f in _FLAGS if e.get(f)]
    if flags:
        parts.append("<p>Flags: " + escape(", ".join(flags)) + "</p>")
    if call["joined"]:
        parts.append(f"<p>Joined from {len(call['joined'])} other record(s) of this call.</p>")
    if with_notes:
        parts.append(notes_html(call))
    return "".join(parts)


def notes_html(call: dict) -> str:
    """Each police note and each clinical note the reader may read, with author and time."""
    parts = ["<h4>Police notes</h4>"]
    parts += [_note(n) for n in call["police_notes"]] or ["<p>None yet.</p>"]
    parts.append("<h4>Clinical notes</h4>")
    if call["clinical_notes"]:
        parts += [_note(n) for n in call["clinical_notes"]]
    elif call["clinical_withheld"]:
        parts.append("<p>Clinical notes reach clinicians only, or someone a signed release "
                     "of information covers.</p>")
    else:
        parts.append("<p>None yet.</p>")
    return "".join(parts)


def _note(note: dict) -> str:
    when = f", {escape(day_clock(note['at']))}" if note.get("at") else ""
    body = escape(note["body"]).replace("\n", "<br>")
    return f"<p><b>{escape(note['by'])}</b>{when}<br>{body}</p>"


class CallRecordView(QTextBrowser):
    """A read-only, scrollable view of one call's record."""

    def __init__(self, placeholder: str = ""):
        super().__init__()
        self.setObjectName("callRecord")
        self.setOpenLinks(False)
        self.setPlaceholderText(placeholder)

    def show_call(self, call: dict | None, with_notes: bool = True) -> None:
        self.setHtml(html(call, with_notes) if call else "")
