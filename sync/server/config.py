"""The server's settings from environment variables (what a systemd unit or container sets).

Command-line flags override them. A value that is set but unusable stops the server with a
message naming the variable, instead of falling back to a default nobody asked for.
"""

import os

DB = "TANDEM_DB"
HOST = "TANDEM_HOST"
PORT = "TANDEM_PORT"
WORKERS = "TANDEM_WORKERS"
LOG_LEVEL = "TANDEM_LOG_LEVEL"
POOL_SIZE = "TANDEM_DB_POOL_SIZE"
MAX_OVERFLOW = "TANDEM_DB_MAX_OVERFLOW"
POOL_TIMEOUT = "TANDEM_DB_POOL_TIMEOUT"
POOL_RECYCLE = "TANDEM_DB_POOL_RECYCLE"
MIN_APP_VERSION = "TANDEM_MIN_APP_VERSION"

LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(ValueError):
    """An environment variable holds a value the server cannot use."""


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int, minimum: int = 0, maximum: int = 2**31) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={value} must be between {minimum} and {maximum}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value
