"""The oracle listener against the three notification specs: every one of the 18 event types,
with envelopes Schemathesis generates from the specs, is accepted (204, stored) and every answer
is one the spec documents; an envelope the schema refuses gets a MEF 400."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from conformance_support import BOUNDED, Report
from hypothesis import given
from mef import NOTIFICATION_SPECS, base_path, load
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from offnet.oracle.listener import Peer, create_listener_app
from offnet.oracle.store import Store
from offnet.serving import serve_in_thread
from offnet.sonata.models import ANY_MEDIA_TYPE_EVENTS

SELLER_TOKEN = "conformance-seller"
AUTH = {"Authorization": f"Bearer {SELLER_TOKEN}"}


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('listener') / 'oracle.db'}")
    with serve_in_thread(create_listener_app(store, [Peer("seller", SELLER_TOKEN)])) as url:
        yield url, store


def _send(case: Any, url: str) -> Any:
    if case.operation.path.rsplit("/", 1)[-1] not in ANY_MEDIA_TYPE_EVENTS:
        return case.call(base_url=url, headers=AUTH)
    # Five operations declare their body as "*/*": Schemathesis then encodes the envelope as YAML,
    # XML or multipart too, which no Sonata notifier sends. The envelope goes as JSON, under the
    # Content-Type Schemathesis chose.
    headers = {**AUTH, "Content-Type": case.media_type}
    return httpx.post(url + case.formatted_path, content=json.dumps(case.body), headers=headers)


def _accepts(op: Any, base: str, url: str, report: Report) -> None:
    event_type = op.path.rsplit("/", 1)[-1]
    report.event_types.setdefault(event_type, 0)

    @given(case=op.as_strategy())
    @BOUNDED
    def run(case: Any) -> None:
        response = _send(case, url + base)
        try:
            case.validate_response(response, checks=[status_code_conformance, content_type_conformance])
        except Exception as failure:
            report.violations.append(f"{base} POST {op.path}: {str(failure)[:400]}")
        if response.status_code == 204:
            report.event_types[event_type] += 1
        else:  # a MEF-valid envelope refused
            report.violations.append(
                f"{base} POST {op.path}: refused {case.media_type} {case.body!r:.200}: {response.text[:300]}"
            )

    run()


def test_every_event_type_of_the_notification_specs__is_accepted(
    sdk: Path, listener: tuple[str, Store], report: Report
) -> None:
    url, store = listener
    for relative in NOTIFICATION_SPECS.values():
        base = base_path(load(sdk / relative))
        for operation in schemathesis.openapi.from_path(str(sdk / relative)).get_all_operations():
            _accepts(operation.ok(), base, url, report)
    assert [v for v in report.violations if "Notification/" in v] == []
    assert len(report.event_types) == 18
    assert all(report.event_types.values()), report.event_types
    assert sum(store.counts().values()) > 0


def test_an_envelope_the_schema_refuses__gets_a_mef_400_and_is_not_stored(
    listener: tuple[str, Store],
) -> None:
    url, store = listener
    before = store.counts()
    path = "/mefApi/sonata/troubleTicketNotification/v4/listener/incidentCreateEvent"
    body = {
        "eventId": "e-1",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventType": "incidentCreateEvent",
        "event": {},
    }
    response = httpx.post(url + path, json=body, headers=AUTH)
    assert (response.status_code, response.json()["code"]) == (400, "invalidBody")
    assert "event.id" in response.json()["message"] and len(response.json()["reason"]) <= 255
    assert store.counts() == before
