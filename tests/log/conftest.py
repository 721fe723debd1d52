"""Fixtures for the log tests: ledgers on SQLite and (when available) PostgreSQL, signers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.log.note import Signer
from dosetrail.log.storage import init_log
from dosetrail.store.engine import open_engine, sqlite_url
from tests.conftest import skip_or_fail

ORIGIN = "test.dosetrail.local/log"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh ledger with the log initialised, on each database dosetrail supports."""
    if request.param == "sqlite":
        eng = open_engine(sqlite_url(tmp_path / "ledger.db"))
        init_log(eng, ORIGIN)
        yield eng
        eng.dispose()
        return
    url = os.environ.get("DOSETRAIL_TEST_PG")
    if not url:
        skip_or_fail("PostgreSQL tests need DOSETRAIL_TEST_PG (set by .ci/run)")
    assert url is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = open_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    eng = open_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        init_log(eng, ORIGIN)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def count_rows(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
