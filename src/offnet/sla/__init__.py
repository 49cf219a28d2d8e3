"""SLA facts off chain: the mapping from Sonata documents and measurements to on-chain facts."""
