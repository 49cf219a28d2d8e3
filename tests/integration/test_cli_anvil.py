"""The `offnet` CLI as carriers drive it, on anvil and on Ganache (which runs the Shanghai build): deploy,
two carriers join, RFQ, quotes, award, order.

Every command runs through the real entry point (`offnet.cli.main.main`, its one-line error policy)
with keystores in a temporary folder unlocked by --password-env; one run is a real subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak

from offnet.cli.main import main
from offnet.sonata.canonical import document_hash
from offnet.sonata.examples import load_example
from offnet.wallet import keystore as keystore_module

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
OFFNET = ROOT / ".venv" / "bin" / "offnet"
PASSWORD_ENV = "OFFNET_TEST_PASSWORD"
NAMES = ("alice", "bob", "carol", "dave")
# Quotes are due two days after posting (the market asks for at least one); the award comes after the
# deadline, once the commitments are sealed.
QUOTE_WINDOW = 2 * 86_400
PAST_DEADLINE = "49h"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self):
        assert self.code == 0, self.err
        return json.loads(self.out)


@dataclass
class Cli:
    """Runs `offnet` in-process against one anvil with one deployments and keystore folder."""

    url: str
    home: Path

    @property
    def chain_args(self) -> list[str]:
        return [
            "--rpc",
            self.url,
            "--deployments",
            str(self.home / "deployments"),
            "--keystore-dir",
            str(self.home / "keystores"),
            "--password-env",
            PASSWORD_ENV,
        ]

    def raw(self, *args: str) -> Run:
        runner = CliRunner(mix_stderr=False)
        with runner.isolation() as (out, err):
            code = main(list(args))
            return Run(code, out.getvalue().decode(), err.getvalue().decode())

    def __call__(self, *args: str, account: str | None = None) -> Run:
        """`offnet ARGS --rpc ... [--account NAME]` (chain options go after the subcommand path)."""
        extra = [*self.chain_args, *(["--account", account] if account else [])]
        return self.raw(*args, *extra)

    def ok(self, *args: str, account: str | None = None) -> Run:
        run = self(*args, account=account)
        assert run.code == 0, f"offnet {' '.join(args)} failed: {run.err}"
        return run


@pytest.fixture(scope="module", params=["anvil", pytest.param("ganache", marks=pytest.mark.ganache)])
def node(request):
    """The chain the journey runs on: anvil (Cancun build) or Ganache (Shanghai build)."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def cli(node, tmp_path_factory) -> Iterator[Cli]:
    """Four accounts imported into a temporary keystore folder (fast scrypt), a password variable set."""
    home = tmp_path_factory.mktemp("offnet-cli")
    cli = Cli(node.url, home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, "correct horse")
        patch.setattr(keystore_module, "SCRYPT_N", 2**4)  # fast keystores for the test only
        for name in NAMES:
            var = f"OFFNET_TEST_KEY_{name.upper()}"
            patch.setenv(var, "0x" + keccak(text=f"cli-anvil {name}").hex())
            imported = cli.raw(
                "account",
                "import",
                name,
                "--private-key-env",
                var,
                "--keystore-dir",
                str(home / "keystores"),
                "--password-env",
                PASSWORD_ENV,
            )
            assert imported.code == 0, imported.err
        yield cli


def addr(name: str) -> str:
    return Account.from_key(keccak(text=f"cli-anvil {name}")).address


def rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def flow(cli: Cli, node):
    """The whole journey, run once: its outputs feed the assertions of the tests below."""
    for name in NAMES:
        cli.ok("dev", "fund", addr(name), "--ether", "10")
    deployed = cli.ok(
        "deploy",
        "--founder",
        addr("alice"),
        "--founder",
        addr("bob"),
        "--council",
        addr("alice"),
        "--threshold",
        "1",
        "--sponsors",
        "1",
        "--json",
    ).json()
    for name, country in (("carol", "GB"), ("dave", "GB")):
        cli.ok(
            "carrier",
            "apply",
            "--name",
            f"{name.title()} Networks",
            "--sonata-url",
            f"https://{name}.example/sonata",
            "--product",
            "access-eline",
            "--country",
            country,
            account=name,
        )
        cli.ok("carrier", "sponsor", addr(name), account="alice")
    providers = cli.ok(
        "providers",
        "--product",
        "access-eline",
        "--country",
        "GB",
        "--json",
        "--index",
        str(cli.home / "index.db"),
    ).json()

    cli.ok("dev", "mint", addr("alice"), "100000")
    request = load_example("quote_create")
    request["requestedQuoteCompletionDate"] = rfc3339(node.now() + QUOTE_WINDOW)
    request["quoteItem"][0]["product"]["place"][0]["country"] = "GB"
    request_file = cli.home / "request.json"
    request_file.write_text(json.dumps(request))
    posted = cli.ok(
        "rfq",
        "post",
        str(request_file),
        "--invite",
        addr("carol"),
        "--invite",
        addr("dave"),
        "--json",
        account="alice",
    ).json()
    files = {}
    for name, monthly in (("carol", "1000"), ("dave", "1200")):
        files[name] = str(cli.home / f"quote-{name}.json")
        cli.ok(
            "quote",
            "sign",
            posted["rfqId"],
            "--one-time",
            "2000",
            "--monthly",
            monthly,
            "--term",
            "36",
            "--out",
            files[name],
            account=name,
        )
        commit = cli.ok("quote", "commit", files[name], account=name)
    cli.ok("dev", "advance-time", PAST_DEADLINE)  # the market awards sealed commitments only
    awarded = cli.ok("award", files["carol"], files["dave"], "--json", account="alice").json()
    return {
        "deployed": deployed,
        "providers": providers,
        "request": request,
        "posted": posted,
        "files": files,
        "commit": commit,
        "awarded": awarded,
    }


def test_flow__two_carriers_join_and_are_found_as_providers(flow):
    assert {p["address"] for p in flow["providers"]} == {addr("carol"), addr("dave")}
    assert {p["name"] for p in flow["providers"]} == {"Carol Networks", "Dave Networks"}


def test_flow__rfq_is_posted_with_the_canonical_hash_of_the_request(cli, flow):
    shown = cli.ok("rfq", "show", flow["posted"]["rfqId"], "--json").json()
    assert shown["requestHash"] == "0x" + document_hash(flow["request"]).hex()
    assert shown["status"] == "awarded"
    assert shown["invited"] == [addr("carol"), addr("dave")]
    assert [c["provider"] for c in shown["commitments"]] == [addr("carol"), addr("dave")]
    listed = cli.ok("rfq", "list", "--buyer", addr("alice"), "--json").json()
    assert flow["posted"]["rfqId"] in [r["rfqId"] for r in listed]


def test_flow__transactions_print_hash_and_gas(flow):
    assert "commit quote: tx 0x" in flow["commit"].out and "gas used" in flow["commit"].out


def test_flow__award_goes_to_the_cheaper_quote_and_the_order_shows_its_money(cli, flow):
    awarded = flow["awarded"]
    assert awarded["provider"] == addr("carol") and awarded["notarised"] is True
    order = cli.ok("order", "show", awarded["orderId"], "--json").json()
    assert (order["status"], order["buyer"], order["seller"]) == ("open", addr("alice"), addr("carol"))
    assert order["moneyFlow"]["escrowed"] == (2_000 + 1_000) * 10**6 == order["moneyFlow"]["held"]
    human = cli.ok("order", "show", awarded["orderId"])
    assert "money flow" in human.out and "escrowed" in human.out


def test_flow__the_seller_decrypts_the_notarised_contract(cli, flow):
    decrypted = cli.ok("contract", "decrypt", flow["awarded"]["orderId"], "--json", account="carol").json()
    assert decrypted["document"]["monthlyCharge"] == str(1_000 * 10**6)
    assert decrypted["document"]["seller"] == addr("carol")


def test_flow__reputation_and_carrier_show_read_the_chain(cli, flow):
    rep = cli.ok("reputation", addr("carol"), "--json").json()
    assert rep["provider"] == addr("carol") and rep["quotes_requested"] == 0
    shown = cli.ok("carrier", "show", "--json", account="carol").json()
    assert (shown["address"], shown["status"], shown["active"]) == (addr("carol"), "active", True)


# --- errors: one line, non-zero exit, no traceback -------------------------------------------------


def assert_one_line_error(run: Run, prefix: str, *fragments: str) -> None:
    assert run.code != 0
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), run.err
    assert "Traceback" not in run.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_error__awarding_again_prints_the_decoded_revert(cli, flow):
    run = cli("award", flow["files"]["dave"], account="alice")
    assert_one_line_error(run, "refused: ", "RfqNotOpen(")


def test_error__wrong_password(cli, flow, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    assert_one_line_error(
        cli("rfq", "cancel", flow["posted"]["rfqId"], account="alice"), "error: ", "password"
    )


def test_error__missing_manifest(cli, flow, tmp_path):
    run = cli.raw("rfq", "list", "--rpc", cli.url, "--deployments", str(tmp_path / "none"))
    assert_one_line_error(run, "error: ", "no deployment manifest", "offnet deploy")


def test_error__unreachable_rpc(cli):
    run = cli.raw("rfq", "list", "--rpc", "http://127.0.0.1:9")
    assert_one_line_error(run, "error: ", "cannot reach RPC")


def test_error__invalid_address(cli, flow):
    assert_one_line_error(
        cli("carrier", "sponsor", "0x1234", account="alice"), "error: ", "invalid candidate address"
    )
    assert_one_line_error(
        cli("reputation", "nobody"), "error: ", "invalid provider address", "nor an account in"
    )
    wrong_checksum = addr("carol")[:2] + addr("carol")[2:].swapcase()
    assert_one_line_error(cli("reputation", wrong_checksum), "error: ", "fails its EIP-55 checksum")
    assert cli.ok("reputation", addr("carol").lower()).code == 0  # no checksum to check


def test_error__bad_files(cli, flow, tmp_path):
    assert_one_line_error(
        cli("rfq", "post", str(tmp_path / "absent.json"), account="alice"), "error: ", "not found"
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert_one_line_error(cli("award", str(broken), account="alice"), "error: ", "not valid JSON")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"quoteItem": []}))
    assert_one_line_error(cli("rfq", "post", str(invalid), account="alice"), "error: ", "quoteItem")
    tampered = json.loads(Path(flow["files"]["dave"]).read_text())
    tampered["quote"]["monthlyCharge"] = 1
    altered = tmp_path / "tampered.json"
    altered.write_text(json.dumps(tampered))
    assert_one_line_error(cli("award", str(altered), account="alice"), "error: ", "altered")


def test_error__unfunded_account__the_node_refusal_is_one_line(cli, flow, monkeypatch):
    monkeypatch.setenv("OFFNET_TEST_KEY_EVE", "0x" + keccak(text="cli-anvil eve, never funded").hex())
    run = cli.raw(
        "carrier",
        "apply",
        "--name",
        "Eve",
        "--sonata-url",
        "https://eve.example",
        "--product",
        "access-eline",
        "--country",
        "GB",
        "--rpc",
        cli.url,
        "--deployments",
        str(cli.home / "deployments"),
        "--private-key-env",
        "OFFNET_TEST_KEY_EVE",
    )
    assert_one_line_error(run, "error: the node refused the transaction: ", "nsufficient funds")


def test_error__debug_shows_the_traceback(cli):
    with pytest.raises(Exception, match="cannot reach RPC"):
        cli.raw("--debug", "rfq", "list", "--rpc", "http://127.0.0.1:9")


# --- a real process --------------------------------------------------------------------------------


def test_subprocess__offnet_lists_rfqs_and_fails_cleanly(cli, flow):
    env = {**os.environ, "OFFNET_RPC": cli.url}
    listed = subprocess.run(
        [str(OFFNET), "rfq", "list", "--deployments", str(cli.home / "deployments"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert flow["posted"]["rfqId"] in [r["rfqId"] for r in json.loads(listed.stdout)]
    refused = subprocess.run(
        [
            str(OFFNET),
            "rfq",
            "cancel",
            flow["posted"]["rfqId"],
            "--deployments",
            str(cli.home / "deployments"),
            "--keystore-dir",
            str(cli.home / "keystores"),
            "--account",
            "alice",
            "--password-env",
            PASSWORD_ENV,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("refused: RfqNotOpen(") and "Traceback" not in refused.stderr


# --- the rest of the command set, on the same deployment --------------------------------------------


def test_keys__added_key_acts_for_the_member_until_revoked(cli, flow):
    key = Account.from_key(keccak(text="cli-anvil carol quote key")).address
    added = cli.ok("carrier", "keys", "add", key, "--role", "quote", "--role", "oracle", account="carol")
    assert "add key: tx 0x" in added.out
    assert cli.ok("carrier", "show", key, "--json").json()["keyOf"] == {
        "member": addr("carol"),
        "roles": ["quote", "oracle"],
    }
    cli.ok("carrier", "keys", "revoke", key, account="carol")
    assert cli.ok("carrier", "show", key, "--json").json()["keyOf"] is None


def test_council__suspension_removes_a_provider_from_discovery_and_reinstatement_restores_it(cli, flow):
    index = str(cli.home / "index.db")
    proposed = cli.ok("carrier", "propose", "suspend", addr("dave"), account="alice")
    assert "propose suspend: tx 0x" in proposed.out and ": executed" in proposed.out
    found = cli.ok(
        "providers", "--product", "access-eline", "--country", "GB", "--json", "--index", index
    ).json()
    assert [p["address"] for p in found] == [addr("carol")]
    proposal_id = proposed.out.split("proposal ")[1].split(":")[0]
    again = cli("carrier", "vote", proposal_id, account="alice")
    assert_one_line_error(again, "refused: Registry", f"proposalId={proposal_id}")
    assert_one_line_error(
        cli("carrier", "propose", "expel", addr("dave"), account="carol"),
        "refused: ",
        f"RegistryNotCouncil(caller={addr('carol')})",
    )
    cli.ok("carrier", "propose", "reinstate", addr("dave"), account="alice")
    found = cli.ok(
        "providers", "--product", "access-eline", "--country", "GB", "--json", "--index", index
    ).json()
    assert {p["address"] for p in found} == {addr("carol"), addr("dave")}


def _committed_quote(cli, flow, node, name: str, due_in: int, *prices: str) -> tuple[str, str]:
    """A second RFQ alice posts from the flow's request (externalId CLI-<NAME>, quotes due in `due_in`
    seconds) and dave's committed 36-month quote on it at `prices`: (rfq id, quote file)."""
    request = dict(
        flow["request"],
        externalId=f"CLI-{name.upper()}",
        requestedQuoteCompletionDate=rfc3339(node.now() + due_in),
    )
    path = cli.home / f"request-{name}.json"
    path.write_text(json.dumps(request))
    rfq_id = cli.ok("rfq", "post", str(path), "--invite", "dave", "--json", account="alice").json()["rfqId"]
    quote_file = str(cli.home / f"quote-{name}.json")
    cli.ok("quote", "sign", rfq_id, *prices, "--term", "36", "--out", quote_file, account="dave")
    cli.ok("quote", "commit", quote_file, account="dave")
    return rfq_id, quote_file


def test_quotes__withdrawn_commitment_shows_in_the_log_and_rfq_cancels(cli, flow, node):
    rfq_id, _ = _committed_quote(
        cli, flow, node, "second", QUOTE_WINDOW, "--one-time", "10", "--monthly", "5"
    )
    cli.ok("quote", "withdraw", rfq_id, account="dave")
    shown = cli.ok("rfq", "show", rfq_id, "--json").json()
    assert [(c["provider"], c["withdrawn"]) for c in shown["commitments"]] == [
        (addr("dave"), False),
        (addr("dave"), True),
    ]
    assert_one_line_error(cli("rfq", "cancel", rfq_id, account="bob"), "refused: ", "RfqNotBuyer(")
    cli.ok("rfq", "cancel", rfq_id, account="alice")
    assert cli.ok("rfq", "show", rfq_id, "--json").json()["status"] == "cancelled"


def test_sla__submitted_report_is_shown_pending(cli, flow):
    order_id = flow["awarded"]["orderId"]
    path = cli.home / "product-order.json"
    path.write_text(json.dumps(load_example("product_order")))
    submitted = cli.ok(
        "sla", "submit", order_id, "--product-order", str(path), "--json", account="carol"
    ).json()
    assert submitted["member"] == addr("carol")
    assert [r["kind"] for r in submitted["reports"]] == ["order_completed"]
    shown = cli.ok("sla", "show", order_id, "--json").json()
    assert [(r["reportId"], r["status"]) for r in shown] == [(submitted["reports"][0]["reportId"], "pending")]
    early = load_example("product_order") | {"state": "inProgress"}
    early["productOrderItem"][0].pop("expectedCompletionDate")
    path.write_text(json.dumps(early))
    run = cli("sla", "submit", order_id, "--product-order", str(path), account="carol")
    assert_one_line_error(run, "error: ", "nothing to report yet")


def test_sla__facts_that_cannot_be_true_yet_and_measurement_typos_are_refused_in_one_line(cli, flow, node):
    order_id = flow["awarded"]["orderId"]
    measurement = cli.home / "month.json"
    # A typo once went on chain as 0 % availability (the maximum credit): refused, naming the field.
    measurement.write_text(json.dumps({"availabilty": 99.99, "frameDelayUs": 8_000, "frameLossRatioPpm": 3}))
    run = cli("sla", "submit", order_id, "--period", "3", "--measurement", str(measurement), account="carol")
    assert_one_line_error(run, "error: ", "availabilty", "unknown field")
    measurement.write_text(json.dumps({"availabilityPercent": 99.99, "frameDelayUs": 8_000}))
    run = cli("sla", "submit", order_id, "--period", "3", "--measurement", str(measurement), account="carol")
    assert_one_line_error(run, "error: ", "frame loss ratio is missing")
    # A month of an order not delivered yet cannot have been measured.
    measurement.write_text(
        json.dumps({"availabilityPercent": 99.99, "frameDelayUs": 8_000, "frameLossRatioPpm": 3})
    )
    run = cli("sla", "submit", order_id, "--period", "3", "--measurement", str(measurement), account="carol")
    assert_one_line_error(run, "error: ", "period 3", "not delivered")
    # A completion dated three days from now is not a fact yet.
    future = load_example("product_order")
    when = rfc3339(node.now() + 3 * 86_400)
    future["productOrderItem"][0]["completionDate"] = future["completionDate"] = when
    path = cli.home / "future-order.json"
    path.write_text(json.dumps(future))
    run = cli("sla", "submit", order_id, "--product-order", str(path), account="carol")
    assert_one_line_error(run, "error: ", "order_completed", "in the future")


def test_sla__show_states_each_fact_in_human_units(cli, flow):
    order_id = flow["awarded"]["orderId"]
    [report] = [r for r in cli.ok("sla", "show", order_id, "--json").json() if r["kind"] == "order_completed"]
    assert report["facts"] == "committed 2026-02-26T00:00:00Z, completed 2026-02-27T11:05:00Z"
    assert "completed 2026-02-27T11:05:00Z" in cli.ok("sla", "show", order_id).out


def test_order__fund_dispute_cancel_withdraw_move_the_money_statement(cli, flow):
    order_id = flow["awarded"]["orderId"]
    funded = cli.ok("order", "fund", order_id, "--months", "2", account="alice")
    assert "fund (EIP-2612 permit, no approval transaction): tx 0x" in funded.out
    order = cli.ok("order", "show", order_id, "--json").json()
    assert (order["fundedMonths"], order["moneyFlow"]["escrowed"]) == (3, (2_000 + 3 * 1_000) * 10**6)
    assert_one_line_error(
        cli("order", "dispute", order_id, account="bob"),
        "refused: ",
        f"EscrowNotParty(orderId={order_id}, caller={addr('bob')})",
    )
    cli.ok("order", "cancel", order_id, account="alice")
    order = cli.ok("order", "show", order_id, "--json").json()
    assert order["status"] == "cancelled"  # before the seller acknowledged: a full refund, in the order
    assert order["moneyFlow"]["held"] == (2_000 + 3 * 1_000) * 10**6
    withdrawn = cli.ok("order", "withdraw", order_id, account="alice")
    assert "withdraw: tx 0x" in withdrawn.out and "(the order's refund)" in withdrawn.out
    assert cli.ok("order", "show", order_id, "--json").json()["moneyFlow"]["held"] == 0
    assert_one_line_error(
        cli("order", "withdraw", order_id, account="alice"), "refused: ", "EscrowNothingToWithdraw("
    )


def test_dev__advance_time_moves_the_chain_clock(cli, node):
    before = node.now()
    moved = cli.ok("dev", "advance-time", "2h")
    shown = datetime.strptime(moved.out.split()[-1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert shown.timestamp() >= before + 7200
    assert_one_line_error(cli("dev", "advance-time", "soon"), "error: ", "invalid duration")


def test_award__with_permit_needs_no_approval_transaction(cli, flow, node):
    _, quote_file = _committed_quote(
        cli, flow, node, "permit", QUOTE_WINDOW, "--one-time", "100", "--monthly", "50", "--prepaid", "2"
    )
    cli.ok("dev", "advance-time", PAST_DEADLINE)
    run = cli.ok("award", quote_file, "--permit", account="alice")
    assert "approve escrow" not in run.out
    assert "award (EIP-2612 permit, no approval transaction): tx 0x" in run.out
    order_id = run.out.split("\norder ")[-1].split()[0]
    assert (
        cli.ok("order", "show", order_id, "--json").json()["moneyFlow"]["escrowed"] == (100 + 2 * 50) * 10**6
    )


# --- the CLI points: checks before paying, like-for-like ranking, defaults from the request, output ---


def _allowance(node, flow) -> int:
    from offnet.cli.payment import _ERC20

    contracts = flow["deployed"]["contracts"]
    token = node.w3.eth.contract(address=contracts["TestStablecoin"]["address"], abi=_ERC20)
    return token.functions.allowance(addr("alice"), contracts["OrderEscrow"]["address"]).call()


def test_award__refused_award_is_refused_before_any_approval_and_leaves_no_allowance(cli, flow, node):
    before = _allowance(node, flow)
    for _ in range(2):  # the two failed awards left 2,400 tUSD approved
        run = cli("award", flow["files"]["dave"], "--approve", account="alice")
        assert_one_line_error(run, "refused: ", "RfqNotOpen(rfqId=0x", "status=awarded")
        assert "approve escrow" not in run.out
    assert _allowance(node, flow) == before


def _rfq_with_request(cli, node, name: str, term: int) -> tuple[str, str]:
    request_file = cli.home / f"request-{name}.json"
    cli.raw(
        "rfq",
        "draft",
        "--country",
        "GB",
        "--city",
        "London",
        "--term",
        str(term),
        "--deadline",
        "60d",
        "--out",
        str(request_file),
    )
    rfq_id = cli.ok(
        "rfq",
        "post",
        str(request_file),
        "--deadline",
        rfc3339(node.now() + QUOTE_WINDOW),
        "--invite",
        "carol",
        "--invite",
        "dave",
        "--json",
        account="alice",
    ).json()["rfqId"]
    return rfq_id, str(request_file)


def test_quote_sign__term_and_sla_objectives_come_from_the_rfq_request(cli, flow, node):
    rfq_id, request_file = _rfq_with_request(cli, node, "defaults", 24)
    out = str(cli.home / "quote-defaults.json")
    signed = cli.ok(
        "quote",
        "sign",
        rfq_id,
        "--request",
        request_file,
        "--one-time",
        "100",
        "--monthly",
        "50",
        "--out",
        out,
        "--json",
        account="carol",
    ).json()
    assert signed["termMonths"] == 24 and signed["termFrom"] == "the request"
    quote = json.loads(Path(out).read_text())["quote"]
    assert quote["termMonths"] == 24
    assert quote["credits"]["availabilityObjectivePpm"] == 999_500  # the request's 99.95 %
    assert quote["credits"]["availabilityCreditBps"] > 0
    other = cli.home / "not-the-request.json"
    cli.raw("rfq", "draft", "--country", "GB", "--city", "Leeds", "--out", str(other))
    assert_one_line_error(
        cli(
            "quote",
            "sign",
            rfq_id,
            "--request",
            str(other),
            "--one-time",
            "1",
            "--monthly",
            "1",
            account="carol",
        ),
        "error: ",
        "is not the request of RFQ",
    )


def test_award__ranks_like_for_like_and_shows_term_charges_and_carrier(cli, flow, node):
    rfq_id, request_file = _rfq_with_request(cli, node, "ranking", 36)
    files = {}
    # Carol: 12 months at 1,000/month (the smaller contract value); Dave: 36 months at 800/month.
    for name, term, monthly in (("carol", "12", "1000"), ("dave", "36", "800")):
        files[name] = str(cli.home / f"quote-rank-{name}.json")
        cli.ok(
            "quote",
            "sign",
            rfq_id,
            "--request",
            request_file,
            "--term",
            term,
            "--one-time",
            "2000",
            "--monthly",
            monthly,
            "--out",
            files[name],
            account=name,
        )
        cli.ok("quote", "commit", files[name], account=name)
    cli.ok("dev", "advance-time", PAST_DEADLINE)
    run = cli.ok("award", files["carol"], files["dave"], account="alice")
    table = run.out.split("\norder ")[0]
    assert "ranked by cost per month over each quote's own term" in " ".join(table.split())
    lines = [line for line in table.splitlines() if line.strip()[:2] in ("1 ", "2 ")]
    assert "Dave Networks" in lines[0] and "36" in lines[0] and "855.56" in lines[0]
    assert "Carol Networks" in lines[1] and "12" in lines[1] and "1,166.67" in lines[1]
    assert "opened with Dave Networks" in run.out
    # The ranking fits 80 columns (a receipt line holds a whole 66-character transaction hash).
    assert [line for line in run.out.splitlines() if ": tx 0x" not in line and len(line) > 80] == []


def test_rfq__invitee_that_is_not_an_active_provider_is_refused(cli, flow, node, tmp_path):
    request = tmp_path / "request.json"
    cli.raw("rfq", "draft", "--country", "GB", "--city", "York", "--out", str(request))
    due = ("--deadline", rfc3339(node.now() + QUOTE_WINDOW))  # the chain's clock runs ahead of the wall's
    outsider = Account.from_key(keccak(text="cli-anvil outsider")).address
    assert_one_line_error(cli("rfq", "post", str(request), *due, account="alice"), "error: ", "give --invite")
    assert_one_line_error(
        cli("rfq", "post", str(request), *due, "--invite", outsider, account="alice"),
        "error: ",
        f"--invite {outsider} is not an active provider (status: none)",
    )
    assert_one_line_error(
        cli("rfq", "post", str(request), *due, "--invite", "carol", "--invite", "carol", account="alice"),
        "error: ",
        "is given twice",
    )


def test_output__times_iso_amounts_with_symbol_and_tables_within_80_columns(cli, flow):
    order_id = flow["awarded"]["orderId"]
    for args in (
        ("order", "show", order_id),
        ("rfq", "show", flow["posted"]["rfqId"]),
        ("rfq", "list"),
        ("reputation", "carol"),
        ("carrier", "show", "carol"),
    ):
        out = cli.ok(*args).out
        assert max(len(line) for line in out.splitlines()) <= 80, (args, out)
    shown = cli.ok("order", "show", order_id).out
    assert re.search(r"awarded\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown)
    assert "tUSD" in shown and order_id in shown and addr("carol") in shown
    assert flow["posted"]["rfqId"] in cli.ok("rfq", "list").out  # ids whole, never cut


def test_providers__new_members_listed_as_new_whatever_the_floor(cli, flow):
    index = str(cli.home / "index-new.db")

    def above_floor(*options: str) -> list[dict]:
        return cli.ok(
            "providers",
            "--product",
            "access-eline",
            "--country",
            "GB",
            "--min-reputation",
            "0.9",
            *options,
            "--json",
            "--index",
            index,
        ).json()

    found = above_floor()
    assert {(p["address"], p["new"]) for p in found} >= {(addr("dave"), True)}
    excluded = above_floor("--new-members", "exclude")
    assert all(not p["new"] for p in excluded)
    human = cli.ok("providers", "--product", "access-eline", "--country", "GB", "--index", index).out
    assert "new (n=0)" in human


def test_deploy__picks_the_build_the_chain_runs(flow, node):
    assert flow["deployed"]["evm"] == {"anvil": "cancun", "ganache": "shanghai"}[node.kind]


def test_deploy__a_chain_older_than_shanghai_is_refused_in_one_line_naming_what_it_lacks(cli, tmp_path):
    from offnet.chain.anvil import Anvil

    with Anvil(hardfork="paris") as paris:
        run = cli.raw(
            "deploy", "--rpc", paris.url, "--founder", addr("alice"), "--deployments", str(tmp_path)
        )
    assert_one_line_error(run, "error: ", "cannot run offnet: it lacks PUSH0 (EIP-3855, Shanghai)")
    assert not list(tmp_path.iterdir())  # nothing deployed, no manifest


def test_sla_hold__the_sellers_held_delivery_report_makes_the_buyers_cancellation_wait(cli, flow, node):
    _, quote_file = _committed_quote(
        cli, flow, node, "held", QUOTE_WINDOW, "--one-time", "2000", "--monthly", "900"
    )
    cli.ok("dev", "advance-time", PAST_DEADLINE)
    order_id = cli.ok("award", quote_file, "--json", account="alice").json()["orderId"]
    cli.ok("order", "acknowledge", order_id, account="dave")
    # Work started: the buyer's cancel only asks, and says from when it may cancel.
    asked = cli.ok("order", "cancel", order_id, account="alice")
    assert "cancellation requested" in asked.out and "again from 20" in asked.out
    shown = cli.ok("order", "show", order_id, "--json").json()
    assert shown["status"] == "acknowledged" and shown["cancellationFrom"] > shown["cancellationRequestedAt"]
    assert "cancellation" in cli.ok("order", "show", order_id).out
    # The seller delivers within the notice, reports it and holds the report at the ledger.
    delivered = load_example("product_order")
    delivered["productOrderItem"][0]["expectedCompletionDate"] = rfc3339(node.now() + 86_400)
    delivered["productOrderItem"][0]["completionDate"] = delivered["completionDate"] = rfc3339(
        node.now() - 60
    )
    path = cli.home / "delivered-held.json"
    path.write_text(json.dumps(delivered))
    submitted = cli.ok(
        "sla", "submit", order_id, "--product-order", str(path), "--json", account="dave"
    ).json()
    report_id = submitted["reports"][0]["reportId"]
    held = cli.ok("sla", "hold", order_id, report_id, account="dave")
    assert f"report {report_id} held" in held.out
    [row] = cli.ok("sla", "show", order_id, "--json").json()
    assert row["status"] == "held"
    # The notice is over, and so is the report's liveness window: the held report still bars the cancel.
    cli.ok("dev", "advance-time", "8d")
    assert_one_line_error(
        cli("order", "cancel", order_id, account="alice"),
        "refused: ",
        f"EscrowReportPending(orderId={order_id}",
    )
    [row] = cli.ok("sla", "show", order_id, "--json").json()
    assert row["status"] == "held, finalisable"
    settled = cli.ok("sla", "finalize", order_id, "--json", account="alice").json()
    assert [o["outcome"] for o in settled["reports"]] == ["final now"]
    assert cli.ok("order", "show", order_id, "--json").json()["status"] == "active"
    # Holding it after its window, or a report the order does not have, is refused in one line.
    assert_one_line_error(
        cli("sla", "hold", order_id, report_id, account="dave"), "refused: ", "SlaLivenessOver("
    )
    assert_one_line_error(
        cli("sla", "hold", order_id, "0x" + "ab" * 32, account="dave"), "error: ", "not among the order's"
    )
