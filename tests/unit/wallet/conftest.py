"""Wallet fixtures: a private keystore folder per test and cheap scrypt for the keystores tests write."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account

from offnet.wallet import keystore as keystore_module
from offnet.wallet.keystore import Keystore

# scrypt n for keystores written by tests: production keeps eth-account's 2**18 (about a second each).
TEST_SCRYPT_N = 2**4


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keystore_module, "SCRYPT_N", TEST_SCRYPT_N)


@pytest.fixture
def keystore_dir(tmp_path: Path) -> Path:
    """A keystore folder that does not exist yet (the wallet creates it)."""
    return tmp_path / "home" / ".offnet" / "keystores"


@pytest.fixture
def keystore(keystore_dir: Path) -> Keystore:
    return Keystore(keystore_dir)


@pytest.fixture
def write_keyfile(tmp_path: Path) -> Callable[..., Path]:
    """Factory: an eth-account v3 keystore of `key` under `password`, written to `relative` in tmp_path."""

    def write(relative: str, key: bytes, password: str, **changes: object) -> Path:
        data = Account.encrypt(key, password, kdf="scrypt", iterations=TEST_SCRYPT_N) | changes
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        return path

    return write
