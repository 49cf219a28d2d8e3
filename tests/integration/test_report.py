"""out/report.html as a person sees it: rendered by headless Chromium (Debian's package, driven by
Playwright) at 1,400 px, checked in the page and kept as a screenshot, out/report.png.

`make test` installs Chromium where it can (`make browser`); elsewhere these tests are skipped."""

from __future__ import annotations

import json
import re

import pytest

from offnet.testing.browser import CHROMIUM, chromium

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def page(small_demo):
    """The small demo's report open in Chromium at 1,400 x 900; its full-page screenshot written."""
    if not CHROMIUM.is_file():
        pytest.skip("headless Chromium is not installed (run `make browser` where apt-get can install it)")
    assert small_demo.returncode == 0, small_demo.stderr[-2000:]
    report = small_demo.out / "report.html"
    with chromium() as context:
        page = context.new_page()
        page.goto(report.as_uri())
        page.screenshot(path=str(small_demo.out / "report.png"), full_page=True)
        yield page


def summary_of(small_demo) -> dict:
    return json.loads((small_demo.out / "summary.json").read_text())


def test_report__screenshot_written(page, small_demo):
    shot = small_demo.out / "report.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_report__nothing_overflows_at_1400_px(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    overflowing = page.evaluate(
        """[...document.querySelectorAll('table, svg, .cards')].filter(
            e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5
                 || (e.tagName === 'TABLE' && e.scrollWidth > e.parentElement.clientWidth + 1)
        ).map(e => e.className || e.getAttribute('aria-label') || e.tagName)"""
    )
    assert overflowing == []


def test_report__one_reputation_chart_per_carrier_so_no_line_hides_another(page, small_demo):
    carriers = [c["name"] for c in summary_of(small_demo)["carriers_detail"]]
    charts = page.evaluate(
        """[...document.querySelectorAll('svg[aria-label^="overall reputation of"]')].map(s => ({
            label: s.getAttribute('aria-label'),
            lines: s.querySelectorAll('polyline').length,
            text: s.textContent}))"""
    )
    assert [c["label"] for c in charts] == [f"overall reputation of {n} over chain days" for n in carriers]
    for chart in charts:
        assert chart["lines"] <= 1
        assert "chain day" in chart["text"] and "overall reputation" in chart["text"]
        assert chart["lines"] == 1 or "new: no history yet" in chart["text"]


def test_report__before_and_after_are_the_real_figures_and_new_is_not_zero(page, small_demo):
    reputation = summary_of(small_demo)["reputation"]
    rows = page.evaluate(
        """[...document.querySelectorAll('table.reputation tbody tr')].map(
            r => [...r.cells].map(c => c.textContent))"""
    )

    def shown(ppm: int, samples: int) -> str:
        if samples == 0:
            return "new"
        return f"{ppm / 10_000:.1f} % ({samples} fact{'s' if samples > 1 else ''})"

    assert [r[0] for r in rows] == list(reputation)
    for row in rows:
        r = reputation[row[0]]
        assert row[2] == shown(r["overall_ppm"]["before"], r["samples"]["before"])
        assert row[3] == shown(r["overall_ppm"]["after"], r["samples"]["after"])
    assert not any("0.0 %" in cell and "(0 facts)" in cell for row in rows for cell in row)


def test_report__orders_are_named_by_circuit_and_site_with_currency_and_axis_labels(page, small_demo):
    summary = summary_of(small_demo)
    manager = page.inner_text("#manager")
    for order in summary["orders_detail"]:
        assert f"{order['circuit']}, {order['site']}" in manager
        assert order["order_id"] not in manager
    assert not re.search(r"0x[0-9a-f]{8}", manager)  # no hashes for a manager
    money = page.evaluate("document.querySelector('svg[aria-label^=\"money flow per order\"]').textContent")
    assert "amount escrowed per order (tUSD)" in money and "paid to the seller" in money
    headers = page.evaluate("[...document.querySelectorAll('table.orders th')].map(h => h.textContent)")
    assert "escrowed (tUSD)" in headers and "paid to seller (tUSD)" in headers


def test_report__lateness_in_whole_days_never_0_0_days_late(page):
    deliveries = page.evaluate(
        "[...document.querySelectorAll('table.orders tbody tr')].map(r => r.cells[3].textContent)"
    )
    assert deliveries
    for delivery in deliveries:
        assert re.fullmatch(r"on time|[1-9]\d* days? late|refunded: none reported|not reported", delivery)
    assert "0.0 days late" not in page.inner_text("body")


def test_report__engineering_figures_apart_after_the_manager_part(page):
    manager = page.inner_text("#manager").lower()
    engineering = page.inner_text("#engineering").lower()
    assert "gas" not in manager and "invariants held" not in manager
    assert "gas per operation" in engineering and "invariants held" in engineering
    assert page.evaluate(
        "document.querySelector('#manager').compareDocumentPosition(document.querySelector('#engineering'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING"
    )
