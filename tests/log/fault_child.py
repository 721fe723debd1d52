"""A child process for test_faults.py: appends, integrates and exports until it is killed.

Usage: python fault_child.py DB_PATH TILES_DIR KEY_FILE SEED

Prints ``ready`` once set up, then ``ack <first index> <count> <sha256 of the entries>`` after
each append transaction has committed (never before), flushing every line.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
from pathlib import Path

from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.integrate import integrate
from dosetrail.log.note import Signer
from dosetrail.log.storage import append_entries
from dosetrail.store.engine import open_engine, sqlite_url, write_tx


def main() -> None:
    db, tiles, key, seed = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    engine = open_engine(sqlite_url(db))
    signer = Signer.load(key)
    out = DirectoryTiles(tiles)
    print("ready", flush=True)
    counter = 0
    while True:
        action = rng.random()
        if action < 0.7:
            n = rng.randint(1, 40)
            entries = [b"%s-%d-%d" % (seed.encode(), counter, j) for j in range(n)]
            counter += 1
            with write_tx(engine) as conn:
                first = append_entries(conn, entries)
            digest = hashlib.sha256(b"".join(entries)).hexdigest()
            print(f"ack {first} {n} {digest}", flush=True)
        elif action < 0.9:
            integrate(engine, signer, chunk=rng.choice([16, 100, 1000]))
        else:
            integrate(engine, signer)
            export_tiles(engine, out)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
