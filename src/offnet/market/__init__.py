"""Typed clients of the offnet contracts (registry, RFQ market, escrow, SLA ledger, notary)."""
