"""Benchmark ``dosetrail.log`` against pymerkle on the same leaves; one JSON line per measurement.

    python bench/log.py [--sizes 10000,100000,1000000] [--pymerkle-max 1000000]

Each implementation runs in its own subprocess per size, so ``peak_rss_mb`` is that run's own
peak. dosetrail measures the durable path on SQLite: ``sequence`` (``append_entries`` in
transactions of 10,000), ``integrate`` (leaf hashing and tile building from stored entries),
``append`` (the two together: entries in, signed checkpoint out), ``tiles`` (export of the C2SP
tiles tree) and proof generation from stored tiles (median over random queries, through
:class:`LogReader` with its bounded tile cache). ``build_in_memory`` and ``*_in_memory`` run
the same tile code with no database (like for like with pymerkle's ``InmemoryTree``, which it
uses on the same leaves); ``peak_rss_mb`` of dosetrail is measured before that in-memory run.
``ratio_vs_pymerkle`` is dosetrail's speed divided by pymerkle's (>1: faster).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BATCH = 10_000
PROOFS = 2_000


def entries(start: int, end: int) -> Iterator[bytes]:
    for i in range(start, end):
        yield b'{"capture":"%064x","index":%d,"kind":"event"}' % (i * 2654435761, i)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def run_dosetrail(n: int) -> dict[str, Any]:
    from dosetrail.log.directory import DirectoryTiles
    from dosetrail.log.export import export_tiles
    from dosetrail.log.integrate import integrate
    from dosetrail.log.merkle import leaf_hash, verify_consistency, verify_inclusion
    from dosetrail.log.note import Signer
    from dosetrail.log.reader import LogReader
    from dosetrail.log.storage import append_entries, init_log
    from dosetrail.store.engine import open_engine, sqlite_url, write_tx

    with tempfile.TemporaryDirectory(dir=".") as tmp:
        engine = open_engine(sqlite_url(Path(tmp) / "ledger.db"))
        signer = Signer.generate(init_log(engine, "bench.dosetrail.local/log"))
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            with write_tx(engine) as conn:
                append_entries(conn, list(entries(start, min(n, start + BATCH))))
        t1 = time.perf_counter()
        cp = integrate(engine, signer)
        t2 = time.perf_counter()
        export_tiles(engine, DirectoryTiles(Path(tmp) / "tiles"))
        t3 = time.perf_counter()
        reader = LogReader(engine)
        rng = random.Random(1)
        incl, cons = [], []
        for _ in range(PROOFS):
            i = rng.randrange(n)
            s = time.perf_counter()
            proof = reader.inclusion_proof(i, n)
            incl.append(time.perf_counter() - s)
            if len(incl) <= 20:
                verify_inclusion(leaf_hash(reader.entry(i)), i, n, proof, cp.root)
        for _ in range(PROOFS):
            m = rng.randrange(1, n)
            s = time.perf_counter()
            proof = reader.consistency_proof(m, n)
            cons.append(time.perf_counter() - s)
            if len(cons) <= 5:
                verify_consistency(m, n, reader.root(m), cp.root, proof)
        engine.dispose()
    peak = rss_mb()  # before the in-memory variant, which keeps every tile in RAM on purpose
    mem = run_in_memory(n)
    return {
        **mem,
        "root": cp.root.hex(),
        "sequence": n / (t1 - t0),
        "integrate": n / (t2 - t1),
        "append": n / (t2 - t0),
        "tiles": n / (t3 - t2),
        "inclusion_us": median_us(incl),
        "consistency_us": median_us(cons),
        "peak_rss_mb": peak,
    }


def run_in_memory(n: int) -> dict[str, Any]:
    """The same tile code with no database: leaves to tile trees in RAM, proofs from them."""
    import hashlib

    from dosetrail.log.integrate import extend_tiles
    from dosetrail.log.merkle import consistency_proof, inclusion_proof
    from dosetrail.log.tiles import TileCache, TileHashes

    tiles: dict[tuple[int, int], tuple[int, bytes]] = {}
    sha = hashlib.sha256
    t0 = time.perf_counter()
    done = 0
    for start in range(0, n, 1 << 16):
        end = min(n, start + (1 << 16))
        leaves = b"".join([sha(b"\x00" + e).digest() for e in entries(start, end)])
        edges = {lv: t[1][: t[0] * 32] for (lv, _), t in _right_edge(tiles, done).items()}
        for lv, ix, w, tree in extend_tiles(done, leaves, edges):
            tiles[(lv, ix)] = (w, tree)
        done = end
    t1 = time.perf_counter()
    hashes = TileHashes(lambda lv, ix, w: tiles[(lv, ix)], n, TileCache(len(tiles) + 1))
    rng = random.Random(1)
    incl, cons = [], []
    for _ in range(PROOFS):
        i = rng.randrange(n)
        s = time.perf_counter()
        inclusion_proof(i, n, hashes)
        incl.append(time.perf_counter() - s)
    for _ in range(PROOFS):
        m = rng.randrange(1, n)
        s = time.perf_counter()
        consistency_proof(m, n, hashes)
        cons.append(time.perf_counter() - s)
    return {
        "build_in_memory": n / (t1 - t0),
        "inclusion_in_memory_us": median_us(incl),
        "consistency_in_memory_us": median_us(cons),
    }


def _right_edge(
    tiles: dict[tuple[int, int], tuple[int, bytes]], size: int
) -> dict[tuple[int, int], tuple[int, bytes]]:
    out, level = {}, 0
    while (count := size >> (8 * level)) > 0:
        if count % 256:
            out[(level, count // 256)] = tiles[(level, count // 256)]
        level += 1
    return out


def run_pymerkle(n: int) -> dict[str, Any]:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")
    t0 = time.perf_counter()
    for e in entries(0, n):
        tree.append_entry(e)
    t1 = time.perf_counter()
    rng = random.Random(1)
    incl, cons = [], []
    for _ in range(PROOFS):
        i = rng.randrange(n)
        s = time.perf_counter()
        tree.prove_inclusion(i + 1, n)  # pymerkle indices are 1-based
        incl.append(time.perf_counter() - s)
    for _ in range(PROOFS):
        m = rng.randrange(1, n)
        s = time.perf_counter()
        tree.prove_consistency(m, n)
        cons.append(time.perf_counter() - s)
    return {
        "root": tree.get_root(n).hex() if hasattr(tree, "get_root") else tree.get_state(n).hex(),
        "append": n / (t1 - t0),
        "inclusion_us": median_us(incl),
        "consistency_us": median_us(cons),
        "peak_rss_mb": rss_mb(),
    }


def worker(impl: str, n: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", impl, str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def emit(**fields: Any) -> None:
    print(json.dumps({"bench": "log", **fields}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--pymerkle-max", type=int, default=1_000_000)
    parser.add_argument("--worker", nargs=2, metavar=("IMPL", "N"))
    args = parser.parse_args()
    if args.worker:
        impl, n = args.worker[0], int(args.worker[1])
        print(json.dumps(run_dosetrail(n) if impl == "dosetrail" else run_pymerkle(n)))
        return
    for n in (int(s) for s in args.sizes.split(",")):
        ours = worker("dosetrail", n)
        theirs = worker("pymerkle", n) if n <= args.pymerkle_max else None
        rss = {"peak_rss_mb": round(ours["peak_rss_mb"], 1)}
        base = theirs["append"] if theirs else None
        for op in ("sequence", "integrate", "append", "build_in_memory", "tiles"):
            ratio = round(ours[op] / base, 2) if base and op != "tiles" else None
            emit(op=op, size=n, ops_per_s=round(ours[op]), ratio_vs_pymerkle=ratio, **rss)
        for op in ("inclusion", "consistency"):
            for where in ("", "_in_memory"):
                key = f"{op}{where}_us"
                ratio = round(theirs[f"{op}_us"] / ours[key], 2) if theirs else None
                median = round(ours[key], 1)
                emit(op=f"{op}_proof{where}", size=n, median_us=median, ratio_vs_pymerkle=ratio)
        if theirs:
            for op in ("append", "inclusion_proof", "consistency_proof"):
                value = (
                    {"ops_per_s": round(theirs["append"])}
                    if op == "append"
                    else {"median_us": round(theirs[op.replace("_proof", "_us")], 1)}
                )
                emit(
                    op=op,
                    size=n,
                    impl="pymerkle",
                    peak_rss_mb=round(theirs["peak_rss_mb"], 1),
                    **value,
                )
            emit(op="same_root", size=n, equal=ours["root"] == theirs["root"])


if __name__ == "__main__":
    main()
