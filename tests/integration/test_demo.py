"""`offnet demo` end to end, as a user runs it: a real subprocess, a real anvil or Ganache, sellers and
oracles over HTTP.

A small market (two RFQs, one month of service) must leave out/summary.json and out/report.html, with
money conserved to the unit, every RFQ posted on chain, nothing left listening afterwards, nothing on
stderr (expected retries go to out/demo.log at DEBUG), and the same story for the same seed when run
again (on Ganache, with the Shanghai build). It fails in one line when funding is short, when an
award it meant to make is refused, and when nothing trades.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

from offnet.chain.ganache import Ganache

pytestmark = pytest.mark.anvil

STORY = ("buyer", "seller", "site", "delivery", "periods_final")
MONEY = ("escrowed", "refunded", "held")


def listening(url: str) -> bool:
    """True when something still accepts connections at the URL's host and port."""
    parsed = urlparse(url)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((parsed.hostname, parsed.port)) == 0


def story(out: Path) -> dict:
    """What a run tells, without what only identifies it (ids with the contract's random salt, URLs,
    durations, gas that depends on those ids' bytes)."""
    summary = json.loads((out / "summary.json").read_text())
    # The first month runs from delivery to the end of its calendar month and is charged pro rata by
    # the second: how a settled month splits between seller and buyer moves by a few units with the
    # delivery's second, which differs between two runs; what was settled does not.
    return {
        "orders": [
            {**{k: o[k] for k in STORY + MONEY}, "settled": o["released"] + o["credited"]}
            for o in summary["orders_detail"]
        ],
        "totals": {
            k: summary[k]
            for k in (
                "rfqs",
                "quotes",
                "orders",
                "orders_delivered",
                "reports_final",
                "trouble_tickets",
                "disputes",
                "tokens_escrowed",
                "tokens_refunded",
                "tokens_withdrawn",
            )
        }
        | {"tokens_settled": summary["tokens_released"] + summary["tokens_credited"]},
        "reputation": summary["reputation"],
        "dispute": summary["dispute"] and {k: summary["dispute"][k] for k in ("buyer", "seller", "period")},
    }


def test_small_demo__exits_zero_prints_the_report_and_nothing_on_stderr(small_demo):
    assert small_demo.returncode == 0, small_demo.stderr[-2000:]
    assert "Reputation per carrier (before -> after; new = no history yet)" in small_demo.stdout
    assert "Gas per operation" in small_demo.stdout
    assert "escrow holds" in small_demo.stdout
    # The oracles' expected retries are logged at DEBUG in out/demo.log, not on the terminal.
    assert small_demo.stderr == ""
    assert (small_demo.out / "demo.log").is_file()
    # It ends with the command that serves the explorer from its index (its chain stopped with it).
    last = small_demo.stdout.rstrip().splitlines()[-1]
    assert last.startswith(f"explore the market: offnet explorer --database {small_demo.out / 'index.db'} ")
    assert "http://127.0.0.1:8000/" in last


def test_small_demo__summary_counts_hold_the_invariants(small_demo):
    summary = json.loads((small_demo.out / "summary.json").read_text())
    assert summary["invariants_hold"] is True and summary["failure"] is None
    assert (summary["chain"], summary["evm_build"]) == ("anvil", "cancun")
    assert summary["rfqs"] == 2 and summary["carriers"] == 6
    assert 1 <= summary["orders"] <= 2 and summary["quotes"] >= summary["orders"]
    assert summary["reports_relayed"] > 0 and summary["reports_final"] > 0
    assert summary["tokens_released"] > 0
    assert summary["disputes"] == summary["disputes_resolved"] <= 1
    # Escrow: what it holds is exactly what it still owes, which is what the orders still hold.
    assert summary["escrow_balance"] == summary["escrow_owed"] == summary["escrow_held_by_orders"]
    orders = summary["orders_detail"]
    for order in orders:
        assert order["escrowed"] == order["released"] + order["credited"] + order["refunded"] + order["held"]
        assert order["site"] != "?" and order["circuit"].startswith("Access E-Line")
    assert summary["tokens_escrowed"] == sum(o["escrowed"] for o in orders)
    # Everyone withdrew: what left the escrow is what it paid out.
    paid_out = summary["tokens_released"] + summary["tokens_credited"] + summary["tokens_refunded"]
    assert summary["tokens_withdrawn"] == paid_out
    # Gas per operation covers the whole market, the suite's deployment included.
    assert "deploy OrderEscrow" in summary["gas_by_operation"]
    assert "SlaLedger.submit" in summary["gas_by_operation"]


def test_small_demo__keystores_are_encrypted_and_unlock_with_the_generated_password(small_demo):
    from offnet.wallet import FilePassword, load_account

    keystores = small_demo.out / "keystores"
    summary = json.loads((small_demo.out / "summary.json").read_text())
    for carrier in summary["carriers_detail"]:
        stored = json.loads((keystores / f"{carrier['name']}.json").read_text())
        assert stored["crypto"]["kdf"] == "scrypt"
        assert (
            load_account(carrier["name"], FilePassword(keystores / "password.txt"), keystores).address
            == (carrier["address"])
        )


def test_small_demo__leaves_nothing_running(small_demo):
    summary = json.loads((small_demo.out / "summary.json").read_text())
    urls = [
        summary["rpc_url"],
        *(c["seller_url"] for c in summary["carriers_detail"]),
        *(c["oracle_url"] for c in summary["carriers_detail"]),
    ]
    assert len(urls) == 13
    assert [u for u in urls if listening(u)] == []


@pytest.mark.ganache
def test_demo__same_seed_on_ganache__same_story_with_the_shanghai_build(small_demo, run_demo, tmp_path):
    """The demo run again with the seed of the small demo, on another chain and build: nothing the
    story tells may change (who trades with whom, deliveries, credits, every amount, reputations)."""
    on_ganache = run_demo(
        tmp_path / "out", "--chain", "ganache", "--rfqs", "2", "--months", "1", "--seed", "7"
    )
    assert on_ganache.returncode == 0, on_ganache.stderr[-2000:]
    summary = json.loads((on_ganache.out / "summary.json").read_text())
    assert (summary["chain"], summary["evm_build"]) == ("ganache", "shanghai")
    assert summary["invariants_hold"] is True
    assert story(on_ganache.out) == story(small_demo.out)
    credits = [
        [o["credit_bps"] for o in json.loads((run.out / "summary.json").read_text())["orders_detail"]]
        for run in (on_ganache, small_demo)
    ]
    for ganache_bps, anvil_bps in zip(*credits, strict=True):  # the same credits, to the rounding
        assert all(abs(a - b) <= 1 for a, b in zip(ganache_bps, anvil_bps, strict=True))


@pytest.mark.ganache
def test_demo__funding_short__exits_one_with_the_reason_in_one_line(run_demo, tmp_path):
    with Ganache(balance_ether=5) as node:  # ten dev accounts of 5 ether: none can fund a demo actor
        done = run_demo(tmp_path / "out", "--rpc", node.url, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stderr.startswith("Error: demo failed: funding is short:")
    assert "10 accounts 10 ETH each" in done.stderr


def test_demo__unreachable_rpc__exits_one_with_a_one_line_reason(run_demo, tmp_path):
    done = run_demo(tmp_path / "out", "--rpc", "http://127.0.0.1:9", timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "cannot reach RPC http://127.0.0.1:9" in done.stderr


# --- the story breaking: the run says so (the CLI's DemoFailure line, exit 1) -------------------------


def _run_breaking(tmp_path: Path, monkeypatch, breakage) -> str:
    """A one-RFQ demo in-process with `breakage(DemoRun)` applied; the failure line it ends with."""
    from click.testing import CliRunner

    from offnet.cli.main import main
    from offnet.demo import scenario

    breakage(monkeypatch, scenario)
    runner = CliRunner(mix_stderr=False)
    with runner.isolation() as (_, err):
        code = main(
            ["demo", "--quiet", "--rfqs", "1", "--months", "1", "--seed", "5", "--out", str(tmp_path)]
        )
        message = err.getvalue().decode()
    assert code == 1, message
    assert message.strip().count("\n") == 0, message
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["invariants_hold"] is False and summary["failure"] in message
    return message


def test_demo__an_award_refused__fails_the_run_naming_the_refusal(tmp_path, monkeypatch):
    def no_approval(patch, scenario):
        # The carriers never approve the escrow: the buyer's award is refused by the token.
        real = scenario.DemoRun._join

        def join(self, market):
            transact = scenario.Sender.transact
            patch.setattr(
                scenario.Sender,
                "transact",
                lambda sender, call, **kw: (
                    None if call.fn_name == "approve" else transact(sender, call, **kw)
                ),
            )
            try:
                real(self, market)
            finally:
                patch.setattr(scenario.Sender, "transact", transact)

        patch.setattr(scenario.DemoRun, "_join", join)

    message = _run_breaking(tmp_path, monkeypatch, no_approval)
    assert message.startswith("Error: demo failed: an award failed: award of RFQ")
    assert "ERC20InsufficientAllowance" in message


def test_demo__no_quote_at_all__fails_the_run_as_nothing_traded(tmp_path, monkeypatch):
    def nobody_can_provide(patch, scenario):
        # Every seller's Sonata system answers "unable to provide": no quote is ever committed.
        from offnet.sonata.seller import profiles

        for name, profile in profiles.PRESETS.items():
            patch.setitem(profiles.PRESETS, name, profile.with_overrides(unable_to_provide_probability=1.0))

    message = _run_breaking(tmp_path, monkeypatch, nobody_can_provide)
    assert message.startswith("Error: demo failed: nothing traded: 1 RFQs and 0 sealed quotes gave no order")
