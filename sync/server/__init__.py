"""The agency server: an HTTP API over a SQL database (SQLite by default, PostgreSQL in production).

Its packages are the `server` extra; a laptop installed without them never imports this.
"""

import importlib.util

_missing = [name for name in ("fastapi", "uvicorn", "sqlalchemy", "alembic", "argon2")
            if importlib.util.find_spec(name) is None]
if _missing:
    raise ModuleNotFoundError(f"the agency server needs {', '.join(_missing)}, which this "
                              "install lacks: pip install 'tandem[server]'", name=_missing[0])
