"""Ledgers on SQLite and PostgreSQL: every store test runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dosetrail.home import Home
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger
from tests.conftest import pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Home]:
    """A fresh DOSETRAIL_HOME whose database is SQLite or a private PostgreSQL schema."""
    root = tmp_path / "home"
    if request.param == "sqlite":
        yield Home(root, sqlite_url(root / "ledger.db"))
        return
    with pg_schema("s") as url:
        yield Home(root, url)


@pytest.fixture
def ledger(home: Home) -> Iterator[Ledger]:
    opened = Ledger.open(home)
    opened.add_party("donor", "donor")
    opened.add_party("store", "store")
    opened.add_party("clinic", "facility")
    opened.add_party("carrier", "carrier")
    opened.add_party("operator", "operator")
    yield opened
    opened.close()
