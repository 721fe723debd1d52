"""Ledgers on SQLite and PostgreSQL: every store test runs on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dosetrail.home import Home
from dosetrail.store.engine import open_engine, sqlite_url
from dosetrail.store.ledger import Ledger
from tests.conftest import skip_or_fail


def pg_schema_url(url: str, schema: str) -> str:
    """``url`` with libpq options putting every connection in ``schema``."""
    return (
        sa.engine.make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Home]:
    """A fresh DOSETRAIL_HOME whose database is SQLite or a private PostgreSQL schema."""
    root = tmp_path / "home"
    if request.param == "sqlite":
        yield Home(root, sqlite_url(root / "ledger.db"))
        return
    url = os.environ.get("DOSETRAIL_TEST_PG")
    if not url:
        skip_or_fail("PostgreSQL tests need DOSETRAIL_TEST_PG (set by .ci/run)")
    assert url is not None
    schema = f"s_{uuid.uuid4().hex[:12]}"
    admin = open_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield Home(root, pg_schema_url(url, schema))
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


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
