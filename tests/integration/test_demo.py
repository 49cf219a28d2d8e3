"""`offnet demo` end to end, as a user runs it: a real subprocess, a real anvil, sellers and oracles.

A small market (three RFQs, two months of service: the session's `small_demo`, see tests/conftest.py)
must leave out/summary.json and out/report.html,
with money conserved to the unit, every RFQ posted on chain, and nothing left listening afterwards.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
OFFNET = ROOT / ".venv" / "bin" / "offnet"


def listening(url: str) -> bool:
    """True when something still accepts connections at the URL's host and port."""
    parsed = urlparse(url)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((parsed.hostname, parsed.port)) == 0


def test_small_demo__exits_zero_and_prints_the_report(small_demo):
    done, _ = small_demo
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Reputation per carrier (before -> after)" in done.stdout
    assert "Gas per operation" in done.stdout
    assert "escrow holds" in done.stdout
    # It ends with the command that serves the explorer from its index (its chain stopped with it).
    assert done.stdout.rstrip().splitlines()[-1].startswith("explore the market: offnet explorer --database ")
    assert "http://127.0.0.1:8000/" in done.stdout.rstrip().splitlines()[-1]


def test_small_demo__summary_counts_hold_the_invariants(small_demo):
    _, out = small_demo
    summary = json.loads((out / "summary.json").read_text())
    assert summary["invariants_hold"] is True and summary["failure"] is None
    assert summary["rfqs"] == 3 and summary["carriers"] == 6
    assert 1 <= summary["orders"] <= 3 and summary["quotes"] >= summary["orders"]
    assert summary["reports_relayed"] > 0 and summary["reports_final"] > 0
    assert summary["tokens_released"] > 0
    assert summary["disputes"] == summary["disputes_resolved"] <= 1
    # Escrow: what it holds is exactly what it still owes, which is what the orders still hold.
    assert summary["escrow_balance"] == summary["escrow_owed"] == summary["escrow_held_by_orders"]
    orders = summary["orders_detail"]
    for order in orders:
        assert order["escrowed"] == order["released"] + order["credited"] + order["refunded"] + order["held"]
    assert summary["tokens_escrowed"] == sum(o["escrowed"] for o in orders)
    # Everyone withdrew: what left the escrow is what it paid out.
    paid_out = summary["tokens_released"] + summary["tokens_credited"] + summary["tokens_refunded"]
    assert summary["tokens_withdrawn"] == paid_out
    # Gas per operation covers the whole market, the suite's deployment included.
    assert "deploy OrderEscrow" in summary["gas_by_operation"]
    assert "SlaLedger.submit" in summary["gas_by_operation"]


def test_small_demo__report_html_is_self_contained_with_charts(small_demo):
    _, out = small_demo
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 3  # reputation over time, money flows, gas per operation
    assert "Invariants held" in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_small_demo__keystores_are_encrypted_and_unlock_with_the_generated_password(small_demo):
    _, out = small_demo
    from offnet.wallet import FilePassword, load_account

    keystores = out / "keystores"
    summary = json.loads((out / "summary.json").read_text())
    for carrier in summary["carriers_detail"]:
        stored = json.loads((keystores / f"{carrier['name']}.json").read_text())
        assert stored["crypto"]["kdf"] == "scrypt"
        assert (
            load_account(carrier["name"], FilePassword(keystores / "password.txt"), keystores).address
            == (carrier["address"])
        )


def test_small_demo__leaves_nothing_running(small_demo):
    _, out = small_demo
    summary = json.loads((out / "summary.json").read_text())
    urls = [
        summary["rpc_url"],
        *(c["seller_url"] for c in summary["carriers_detail"]),
        *(c["oracle_url"] for c in summary["carriers_detail"]),
    ]
    assert len(urls) == 13
    assert [u for u in urls if listening(u)] == []


def test_demo__unreachable_rpc__exits_one_with_a_one_line_reason(tmp_path):
    done = subprocess.run(
        [str(OFFNET), "demo", "--rpc", "http://127.0.0.1:9", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "cannot reach RPC http://127.0.0.1:9" in done.stderr
