"""What an ERC-20 token says about itself: its symbol and decimals, as amounts in it are shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from offnet.display import Token

if TYPE_CHECKING:
    from offnet.chain.connect import Chain

_ERC20_META = [
    {
        "name": name,
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": kind}],
    }
    for name, kind in (("decimals", "uint8"), ("symbol", "string"))
]


def read_token(chain: Chain, address: str) -> Token:
    """The token at `address`, read from the chain; a token that does not say is shown in `units`
    with 6 decimals (raw units as micro-units)."""
    contract = chain.w3.eth.contract(address=address, abi=_ERC20_META)
    try:
        decimals = int(contract.functions.decimals().call())
    except Exception:
        decimals = 6
    try:
        symbol = contract.functions.symbol().call() or "units"
    except Exception:
        symbol = "units"
    return Token(address, symbol, decimals)
