"""The account that signs: unlocked from a keystore (`--account`) or, for CI, a named env var's key."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount

from offnet.exceptions import (
    ConflictingOptions,
    InvalidPrivateKey,
    PrivateKeyUnavailable,
    SignerRequired,
    WrongPassword,
)
from offnet.wallet.keystore import Keystore, account_from_key
from offnet.wallet.password import PasswordSource, PromptPassword, password_source


def load_account(
    name: str, password: PasswordSource | None = None, keystore_dir: Path | str | None = None
) -> LocalAccount:
    """Unlock account `name` (or its 0x address); the password is asked only once the account is found."""
    keystore = Keystore(keystore_dir)
    entry = keystore.entry(name)
    source = password or PromptPassword()
    secret = source.read(f"Password for account '{entry.name}'")
    try:
        return keystore.unlock(entry.name, secret)
    except WrongPassword as exc:
        raise WrongPassword(f"{exc} ({source.describe()})") from None


def account_from_env(var: str) -> LocalAccount:
    """The account whose hex private key is in environment variable `var` (never echoed back)."""
    value = os.environ.get(var)
    if value is None:
        raise PrivateKeyUnavailable(f"environment variable {var} (--private-key-env) is not set")
    try:
        return account_from_key(value)
    except InvalidPrivateKey:
        raise InvalidPrivateKey(
            f"environment variable {var} does not hold a private key (expected 64 hex digits)"
        ) from None


class SignerChoice(Protocol):
    """Where a signer is chosen: the command line's options or the oracle's config."""

    account: str | None
    private_key_env: str | None
    password_file: Path | None
    password_env: str | None
    keystore_dir: Path | None


def signer_of(choice: SignerChoice, *, required: bool = True) -> LocalAccount | None:
    """`resolve_signer` of the choice an option set or a config made."""
    return resolve_signer(
        account=choice.account,
        private_key_env=choice.private_key_env,
        password_file=choice.password_file,
        password_env=choice.password_env,
        keystore_dir=choice.keystore_dir,
        required=required,
    )


def resolve_signer(
    *,
    account: str | None = None,
    private_key_env: str | None = None,
    password_file: Path | str | None = None,
    password_env: str | None = None,
    keystore_dir: Path | str | None = None,
    required: bool = True,
) -> LocalAccount | None:
    """The signer chosen on a command line: `--account NAME` or `--private-key-env VAR`, never both.

    Returns None when neither was given and `required` is false (local chains with throwaway accounts).
    """
    if account and private_key_env:
        raise ConflictingOptions("give either --account or --private-key-env, not both")
    if private_key_env:
        if password_file is not None or password_env is not None:
            raise ConflictingOptions("--password-file/--password-env unlock --account, not --private-key-env")
        return account_from_env(private_key_env)
    if account:
        return load_account(account, password_source(password_file, password_env), keystore_dir)
    if required:
        raise SignerRequired("this command signs: choose --account NAME or --private-key-env VAR")
    return None


def typed_data_message(
    domain: Mapping[str, Any], types: Mapping[str, Sequence[Mapping[str, str]]], message: Mapping[str, Any]
) -> SignableMessage:
    """The EIP-712 signable form; `types` may include or omit EIP712Domain (it follows from `domain`)."""
    message_types = {name: list(fields) for name, fields in types.items() if name != "EIP712Domain"}
    return encode_typed_data(
        domain_data=dict(domain), message_types=message_types, message_data=dict(message)
    )


def sign_typed_data(
    account: LocalAccount,
    domain: Mapping[str, Any],
    types: Mapping[str, Sequence[Mapping[str, str]]],
    message: Mapping[str, Any],
) -> tuple[bytes, bytes]:
    """Sign an EIP-712 message locally: (32-byte digest, 65-byte r||s||v signature)."""
    signed = account.sign_message(typed_data_message(domain, types, message))
    return bytes(signed.message_hash), bytes(signed.signature)


def recover_typed_data_signer(
    domain: Mapping[str, Any],
    types: Mapping[str, Sequence[Mapping[str, str]]],
    message: Mapping[str, Any],
    signature: bytes,
) -> str:
    """The checksummed address that signed an EIP-712 message."""
    return Account.recover_message(typed_data_message(domain, types, message), signature=signature)
