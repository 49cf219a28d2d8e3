"""Paying the escrow from the command line (award, top-up): every check first, then one signature or
one approval of exactly what is missing, so a refused payment never leaves an allowance behind.

1. The payer's balance covers the amount (else a one-line refusal, nothing sent).
2. With an EIP-2612 token (the default when the token supports it) the permit is signed off chain and
   travels inside the payment itself: the payment is simulated with it, then sent. Nothing else.
3. Otherwise the payment is simulated without an allowance: a refusal for any reason but the
   allowance itself (RFQ closed, quote expired, not committed...) stops here. Then the escrow is
   approved for the amount only if the current allowance is short, and if the payment still fails
   the previous allowance is restored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offnet.cli.output import Token, send
from offnet.exceptions import ContractRevert, InvalidInput

PERMIT_VALIDITY = 3600  # seconds a signed permit stays usable

_ERC20 = [
    {
        "name": "allowance",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "name": "approve",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]
# What a token refuses with when only the allowance is missing (OpenZeppelin 5, SafeERC20, older tokens).
ALLOWANCE_REFUSALS = ("ERC20InsufficientAllowance", "SafeERC20FailedOperation")


def permit_token(suite, address: str):
    """The token as an EIP-2612 contract when it answers the calls a permit needs (EIP-5267 domain,
    nonces), else None."""
    from offnet.chain import load_artifact

    contract = suite.chain.w3.eth.contract(address=address, abi=load_artifact("TestStablecoin").abi)
    try:
        contract.functions.eip712Domain().call()
        contract.functions.nonces(suite.escrow.address).call()
    except Exception:  # no permit support: approve instead
        return None
    return contract


def _only_allowance_missing(refused: ContractRevert) -> bool:
    if refused.name in ALLOWANCE_REFUSALS:
        return True
    return refused.name == "Error" and "allowance" in str(refused.arguments.get("message", "")).lower()


def pay(
    suite,
    sender,
    token: Token,
    amount: int,
    build: Callable[[Any], Any],
    *,
    label: str,
    use_permit: bool | None = None,
):
    """Send the payment `build(permit)` (permit None: the plain call) that pulls `amount` of `token`
    from the sender into the escrow; see the module for the order of checks. Returns the receipt."""
    from offnet.chain.permit import sign_permit
    from offnet.chain.tx import call

    erc20 = suite.chain.w3.eth.contract(address=token.address, abi=_ERC20)
    balance = erc20.functions.balanceOf(sender.address).call()
    if balance < amount:
        raise InvalidInput(
            f"{label}: {sender.address} holds {token.amount(balance)}, the escrow needs {token.amount(amount)}"
        )
    permit_contract = permit_token(suite, token.address) if use_permit in (None, True) else None
    if use_permit and permit_contract is None:
        raise InvalidInput(f"{label}: token {token.address} does not support EIP-2612 permits: drop --permit")
    simulate = {"from": sender.address}
    if permit_contract is not None:
        deadline = suite.chain.now() + PERMIT_VALIDITY
        permit = sign_permit(sender.account, permit_contract, suite.escrow.address, amount, deadline)
        call(build(permit), transaction=simulate)  # refuses with the contract's reason, nothing sent
        return send(
            f"{label} (EIP-2612 permit, no approval transaction)", lambda: sender.transact(build(permit))
        )

    payment = build(None)
    try:
        call(payment, transaction=simulate)
    except ContractRevert as refused:
        if not _only_allowance_missing(refused):
            raise
    previous = erc20.functions.allowance(sender.address, suite.escrow.address).call()
    if previous < amount:
        send(
            f"approve escrow for {token.amount(amount)}",
            lambda: sender.transact(erc20.functions.approve(suite.escrow.address, amount)),
        )
    try:
        return send(label, lambda: sender.transact(payment))
    except Exception:
        if previous < amount:  # the payment failed after all: take the approval back
            send(
                "restore the previous allowance",
                lambda: sender.transact(erc20.functions.approve(suite.escrow.address, previous)),
            )
        raise
