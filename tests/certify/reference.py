"""A second, deliberately plain implementation of the sampling spec (docs/certification.md)."""

from __future__ import annotations

import hashlib


def seed(root: bytes, nonce: bytes) -> bytes:
    return hashlib.sha256(root + nonce).digest()


def uniform(seed_: bytes, label: str, j: int, bound: int) -> int:
    attempt = 0
    while True:
        message = (
            seed_
            + b"dosetrail-sample/v1"
            + b"\x0a"
            + label.encode("utf-8")
            + b"\x0a"
            + j.to_bytes(8, "big")
            + attempt.to_bytes(4, "big")
        )
        x = int.from_bytes(hashlib.sha256(message).digest()[:8], "big")
        if x < 2**64 - (2**64 % bound):
            return x % bound
        attempt += 1
