"""Fixtures for the log tests: ledgers on SQLite and (when available) PostgreSQL, signers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.log.note import Signer
from dosetrail.log.storage import init_log
from dosetrail.store.engine import open_engine, sqlite_url
from tests.conftest import pg_schema

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
    with pg_schema("t") as url:
        eng = open_engine(url)
        try:
            init_log(eng, ORIGIN)
            yield eng
        finally:
            eng.dispose()


@pytest.fixture
def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def count_rows(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
