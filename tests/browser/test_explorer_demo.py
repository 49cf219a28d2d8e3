"""The explorer over the demo's world, in a real browser: every page renders the figures the chain
holds (checked against the demo's own summary, which reads the escrow's and the ledger's views
independently of the index), the filters work, the contract check says match and mismatch, and each
JSON twin carries the same figures as its page. A screenshot of each main page goes to out/explorer/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from offnet.display import money, reputation
from offnet.testing.explorer import ExplorerProcess

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def demo(small_demo, tmp_path_factory):
    """The demo's out/ folder and summary, and `offnet explorer --database out/index.db` serving it."""
    assert small_demo.returncode == 0, small_demo.stderr[-2000:]
    out = small_demo.out
    log = tmp_path_factory.mktemp("explorer") / "explorer.log"
    with ExplorerProcess("--database", str(out / "index.db"), log=log) as explorer:
        yield explorer, out, json.loads((out / "summary.json").read_text())


def cells(page, table: str) -> list[list[str]]:
    """The text of every body cell of a table, row by row."""
    return [
        [c.strip() for c in row.locator("td").all_inner_texts()]
        for row in page.locator(f"table#{table} tbody tr").all()
    ]


def addresses_of(summary: dict) -> dict[str, str]:
    return {c["name"]: c["address"] for c in summary["carriers_detail"]}


def units(summary: dict, amount: int) -> str:
    return money(amount, summary["token_decimals"], "tUSD")


# --- providers ----------------------------------------------------------------------------------------


def test_providers__every_carrier_with_its_record_and_new_members_as_new(demo, page, screenshot):
    explorer, _, summary = demo
    page.goto(f"{explorer.url}/providers")
    screenshot(page, "providers")
    rows = {r[0].split("\n")[0]: r for r in cells(page, "providers")}
    assert set(rows) == {c["name"] for c in summary["carriers_detail"]}
    api = {p["name"]: p for p in explorer.api("/providers")["providers"]}
    for name, figures in summary["reputation"].items():
        after = {k: v["after"] for k, v in figures.items()}
        samples = api[name]["reputation"]["samples"]
        row = rows[name]
        if samples == 0:
            assert row[2] == "new" and api[name]["reputation"]["new"]
            assert after["overall_ppm"] == 0 and after["orders_delivered"] == 0
        else:
            assert row[2] == reputation(after["overall_ppm"], samples) == api[name]["reputation"]["text"]
        assert int(row[3]) == after["orders_delivered"] == api[name]["ordersDelivered"]
        assert int(row[6]) == after["trouble_tickets"] == api[name]["tickets"]
        assert int(row[8]) == after["disputes_lost"] == api[name]["disputesLost"]
        assert row[4] == api[name]["onTime"] and row[5] == api[name]["slaCompliance"]
    # The rated carriers come first, best first; the new ones after them.
    order = [
        r.split("\n")[0] for r in page.locator("table#providers tbody tr td:first-child").all_inner_texts()
    ]
    rated = [n for n in order if api[n]["reputation"]["samples"]]
    assert order[: len(rated)] == rated
    assert [api[n]["reputation"]["ppm"] for n in rated] == sorted(
        (api[n]["reputation"]["ppm"] for n in rated), reverse=True
    )


def test_providers__country_filter_applies_as_it_changes(demo, page):
    explorer, _, summary = demo
    page.goto(f"{explorer.url}/providers")
    country = sorted({c for carrier in summary["carriers_detail"] for c in carrier["countries"]})[0]
    with page.expect_navigation():
        page.select_option("select[name=country]", country)  # the page's script submits the form
    assert f"country={country}" in page.url
    expected = sorted(c["name"] for c in summary["carriers_detail"] if country in c["countries"])
    shown = sorted(r[0].split("\n")[0] for r in cells(page, "providers"))
    assert shown == expected
    assert page.locator("#total").inner_text() == str(len(expected))
    api = explorer.api(f"/providers?country={country}")
    assert sorted(p["name"] for p in api["providers"]) == expected and api["pagination"]["total"] == len(
        expected
    )


def test_providers__minimum_reputation_leaves_out_the_weaker_and_optionally_the_new(demo, page):
    explorer, _, _ = demo
    everyone = explorer.api("/providers")["providers"]
    floor = max(p["reputation"]["ppm"] for p in everyone)  # only the best stay
    page.goto(f"{explorer.url}/providers")
    page.fill("input[name=min_reputation]", f"{floor / 10_000}%")
    page.select_option("select[name=new]", "exclude")  # submits, with the floor typed above
    page.wait_for_url(re.compile(r"new=exclude"))
    shown = [r[0].split("\n")[0] for r in cells(page, "providers")]
    best = [p["name"] for p in everyone if p["reputation"]["samples"] and p["reputation"]["ppm"] >= floor]
    assert sorted(shown) == sorted(best) and shown
    assert all("new" not in r[2] for r in cells(page, "providers"))
    only_new = explorer.api("/providers?new=only")["providers"]
    assert {p["name"] for p in only_new} == {p["name"] for p in everyone if p["reputation"]["new"]}


def test_providers__bad_filters_get_a_clear_400(demo, page):
    explorer, _, _ = demo
    answer = page.goto(f"{explorer.url}/providers?min_reputation=lots")
    assert answer.status == 400
    assert "minimum reputation 'lots'" in page.locator("#error").inner_text()
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{explorer.url}/api/providers?country=Narnia")
    assert refused.value.code == 400
    assert "country" in json.loads(refused.value.read())["error"]


# --- a provider ---------------------------------------------------------------------------------------


def test_provider_page__record_over_time_deliveries_months_tickets_disputes_history(demo, page, screenshot):
    explorer, _, summary = demo
    seller = summary["trouble_ticket"]["seller"] if summary.get("trouble_ticket") else None
    seller = seller or next(o["seller"] for o in summary["orders_detail"] if o["tickets"])
    address = addresses_of(summary)[seller]
    page.goto(f"{explorer.url}/providers/{address}")
    screenshot(page, "provider")
    api = explorer.api(f"/providers/{address}")
    after = {k: v["after"] for k, v in summary["reputation"][seller].items()}
    assert page.locator("#reputation-value").inner_text() == api["reputation"]["text"]
    assert api["reputation"]["ppm"] == after["overall_ppm"]
    assert page.locator("svg.chart[aria-label='overall reputation over time']").count() == 1
    sold = [o for o in summary["orders_detail"] if o["seller"] == seller]
    deliveries = cells(page, "deliveries")
    assert len(deliveries) == len(sold) == len(api["deliveries"])
    assert {d[5] for d in deliveries} <= {"on time"} | {d["delivery"] for d in api["deliveries"]}
    months = cells(page, "sla-months")
    assert len(months) == sum(o["periods_final"] for o in sold) == len(api["slaMonths"])
    credits = sorted(f"{bps / 100:.2f}%" for o in sold for bps in o["credit_bps"])
    assert sorted(m[7] for m in months) == credits
    assert len(cells(page, "tickets")) == after["trouble_tickets"] == len(api["tickets"])
    history = [r[1] for r in cells(page, "history")]
    assert history[:2] == ["applied", "profile"] and "admitted" in history
    assert history.count("sponsored") == 2  # two founders sponsored every carrier


def test_provider_page__the_dispute_and_its_ruling_on_both_parties(demo, page):
    explorer, _, summary = demo
    dispute = summary["dispute"]
    assert dispute, "the demo's world has a dispute ruled by the council"
    for party in (dispute["buyer"], dispute["seller"]):
        page.goto(f"{explorer.url}/providers/{addresses_of(summary)[party]}")
        [row] = cells(page, "disputes")
        assert row[0].startswith(dispute["order"][:10])
        assert f"month {dispute['period']} report" in row[1]
        assert row[2] == dispute["buyer"]
        assert row[4].startswith(f"{dispute['loser']} lost")


# --- orders --------------------------------------------------------------------------------------------


def test_orders__money_flow_of_every_order_matches_the_escrow(demo, page, screenshot):
    explorer, _, summary = demo
    page.goto(f"{explorer.url}/orders")
    screenshot(page, "orders")
    rows = {r.get_attribute("data-order"): r for r in page.locator("table#orders tbody tr").all()}
    api = {o["order"]: o for o in explorer.api("/orders")["orders"]}
    assert set(rows) == {o["order_id"] for o in summary["orders_detail"]} == set(api)
    for order in summary["orders_detail"]:
        shown = [c.strip() for c in rows[order["order_id"]].locator("td").all_inner_texts()]
        parts = ("escrowed", "released", "credited", "refunded", "held")
        assert shown[5:10] == [units(summary, order[p]) for p in parts]
        assert [api[order["order_id"]][p]["text"] for p in parts] == shown[5:10]
        assert shown[1] == order["buyer"] and shown[2] == order["seller"] and shown[3] == order["status"]


def test_order_page__facts_with_evidence_status_and_a_link_to_their_block(demo, page, screenshot):
    explorer, _, summary = demo
    disputed = summary["dispute"]["order"]
    page.goto(f"{explorer.url}/orders/{disputed}")
    screenshot(page, "order")
    api = explorer.api(f"/orders/{disputed}")
    facts = page.locator("table#facts tbody tr").all()
    assert len(facts) == len(api["facts"]) > 0
    for row, fact in zip(facts, api["facts"], strict=True):
        assert row.get_attribute("data-report") == fact["report"]
        text = row.inner_text()
        assert fact["status"] in text and fact["evidenceHash"][:10] in text
    statuses = {f["status"] for f in api["facts"]}
    assert statuses == {"final"}  # the ruling made the disputed month final
    month = next(f for f in api["facts"] if f["about"] == f"month {summary['dispute']['period']} report")
    assert month["disputed"] is not None and len(month["submissions"]) >= 1
    order = next(o for o in summary["orders_detail"] if o["order_id"] == disputed)
    for part in ("escrowed", "released", "credited", "refunded", "held"):
        assert page.locator(f"#money td[data-part={part}]").inner_text() == units(summary, order[part])
    # The block a fact became final in: its page lists the event about this order.
    block = month["final"]["number"]
    with page.expect_navigation():
        page.locator(
            f"table#facts tr[data-report='{month['report']}'] a.block[href='/blocks/{block}']"
        ).first.click()
    assert page.url.endswith(f"/blocks/{block}")
    events = [r for r in cells(page, "events") if r[2] in ("DisputeResolved", "ReportFinalized")]
    assert events and all(r[3] == disputed[:10] for r in events)
    assert explorer.api(f"/blocks/{block}")["number"] == block


# --- RFQs ----------------------------------------------------------------------------------------------


def test_rfqs__sealed_quotes_counted_and_the_award_with_its_basis(demo, page, screenshot):
    explorer, _, summary = demo
    page.goto(f"{explorer.url}/rfqs")
    screenshot(page, "rfqs")
    rows = cells(page, "rfqs")
    api = explorer.api("/rfqs")["rfqs"]
    assert len(rows) == summary["rfqs"] == len(api)
    assert sum(int(r[6]) for r in rows) == summary["quotes"] == sum(r["sealedQuotes"] for r in api)
    awarded = next(r for r in api if r["award"])
    page.goto(f"{explorer.url}/rfqs/{awarded['rfq']}")
    screenshot(page, "rfq")
    detail = explorer.api(f"/rfqs/{awarded['rfq']}")
    assert page.locator("#sealed-quotes").inner_text() == str(detail["sealedQuotes"])
    order = next(o for o in summary["orders_detail"] if o["order_id"] == awarded["award"]["order"])
    award = dict(
        r
        for r in (
            c
            for c in [
                [t.strip() for t in row.locator("th, td").all_inner_texts()]
                for row in page.locator("table#award tr").all()
            ]
        )
    )
    assert award["total over the term"] == detail["awarded"]["totalOverTerm"]["text"]
    escrowed = int(order["escrowed"])
    assert int(detail["awarded"]["totalOverTerm"]["units"]) == escrowed  # the demo prepays the whole term
    standings = cells(page, "standings")
    assert [s[2] for s in standings].count("sealed") == len(standings) - 1  # losing prices stay sealed


# --- contract check -------------------------------------------------------------------------------------


def test_contract_check__match_for_the_notarised_document_and_mismatch_for_another(demo, page, screenshot):
    explorer, out, _ = demo
    [file] = sorted((out / "contracts").glob("*.json"))
    contract = json.loads(file.read_text())
    page.goto(f"{explorer.url}/orders/{contract['order']}")
    with page.expect_navigation():
        page.click("text=check a contract document")
    page.fill("textarea[name=document]", contract["document"])
    page.fill("input[name=salt]", contract["salt"])
    with page.expect_navigation():
        page.click("button[type=submit]")
    verdict = page.locator("#verdict")
    assert verdict.inner_text().startswith("Match")
    screenshot(page, "contract-check")

    cheaper = json.loads(contract["document"])
    cheaper["monthlyCharge"] = str(int(cheaper["monthlyCharge"]) - 1)  # one unit less a month
    altered = json.dumps(cheaper, sort_keys=True, separators=(",", ":"))
    page.fill("textarea[name=document]", altered)
    page.fill("input[name=salt]", contract["salt"])
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("#verdict").inner_text().startswith("Mismatch")
    screenshot(page, "contract-check-mismatch")


def test_contract_check__an_uploaded_file_and_the_json_twin(demo, page, tmp_path: Path):
    explorer, out, _ = demo
    [file] = sorted((out / "contracts").glob("*.json"))
    contract = json.loads(file.read_text())
    document = tmp_path / "contract.json"
    document.write_bytes(contract["document"].encode())
    page.goto(f"{explorer.url}/contract-check?order={contract['order']}")
    page.fill("input[name=salt]", contract["salt"])
    page.set_input_files("input[name=upload]", str(document))
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("#verdict").inner_text().startswith("Match")
    import urllib.request

    def check(body: dict) -> dict:
        request = urllib.request.Request(
            f"{explorer.url}/api/contract-check",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    assert check(contract)["match"] is True
    pretty = {**contract, "document": json.dumps(json.loads(contract["document"]), indent=2)}
    answer = check(pretty)  # the same contract, pretty-printed: its canonical form is what was committed
    assert answer["match"] is True and answer["matched"]["form"] == "canonical JSON"
    wrong_salt = {**contract, "salt": "0x" + "11" * 32}
    assert check(wrong_salt)["match"] is False


# --- council -------------------------------------------------------------------------------------------


def test_council__seats_and_the_executed_ruling(demo, page, screenshot):
    explorer, _, summary = demo
    page.goto(f"{explorer.url}/council")
    screenshot(page, "council")
    api = explorer.api("/council")
    assert {s["name"] for s in api["seats"]} == {"founder-1", "founder-2", "founder-3"}
    [ruling] = cells(page, "rulings")
    dispute = summary["dispute"]
    assert f"{dispute['loser']} loses" in ruling[1] and dispute["order"][:10] in ruling[1]
    assert ruling[2] == "SlaLedger.resolve"
    assert ruling[3].startswith("2 of 2: " + ", ".join(dispute["approvals"]).split(",")[0])
    assert [r["summary"] for r in api["rulings"]] == [ruling[1]]
    assert api["open"] == [] and cells(page, "open") == [["None."]]
