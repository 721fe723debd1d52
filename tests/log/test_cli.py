"""``dosetrail log`` and ``dosetrail witness``: outputs, exit codes (0 ok, 1 refused, 2 usage)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dosetrail.cli import main
from dosetrail.home import Home
from dosetrail.log.keys import open_log
from dosetrail.log.merkle import verify_consistency, verify_inclusion
from dosetrail.log.storage import append_entries
from dosetrail.log.witness import AddCheckpointRequest
from dosetrail.store.engine import write_tx
from tests.log.helpers import forge_tiles


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOSETRAIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DOSETRAIL_DB", raising=False)
    monkeypatch.delenv("DOSETRAIL_WITNESS_STATE", raising=False)
    return tmp_path / "home"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _append(n: int, start: int = 0) -> None:
    log = open_log(Home.from_env())
    with write_tx(log.engine) as conn:
        append_entries(conn, [b"entry %d" % i for i in range(start, start + n)])


def test_log_commands(home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, vkey, _ = _run(capsys, "log", "key")
    assert code == 0
    assert vkey.startswith("dosetrail.local/")
    assert (home / "keys" / "log.key").stat().st_mode & 0o777 == 0o600
    assert _run(capsys, "log", "key")[1] == vkey  # same key and origin on every use
    _append(300)
    code, out, _ = _run(capsys, "log", "integrate")
    assert code == 0
    assert " size 300 root " in out
    code, cp, _ = _run(capsys, "log", "checkpoint")
    assert cp.split("\n")[1] == "300"
    out_dir = tmp_path / "tiles"
    assert _run(capsys, "log", "tiles", "--out", str(out_dir))[0] == 0
    assert (out_dir / "checkpoint").read_text() == cp
    code, out, _ = _run(
        capsys, "log", "verify", str(out_dir), "--key", vkey.strip(), "--proofs", "5"
    )
    assert code == 0
    assert "300 entries and 3 tiles verified" in out
    code, out, _ = _run(capsys, "log", "prove", "--index", "7")
    doc = json.loads(out)
    b = base64.b64decode
    verify_inclusion(b(doc["leaf_hash"]), 7, 300, [b(h) for h in doc["proof"]], b(doc["root"]))
    _append(10, 300)
    assert _run(capsys, "log", "integrate")[0] == 0
    code, out, _ = _run(capsys, "log", "prove", "--old", "300")
    doc = json.loads(out)
    verify_consistency(300, 310, b(doc["old_root"]), b(doc["root"]), [b(h) for h in doc["proof"]])


def test_log_verify_reports_tampering_with_exit_1(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _append(300)
    out_dir = tmp_path / "tiles"
    _run(capsys, "log", "tiles", "--out", str(out_dir))
    vkey = _run(capsys, "log", "key")[1].strip()
    tile = out_dir / "tile/0/000"
    tile.write_bytes(tile.read_bytes()[:-1])
    code, out, err = _run(capsys, "log", "verify", str(out_dir), "--key", vkey)
    assert code == 1
    assert err == "error: tile/0/000 is 8191 bytes, expected 8192 (truncated or padded)\n"
    assert "Traceback" not in out + err


def test_usage_errors_exit_2(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "log", "prove")[0] == 2
    assert _run(capsys, "log", "checkpoint")[0] == 2  # no checkpoint yet: NotFound
    assert _run(capsys, "witness", "add-checkpoint", "--log-key", "x")[0] == 2


def test_witness_commands(home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, wkey, _ = _run(capsys, "witness", "init", "witness.example/w1")
    assert code == 0
    assert wkey.startswith("witness.example/w1+")
    assert _run(capsys, "witness", "key")[1] == wkey
    _append(300)
    out_dir = tmp_path / "tiles"
    _run(capsys, "log", "tiles", "--out", str(out_dir))
    vkey = _run(capsys, "log", "key")[1].strip()
    (tmp_path / "log.vkey").write_text(vkey + "\n")
    code, out, _ = _run(
        capsys,
        "witness",
        "add-checkpoint",
        "--tiles",
        str(out_dir),
        "--log-key",
        f"@{tmp_path}/log.vkey",
    )
    assert code == 0
    assert out.startswith("— witness.example/w1 ")
    _append(50, 300)
    _run(capsys, "log", "tiles", "--out", str(out_dir))
    code, out, _ = _run(
        capsys, "witness", "add-checkpoint", "--tiles", str(out_dir), "--log-key", vkey
    )
    assert code == 0
    # The operator rewrites history and re-signs: the witness refuses, exit 1, clear message.
    log = open_log(Home.from_env())
    forge_tiles(out_dir, [b"rewritten %d" % i for i in range(400)], log.signer, log.origin)
    code, out, err = _run(
        capsys, "witness", "add-checkpoint", "--tiles", str(out_dir), "--log-key", vkey
    )
    assert code == 1
    assert "refusing to cosign" in err
    assert "not consistent with the checkpoint cosigned at size 350" in err
    # A rollback (a smaller tree) is refused too.
    forge_tiles(out_dir, [b"entry %d" % i for i in range(100)], log.signer, log.origin)
    code, _, err = _run(
        capsys, "witness", "add-checkpoint", "--tiles", str(out_dir), "--log-key", vkey
    )
    assert code == 1
    assert "rollback" in err


def test_witness_add_checkpoint_request_file(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _run(capsys, "witness", "init", "w")
    log = open_log(Home.from_env())
    forge_tiles(tmp_path / "t", [b"a", b"b"], log.signer, log.origin)
    req = tmp_path / "req"
    req.write_bytes(AddCheckpointRequest(0, (), (tmp_path / "t/checkpoint").read_bytes()).encode())
    code, out, _ = _run(
        capsys, "witness", "add-checkpoint", str(req), "--log-key", log.signer.verifier_key
    )
    assert code == 0
    assert out.startswith("— w ")
    code, _, err = _run(
        capsys, "witness", "add-checkpoint", str(req), "--log-key", log.signer.verifier_key
    )
    assert code == 1  # old size 0 is stale now: conflict
    assert "last cosigned" in err
