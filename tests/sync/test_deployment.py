"""The server as deployed: configuration from TANDEM_* environment variables (flags win),
JSON-lines logs with one access line per request and no secrets, the health endpoint checking
the database, and `serve` with several worker processes."""

import gzip
import io
import json
import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from sync.server import cli, config, logs
from sync.server.db import make_engine, migrate
from sync.server.embedded import serve_in_thread
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-token-never-logged"


@contextmanager
def served(db_url: str):
    """The server of `db_url` on a real loopback port (uvicorn); yields its base URL."""
    running = serve_in_thread(db_url)
    try:
        yield running.url
    finally:
        running.stop()


@pytest.fixture
def access_lines():
    """What the access logger writes, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logs.ACCESS.addHandler(handler)
    logs.ACCESS.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logs.ACCESS.removeHandler(handler)
    logs.ACCESS.setLevel(logging.NOTSET)


def test_init_reads_the_database_from_tandem_db(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(config.DB, f"sqlite:///{tmp_path / 'from-env.db'}")
    assert cli.main(["init"]) == 0
    assert (tmp_path / "from-env.db").exists()
    flag = tmp_path / "from-flag.db"
    assert cli.main(["--db", f"sqlite:///{flag}", "init"]) == 0
    assert flag.exists()


@pytest.mark.parametrize("name, value, expected", [
    (config.PORT, "eighty", "TANDEM_PORT='eighty' is not a whole number"),
    (config.PORT, "70000", "TANDEM_PORT=70000 must be between 1 and 65535"),
    (config.WORKERS, "0", "TANDEM_WORKERS=0 must be between 1 and 64"),
    (config.LOG_LEVEL, "loud", "TANDEM_LOG_LEVEL='loud' must be one of debug, info"),
])
def test_unusable_environment_values_stop_serve_with_the_variable_named(
        tmp_path, monkeypatch, capsys, name, value, expected):
    monkeypatch.setenv(config.DB, f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) == 2
    assert expected in capsys.readouterr().err


def test_pool_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(config.POOL_SIZE, "3")
    monkeypatch.setenv(config.MAX_OVERFLOW, "4")
    monkeypatch.setenv(config.POOL_TIMEOUT, "7")
    engine = make_engine("postgresql+psycopg://u:p@127.0.0.1:1/db")  # connects lazily
    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._timeout) == (3, 4, 7)
    assert engine.pool._pre_ping
    monkeypatch.setenv(config.POOL_SIZE, "many")
    with pytest.raises(config.ConfigError, match="TANDEM_DB_POOL_SIZE='many'"):
        make_engine("postgresql+psycopg://u:p@127.0.0.1:1/db")


def test_health_checks_the_database(db_url):
    engine = make_engine(db_url)
    epoch = migrate(engine)
    with served(db_url) as url:
        answer = requests.get(f"{url}/v1/health", timeout=10)
    assert answer.status_code == 200 and answer.json()["epoch"] == epoch
    engine.dispose()


def test_health_answers_503_when_the_database_is_unreachable(tmp_path):
    with served("postgresql+psycopg://u:p@127.0.0.1:1/db") as url:
        down = requests.get(f"{url}/v1/health", timeout=10)
    assert down.status_code == 503 and down.headers["Retry-After"] == "1"
    with served(f"sqlite:///{tmp_path / 'never-initialised.db'}") as url:
        assert requests.get(f"{url}/v1/health", timeout=10).status_code == 503


def test_one_access_line_per_request_without_tokens_bodies_or_query(tmp_path, access_lines):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    secret_body = gzip.compress(json.dumps({"ops": [], "note": SECRET}).encode())
    with served(f"sqlite:///{tmp_path / 'a.db'}") as url, requests.Session() as http:
        http.get(f"{url}/v1/health")
        http.get(f"{url}/v1/pull?after=5&secret={SECRET}",
                 headers={"Authorization": f"Bearer {SECRET}"})
        http.post(f"{url}/v1/push", data=secret_body, headers={
            "Authorization": f"Bearer {SECRET}", "Content-Encoding": "gzip",
            "Content-Type": "application/json"})
        http.post(f"{url}/v1/login", json={"username": "nobody", "password": SECRET})
        http.post(f"{url}/v1/push", data=b"x" * (9 << 20))
    lines = access_lines()
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/v1/health", 200), ("GET", "/v1/pull", 401), ("POST", "/v1/push", 422),
        ("POST", "/v1/login", 401), ("POST", "/v1/push", 413)]
    for line in lines:
        assert set(line) == {"ts", "level", "logger", "msg", "method", "path", "status",
                             "duration_ms"}
        assert line["duration_ms"] >= 0
    assert SECRET not in json.dumps(lines)
    engine.dispose()


def _serve(args, env, port):
    proc = subprocess.Popen([sys.executable, "-m", "sync.server.cli", *args], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).ok:
                return proc
        except requests.ConnectionError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the server did not come up: {proc.communicate()}")


def _stop(proc) -> tuple[str, str]:
    proc.terminate()
    out, err = proc.communicate(timeout=60)
    # uvicorn re-raises SIGTERM after a clean shutdown; systemd counts that as a clean stop.
    assert proc.returncode in (0, -15), err
    return out, err


def test_serve_from_the_environment_with_two_workers_logs_json_lines(tmp_path):
    db = f"sqlite:///{tmp_path / 'agency.db'}"
    assert cli.main(["--db", db, "init"]) == 0
    port = free_port()
    proc = _serve(["serve"], {config.DB: db, config.PORT: str(port), config.WORKERS: "2",
                              config.LOG_LEVEL: "info"}, port)
    with requests.Session() as http:
        statuses = [http.get(f"http://127.0.0.1:{port}/v1/pull",
                             headers={"Authorization": f"Bearer {SECRET}"}).status_code
                    for _ in range(10)]
    assert statuses == [401] * 10
    out, err = _stop(proc)
    assert json.loads(out.splitlines()[0])["workers"] == 2
    lines = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    access = [line for line in lines if line["logger"] == "tandem.access"]
    assert sum(line["status"] == 401 for line in access) == 10
    workers = {line["msg"] for line in lines if line["msg"].startswith("Started server process")}
    assert len(workers) >= 2
    assert SECRET not in err + out


def test_flags_override_the_environment(tmp_path):
    db = f"sqlite:///{tmp_path / 'agency.db'}"
    assert cli.main(["--db", db, "init"]) == 0
    port = free_port()
    proc = _serve(["serve", "--port", str(port), "--log-level", "warning"],
                  {config.DB: db, config.PORT: str(free_port()), config.LOG_LEVEL: "debug"}, port)
    out, err = _stop(proc)
    assert json.loads(out.splitlines()[0])["serving"] == f"http://127.0.0.1:{port}"
    assert "tandem.access" not in err  # warning level: no access lines


def test_smoke_command_renders_the_signed_in_main_window(tmp_path):
    """What scripts/build_bundle.sh runs in the bundle, here from the checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "QT_QPA_PLATFORM": "offscreen",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "smoke", "--data-dir",
                           str(tmp_path / "demo")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] and (result["window_width"], result["window_height"]) == (1366, 768)
    assert result["report_pdf_bytes"] > 1000 and result["failed_imports"] == {}
    assert result["modules_imported"] > 100
    assert list((tmp_path / "demo" / "users").glob("*/cache.db"))  # a real cache was made


def test_smoke_names_a_module_loaded_on_first_use_whose_library_is_missing(monkeypatch):
    """A bundle left without reportlab starts, signs in and syncs; only the first PDF export
    would fail. The smoke imports every module, so it names the one that cannot load."""
    from ui import smoke

    monkeypatch.delitem(sys.modules, "fieldapp.report_pdf", raising=False)
    for name in ["reportlab", *(m for m in sys.modules if m.startswith("reportlab."))]:
        monkeypatch.setitem(sys.modules, name, None)  # its modules already loaded too
    _, failed = smoke._import_every_module()
    assert list(failed) == ["fieldapp.report_pdf"]
    assert "reportlab" in failed["fieldapp.report_pdf"]


def test_the_budget_page_puts_each_figure_beside_its_target_and_ratio(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import run_all

    runs = {"bench_load": ("bench_load.py", ["--pg", run_all.PG]), "bench_new": ("bench_new.py", [])}
    text = run_all.page({"bench_load": {"p99_ms": 104.2, "ratio_p99_to_health_p99": 2.5,
                                        "requests_per_s": 40.0, "errors": 0,
                                        "db_bytes_per_1000_shifts": 86327751},
                         "bench_new": None, "bench_new:error": "Boom"}, runs, False, "0.1")
    assert ("| fleet load, p99 latency of sync requests (ms) | 104 | < 200 ms | "
            "ratio_p99_to_health_p99 2.5 | `.venv/bin/python bench/bench_load.py --pg "
            "PG_ADMIN_URL` |") in text
    assert "| bench_new (all keys) | failed: Boom |" in text
    assert "cores" in text and "SQLCipher" in text
    assert run_all.PG.split("@")[0] not in text  # the admin URL's password stays out
