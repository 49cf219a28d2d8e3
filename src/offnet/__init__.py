"""offnet: a marketplace for off-net telecom circuits on an EVM chain, relayed from MEF LSO Sonata."""

import os

__version__ = "0.1.0"

# Keccak-256 of every hash offnet and its Ethereum libraries compute goes through eth-hash, which
# picks pycryptodome when both are installed: a ctypes call of ~5 us that lets go of the GIL, so
# under load each hash hands the event loop over to another thread. pysha3's C code hashes in
# ~0.7 us and keeps it (safe-pysha3 is a dependency of offnet; eth-hash reads this on its first hash).
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
