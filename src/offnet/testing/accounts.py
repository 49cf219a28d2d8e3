"""Throwaway accounts for local chains, funded from the node's dev account.

Keys are derived at run time from a label (keccak-256 of "offnet throwaway account: <label>"),
so tests and the gas snapshot see the same addresses every run, and no key is written down.
They guard nothing: they exist only on local development chains.
"""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from offnet.chain.connect import Chain

DEFAULT_FUNDING = 100 * 10**18


def throwaway_account(label: str) -> LocalAccount:
    """The deterministic throwaway account for `label`."""
    return Account.from_key(keccak(text=f"offnet throwaway account: {label}"))


def funded_account(chain: Chain, label: str | None = None, wei: int = DEFAULT_FUNDING) -> LocalAccount:
    """An account with `wei` of ether on a local chain (random unless a label is given)."""
    account = throwaway_account(label) if label else Account.create()
    chain.fund(account.address, wei)
    return account
