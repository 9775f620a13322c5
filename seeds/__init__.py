"""Tandem's demo data: a fictional Pima-County-like directory, roster, follow-ups and assignments."""

import json
from pathlib import Path

SEEDS_DIR = Path(__file__).parent
DIRECTORY_DIR = SEEDS_DIR / "directory"


def load(name: str):
    """One of the JSON seed files (roster, followups, assignments)."""
    return json.loads((SEEDS_DIR / f"{name}.json").read_text(encoding="utf-8"))
