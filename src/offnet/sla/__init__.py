"""SLA facts off chain: building on-chain reports from Sonata resources, and their batch Merkle trees."""

from offnet.sla.merkle import MerkleTree, verify_proof
from offnet.sla.reports import FailureReason, ReportKind, SlaReport

__all__ = ["FailureReason", "MerkleTree", "ReportKind", "SlaReport", "verify_proof"]
