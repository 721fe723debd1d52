"""Interoperability: Go's golang.org/x/mod/sumdb/{note,tlog} audit our C2SP tlog-tiles output.

An independent implementation must verify the checkpoint signature, recompute the root hash
from the tiles and check the inclusion of every entry (tests/log/go/tlogcheck.go). Skips when Go
or golang.org/x/mod is absent — except in CI (CI=true), where it fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dosetrail.log.note import Signer
from dosetrail.log.storage import init_log
from dosetrail.log.tiles import bundle_path
from dosetrail.store.engine import open_engine, sqlite_url
from tests.conftest import skip_or_fail
from tests.log.conftest import ORIGIN
from tests.log.helpers import build_log

pytestmark = pytest.mark.go

GOPATH = Path("/usr/share/gocode")
PROGRAM = Path(__file__).parent / "go" / "tlogcheck.go"


@pytest.fixture(scope="session")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        skip_or_fail("Go toolchain not installed (Debian golang-go)")
    if not (GOPATH / "src/golang.org/x/mod/sumdb/tlog").is_dir():
        skip_or_fail("golang.org/x/mod not installed (Debian golang-golang-x-mod-dev)")
    assert go is not None
    build = tmp_path_factory.mktemp("go")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(build / "cache"),
        "GOFLAGS": "",
    }
    shutil.copy(PROGRAM, build / "tlogcheck.go")
    subprocess.run(
        [go, "build", "-o", str(build / "tlogcheck"), "tlogcheck.go"],
        cwd=build,
        env=env,
        check=True,
        capture_output=True,
    )
    return build / "tlogcheck"


def _check(tlogcheck: Path, out: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tlogcheck), str(out), vkey], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("size", [1, 7, 256, 257, 600, 70_000])
def test_go_verifies_checkpoint_root_and_every_entry(
    tlogcheck: Path, tmp_path: Path, signer: Signer, size: int
) -> None:
    engine: Engine = open_engine(sqlite_url(tmp_path / "ledger.db"))
    init_log(engine, ORIGIN)
    entries = [b'{"kind":"event","seq":%d,"pad":"%s"}' % (i, b"x" * (i % 97)) for i in range(size)]
    out = tmp_path / "tiles"
    build_log(engine, signer, entries, out)
    result = _check(tlogcheck, out, signer.verifier_key)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ok {size}\n"


def test_go_rejects_a_changed_entry_and_a_foreign_key(
    tlogcheck: Path, tmp_path: Path, signer: Signer
) -> None:
    engine = open_engine(sqlite_url(tmp_path / "ledger.db"))
    init_log(engine, ORIGIN)
    out = tmp_path / "tiles"
    build_log(engine, signer, [b"e%d" % i for i in range(300)], out)
    other = Signer.generate(ORIGIN)
    result = _check(tlogcheck, out, other.verifier_key)
    assert result.returncode == 1
    assert "checkpoint signature" in result.stderr
    bundle = out / bundle_path(0)
    bundle.write_bytes(bundle.read_bytes().replace(b"e17", b"e71"))
    result = _check(tlogcheck, out, signer.verifier_key)
    assert result.returncode == 1
    assert "entry 17 not included" in result.stderr
