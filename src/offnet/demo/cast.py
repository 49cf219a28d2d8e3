"""Who plays in the demo: founders, carriers with their profiles and coverage, and their keystores."""

from __future__ import annotations

import random
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from offnet.wallet import FilePassword, Keystore, load_account

CARRIER_NAMES = (
    "alpine-net",
    "baltic-fibre",
    "celtic-link",
    "danube-tel",
    "iberia-wave",
    "nordic-core",
    "adriatic-ip",
    "carpathia",
    "hanse-net",
    "lusitania",
    "pannonia",
    "thames-edge",
)
PROFILES = (
    "prompt-and-punctual",
    "cheap-but-late",
    "good-quotes-poor-availability",
    "often-silent",
    "flaky-api",
    "prompt-and-punctual",
)
COUNTRIES = ("FR", "DE", "IT", "ES", "GB", "NL", "PL", "SE")
CITIES = {
    "FR": "Lyon",
    "DE": "Frankfurt",
    "IT": "Milan",
    "ES": "Madrid",
    "GB": "London",
    "NL": "Amsterdam",
    "PL": "Warsaw",
    "SE": "Stockholm",
}
# Fast scrypt for throwaway demo keys (still a real, encrypted keystore file).
DEMO_SCRYPT_N = 2**12


@dataclass(frozen=True)
class CarrierSpec:
    """A demo carrier: its name, its seller's behaviour profile and the countries it covers."""

    name: str
    profile: str
    countries: tuple[str, ...]


def demo_key(seed: int, label: str) -> bytes:
    """The private key of a demo account: derived from the seed, so a seed replays the same market."""
    return keccak(text=f"offnet demo {seed}: {label}")


def carrier_specs(count: int, seed: int) -> list[CarrierSpec]:
    """`count` carriers with profiles in turn and 3-4 countries each, every country sold by two or more."""
    if not 2 <= count <= len(CARRIER_NAMES):
        raise ValueError(f"--carriers must be between 2 and {len(CARRIER_NAMES)}, got {count}")
    rng = random.Random(f"offnet demo coverage {seed}")
    specs = []
    for index in range(count):
        # Neighbouring carriers share two countries; a seeded extra gives each its own footprint.
        base = {COUNTRIES[(2 * index + k) % len(COUNTRIES)] for k in range(3)}
        base.add(rng.choice(COUNTRIES))
        specs.append(CarrierSpec(CARRIER_NAMES[index], PROFILES[index % len(PROFILES)], tuple(sorted(base))))
    return specs


@dataclass(frozen=True)
class Wallets:
    """The demo's keystore folder and the generated password file that unlocks it."""

    directory: Path
    password_file: Path

    @classmethod
    def create(cls, directory: Path) -> Wallets:
        """A fresh keystore folder (an earlier demo's is replaced) with a new random password file."""
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        directory.chmod(0o700)
        password_file = directory / "password.txt"
        password_file.write_text(secrets.token_urlsafe(24) + "\n")
        password_file.chmod(0o600)
        return cls(directory, password_file)

    def add(self, name: str, key: bytes) -> LocalAccount:
        """Encrypt `key` into the keystore as `name`, then load the signer back from the file."""
        password = FilePassword(self.password_file)
        Keystore(self.directory, scrypt_n=DEMO_SCRYPT_N).import_private_key(name, key, password.read(name))
        return load_account(name, password, self.directory)
