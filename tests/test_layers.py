"""fieldapp is the Qt-free core: it imports with PySide6 unavailable."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import fieldapp

ROOT = Path(__file__).parents[1]


def test_fieldapp_imports_without_qt():
    modules = [m.name for m in pkgutil.walk_packages(fieldapp.__path__, "fieldapp.")]
    assert len(modules) > 10
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'ui'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import importlib
for name in {modules!r}:
    importlib.import_module(name)
assert not any(m.startswith(('PySide6', 'shiboken6', 'ui')) for m in sys.modules)
print('ok', len({modules!r}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
