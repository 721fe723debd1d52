"""Shared fixtures: where the conformance data lives, and a CLI runner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from dosetrail.cli import main
from dosetrail.store.engine import open_engine

ROOT = Path(__file__).resolve().parents[1]


def _conformance() -> Path:
    """``../shared/conformance`` beside the checkout (or DOSETRAIL_CONFORMANCE, or /work/shared)."""
    candidates = [ROOT.parent / "shared" / "conformance", Path("/work/shared/conformance")]
    if "DOSETRAIL_CONFORMANCE" in os.environ:
        candidates.insert(0, Path(os.environ["DOSETRAIL_CONFORMANCE"]))
    return next((c for c in candidates if c.is_dir()), candidates[0])


CONFORMANCE = _conformance()
EPCIS = CONFORMANCE / "epcis"
HASH_VECTORS = EPCIS / "hash"
GS1 = EPCIS / "gs1"


def require_conformance() -> None:
    if not EPCIS.is_dir():
        pytest.fail(f"conformance data not found at {EPCIS} (set DOSETRAIL_CONFORMANCE)")


def gs1_examples() -> list[Path]:
    """Every GS1 example document (JSON-LD and XML) in the conformance folder."""
    return [
        p
        for p in sorted(GS1.rglob("*"))
        if p.suffix in (".json", ".jsonld", ".xml")
        and p.parent.name != "schemas"
        and not {"schema", "context", "rest", "xsd"} & set(p.relative_to(GS1).parts[:1])
    ]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason`` on a developer machine; fail in CI, where everything must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A private PostgreSQL schema for one test: yields a URL whose connections live in it.

    Skips (fails in CI) when ``DOSETRAIL_TEST_PG`` is not set.
    """
    url = os.environ.get("DOSETRAIL_TEST_PG")
    if not url:
        skip_or_fail("PostgreSQL tests need DOSETRAIL_TEST_PG (set by .ci/run)")
    assert url is not None
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = open_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        scoped = sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Runner:
    """Run ``dosetrail ARGS`` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
