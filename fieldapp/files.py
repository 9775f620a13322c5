"""Writing an export so it appears whole or not at all: a reader (or a crash) never meets half
a report."""

import os
import tempfile
from pathlib import Path


def write_whole(out: Path, data: bytes) -> Path:
    """Write `data` to `out` through a temporary file beside it, renamed into place."""
    out = Path(out)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, out)
    except BaseException:
        os.unlink(temporary)
        raise
    return out
