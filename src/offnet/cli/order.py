"""`offnet order`: an order's terms, state and money flow; acknowledge, fund more months, cancel, dispute,
withdraw."""

from __future__ import annotations

import click

from offnet.cli.inputs import bytes32
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import (
    echo_json,
    enum_name,
    fields,
    hex_id,
    json_option,
    say,
    send,
    table,
    token_of,
    when,
)
from offnet.cli.payment import pay
from offnet.market.types import DELIVERY, OrderStatus

# Orders closed before delivery: their refund waits in the order for the buyer.
_REFUNDING = (OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.EXPIRED)


def order_terms(suite, order_id: str):
    """ORDER_ID as typed (0x hex) and the terms the escrow holds for it."""
    key = bytes32(order_id, "order id")
    return key, suite.escrow.terms_of(key)


def order_command(group: click.Group, *args, **attrs):
    """Decorator: a command of `group` on one escrowed ORDER_ID, with the chain and account options."""

    def decorate(command):
        return group.command(*args, **attrs)(chain_options(click.argument("order_id")(command)))

    return decorate


def _milestone(milestone: int | None) -> str:
    return "-" if milestone is None else ("delivery" if milestone == 0 else f"month {milestone}")


@click.group()
def order() -> None:
    """Escrowed orders opened by awards."""


@order_command(order)
@json_option
def show(opts: ChainOptions, order_id: str, as_json: bool) -> None:
    """ORDER_ID's terms, state and money-flow statement (escrowed, released, credited, refunded)."""
    from offnet.market.types import Payout

    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    state = suite.escrow.order(key)
    flow = suite.escrow.money_flow(key)
    token = token_of(suite, terms.token)
    w3 = suite.chain.w3
    # A cancellation asked of an acknowledged order takes effect after the notice (if still awaiting).
    asked = suite.escrow.hold(key, DELIVERY).cancel_requested_at if state.delivered_at == 0 else 0
    data = {
        "orderId": hex_id(key),
        "rfqId": hex_id(terms.rfq_id),
        "status": state.status.name.lower(),
        "buyer": terms.buyer,
        "seller": terms.seller,
        "token": terms.token,
        "tokenSymbol": token.symbol,
        "tokenDecimals": token.decimals,
        "oneTimeCharge": terms.one_time_charge,
        "monthlyCharge": terms.monthly_charge,
        "termMonths": terms.term_months,
        "installDays": terms.install_days,
        "prepaidMonths": terms.prepaid_months,
        "awardedAt": when(terms.awarded_at),
        "deliveredAt": when(state.delivered_at) if state.delivered_at else None,
        "fundedMonths": state.funded_months,
        "cancellationRequestedAt": when(asked) if asked else None,
        "cancellationFrom": when(asked + suite.escrow.cancel_notice()) if asked else None,
        "contractHash": hex_id(terms.contract_hash),
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
            {
                "block": e.block,
                "at": when(w3.eth.get_block(e.block)["timestamp"]),
                "kind": e.kind,
                "party": e.party,
                "amount": e.amount,
                "milestone": e.milestone,
            }
            for e in flow.events
        ],
    }
    if as_json:
        echo_json(data)
        return
    fields(
        f"order {data['orderId']}",
        {
            "status": enum_name(state.status),
            "rfq": data["rfqId"],
            "buyer": terms.buyer,
            "seller": terms.seller,
            "charges": f"{token.amount(terms.one_time_charge)} once + {token.amount(terms.monthly_charge)}/month",
            "term": f"{terms.term_months} months, {state.funded_months} funded",
            "awarded": data["awardedAt"],
            "delivered": data["deliveredAt"] or "not yet",
            **(
                {"cancellation": f"asked {data['cancellationRequestedAt']}, from {data['cancellationFrom']}"}
                if asked and state.status == OrderStatus.ACKNOWLEDGED
                else {}
            ),
            "token": f"{token.symbol} {terms.token}",
        },
    )
    table(
        "money flow",
        ("", "amount"),
        [
            (k.replace("withdrawnBy", "withdrawn by ").lower(), token.amount(v))
            for k, v in data["moneyFlow"].items()
        ],
    )
    kinds = {p.name.lower(): p for p in Payout}
    table(
        "movements",
        ("when", "what", "party", "amount", "milestone"),
        [
            (
                e["at"],
                enum_name(kinds[e["kind"]]) if e["kind"] in kinds else e["kind"],
                e["party"],
                token.amount(e["amount"]),
                _milestone(e["milestone"]),
            )
            for e in data["events"]
        ],
    )


@order_command(order)
@click.option("--months", type=click.IntRange(1, 600), required=True, help="months to fund")
@click.option(
    "--permit/--approve",
    "use_permit",
    default=None,
    help="pay by an EIP-2612 permit or by an approval transaction [default: permit when supported]",
)
def fund(opts: ChainOptions, order_id: str, months: int, use_permit: bool | None) -> None:
    """Top up ORDER_ID with more prepaid months."""
    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    token = token_of(suite, terms.token)
    pay(
        suite,
        opts.sender(),
        token,
        months * terms.monthly_charge,
        lambda permit: suite.escrow.top_up_function(terms, months, permit=permit),
        label="fund",
        use_permit=use_permit,
    )
    say(f"order {hex_id(key)} now has {suite.escrow.order(key).funded_months} months funded")


def _transition(name: str, label: str, summary: str) -> click.Command:
    """A command that moves ORDER_ID along by one escrow call taking the sender and the terms."""

    @order_command(order, name, help=summary)
    def command(opts: ChainOptions, order_id: str) -> None:
        suite = opts.suite()
        _, terms = order_terms(suite, order_id)
        send(label, lambda: getattr(suite.escrow, name)(opts.sender(), terms))

    return command


acknowledge = _transition(
    "acknowledge",
    "acknowledge order",
    "Accept ORDER_ID as its seller (or the seller's oracle key): its delivery can settle from now on, "
    "and a cancellation costs the buyer the fee and a notice.",
)


@order_command(order)
def cancel(opts: ChainOptions, order_id: str) -> None:
    """Cancel ORDER_ID before delivery (as its buyer): at once while the seller has not acknowledged it;
    afterwards the first call asks, and the same command once the notice is over cancels, unless the
    seller's completion report is held or disputed at the ledger by then."""
    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    send("cancel order", lambda: suite.escrow.cancel(opts.sender(), terms))
    state = suite.escrow.order(key)
    if state.status == OrderStatus.CANCELLED:
        token = token_of(suite, terms.token)
        say(
            f"order {hex_id(key)} cancelled: {token.amount(state.escrowed)} waits for its buyer "
            f"(`offnet order withdraw {hex_id(key)}`)"
        )
        return
    asked = suite.escrow.hold(key, DELIVERY).cancel_requested_at
    say(
        f"cancellation requested: run `offnet order cancel {hex_id(key)}` again from "
        f"{when(asked + suite.escrow.cancel_notice())}; the seller may show its delivery until then"
    )


@order_command(order)
@click.option(
    "--milestone", type=int, default=0, show_default=True, help="0 = delivery, N = billing period N"
)
def dispute(opts: ChainOptions, order_id: str, milestone: int) -> None:
    """Freeze a milestone's money of ORDER_ID for the council to rule on."""
    suite = opts.suite()
    _, terms = order_terms(suite, order_id)
    send(f"dispute {_milestone(milestone)}", lambda: suite.escrow.dispute(opts.sender(), terms, milestone))


@order.command()
@chain_options
@click.argument("order_id", required=False)
@click.option("--token", help="token to withdraw [default: the order's, else the deployment's test token]")
@click.option("--to", "to", help="send to this address (or account) instead of yourself")
def withdraw(opts: ChainOptions, order_id: str | None, token: str | None, to: str | None) -> None:
    """Withdraw your whole balance of a settlement token from the escrow; with ORDER_ID, as the buyer of
    an order closed before delivery, its refund (which waits in the order until its buyer pulls it)."""
    suite = opts.suite()
    sender = opts.sender()
    recipient = opts.address_of(to, "--to") if to else None
    if order_id:
        key, terms = order_terms(suite, order_id)
        token = opts.address_of(token, "token address") if token else terms.token
        state = suite.escrow.order(key)
        if state.status in _REFUNDING and state.escrowed and sender.address == terms.buyer:
            send("withdraw", lambda: suite.escrow.withdraw_refund(sender, terms, recipient))
            say(
                f"withdrew {token_of(suite, terms.token).amount(state.escrowed)} (the order's refund) to "
                f"{recipient or sender.address}"
            )
            if suite.escrow.withdrawable(token, sender.address) == 0:
                return
    elif token:
        token = opts.address_of(token, "token address")
    elif suite.token is not None:
        token = suite.token.address
    else:
        raise click.UsageError("give ORDER_ID or --token")
    amount = suite.escrow.withdrawable(token, sender.address)
    shown = token_of(suite, token)
    send("withdraw", lambda: suite.escrow.withdraw(sender, token, recipient))
    say(f"withdrew {shown.amount(amount)} to {recipient or sender.address}")
