"""A C2SP tlog-tiles tree in a local directory: read it, and write it atomically.

Writes go to a temporary file in the same directory, are flushed, then renamed into place, so a
reader (or a crash) never sees half a file. Full tiles and full entry bundles are immutable and
never rewritten. An exclusive ``flock`` on ``DIR/.lock`` keeps two writers apart; the lock dies
with its process, so a killed exporter never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dosetrail.errors import NotFound, StorageError

__all__ = ["DirectoryTiles"]


class DirectoryTiles:
    """A :class:`~dosetrail.log.tiles.TileSource` over a directory, with atomic writes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"{path} is missing from {self.root}") from e
        except OSError as e:
            raise StorageError(f"cannot read {self.root / path}: {e}") from e

    def exists(self, path: str) -> bool:
        return (self.root / path).is_file()

    def write(self, path: str, data: bytes, *, sync: bool = False) -> None:
        """Atomically replace ``path`` with ``data`` (temp file + rename)."""
        target = self.root / path
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
                if sync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, target)
            if sync:
                _fsync_dir(target.parent)
        except OSError as e:
            raise StorageError(f"cannot write {target}: {e}") from e

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's writer lock."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StorageError(f"cannot lock {self.root}: {e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
