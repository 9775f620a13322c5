"""Starting an Xvfb of a test's own.

Xvfb picks the display itself (`-displayfd`) and says which once it accepts connections. A test
that picked a number by looking for a free lock file could race another test run for it: its own
Xvfb then died on the lock while the other run's answered, and the test went on using a display
that vanished when the other run ended.
"""

import os
import select
import subprocess
import time


class XvfbError(RuntimeError):
    """Xvfb did not start; the message says why."""


def start_xvfb(size: tuple[int, int], timeout: float = 15, **popen) -> tuple[subprocess.Popen, int]:
    """An Xvfb at `size` pixels and the display number it chose, once it accepts clients.
    `popen` goes to subprocess.Popen (where its output goes, its session)."""
    read, write = os.pipe()
    try:
        process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24",
             "-nolisten", "tcp", "-noreset"], pass_fds=(write,), **popen)
    finally:
        os.close(write)
    with os.fdopen(read, "rb") as said:
        answer = b""
        deadline = time.monotonic() + timeout
        while not answer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([said], [], [], left)[0]:
                process.kill()
                process.wait()
                raise XvfbError(f"Xvfb did not accept clients within {timeout:.0f} s")
            chunk = os.read(said.fileno(), 16)
            if not chunk:
                process.wait()
                raise XvfbError(f"Xvfb exited ({process.returncode}) before choosing a display")
            answer += chunk
    return process, int(answer)
