"""Encrypted JSON keystores (Web3 Secret Storage v3, scrypt) in a per-user folder, one file per account.

The files are the ones eth-account, ape (`~/.ape/accounts/<alias>.json`) and geth (`UTC--...`) write,
so theirs import unchanged and ours open in those tools. Only encrypted keys ever reach the disk:
each file is written to a private temporary file (0600) and linked into place, never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from offnet.exceptions import (
    AccountExists,
    AccountNotFound,
    CorruptKeystore,
    InvalidAccountName,
    InvalidAddress,
    InvalidPrivateKey,
    KeystoreFolderUnusable,
    WrongPassword,
)

KEYSTORE_DIR_ENV = "OFFNET_KEYSTORE_DIR"
DEFAULT_KEYSTORE_DIR = Path("~/.offnet/keystores")

# scrypt work factor (n) of new keystores. None keeps eth-account's default (2**18, r=8, p=1); tests
# lower it to stay fast. Keystores keep the parameters they were written with, whatever this says.
SCRYPT_N: int | None = None

# A keystore asking scrypt for more memory than this is refused rather than run (128*n*r*p bytes).
_MAX_SCRYPT_MEMORY = 2**30

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HEX = re.compile(r"(?:0x)?([0-9a-fA-F]*)")


@dataclass(frozen=True)
class AccountEntry:
    """One keystore file: its account name, path and address (None with a problem when unreadable)."""

    name: str
    path: Path
    address: str | None
    problem: str | None = None


def default_keystore_dir() -> Path:
    """$OFFNET_KEYSTORE_DIR, or ~/.offnet/keystores."""
    return Path(os.environ.get(KEYSTORE_DIR_ENV) or DEFAULT_KEYSTORE_DIR).expanduser()


def check_name(name: str) -> str:
    """`name` if it is a valid account name (letters, digits, `_.-`, not looking like an address)."""
    if not _NAME.fullmatch(name) or name.lower().startswith("0x"):
        raise InvalidAccountName(
            f"invalid account name {name!r}: use up to 64 letters, digits, '_', '.', '-' "
            "(starting with a letter or digit, not '0x')"
        )
    return name


def parse_address(text: str) -> str:
    """The checksummed form of a hex address; mixed case must carry a valid EIP-55 checksum."""
    if not is_hex_address(text):
        raise InvalidAddress(f"bad address {text!r}: expected 0x followed by 40 hex digits")
    body = text[2:] if text.lower().startswith("0x") else text
    if body != body.lower() and body != body.upper() and not is_checksum_address("0x" + body):
        raise InvalidAddress(f"bad address {text!r}: its mixed-case checksum (EIP-55) is wrong")
    return to_checksum_address("0x" + body)


def account_from_key(key: bytes | str) -> LocalAccount:
    """A local account from raw or hex key material; the message never repeats the key."""
    try:
        return Account.from_key(key.strip() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise InvalidPrivateKey("not a private key: expected 32 bytes of hex (64 digits), non-zero") from None


def _hex_field(value: Any, size: int | None = None) -> bool:
    if not isinstance(value, str):
        return False
    match = _HEX.fullmatch(value)
    return bool(match) and len(match.group(1)) % 2 == 0 and (size is None or len(match.group(1)) == 2 * size)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _kdf_problem(kdf: Any, params: Any) -> str | None:
    if not isinstance(params, dict) or not _hex_field(params.get("salt")) or params.get("dklen") != 32:
        return "its kdfparams are incomplete"
    if kdf == "scrypt":
        n, r, p = params.get("n"), params.get("r"), params.get("p")
        if not (_positive_int(n) and _positive_int(r) and _positive_int(p)) or n < 2 or n & (n - 1):
            return "its scrypt parameters are invalid"
        if 128 * n * r * p > _MAX_SCRYPT_MEMORY:
            return f"its scrypt parameters ask for more than {_MAX_SCRYPT_MEMORY >> 20} MiB of memory"
        return None
    if kdf == "pbkdf2":
        if not _positive_int(params.get("c")) or params.get("prf") != "hmac-sha256":
            return "its pbkdf2 parameters are invalid"
        return None
    return f"its key derivation function {kdf!r} is not scrypt or pbkdf2"


def keystore_problem(data: Any) -> str | None:
    """What makes `data` not a usable v3 keystore, or None when it is one."""
    if not isinstance(data, dict):
        return "it is not a JSON object"
    if data.get("version") != 3:
        return f"its version is {data.get('version')!r}, not 3"
    crypto = data.get("crypto", data.get("Crypto"))  # early geth and Mist wrote "Crypto"
    if not isinstance(crypto, dict):
        return "it has no crypto section"
    if crypto.get("cipher") != "aes-128-ctr":
        return f"its cipher {crypto.get('cipher')!r} is not aes-128-ctr"
    params = crypto.get("cipherparams")
    iv = params.get("iv") if isinstance(params, dict) else None
    # eth-account writes the iv as a number: leading zero bytes are dropped, so it may be short.
    iv_ok = _hex_field(iv) and 0 < len(iv.removeprefix("0x")) <= 32
    ciphertext, mac = crypto.get("ciphertext"), crypto.get("mac")
    if not (_hex_field(ciphertext) and iv_ok and _hex_field(mac, 32)):
        return "its ciphertext, iv or mac is missing or not hex"
    if "address" in data and not is_hex_address(str(data["address"])):
        return f"its address field {data['address']!r} is not a 20-byte hex address"
    return _kdf_problem(crypto.get("kdf"), crypto.get("kdfparams"))


def _recorded_address(data: dict[str, Any]) -> str | None:
    address = data.get("address")
    return to_checksum_address("0x" + address.lower().removeprefix("0x")) if address else None


def read_keystore_file(path: Path, label: str) -> tuple[str, dict[str, Any]]:
    """The text and parsed content of a keystore file, or CorruptKeystore naming `label`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorruptKeystore(f"{label} is corrupted: it is not UTF-8 JSON ({path})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise CorruptKeystore(f"{label} is corrupted: it is not valid JSON ({path})") from None
    problem = keystore_problem(data)
    if problem:
        raise CorruptKeystore(f"{label} is corrupted: {problem} ({path})")
    return text, data


def decrypt_keystore(data: dict[str, Any], password: str, label: str) -> LocalAccount:
    """The account a validated keystore holds: WrongPassword, or CorruptKeystore if its address lies."""
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassword(f"wrong password for {label}") from None
        raise CorruptKeystore(f"{label} is corrupted: it does not decrypt ({exc})") from None
    except (KeyError, TypeError, NotImplementedError) as exc:
        raise CorruptKeystore(f"{label} is corrupted: it does not decrypt ({type(exc).__name__})") from None
    try:
        account = account_from_key(bytes(key))
    except InvalidPrivateKey:
        raise CorruptKeystore(f"{label} is corrupted: it decrypts to an invalid private key") from None
    recorded = _recorded_address(data)
    if recorded is not None and recorded != account.address:
        raise CorruptKeystore(
            f"{label} is corrupted: its address field says {recorded} but its key is {account.address}"
        )
    return account


class Keystore:
    """A folder of named keystore files (`<name>.json`)."""

    def __init__(self, directory: Path | str | None = None, *, scrypt_n: int | None = None):
        self.directory = Path(directory).expanduser() if directory is not None else default_keystore_dir()
        self._scrypt_n = scrypt_n

    def path_of(self, name: str) -> Path:
        """Where the keystore of account `name` lives (whether or not it exists)."""
        return self.directory / f"{check_name(name)}.json"

    # --- reading ------------------------------------------------------------------------------

    def entries(self) -> list[AccountEntry]:
        """Every keystore in the folder by name; an unreadable one carries its problem, not an address."""
        if not self.directory.is_dir():
            return []
        return [self._listed(path) for path in sorted(self.directory.glob("*.json"))]

    def lookup(self, name: str) -> AccountEntry:
        """Account `name` as `list` shows it: a corrupted keystore is returned with its problem."""
        path = self.path_of(name)
        if not path.is_file():
            raise AccountNotFound(f"no account named '{name}' in {self.directory} (see: offnet account list)")
        return self._listed(path)

    @staticmethod
    def _listed(path: Path) -> AccountEntry:
        try:
            _, data = read_keystore_file(path, f"account '{path.stem}'")
        except CorruptKeystore as exc:
            return AccountEntry(path.stem, path, None, str(exc))
        except OSError as exc:
            return AccountEntry(path.stem, path, None, f"unreadable: {exc.strerror or exc}")
        problem = None if "address" in data else "no address recorded"
        return AccountEntry(path.stem, path, _recorded_address(data), problem)

    def entry(self, ref: str) -> AccountEntry:
        """The account named `ref`, or (when `ref` starts with 0x) the one with that address."""
        if ref.lower().startswith("0x"):
            address = parse_address(ref)
            for entry in self.entries():
                if entry.address == address:
                    return entry
            raise AccountNotFound(f"no account with address {address} in {self.directory}")
        entry = self.lookup(ref)
        read_keystore_file(entry.path, f"account '{entry.name}'")  # raises with the reason if it is damaged
        return entry

    def address(self, ref: str) -> str:
        """The checksummed address of an account, read without its password."""
        entry = self.entry(ref)
        if entry.address is None:
            raise CorruptKeystore(f"keystore of account '{entry.name}' records no address ({entry.path})")
        return entry.address

    def unlock(self, ref: str, password: str) -> LocalAccount:
        """The decrypted account, ready to sign."""
        entry = self.entry(ref)
        _, data = read_keystore_file(entry.path, f"account '{entry.name}'")
        return decrypt_keystore(data, password, f"account '{entry.name}'")

    # --- writing ------------------------------------------------------------------------------

    def ensure_free(self, name: str) -> Path:
        """The path a new account `name` will take; AccountExists if it is taken."""
        path = self.path_of(name)
        if path.exists():
            raise AccountExists(f"an account named '{name}' already exists ({path})")
        return path

    def create(self, name: str, password: str) -> AccountEntry:
        """A new random account, encrypted with `password`."""
        return self.import_private_key(name, Account.create().key, password)

    def import_private_key(self, name: str, key: bytes | str, password: str) -> AccountEntry:
        """Encrypt an existing private key under `name`."""
        self.ensure_free(name)
        account = account_from_key(key)
        keyfile = Account.encrypt(account.key, password, kdf="scrypt", iterations=self._scrypt_n or SCRYPT_N)
        return self._write_new(name, json.dumps(keyfile), account.address)

    def import_keystore(self, name: str, source: Path | str, password: str) -> AccountEntry:
        """Copy a v3 keystore (ape, geth, eth-account...) under `name` once `password` proves it opens."""
        self.ensure_free(name)
        source = Path(source).expanduser()
        if not source.is_file():
            raise FileNotFoundError(f"keystore file not found: {source}")
        text, data = read_keystore_file(source, f"keystore file {source.name}")
        account = decrypt_keystore(data, password, f"keystore file {source.name}")
        if "address" not in data:  # v3 makes it optional; listing needs it without a password
            text = json.dumps({**data, "address": account.address[2:].lower()})
        return self._write_new(name, text, account.address)

    def delete(self, name: str) -> AccountEntry:
        """Remove the keystore of account `name` (its key is gone unless copied elsewhere)."""
        entry = self.lookup(name)
        entry.path.unlink()
        return entry

    def _ensure_directory(self) -> None:
        if not self.directory.is_dir():
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)  # mkdir's mode is masked by the umask

    def _write_new(self, name: str, text: str, address: str) -> AccountEntry:
        path = self.path_of(name)
        try:
            self._ensure_directory()
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".partial")
        except OSError as exc:
            raise self._unusable(exc) from None
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)  # atomic and never replaces: a racing writer of the same name loses
        except FileExistsError:
            raise AccountExists(f"an account named '{name}' already exists ({path})") from None
        except OSError as exc:
            raise self._unusable(exc) from None
        finally:
            os.unlink(temporary)
        return AccountEntry(name, path, address)

    def _unusable(self, exc: OSError) -> KeystoreFolderUnusable:
        reason = exc.strerror or str(exc)
        return KeystoreFolderUnusable(f"cannot write to keystore folder {self.directory}: {reason}")
