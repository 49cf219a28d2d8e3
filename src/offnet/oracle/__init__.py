"""The oracle relay: Sonata notifications in, SLA reports on chain, Sonata orders out."""
