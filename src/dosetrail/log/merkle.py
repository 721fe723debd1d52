"""RFC 9162 §2.1 Merkle Tree Hash, inclusion and consistency proofs.

* §2.1.1 ``MTH``: leaf hash ``SHA-256(0x00 ‖ entry)``, interior node ``SHA-256(0x01 ‖ l ‖ r)``,
  the empty tree hashes to ``SHA-256()``.
* §2.1.3.1 / §2.1.4.1: generating inclusion and consistency proofs. The generators here read
  the tree through a :data:`NodeReader` — ``node(level, index)`` returns the hash of the complete
  subtree ``D[index·2^level : (index+1)·2^level]`` — so the same code proves from memory, from
  database tiles or from a directory of C2SP tiles.
* §2.1.3.2 / §2.1.4.2: verifying them. The verifiers need nothing but hashes, so a third party
  can run them offline; they raise :class:`~dosetrail.errors.IntegrityError` saying what failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from dosetrail.errors import IntegrityError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "NodeReader",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "root_of",
    "subtree_hash",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
"""``node(level, index)``: hash of the complete subtree of ``2**level`` leaves at ``index``."""

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x00 ‖ entry)``."""
    return _sha256(b"\x00" + entry).digest()


_LEAF_PREFIX = _sha256(b"\x00")


def leaf_hashes(entries: Iterable[bytes]) -> bytes:
    """The leaf hashes of ``entries``, concatenated: integration's hot loop.

    Copying a hash state that has already taken the ``0x00`` prefix is ~10% faster in CPython
    than hashing ``0x00 ‖ entry`` (no concatenated copy of the entry).
    """
    out: list[bytes] = []
    append, prefix = out.append, _LEAF_PREFIX
    for entry in entries:
        h = prefix.copy()
        h.update(entry)
        append(h.digest())
    return b"".join(out)


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x01 ‖ left ‖ right)``."""
    return _sha256(b"\x01" + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes (iteratively, without recursion)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Complete subtrees on a stack, as in a compact range; fold right to left at the end.
    stack: list[tuple[int, bytes]] = []
    for h in leaf_hashes:
        size = 1
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            h = node_hash(left, h)
            size *= 2
        stack.append((size, h))
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``), RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(start: int, end: int, node: NodeReader) -> bytes:
    """``MTH(D[start:end])`` for a subtree that appears in RFC 9162 proofs.

    ``start`` is a multiple of the smallest power of two ``>= end - start``; when ``end - start``
    is not a power of two the subtree is at the right edge of the tree and is folded from its
    complete subtrees, largest first.
    """
    size = end - start
    if size <= 0:
        raise ValueError(f"empty subtree [{start}, {end})")
    parts: list[bytes] = []
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            parts.append(node(level, pos >> level))
            pos += 1 << level
    h = parts[-1]
    for left in reversed(parts[:-1]):
        h = node_hash(left, h)
    return h


def tree_root(size: int, node: NodeReader) -> bytes:
    """The root hash of the tree of ``size`` leaves."""
    return EMPTY_ROOT if size == 0 else subtree_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[0:size])``, leaf-side hash first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(subtree_hash(lo + k, hi, node))
            hi = lo + k
        else:
            path.append(node((k.bit_length() - 1), lo >> (k.bit_length() - 1)))
            lo += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, node: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[0:new_size])``; empty when a size is 0 or equal."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while True:
        if m == hi - lo:
            if not complete:
                path.append(subtree_hash(lo, hi, node))
            break
        k = _split(hi - lo)
        if m <= k:
            path.append(subtree_hash(lo + k, hi, node))
            hi = lo + k
        else:
            path.append(node(k.bit_length() - 1, lo >> (k.bit_length() - 1)))
            lo += k
            m -= k
            complete = False
    path.reverse()
    return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf`` (a leaf hash) is entry ``index`` of the tree.

    Raises :class:`IntegrityError` naming the failure; returns ``None`` when the proof holds.
    """
    if not 0 <= index < size:
        raise IntegrityError(f"inclusion proof: leaf index {index} is not below tree size {size}")
    _check_hashes(proof, "inclusion proof")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise IntegrityError(f"inclusion proof for leaf {index} has too many hashes")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise IntegrityError(f"inclusion proof for leaf {index} has too few hashes")
    if r != root:
        raise IntegrityError(
            f"inclusion proof for leaf {index} does not lead to the root hash of tree size {size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: check that tree ``old_size`` is a prefix of tree ``new_size``.

    The empty tree is a prefix of every tree (with an empty proof). Raises
    :class:`IntegrityError` naming the failure.
    """
    _check_hashes(proof, "consistency proof")
    if not 0 <= old_size <= new_size:
        raise IntegrityError(f"consistency proof: old size {old_size} > new size {new_size}")
    if old_size in (new_size, 0):
        if proof:
            raise IntegrityError(
                f"consistency proof from size {old_size} to {new_size} must be empty"
            )
        if old_size == new_size and old_root != new_root:
            raise IntegrityError(
                f"two different root hashes for the same tree size {new_size} (a fork)"
            )
        return
    if not proof:
        raise IntegrityError(f"consistency proof from size {old_size} to {new_size} is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise IntegrityError(
                f"consistency proof from size {old_size} to {new_size} has too many hashes"
            )
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise IntegrityError(
            f"consistency proof from size {old_size} to {new_size} has too few hashes"
        )
    if fr != old_root:
        raise IntegrityError(
            f"consistency proof does not lead to the root hash of the old tree (size {old_size})"
        )
    if sr != new_root:
        raise IntegrityError(
            f"consistency proof does not lead to the root hash of the new tree (size {new_size})"
        )


def _check_hashes(proof: Sequence[bytes], what: str) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise IntegrityError(f"{what}: hash {i} is {len(h)} bytes, not {HASH_SIZE}")
