"""What the conformance tests share: the SDK found, the buyer's token, the bounded number of
examples per operation, and the report printed at the end of the session."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, settings
from mef import find_sdk

SDK = find_sdk()
BUYER_TOKEN = "conformance-buyer"
EXAMPLES_PER_OPERATION = 12

BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
"""A bounded, reproducible number of generated examples for each operation or schema."""


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
