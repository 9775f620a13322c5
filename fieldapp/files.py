"""Writing a file so it appears whole or not at all: a reader, a crash or a dead battery never
meets half a report, half a key or half a sign-in record."""

import os
import tempfile
from pathlib import Path


def write_whole(out: Path, data: bytes) -> Path:
    """Write `data` to `out` through a temporary file beside it, on the disk before it is
    renamed into place. The file is the account's alone (0600, as mkstemp makes it)."""
    out = Path(out)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, out)
    except BaseException:
        os.unlink(temporary)
        raise
    return out
