"""The batch Merkle tree built in Python: the contract's pairing rule, proofs OpenZeppelin accepts."""

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from offnet.market.merkle import MerkleTree, hash_pair, verify_proof


def leaves(n: int) -> list[bytes]:
    return [keccak(text=f"leaf {i}") for i in range(n)]


def test_hash_pair__is_commutative_and_hashes_the_smaller_node_first():
    a, b = sorted(leaves(2))
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(a + b)


def test_tree__one_leaf__is_its_own_root_with_an_empty_proof():
    [leaf] = leaves(1)
    tree = MerkleTree.build([leaf])
    assert tree.root == leaf
    assert tree.proof(0) == []


def test_tree__odd_last_node__is_promoted_unchanged():
    a, b, c = leaves(3)
    tree = MerkleTree.build([a, b, c])
    assert tree.root == hash_pair(hash_pair(a, b), c)
    assert tree.proof(2) == [hash_pair(a, b)]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=130))
def test_tree__every_leaf_proof_verifies_against_the_root(n):
    tree = MerkleTree.build(leaves(n))
    for i, leaf in enumerate(tree.leaves):
        assert verify_proof(tree.proof(i), tree.root, leaf)


def test_tree__proof_of_one_leaf_does_not_verify_another():
    tree = MerkleTree.build(leaves(5))
    assert not verify_proof(tree.proof(0), tree.root, tree.leaves[1])


def test_tree__refuses_no_leaves_short_leaves_and_out_of_range_proofs():
    with pytest.raises(ValueError, match="at least one leaf"):
        MerkleTree.build([])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleTree.build([b"short"])
    with pytest.raises(IndexError):
        MerkleTree.build(leaves(3)).proof(3)
