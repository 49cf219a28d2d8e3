"""`offnet carrier`: join the circle of trust, sponsor and vote, manage operational keys, leave.

Members and keys are given as addresses or as names of accounts in the keystore.
"""

from __future__ import annotations

import click

from offnet.cli.inputs import product
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import echo_json, enum_name, fields, json_option, say, send, when

ROLES = ("quote", "oracle", "admin")


def _role(name: str):
    from offnet.market.registry import Role

    return Role[name.upper()]


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
    from offnet.market.registry import Profile, location_key

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
    say(
        f"applied as {sender.address}; {application.sponsors} sponsor(s) so far, "
        f"the application expires at {when(application.expires_at)}"
    )


@carrier.command()
@chain_options
@click.argument("candidate")
def sponsor(opts: ChainOptions, candidate: str) -> None:
    """Sponsor applicant CANDIDATE (admits it once enough active members sponsor)."""
    candidate = opts.address_of(candidate, "candidate address")
    suite = opts.suite()
    send("sponsor", lambda: suite.registry.sponsor(opts.sender(), candidate))
    say(f"{candidate} is now {enum_name(suite.registry.member_info(candidate).status)}")


def _report_proposal(suite, proposal_id: int) -> None:
    info = suite.registry.proposal(proposal_id)
    threshold = suite.registry.parameters().council_threshold
    state = "executed" if info.executed else f"{info.approvals}/{threshold} approvals"
    say(f"proposal {proposal_id}: {state}")


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
    member = opts.address_of(member, "member address")
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
    member = opts.address_of(member, "member address") if member else opts.address()
    suite = opts.suite()
    info = suite.registry.member_info(member)
    application = suite.registry.application(member)
    acting_for, roles = suite.registry.key_of(member)
    reputation = suite.ledger.reputation(member)
    data = {
        "address": member,
        "status": info.status.name.lower(),
        "active": suite.registry.is_active(member),
        "admin": info.admin,
        "council": info.council,
        "epoch": info.epoch,
        "application": {
            "sponsors": application.sponsors,
            "expiresAt": when(application.expires_at) if application.expires_at else None,
            "round": application.round,
        },
        "keyOf": None if acting_for is None else {"member": acting_for, "roles": _role_names(roles)},
        "reputationPpm": reputation.overall_ppm,
    }
    if as_json:
        echo_json(data)
        return
    flat = {k: v for k, v in data.items() if not isinstance(v, dict) and k != "reputationPpm"}
    if application.expires_at:
        flat["application"] = (
            f"{application.sponsors} sponsor(s), round {application.round}, "
            f"expires {when(application.expires_at)}"
        )
    if acting_for:
        flat["key of"] = f"{acting_for} ({', '.join(_role_names(roles))})"
    from offnet.cli.reputation import score_text

    flat["reputation"] = score_text(reputation)
    fields(f"carrier {member}", flat)


def _role_names(roles) -> list[str]:
    return [name for name in ROLES if _role(name) in roles]


@carrier.group()
def keys() -> None:
    """Operational keys that sign quotes (quote) or SLA reports (oracle) for your member."""


@keys.command("add")
@chain_options
@click.argument("key")
@click.option(
    "--role",
    "roles",
    type=click.Choice(ROLES),
    multiple=True,
    required=True,
    help="what the key may do (repeatable)",
)
def keys_add(opts: ChainOptions, key: str, roles: tuple[str, ...]) -> None:
    """Allow KEY (an address or an account name) to act for your member with the given roles."""
    key = opts.address_of(key, "key address")
    combined = _role(roles[0])
    for role in roles[1:]:
        combined |= _role(role)
    suite = opts.suite()
    send("add key", lambda: suite.registry.add_key(opts.sender(), key, combined))
    say(f"{key} now acts for {opts.address()} as {', '.join(_role_names(combined))} key")


@keys.command("revoke")
@chain_options
@click.argument("key")
def keys_revoke(opts: ChainOptions, key: str) -> None:
    """Revoke operational KEY (an address or an account name)."""
    key = opts.address_of(key, "key address")
    suite = opts.suite()
    send("revoke key", lambda: suite.registry.revoke_key(opts.sender(), key))


@carrier.command()
@chain_options
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def leave(opts: ChainOptions, yes: bool) -> None:
    """Leave the registry (your keys stop working; rejoining means applying again)."""
    suite = opts.suite()
    sender = opts.sender()
    if not yes:
        click.confirm(f"{sender.address} leaves the offnet registry for good?", abort=True)
    send("leave", lambda: suite.registry.leave(sender))
