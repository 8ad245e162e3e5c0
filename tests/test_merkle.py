"""The log's Merkle tree (optline.domain.merkle) against RFC 9162's definitions: the
eight-leaf test tree that Certificate Transparency's implementations share (its roots
and proofs, checked here against the values they publish), and properties over random
trees: every proof verifies, and a changed leaf, path or size does not."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from optline.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
TREE = MemoryTree(leaf_hash(leaf) for leaf in LEAVES)


def hexes(path: list[bytes]) -> list[str]:
    return [p.hex() for p in path]


def test_the_roots_of_the_eight_leaf_tree() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_hash(0, TREE.node) == EMPTY_ROOT
    assert [TREE.root(n).hex() for n in range(1, 9)] == ROOTS


def test_leaves_and_nodes_are_hashed_with_their_prefixes() -> None:
    # The empty entry's leaf hash: SHA-256 of the single byte 0x00.
    assert leaf_hash(b"").hex() == ROOTS[0]
    assert node_hash(TREE.node(0, 0), TREE.node(0, 1)).hex() == ROOTS[1]


def test_inclusion_paths_of_the_eight_leaf_tree() -> None:
    assert hexes(inclusion_proof(0, 8, TREE.node)) == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert hexes(inclusion_proof(5, 8, TREE.node)) == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert hexes(inclusion_proof(2, 3, TREE.node)) == [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
    ]
    assert inclusion_proof(0, 1, TREE.node) == []


def test_consistency_proofs_of_the_eight_leaf_tree() -> None:
    assert hexes(consistency_proof(1, 8, TREE.node)) == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert hexes(consistency_proof(6, 8, TREE.node)) == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert hexes(consistency_proof(2, 5, TREE.node)) == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]
    assert consistency_proof(8, 8, TREE.node) == []
    for old, new in ((1, 8), (6, 8), (2, 5), (3, 7), (4, 8)):
        proof = consistency_proof(old, new, TREE.node)
        assert verify_consistency(old, new, TREE.root(old), TREE.root(new), proof)


def test_proofs_outside_the_tree_are_refused() -> None:
    assert not verify_inclusion(TREE.node(0, 0), 8, 8, [], TREE.root())
    assert not verify_consistency(8, 4, TREE.root(8), TREE.root(4), [])
    # An empty proof between different sizes proves nothing.
    assert not verify_consistency(4, 8, TREE.root(4), TREE.root(8), [])
    assert verify_consistency(0, 8, EMPTY_ROOT, TREE.root(8), [])


sizes = st.integers(min_value=1, max_value=70)


def mth(leaves: list[bytes]) -> bytes:
    """MTH as RFC 9162 defines it, recursively over the entries."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_every_inclusion_proof_verifies_and_a_tampered_leaf_fails(
    size: int, data: st.DataObject
) -> None:
    tree = MemoryTree(leaf_hash(b"entry %d" % i) for i in range(size))
    at = data.draw(st.integers(min_value=0, max_value=size - 1))
    in_size = data.draw(st.integers(min_value=at + 1, max_value=size))
    path = inclusion_proof(at, in_size, tree.node)
    root = tree.root(in_size)
    leaf = tree.node(0, at)
    assert verify_inclusion(leaf, at, in_size, path, root)
    assert not verify_inclusion(leaf_hash(b"tampered"), at, in_size, path, root)
    if in_size > 1:
        other = data.draw(st.integers(min_value=0, max_value=in_size - 1).filter(lambda i: i != at))
        assert not verify_inclusion(leaf, other, in_size, path, root)
    if path:
        bent = [*path[:-1], leaf_hash(b"bent")]
        assert not verify_inclusion(leaf, at, in_size, bent, root)


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_past_fails(
    size: int, data: st.DataObject
) -> None:
    tree = MemoryTree(leaf_hash(b"entry %d" % i) for i in range(size))
    old = data.draw(st.integers(min_value=1, max_value=size))
    proof = consistency_proof(old, size, tree.node)
    assert verify_consistency(old, size, tree.root(old), tree.root(), proof)
    # A log that rewrote one of the old leaves cannot show the old root to be its prefix.
    changed = data.draw(st.integers(min_value=0, max_value=old - 1))
    forked = MemoryTree(
        leaf_hash(b"forked" if i == changed else b"entry %d" % i) for i in range(size)
    )
    forked_proof = consistency_proof(old, size, forked.node)
    assert not verify_consistency(old, size, tree.root(old), forked.root(), forked_proof)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=8))
def test_a_tree_grown_in_batches_is_the_tree_of_all_its_leaves(batches: list[int]) -> None:
    entries = [b"e%d" % i for i in range(sum(batches))]
    leaves = [leaf_hash(e) for e in entries]
    grown, at = MemoryTree(), 0
    for width in batches:
        grown.extend(leaves[at : at + width])
        at += width
    assert grown.root() == MemoryTree(leaves).root() == mth(entries)
    edge = Frontier()
    for leaf in leaves:
        edge.append(leaf)
    assert edge.root() == mth(entries) and edge.size == len(leaves)
    assert len(edge.subtrees) == bin(len(leaves)).count("1")  # bounded: one per set bit
    assert grown.levels == MemoryTree(leaves).levels
