"""Example Sonata payloads for an Access E-Line (written for offnet, not taken from MEF's files).

``quote_create.json``, ``quote.json``, ``product_order_create.json``, ``product_order.json``,
``trouble_ticket_create.json``, ``trouble_ticket.json``, ``access_eline_configuration.json`` and one
envelope per notification in ``notifications/<api>.<eventType>.json``. The demo, the reference
seller's documentation and the tests use them.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

_ROOT = resources.files(__name__)


def load_example(name: str) -> Any:
    """The parsed JSON of example ``name``, e.g. ``"quote_create"`` or
    ``"notifications/quoteNotification.quoteStateChangeEvent"``."""
    resource = _ROOT.joinpath(*f"{name}.json".split("/"))
    if not resource.is_file():
        raise LookupError(f"no Sonata example named {name!r}; known: {', '.join(example_names())}")
    return json.loads(resource.read_text(encoding="utf-8"))


def example_names() -> list[str]:
    """Names of every example payload, notifications included."""
    names = [p.name[:-5] for p in _ROOT.iterdir() if p.name.endswith(".json")]
    names += [
        f"notifications/{p.name[:-5]}"
        for p in _ROOT.joinpath("notifications").iterdir()
        if p.name.endswith(".json")
    ]
    return sorted(names)


def notification_examples() -> list[tuple[str, str, dict[str, Any]]]:
    """Every example envelope as ``(notification API, eventType, body)``."""
    result = []
    for name in example_names():
        if name.startswith("notifications/"):
            api, event_type = name.removeprefix("notifications/").split(".")
            result.append((api, event_type, load_example(name)))
    return result
