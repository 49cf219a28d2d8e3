"""offnet: a marketplace for off-net telecom circuits on an EVM chain, relayed from MEF LSO Sonata."""

__version__ = "0.1.0"
