"""Keccak-256 in the oracle's process: pysha3's C code, same digests as every other backend."""

import subprocess
import sys

PROBE = """
import offnet.oracle.service
from eth_utils import keccak
from eth_hash.auto import keccak as auto
from eth_hash.backends.pycryptodome import CryptodomeBackend
assert keccak(b"") == CryptodomeBackend().keccak256(b"")
assert keccak(b"offnet" * 100) == CryptodomeBackend().keccak256(b"offnet" * 100)
print(type(auto.hasher.__self__).__name__)
"""


def test_keccak__offnet_processes_hash_with_pysha3_and_get_the_same_digests() -> None:
    ran = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "PySha3Backend"
