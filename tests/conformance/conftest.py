"""The conformance suite: offnet's Sonata side judged by the real MEF specs, read from the SDK
folder at test time (``$MEF_SDK``, else ``../shared/mef-sdk`` beside the checkout, else
``/work/shared/mef-sdk``). Without the SDK the suite is skipped in one line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mef import Judge, find_sdk

from offnet.sonata.seller import create_seller_app, serve_in_thread

SDK = find_sdk()
BUYER_TOKEN = "conformance-buyer"
EXAMPLES_PER_OPERATION = 12

if SDK is None:
    collect_ignore_glob = ["test_*.py"]


@dataclass
class Report:
    """What the suite found, printed at the end of the session."""

    operations: dict[str, Counter] = field(default_factory=dict)  # label -> statuses seen
    violations: list[str] = field(default_factory=list)  # responses MEF's schemas refuse
    event_types: dict[str, int] = field(default_factory=dict)  # event type -> 204 answers
    valid_documents: Counter = field(default_factory=Counter)  # kind -> MEF-valid docs accepted
    invalid_documents: Counter = field(default_factory=Counter)  # kind -> MEF-invalid docs refused
    client_answers: Counter = field(default_factory=Counter)  # operation -> MEF-valid answers read

    def lines(self) -> list[str]:
        conforming = [label for label, seen in self.operations.items() if seen and not self._violated(label)]
        accepted = [event for event, count in self.event_types.items() if count]
        return [
            f"MEF conformance (SDK at {SDK}):",
            f"  seller operations answering as MEF documents: {len(conforming)} of {len(self.operations)}",
            f"  schema violations in responses: {len(self.violations)}",
            f"  event types accepted by the listener: {len(accepted)} of {len(self.event_types)}",
            f"  MEF-valid documents accepted: {sum(self.valid_documents.values())} "
            f"({len(self.valid_documents)} kinds)",
            f"  MEF-invalid documents refused: {sum(self.invalid_documents.values())} "
            f"({len(self.invalid_documents)} kinds)",
            f"  MEF-valid answers read by the client: {sum(self.client_answers.values())} "
            f"({len(self.client_answers)} operations)",
        ]

    def _violated(self, label: str) -> bool:
        return any(v.startswith(label + ":") for v in self.violations)


REPORT = Report()


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
