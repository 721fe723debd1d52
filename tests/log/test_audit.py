"""Export to C2SP tlog-tiles and audit offline; every kind of tampering is named by the verifier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dosetrail.errors import IntegrityError
from dosetrail.log.audit import audit_log
from dosetrail.log.checkpoint import Checkpoint, sign_checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.integrate import integrate
from dosetrail.log.merkle import leaf_hash, root_of
from dosetrail.log.note import Signer
from dosetrail.log.storage import append_entries
from dosetrail.log.tiles import bundle_path, decode_bundle, encode_bundle, tile_path
from dosetrail.store.engine import write_tx
from tests.log.conftest import ORIGIN
from tests.log.helpers import build_log, forge_tiles

N = 600  # two full level-0 tiles, a partial one, a partial level-1 tile
ENTRIES = [b'{"kind":"event","n":%d}' % i for i in range(N)]


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    from dosetrail.log.storage import init_log
    from dosetrail.store.engine import open_engine, sqlite_url

    eng = open_engine(sqlite_url(tmp_path / "ledger.db"))
    init_log(eng, ORIGIN)
    return eng


@pytest.fixture
def exported(sqlite_engine: Engine, signer: Signer, tmp_path: Path) -> Path:
    out = tmp_path / "tiles"
    build_log(sqlite_engine, signer, ENTRIES, out)
    return out


def _audit(out: Path, signer: Signer, **kw: object) -> None:
    audit_log(DirectoryTiles(out), [signer.verifier], **kw)  # type: ignore[arg-type]


def _rewrite_bundle(out: Path, index: int, width: int, change) -> None:  # type: ignore[no-untyped-def]
    path = out / bundle_path(index, width)
    entries = decode_bundle(path.read_bytes(), "", 0)
    path.write_bytes(encode_bundle(change(entries)))


def test_export_layout_and_audit(exported: Path, signer: Signer) -> None:
    files = sorted(str(p.relative_to(exported)) for p in exported.rglob("*") if p.is_file())
    assert files == [
        ".lock",
        "checkpoint",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/88",
    ]
    result = audit_log(DirectoryTiles(exported), [signer.verifier], origin=ORIGIN, proofs=20)
    assert (result.entries, result.tiles) == (N, 4)
    assert result.checkpoint.root == root_of([leaf_hash(e) for e in ENTRIES])


def test_c2sp_example_tree_of_70000(sqlite_engine: Engine, signer: Signer, tmp_path: Path) -> None:
    # C2SP tlog-tiles: 273 full level-0 tiles, a partial of width 112, one full level-1 tile,
    # a partial level-1 tile of width 17 and a partial level-2 tile of width 1.
    out = tmp_path / "t"
    build_log(sqlite_engine, signer, [b"%d" % i for i in range(70000)], out)
    assert (out / "tile/0/272").is_file()
    assert (out / "tile/0/273.p/112").is_file()
    assert not (out / "tile/0/274").exists()
    assert (out / "tile/1/000").is_file()
    assert (out / "tile/1/001.p/17").is_file()
    assert (out / "tile/2/000.p/1").is_file()
    assert audit_log(DirectoryTiles(out), [signer.verifier]).tiles == 277


def test_reexport_keeps_full_tiles_and_adds_new_ones(
    sqlite_engine: Engine, signer: Signer, exported: Path
) -> None:
    full = exported / "tile/0/000"
    before = (full.stat().st_ino, full.stat().st_mtime_ns)
    with write_tx(sqlite_engine) as conn:
        append_entries(conn, [b"more %d" % i for i in range(300)])
    integrate(sqlite_engine, signer)
    cp = export_tiles(sqlite_engine, DirectoryTiles(exported))
    assert cp.size == N + 300
    assert (full.stat().st_ino, full.stat().st_mtime_ns) == before
    assert (exported / "tile/0/003.p/132").is_file()
    _audit(exported, signer)


def test_export_never_moves_the_checkpoint_backwards(
    sqlite_engine: Engine, signer: Signer, exported: Path, tmp_path: Path
) -> None:
    bigger = forge_tiles(tmp_path / "f", [*ENTRIES, b"x"], signer, ORIGIN)
    (exported / "checkpoint").write_bytes((tmp_path / "f/checkpoint").read_bytes())
    assert export_tiles(sqlite_engine, DirectoryTiles(exported)).size == N
    assert Checkpoint.parse((exported / "checkpoint").read_text().split("\n\n")[0] + "\n") == bigger


# --- tampering: each test shows the verifier's error naming what is wrong -----------------------


def test_changed_entry(exported: Path, signer: Signer) -> None:
    _rewrite_bundle(exported, 1, 256, lambda es: [*es[:5], b"forged", *es[6:]])
    with pytest.raises(IntegrityError, match=r"entry 261 \(tile/entries/001, position 5\)"):
        _audit(exported, signer)


def test_dropped_entry(exported: Path, signer: Signer) -> None:
    _rewrite_bundle(exported, 0, 256, lambda es: es[:10] + es[11:])
    with pytest.raises(IntegrityError, match=r"tile/entries/000 holds 255 entries.* needs 256"):
        _audit(exported, signer)


def test_reordered_entries(exported: Path, signer: Signer) -> None:
    _rewrite_bundle(exported, 2, 88, lambda es: [es[0], es[2], es[1], *es[3:]])
    with pytest.raises(IntegrityError, match=r"entry 513 \(tile/entries/002.p/88, position 1\)"):
        _audit(exported, signer)


def test_inserted_entry(exported: Path, signer: Signer) -> None:
    _rewrite_bundle(exported, 0, 256, lambda es: [*es[:3], b"inserted", *es[3:]])
    with pytest.raises(IntegrityError, match="tile/entries/000 holds 257 entries"):
        _audit(exported, signer)


def test_truncated_bundle(exported: Path, signer: Signer) -> None:
    path = exported / bundle_path(1)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(IntegrityError, match="tile/entries/001 is truncated inside entry 511"):
        _audit(exported, signer)


def test_truncated_tile(exported: Path, signer: Signer) -> None:
    path = exported / tile_path(0, 1)
    path.write_bytes(path.read_bytes()[:-32])
    with pytest.raises(IntegrityError, match="tile/0/001 is 8160 bytes, expected 8192"):
        _audit(exported, signer)


def test_missing_tile(exported: Path, signer: Signer) -> None:
    os.remove(exported / tile_path(1, 0, 2))
    with pytest.raises(IntegrityError, match=r"tile/1/000.p/2 is missing"):
        _audit(exported, signer)


def test_changed_entry_with_its_leaf_tile_recomputed(exported: Path, signer: Signer) -> None:
    _rewrite_bundle(exported, 0, 256, lambda es: [b"forged", *es[1:]])
    tile = exported / tile_path(0, 0)
    tile.write_bytes(leaf_hash(b"forged") + tile.read_bytes()[32:])
    with pytest.raises(
        IntegrityError, match=r"tile/0/000 does not hash to entry 0 of tile/1/000.p/2"
    ):
        _audit(exported, signer)


def test_history_rewritten_with_all_tiles_recomputed(exported: Path, signer: Signer) -> None:
    # The operator rewrites entry 7 and every tile, but keeps the old signed checkpoint.
    checkpoint = (exported / "checkpoint").read_bytes()
    forge_tiles(exported, [*ENTRIES[:7], b"forged", *ENTRIES[8:]], signer, ORIGIN)
    (exported / "checkpoint").write_bytes(checkpoint)
    with pytest.raises(IntegrityError, match="checkpoint line 3: root hash does not match"):
        _audit(exported, signer)


def test_forked_checkpoint(exported: Path, signer: Signer, tmp_path: Path) -> None:
    # The operator re-signs a rewritten history: valid on its own, but a fork of what was seen.
    trusted = Checkpoint.parse((exported / "checkpoint").read_text().split("\n\n")[0] + "\n")
    forged = [*ENTRIES[:7], b"forged", *ENTRIES[8:], b"new"]
    forge_tiles(exported, forged, signer, ORIGIN)
    _audit(exported, signer)  # self-consistent...
    with pytest.raises(IntegrityError, match="fork: checkpoint of size 601 is not consistent"):
        _audit(exported, signer, previous=trusted)  # ...but not an extension of the trusted one


def test_rolled_back_checkpoint(exported: Path, signer: Signer) -> None:
    trusted = Checkpoint.parse((exported / "checkpoint").read_text().split("\n\n")[0] + "\n")
    forge_tiles(exported, ENTRIES[:500], signer, ORIGIN)
    with pytest.raises(IntegrityError, match=r"line 2: tree size 500 is smaller.*rollback"):
        _audit(exported, signer, previous=trusted)


def test_checkpoint_signed_by_someone_else(exported: Path, signer: Signer) -> None:
    impostor = Signer.generate(ORIGIN)
    cp = Checkpoint.parse((exported / "checkpoint").read_text().split("\n\n")[0] + "\n")
    (exported / "checkpoint").write_bytes(sign_checkpoint(cp, [impostor]))
    with pytest.raises(IntegrityError, match="no signature from a trusted key"):
        _audit(exported, signer)


def test_checkpoint_text_changed(exported: Path, signer: Signer) -> None:
    path = exported / "checkpoint"
    path.write_bytes(path.read_bytes().replace(b"\n600\n", b"\n599\n"))
    with pytest.raises(IntegrityError, match="invalid signature for key"):
        _audit(exported, signer)


def test_missing_checkpoint(exported: Path, signer: Signer) -> None:
    os.remove(exported / "checkpoint")
    with pytest.raises(IntegrityError, match="checkpoint is missing"):
        _audit(exported, signer)
