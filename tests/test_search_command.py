"""`tandem search`, headless, against a cache holding the demo directory."""

import json
import subprocess
import sys
from pathlib import Path

import seeds
from fieldapp import directory, hsds
from tests.conftest import PASSWORD, make_session

ROOT = Path(__file__).parents[1]


def _search(data_dir, *args, password=PASSWORD):
    return subprocess.run([sys.executable, "-m", "ui.cli", "search", *args, "--data-dir",
                           str(data_dir)], input=password + "\n", capture_output=True,
                          text=True, cwd=ROOT)


def test_search_finds_shelters_despite_a_typo(data_dir):
    s = make_session(data_dir)
    directory.replace_directory(s.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    s.close()
    out = _search(data_dir, "shleter", "--json")
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["corrected_query"] == "shelter"
    assert found["results"] and all("phones" in r for r in found["results"])
    text = _search(data_dir, "crisis", "--near", "32.22,-110.97")
    assert text.returncode == 0 and "km" in text.stdout
    bad = _search(data_dir, "crisis", "--near", "north")
    assert bad.returncode == 2 and "--near" in bad.stderr
    wrong = _search(data_dir, "crisis", password="nope")
    assert wrong.returncode == 1 and "password" in wrong.stderr
