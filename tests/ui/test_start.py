"""Starting the app: the sign-in window shows without the cache's stack, which a worker then
imports (with the main window and the home screens) while the user types."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE_STACK = ("sqlite_utils", "keyring", "cryptography", "fieldapp.store", "fieldapp.changes",
               "ui.mainwindow")

CHILD = f"""
import json, sys
from pathlib import Path
from ui.app import Windows, application
from ui.qt import QTimer
from ui.theme import Theme

stack = {CACHE_STACK!r}
app = application()
windows = Windows(Path(sys.argv[1]), Theme(app))
seen = {{"at_show": [m for m in stack if m in sys.modules]}}

def wait_for_workers():
    if not windows.sign_in.tasks.idle:
        QTimer.singleShot(5, wait_for_workers)
        return
    seen["after_prepare"] = [m for m in stack if m in sys.modules]
    print(json.dumps(seen))
    windows.sign_in.close()
    app.quit()

QTimer.singleShot(0, wait_for_workers)
app.exec()
"""


def test_sign_in_window_shows_before_the_cache_stack_is_imported(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "data")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["at_show"] == []
    assert seen["after_prepare"] == list(CACHE_STACK)
