"""Fixtures for the resource directory tests: HSDS packages on disk, and a cache."""

import os

import pytest
from hsds_package import Package

from fieldapp.store import open_cache


@pytest.fixture
def package():
    return Package()


@pytest.fixture
def cache(tmp_path):
    db = open_cache(tmp_path / "cache.db", os.urandom(32))
    yield db
    db.close()
