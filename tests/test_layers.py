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


SERVER_PACKAGES = ("fastapi", "starlette", "uvicorn", "pydantic", "sqlalchemy", "alembic",
                   "psycopg", "argon2")


def run_without_server_packages(code: str) -> subprocess.CompletedProcess:
    """`code` in a Python where the server extra's packages are not installed."""
    hide = f"import sys\nfor name in {SERVER_PACKAGES!r}:\n    sys.modules[name] = None\n"
    return subprocess.run([sys.executable, "-c", hide + code], cwd=ROOT, capture_output=True,
                          text=True, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                                          "HOME": str(ROOT / "no-such-home")})


def test_the_laptop_runs_without_the_server_extra():
    """A laptop installed as `pip install tandem` has none of the agency server's packages:
    every module of the app imports, and `tandem demo` says what to install."""
    laptop = [m.name for package in ("fieldapp", "sync", "ui")
              for m in pkgutil.walk_packages([str(ROOT / package)], f"{package}.")
              if not m.name.startswith(("sync.server", "sync.demo"))]
    assert len(laptop) > 40
    out = run_without_server_packages(f"""
import importlib
for name in {laptop!r}:
    importlib.import_module(name)
print('ok', len({laptop!r}))
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    demo = run_without_server_packages("from ui.cli import main; sys.exit(main(['demo']))")
    assert demo.returncode == 1
    assert "pip install 'tandem[server]'" in demo.stderr, demo.stderr
    assert "Traceback" not in demo.stderr
