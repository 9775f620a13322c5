"""Where Tandem keeps its files: one data directory, one folder per user inside it."""

from pathlib import Path

import platformdirs


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("Tandem", "Tandem"))


def user_dir(data_dir: Path, username: str) -> Path:
    return Path(data_dir) / "users" / username


def cache_path(data_dir: Path, username: str) -> Path:
    return user_dir(data_dir, username) / "cache.db"


def server_dir(data_dir: Path) -> Path:
    """The demo's own agency server files, kept apart from the laptop caches."""
    return Path(data_dir) / "server"


def cache_paths(data_dir: Path) -> list[Path]:
    return sorted((Path(data_dir) / "users").glob("*/cache.db"))
