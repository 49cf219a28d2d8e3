"""The batch Merkle tree of SlaLedger.submit, built exactly as the contract builds it.

Leaves stay in submission order. Each level pairs nodes left to right and hashes every pair as
keccak256 of the two 32-byte nodes in ascending order (OpenZeppelin `Hashes.commutativeKeccak256`);
an odd last node is promoted to the next level unchanged. Proofs are the sibling of each level
(none for a promoted node), so OpenZeppelin `MerkleProof.verify` accepts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from _pysha3 import keccak_256  # the C hash directly: a batch of 200 reports hashes 199 pairs


def hash_pair(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two nodes in ascending byte order (commutative)."""
    return keccak_256(a + b if a <= b else b + a).digest()


def verify_proof(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """What MerkleProof.verify answers on chain."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root


@dataclass(frozen=True)
class MerkleTree:
    """Every level of the tree over `leaves` (level 0 = the leaves, last level = the root)."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def build(cls, leaves: Sequence[bytes]) -> MerkleTree:
        """The tree over 32-byte `leaves`, in the given order."""
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        if any(len(leaf) != 32 for leaf in leaves):
            raise ValueError("Merkle leaves must be 32 bytes")
        levels = [tuple(bytes(leaf) for leaf in leaves)]
        while len(levels[-1]) > 1:
            level = levels[-1]
            parents = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                parents.append(level[-1])
            levels.append(tuple(parents))
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    @property
    def leaves(self) -> tuple[bytes, ...]:
        return self.levels[0]

    def proof(self, index: int) -> list[bytes]:
        """The proof of leaf `index`: one sibling per level, bottom up."""
        if not 0 <= index < len(self.leaves):
            raise IndexError(f"leaf {index} is not in a tree of {len(self.leaves)} leaves")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof
