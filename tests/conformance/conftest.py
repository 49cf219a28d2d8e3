"""The conformance suite: offnet's Sonata side judged by the real MEF specs, read from the SDK
folder at test time (``$MEF_SDK``, else ``../shared/mef-sdk`` beside the checkout, else
``/work/shared/mef-sdk``). Without the SDK the suite is skipped in one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conformance_support import BUYER_TOKEN, REPORT, SDK, Report
from mef import Judge

from offnet.serving import serve_in_thread
from offnet.sonata.seller import create_seller_app

if SDK is None:
    collect_ignore_glob = ["test_*.py"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SDK is None:
        terminalreporter.write_line("MEF conformance skipped: no MEF SDK ($MEF_SDK, ../shared/mef-sdk)")
    elif REPORT.operations or REPORT.valid_documents or REPORT.event_types:
        for line in REPORT.lines():
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def sdk() -> Path:
    assert SDK is not None
    return SDK


@pytest.fixture(scope="session")
def judge(sdk: Path) -> Judge:
    return Judge(sdk)


@pytest.fixture(scope="session")
def report() -> Report:
    return REPORT


@pytest.fixture(scope="module")
def seller_url() -> Iterator[str]:
    """The reference seller over real HTTP (static token for the buyer)."""
    app = create_seller_app(tokens={BUYER_TOKEN: "buyer"}, instance="mef", seed="conformance")
    with serve_in_thread(app) as url:
        yield url
