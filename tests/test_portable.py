"""The same code is built for Windows (docs/deployment.md), where nothing here runs its tests:
so no string in the app may lean on glibc's date formats or on POSIX paths."""

import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).parents[1]
# strftime flags only glibc knows: %-d (no padding), %_d (space), %^a (upper case)
GLIBC_DATE_FLAG = re.compile(r"%[-_^][A-Za-z]")
POSIX_PATH = re.compile(r"""^[rbuf]*['"]{1,3}(/tmp|/var/|/etc/|/home/|/usr/|/proc/|/dev/|~/)""")


def strings(path: Path):
    with path.open("rb") as f:
        for token in tokenize.tokenize(f.readline):
            if token.type == tokenize.STRING:
                yield token.start[0], token.string


def test_no_glibc_date_formats_or_posix_paths_in_the_app():
    found = []
    for package in ("fieldapp", "sync", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, text in strings(path):
                if GLIBC_DATE_FLAG.search(text) or POSIX_PATH.match(text):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text[:60]}")
    assert not found, "breaks the Windows build:\n" + "\n".join(found)
