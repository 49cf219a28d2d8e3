"""`offnet order`: an order's terms, state and money flow; fund more months, cancel, dispute, withdraw."""

from __future__ import annotations

import click

from offnet.chain import load_artifact
from offnet.cli.award import ensure_allowance
from offnet.cli.inputs import address, bytes32
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import console, decimals_of, echo_json, fields, json_option, money, send, table
from offnet.deployment import Suite
from offnet.market.codec import to_hex
from offnet.market.types import OrderTerms


def _terms(suite: Suite, order_id: str) -> tuple[bytes, OrderTerms]:
    key = bytes32(order_id, "order id")
    return key, suite.escrow.terms_of(key)


@click.group()
def order() -> None:
    """Escrowed orders opened by awards."""


@order.command()
@chain_options
@click.argument("order_id")
@json_option
def show(opts: ChainOptions, order_id: str, as_json: bool) -> None:
    """ORDER_ID's terms, state and money-flow statement (escrowed, released, credited, refunded)."""
    suite = opts.suite()
    key, terms = _terms(suite, order_id)
    state = suite.escrow.order(key)
    flow = suite.escrow.money_flow(key)
    decimals = decimals_of(suite, terms.token)
    data = {
        "orderId": to_hex(key),
        "status": state.status.name.lower(),
        "buyer": terms.buyer,
        "seller": terms.seller,
        "token": terms.token,
        "oneTimeCharge": terms.one_time_charge,
        "monthlyCharge": terms.monthly_charge,
        "termMonths": terms.term_months,
        "installDays": terms.install_days,
        "awardedAt": terms.awarded_at,
        "deliveredAt": state.delivered_at,
        "fundedMonths": state.funded_months,
        "moneyFlow": {
            "escrowed": flow.escrowed,
            "released": flow.released,
            "credited": flow.credited,
            "refunded": flow.refunded,
            "held": flow.held,
            "withdrawnByBuyer": flow.withdrawn_by_buyer,
            "withdrawnBySeller": flow.withdrawn_by_seller,
        },
        "events": [
            {"block": e.block, "kind": e.kind, "party": e.party, "amount": e.amount, "milestone": e.milestone}
            for e in flow.events
        ],
    }
    if as_json:
        echo_json(data)
        return
    summary = {k: v for k, v in data.items() if k not in ("moneyFlow", "events")}
    for k in ("oneTimeCharge", "monthlyCharge"):
        summary[k] = money(summary[k], decimals)
    fields(f"order {to_hex(key)}", summary)
    table("money flow", ("", "amount"), [(k, money(v, decimals)) for k, v in data["moneyFlow"].items()])
    table(
        "movements",
        ("block", "kind", "party", "amount", "milestone"),
        [
            (e.block, e.kind, e.party, money(e.amount, decimals), "-" if e.milestone is None else e.milestone)
            for e in flow.events
        ],
    )


@order.command()
@chain_options
@click.argument("order_id")
@click.option("--months", type=click.IntRange(1, 600), required=True, help="months to fund")
@click.option("--permit", is_flag=True, help="approve by an EIP-2612 signature in the same transaction")
def fund(opts: ChainOptions, order_id: str, months: int, permit: bool) -> None:
    """Top up ORDER_ID with more prepaid months."""
    suite = opts.suite()
    _, terms = _terms(suite, order_id)
    sender = opts.sender()
    if permit:
        token = suite.chain.w3.eth.contract(address=terms.token, abi=load_artifact("TestStablecoin").abi)
        deadline = suite.chain.now() + 3600
        send("fund", lambda: suite.escrow.top_up_with_permit(sender, token, terms, months, deadline))
    else:
        ensure_allowance(suite, sender, terms.token, months * terms.monthly_charge)
        send("fund", lambda: suite.escrow.top_up(sender, terms, months))


@order.command()
@chain_options
@click.argument("order_id")
def cancel(opts: ChainOptions, order_id: str) -> None:
    """Cancel ORDER_ID before delivery (as its buyer)."""
    suite = opts.suite()
    _, terms = _terms(suite, order_id)
    send("cancel order", lambda: suite.escrow.cancel(opts.sender(), terms))


@order.command()
@chain_options
@click.argument("order_id")
@click.option(
    "--milestone", type=int, default=0, show_default=True, help="0 = delivery, N = billing period N"
)
def dispute(opts: ChainOptions, order_id: str, milestone: int) -> None:
    """Freeze a milestone's money of ORDER_ID for the council to rule on."""
    suite = opts.suite()
    _, terms = _terms(suite, order_id)
    send("dispute", lambda: suite.escrow.dispute(opts.sender(), terms, milestone))


@order.command()
@chain_options
@click.argument("order_id", required=False)
@click.option("--token", help="token to withdraw [default: the order's, else the deployment's test token]")
@click.option("--to", "to", help="send to this address instead of yourself")
def withdraw(opts: ChainOptions, order_id: str | None, token: str | None, to: str | None) -> None:
    """Withdraw your whole balance of a settlement token from the escrow."""
    suite = opts.suite()
    if token:
        token = address(token, "token address")
    elif order_id:
        token = _terms(suite, order_id)[1].token
    elif suite.token is not None:
        token = suite.token.address
    else:
        raise click.UsageError("give ORDER_ID or --token")
    sender = opts.sender()
    amount = suite.escrow.withdrawable(token, sender.address)
    send("withdraw", lambda: suite.escrow.withdraw(sender, token, address(to, "recipient") if to else None))
    console.print(f"withdrew {money(amount, decimals_of(suite, token))}", markup=False, highlight=False)
