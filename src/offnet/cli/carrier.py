"""`offnet carrier`: join the circle of trust, sponsor and vote, manage operational keys, leave."""

from __future__ import annotations

import click

from offnet.chain import Sender
from offnet.cli.inputs import address, product
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import console, echo_json, fields, json_option, send
from offnet.deployment import Suite
from offnet.market.registry import Profile, Role, location_key

ROLES = {"quote": Role.QUOTE, "oracle": Role.ORACLE, "admin": Role.ADMIN}


@click.group()
def carrier() -> None:
    """Membership of the carrier registry: apply, sponsor, council votes, keys."""


@carrier.command("apply")
@chain_options
@click.option("--name", required=True, help="the carrier's public name")
@click.option("--sonata-url", required=True, help="base URL of its MEF LSO Sonata API")
@click.option(
    "--product",
    "products",
    multiple=True,
    required=True,
    help="product sold: access-eline or a MEF spec URN (repeatable)",
)
@click.option(
    "--country",
    "countries",
    multiple=True,
    required=True,
    help="ISO 3166-1 alpha-2 country covered (repeatable)",
)
@click.option(
    "--location", "locations", multiple=True, help="finer location served, e.g. FR-PAR (repeatable)"
)
def apply_(opts: ChainOptions, name, sonata_url, products, countries, locations) -> None:
    """Apply for membership with a public profile; sponsors or the council admit you."""
    profile = Profile(
        name,
        sonata_url,
        tuple(product(p)[1] for p in products),
        tuple(countries),
        tuple(location_key(loc) for loc in locations),
    )
    suite = opts.suite()
    sender = opts.sender()
    send("apply", lambda: suite.registry.apply(sender, profile))
    application = suite.registry.application(sender.address)
    console.print(
        f"applied as {sender.address}; sponsors {application.sponsors}, expires at {application.expires_at}",
        markup=False,
        highlight=False,
    )


@carrier.command()
@chain_options
@click.argument("candidate")
def sponsor(opts: ChainOptions, candidate: str) -> None:
    """Sponsor applicant CANDIDATE (admits it once enough active members sponsor)."""
    candidate = address(candidate, "candidate address")
    suite = opts.suite()
    send("sponsor", lambda: suite.registry.sponsor(opts.sender(), candidate))
    status = suite.registry.member_info(candidate).status
    console.print(f"{candidate} is now {status.name.lower()}", markup=False, highlight=False)


def _report_proposal(suite: Suite, proposal_id: int) -> None:
    info = suite.registry.proposal(proposal_id)
    threshold = suite.registry.parameters().council_threshold
    state = "executed" if info.executed else f"{info.approvals}/{threshold} approvals"
    console.print(f"proposal {proposal_id}: {state}", markup=False, highlight=False)


@carrier.command()
@chain_options
@click.argument("proposal_id", type=int)
def vote(opts: ChainOptions, proposal_id: int) -> None:
    """Approve council proposal PROPOSAL_ID (it executes when the threshold is reached)."""
    suite = opts.suite()
    send("approve", lambda: suite.registry.approve(opts.sender(), proposal_id))
    _report_proposal(suite, proposal_id)


@carrier.command()
@chain_options
@click.argument("action", type=click.Choice(["admit", "suspend", "reinstate", "expel"]))
@click.argument("member")
def propose(opts: ChainOptions, action: str, member: str) -> None:
    """As a council member, propose to ACTION (admit, suspend, reinstate, expel) MEMBER."""
    member = address(member, "member address")
    suite = opts.suite()
    sender = opts.sender()
    method = getattr(suite.registry, f"propose_{action}")
    result: list[int] = []

    def transact():
        proposal_id, receipt = method(sender, member)
        result.append(proposal_id)
        return receipt

    send(f"propose {action}", transact)
    _report_proposal(suite, result[0])


@carrier.command()
@chain_options
@click.argument("member", required=False)
@json_option
def show(opts: ChainOptions, member: str | None, as_json: bool) -> None:
    """Show MEMBER's registry record (default: your --account)."""
    member = address(member, "member address") if member else opts.address()
    suite = opts.suite()
    info = suite.registry.member_info(member)
    application = suite.registry.application(member)
    acting_for, roles = suite.registry.key_of(member)
    data = {
        "address": member,
        "status": info.status.name.lower(),
        "active": suite.registry.is_active(member),
        "admin": info.admin,
        "council": info.council,
        "epoch": info.epoch,
        "application": {
            "sponsors": application.sponsors,
            "expiresAt": application.expires_at,
            "round": application.round,
        },
        "keyOf": None if acting_for is None else {"member": acting_for, "roles": _role_names(roles)},
        "reputationPpm": suite.ledger.reputation(member).overall_ppm,
    }
    if as_json:
        echo_json(data)
        return
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    flat["application"] = (
        f"{application.sponsors} sponsors, round {application.round}, expires {application.expires_at}"
    )
    if acting_for:
        flat["key of"] = f"{acting_for} ({', '.join(_role_names(roles))})"
    fields(f"carrier {member}", flat)


def _role_names(roles: Role) -> list[str]:
    return [name for name, role in ROLES.items() if role in roles]


@carrier.group()
def keys() -> None:
    """Operational keys that sign quotes (quote) or SLA reports (oracle) for your member."""


@keys.command("add")
@chain_options
@click.argument("key")
@click.option(
    "--role",
    "roles",
    type=click.Choice(list(ROLES)),
    multiple=True,
    required=True,
    help="what the key may do (repeatable)",
)
def keys_add(opts: ChainOptions, key: str, roles: tuple[str, ...]) -> None:
    """Allow KEY to act for your member with the given roles."""
    key = address(key, "key address")
    combined = Role(0)
    for role in roles:
        combined |= ROLES[role]
    suite = opts.suite()
    send("add key", lambda: suite.registry.add_key(opts.sender(), key, combined))


@keys.command("revoke")
@chain_options
@click.argument("key")
def keys_revoke(opts: ChainOptions, key: str) -> None:
    """Revoke operational KEY."""
    key = address(key, "key address")
    suite = opts.suite()
    send("revoke key", lambda: suite.registry.revoke_key(opts.sender(), key))


@carrier.command()
@chain_options
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def leave(opts: ChainOptions, yes: bool) -> None:
    """Leave the registry (your keys stop working; rejoining means applying again)."""
    suite = opts.suite()
    sender: Sender = opts.sender()
    if not yes:
        click.confirm(f"{sender.address} leaves the offnet registry for good?", abort=True)
    send("leave", lambda: suite.registry.leave(sender))
