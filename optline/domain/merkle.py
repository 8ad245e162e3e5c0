"""The Merkle tree of the transparency log (RFC 9162, section 2.1): pure, no I/O.

Hashing: a leaf is ``SHA-256(0x00 || entry)``, an interior node ``SHA-256(0x01 ||
left || right)``, and the tree of ``n`` leaves splits at the largest power of two below
``n``. What is here: the root of a tree, the inclusion (audit) path of one leaf, the
consistency proof between two sizes, the two verifiers, the nodes that appending
leaves completes, and the right edge a streaming verifier keeps (:class:`Frontier`).

The tree is read through a :data:`NodeReader`: ``node(level, index)`` is the hash of
the *perfect* subtree of ``2**level`` leaves starting at leaf ``index * 2**level``
(level 0: the leaf hashes). A store keeps those nodes, so a root or a proof costs
O(log n) node reads whatever the tree's size; :class:`MemoryTree` keeps them in lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

#: The root of the empty tree: SHA-256 of nothing.
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
Node = tuple[int, int, bytes]  # level, index, hash


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(width: int) -> int:
    """The largest power of two below ``width`` (``width`` > 1)."""
    return 1 << ((width - 1).bit_length() - 1)


def range_hash(start: int, end: int, node: NodeReader) -> bytes:
    """MTH(D[start:end]) for a range the RFC's recursion visits: ``start`` is a multiple
    of the largest power of two not above ``end - start``. Read as perfect subtrees
    from the left, folded from the right."""
    if end == start:
        return EMPTY_ROOT
    parts: list[bytes] = []
    while start < end:
        width = end - start
        level = width.bit_length() - 1  # the largest perfect subtree that fits
        parts.append(node(level, start >> level))
        start += 1 << level
    digest = parts.pop()
    while parts:
        digest = node_hash(parts.pop(), digest)
    return digest


def root_hash(size: int, node: NodeReader) -> bytes:
    return range_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves, leaf to root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, node))
            end = start + k
        else:
            path.append(range_hash(start, start + k, node))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, node: NodeReader) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of ``new_size``'s."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    start, end, m, whole = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(range_hash(start + k, end, node))
            end = start + k
        else:
            path.append(range_hash(start, start + k, node))
            start, m, whole = start + k, m - k, False
    if not whole:  # the old tree's last subtree is not the old root itself
        path.append(range_hash(start, end, node))
    path.reverse()
    return path


def _lsb(n: int) -> bool:
    return bool(n & 1)


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves the leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` leaves with ``root`` (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, digest = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            digest = node_hash(sibling, digest)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            digest = node_hash(digest, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and digest == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree (``old_size``, ``old_root``) to be a prefix of
    (``new_size``, ``new_root``) (RFC 9162, 2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # every tree grows from the empty one
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while _lsb(fn):
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def appended_nodes(size: int, leaves: Sequence[bytes], node: NodeReader) -> list[Node]:
    """The nodes that appending ``leaves`` (leaf hashes) to a tree of ``size`` leaves
    completes, the leaves themselves included (level 0); ``node`` reads the tree as it
    was. A store writes them all and the larger tree reads as the RFC's."""
    made: dict[tuple[int, int], bytes] = {}

    def read(level: int, index: int) -> bytes:
        found = made.get((level, index))
        return found if found is not None else node(level, index)

    for offset, digest in enumerate(leaves):
        index, level = size + offset, 0
        made[0, index] = digest
        while _lsb(index):  # a right child completes its parent
            digest = node_hash(read(level, index - 1), digest)
            index, level = index >> 1, level + 1
            made[level, index] = digest
    return [(level, index, digest) for (level, index), digest in made.items()]


class Frontier:
    """The right edge of a tree: its perfect subtrees, largest first (one per set bit of
    its size). Enough to append leaves and to give the root, in O(log n) memory: a
    verifier streams the leaves through it."""

    def __init__(self) -> None:
        self.size = 0
        self.subtrees: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        index, digest = self.size, leaf
        while _lsb(index):  # a right child: merge with the left subtree of its size
            digest = node_hash(self.subtrees.pop(), digest)
            index >>= 1
        self.subtrees.append(digest)
        self.size += 1

    def root(self) -> bytes:
        if not self.subtrees:
            return EMPTY_ROOT
        digest = self.subtrees[-1]
        for left in reversed(self.subtrees[:-1]):
            digest = node_hash(left, digest)
        return digest


class MemoryTree:
    """A tree kept in lists, one per level: for tests, offline checks and building a
    batch before it is stored."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        self.extend(leaves)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def extend(self, leaves: Iterable[bytes]) -> None:
        for level, index, digest in appended_nodes(self.size, list(leaves), self.node):
            while len(self.levels) <= level:
                self.levels.append([])
            assert len(self.levels[level]) == index  # nodes are made in order
            self.levels[level].append(digest)

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self.size if size is None else size, self.node)
