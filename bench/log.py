"""Benchmark ``dosetrail.log`` against pymerkle on the same leaves; one JSON line per measurement.

    python bench/log.py [--sizes 10000,100000,1000000] [--pymerkle-max 1000000] [--repeat 1]

Each implementation runs in its own subprocess per size and repetition, one after the other (never
two at once), so ``peak_rss_mb`` is that run's own peak; with ``--repeat R`` every number is the
median of the R runs. Entries are made batch by batch *outside* the timed sections, for both
implementations (producing them is the caller's work, not the log's).

dosetrail measures its durable path on SQLite (``synchronous=FULL``): ``sequence``
(``append_entries`` in transactions of 10,000), ``integrate`` (leaf hashing and tile building from
stored entries), ``append`` (the two together: entries in, signed checkpoint out), ``tiles``
(export of the C2SP tiles tree) and proofs through one long-lived :class:`LogReader` with its
default bounded cache:

* ``*_proof``: random queries in steady state, after 5,000 others have filled the cache (at 10^7
  leaves most need one tile from SQLite);
* ``*_proof_warm``: the same queries again once every tile they need is cached;
* ``*_proof_cold``: the reader's caches emptied before each query (every tile read from SQLite).

``build_in_memory`` and ``*_in_memory`` run the same tile code with no database, like for like
with pymerkle's ``InmemoryTree`` (``impl: pymerkle``), whose proofs come from its in-memory tree.
pymerkle's durable ``SqliteTree`` (``impl: pymerkle-sqlite``, up to ``--pymerkle-sqlite-max``;
its proofs hash leaves read from SQLite) is the like-for-like baseline of the durable path.
``ratio_vs_pymerkle`` is dosetrail's speed divided by ``InmemoryTree``'s (>1: faster),
``ratio_vs_pymerkle_sqlite`` by ``SqliteTree``'s. ``peak_rss_write_mb`` is dosetrail's peak while
writing (before any proof); ``load1`` is the machine's 1-minute load average when a run ended.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BATCH = 10_000
PROOFS = 2_000
FILL_PROOFS = 5_000
COLD_PROOFS = 500
SQLITE_PROOFS = 200


def entries(start: int, end: int) -> Iterator[bytes]:
    for i in range(start, end):
        yield b'{"capture":"%064x","index":%d,"kind":"event"}' % (i * 2654435761, i)


def batches(n: int, size: int = BATCH) -> Iterator[list[bytes]]:
    for start in range(0, n, size):
        yield list(entries(start, min(n, start + size)))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(queries: list[Any], call: Callable[[Any], object]) -> float:
    """Median microseconds of ``call`` over ``queries``."""
    samples = []
    for q in queries:
        s = time.perf_counter()
        call(q)
        samples.append(time.perf_counter() - s)
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

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        engine = open_engine(sqlite_url(Path(tmp) / "ledger.db"))
        signer = Signer.generate(init_log(engine, "bench.dosetrail.local/log"))
        seq = 0.0
        for batch in batches(n):
            t0 = time.perf_counter()
            with write_tx(engine) as conn:
                append_entries(conn, batch)
            seq += time.perf_counter() - t0
        t1 = time.perf_counter()
        cp = integrate(engine, signer)
        t2 = time.perf_counter()
        export_tiles(engine, DirectoryTiles(Path(tmp) / "tiles"))
        t3 = time.perf_counter()
        out |= {"sequence": n / seq, "integrate": n / (t2 - t1), "append": n / (seq + t2 - t1)}
        out |= {"tiles": n / (t3 - t2), "peak_rss_write_mb": rss_mb(), "root": cp.root.hex()}

        reader = LogReader(engine)
        fill = random.Random(2)
        for _ in range(FILL_PROOFS):  # a reader that has served a while: its cache is full
            reader.inclusion_proof(fill.randrange(n), n)
        rng = random.Random(1)  # the same queries as pymerkle's
        idx = [rng.randrange(n) for _ in range(PROOFS)]
        old = [rng.randrange(1, n) for _ in range(PROOFS)] if n > 1 else [1]
        incl = lambda i: reader.inclusion_proof(i, n)  # noqa: E731
        cons = lambda m: reader.consistency_proof(m, n)  # noqa: E731
        out["inclusion_us"] = timed(idx, incl)
        out["consistency_us"] = timed(old, cons)
        for name, queries, call in (("inclusion", idx, incl), ("consistency", old, cons)):
            for _ in range(2):  # a full cache admits a tile on its second miss
                timed(queries, call)
            out[f"{name}_warm_us"] = timed(queries, call)

        def cold(call: Callable[[int], list[bytes]]) -> Callable[[int], list[bytes]]:
            def run(q: int) -> list[bytes]:
                reader.clear_cache()
                return call(q)

            return run

        out["inclusion_cold_us"] = timed(idx[:COLD_PROOFS], cold(incl))
        out["consistency_cold_us"] = timed(old[:COLD_PROOFS], cold(cons))
        for i in idx[:20]:
            verify_inclusion(leaf_hash(reader.entry(i)), i, n, incl(i), cp.root)
        for m in old[:5]:
            verify_consistency(m, n, reader.root(m), cp.root, cons(m))
        reader.close()
        engine.dispose()
    out["peak_rss_mb"] = rss_mb()  # before the in-memory variant, which keeps every tile in RAM
    return out | run_in_memory(n)


def run_in_memory(n: int) -> dict[str, Any]:
    """The same tile code with no database: leaves to tile trees in RAM, proofs from them."""
    from dosetrail.log.integrate import extend_tiles
    from dosetrail.log.merkle import leaf_hashes
    from dosetrail.log.tileproofs import TileProver
    from dosetrail.log.tiles import TileCache

    tiles: dict[tuple[int, int], tuple[int, bytes]] = {}
    took, done = 0.0, 0
    for batch in batches(n, 1 << 16):
        t0 = time.perf_counter()
        leaves = leaf_hashes(batch)
        edges = {lv: t[1][: t[0] * 32] for (lv, _), t in _right_edge(tiles, done).items()}
        for lv, ix, w, tree in extend_tiles(done, leaves, edges):
            tiles[(lv, ix)] = (w, tree)
        done += len(batch)
        took += time.perf_counter() - t0
    prover = TileProver(lambda lv, ix, w: tiles[(lv, ix)], TileCache(len(tiles) + 1))
    rng = random.Random(1)
    idx = [rng.randrange(n) for _ in range(PROOFS)]
    old = [rng.randrange(1, n) for _ in range(PROOFS)] if n > 1 else [1]
    return {
        "build_in_memory": n / took,
        "inclusion_in_memory_us": timed(idx, lambda i: prover.inclusion_proof(i, n)),
        "consistency_in_memory_us": timed(old, lambda m: prover.consistency_proof(m, n)),
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


def run_pymerkle(n: int, backend: str) -> dict[str, Any]:
    from pymerkle import InmemoryTree, SqliteTree

    with tempfile.TemporaryDirectory(dir=".") as tmp:
        if backend == "sqlite":
            tree: Any = SqliteTree(str(Path(tmp) / "pymerkle.db"), algorithm="sha256")
        else:
            tree = InmemoryTree(algorithm="sha256")
        took = 0.0
        for batch in batches(n):
            t0 = time.perf_counter()
            tree.append_entries(batch)
            took += time.perf_counter() - t0
        rng = random.Random(1)
        count = SQLITE_PROOFS if backend == "sqlite" else PROOFS
        idx = [rng.randrange(n) for _ in range(PROOFS)][:count]
        old = ([rng.randrange(1, n) for _ in range(PROOFS)] if n > 1 else [1])[:count]
        result = {
            "root": tree.get_root(n).hex(),
            "append": n / took,
            # pymerkle indices are 1-based
            "inclusion_us": timed(idx, lambda i: tree.prove_inclusion(i + 1, n)),
            "consistency_us": timed(old, lambda m: tree.prove_consistency(m, n)),
            "peak_rss_mb": rss_mb(),
        }
        if backend == "sqlite":
            tree.close()
    return result


def worker(impl: str, n: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", impl, str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    result["load1"] = os.getloadavg()[0]
    return result


def repeated(impl: str, n: int, repeat: int) -> dict[str, Any]:
    """Median of each number over ``repeat`` runs (the root must not change)."""
    runs = [worker(impl, n) for _ in range(repeat)]
    out: dict[str, Any] = {"root": runs[0]["root"], "runs": repeat}
    assert all(r["root"] == out["root"] for r in runs), "a run computed a different root"
    for key in runs[0]:
        if key != "root":
            out[key] = statistics.median(r[key] for r in runs)
    out["load1"] = max(r["load1"] for r in runs)
    return out


def emit(**fields: Any) -> None:
    print(json.dumps({"bench": "log", **fields}), flush=True)


def _ratio(ours: float | None, theirs: float | None, *, faster_is_less: bool) -> float | None:
    if not ours or not theirs:
        return None
    return round(theirs / ours if faster_is_less else ours / theirs, 2)


def report(
    n: int, ours: dict[str, Any], mem: dict[str, Any] | None, lite: dict[str, Any] | None
) -> None:
    """One line per measurement of size ``n``; ratios against whichever baselines ran."""
    common = {"size": n, "load1": round(ours["load1"], 2), "runs": ours["runs"]}
    rss = {"peak_rss_mb": round(ours["peak_rss_mb"], 1)}
    base, sbase = (mem or {}).get("append"), (lite or {}).get("append")
    for op in ("sequence", "integrate", "append", "build_in_memory", "tiles"):
        extra = {"peak_rss_write_mb": round(ours["peak_rss_write_mb"], 1)} if op == "append" else {}
        durable = op in ("sequence", "integrate", "append")
        emit(
            op=op,
            **common,
            ops_per_s=round(ours[op]),
            ratio_vs_pymerkle=None
            if op == "tiles"
            else _ratio(ours[op], base, faster_is_less=False),
            ratio_vs_pymerkle_sqlite=_ratio(ours[op], sbase, faster_is_less=False)
            if durable
            else None,
            **rss,
            **extra,
        )
    for op in ("inclusion", "consistency"):
        for where in ("", "_warm", "_cold", "_in_memory"):
            key = f"{op}{where}_us"
            emit(
                op=f"{op}_proof{where}",
                **common,
                median_us=round(ours[key], 2),
                ratio_vs_pymerkle=_ratio(
                    ours[key], (mem or {}).get(f"{op}_us"), faster_is_less=True
                ),
                ratio_vs_pymerkle_sqlite=_ratio(
                    ours[key], (lite or {}).get(f"{op}_us"), faster_is_less=True
                ),
            )
    for name, theirs in (("pymerkle", mem), ("pymerkle-sqlite", lite)):
        if theirs is None:
            continue
        extra = {
            "size": n,
            "impl": name,
            "load1": round(theirs["load1"], 2),
            "runs": theirs["runs"],
        }
        extra["peak_rss_mb"] = round(theirs["peak_rss_mb"], 1)
        emit(op="append", **extra, ops_per_s=round(theirs["append"]))
        for op in ("inclusion", "consistency"):
            emit(op=f"{op}_proof", **extra, median_us=round(theirs[f"{op}_us"], 2))
        emit(op="same_root", size=n, impl=name, equal=ours["root"] == theirs["root"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--pymerkle-max", type=int, default=1_000_000)
    parser.add_argument("--pymerkle-sqlite-max", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--worker", nargs=2, metavar=("IMPL", "N"))
    args = parser.parse_args()
    if args.worker:
        impl, n = args.worker[0], int(args.worker[1])
        if impl == "dosetrail":
            print(json.dumps(run_dosetrail(n)))
        else:
            print(json.dumps(run_pymerkle(n, "sqlite" if impl == "pymerkle-sqlite" else "memory")))
        return
    for n in (int(s) for s in args.sizes.split(",")):
        ours = repeated("dosetrail", n, args.repeat)
        mem = repeated("pymerkle", n, args.repeat) if n <= args.pymerkle_max else None
        lite = (
            repeated("pymerkle-sqlite", n, args.repeat) if n <= args.pymerkle_sqlite_max else None
        )
        report(n, ours, mem, lite)


if __name__ == "__main__":
    main()
