"""`make bench`: offnet's gas against anchors (EAS, ERC-20, a plain escrow), relay throughput, scale."""
