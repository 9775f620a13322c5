"""Codes read as words in one way everywhere: fieldapp/labels.py is the only place that turns a
stored choice into words, and the screens, the report and the review timeline all use it."""

import re
from pathlib import Path

from fieldapp import encounters, labels, review, shifts
from fieldapp.metrics import FIGURES
from fieldapp.records import RECORD_TYPES
from tests.conftest import make_session

ROOT = Path(__file__).parents[1]


def test_every_choice_reads_as_words():
    codes = {c for rt in RECORD_TYPES.values() for f in rt.fields for c in f.choices or ()
             if c[:1].isalpha()}  # numbers (an HMIS code) stay as they are
    assert "transported_crc_voluntary" in codes
    for code in codes:
        words = labels.text(code)
        assert "_" not in words and words[0].isupper(), code
        assert labels.phrase(code).lower() == words.lower(), code
    assert labels.text("transported_crc_voluntary") == "Transported CRC voluntary"
    assert labels.phrase("crc_dropoff") == "CRC dropoff"
    assert labels.text("warm_handoff_crisis_line") == "Warm hand-off to crisis line"
    assert labels.text("id_documents") == "ID documents"
    assert labels.text(None) == labels.phrase("") == ""


def test_the_timeline_and_the_figures_say_what_the_screens_say(data_dir):
    sergeant = make_session(data_dir, "sgt.lee", "supervisor")
    try:
        shift_id = shifts.start_shift(sergeant, "MHST-12")
        encounters.save_encounter(sergeant, {
            "shift_id": shift_id, "presenting_situation": "mental_health_crisis",
            "disposition": "transported_crc_voluntary"})
        [entry] = [e for e in review.timeline(sergeant, shift_id) if e["table"] == "encounter"]
    finally:
        sergeant.close()
    screen = labels.text("transported_crc_voluntary")
    assert entry["title"] == f"Encounter: {labels.text('mental_health_crisis')}"
    assert entry["detail"].startswith(screen)
    assert FIGURES["calls.disposition.transported_crc_voluntary"][1] == \
        f"Disposition: {labels.phrase('transported_crc_voluntary')}"


def test_no_other_module_spells_codes_out():
    """`code.replace("_", " ")` anywhere else is a second way to say the same code."""
    spelled = re.compile(r"""\.replace\(\s*(['"])_\1\s*,\s*(['"]) \2\s*\)""")
    found = [f"{path.relative_to(ROOT)}:{n}"
             for folder in ("fieldapp", "ui", "sync")
             for path in sorted((ROOT / folder).rglob("*.py")) if path.name != "labels.py"
             for n, line in enumerate(path.read_text().splitlines(), 1) if spelled.search(line)]
    assert not found, f"use fieldapp.labels instead: {found}"
