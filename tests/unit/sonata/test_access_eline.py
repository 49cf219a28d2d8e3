"""The MEF 106 Access E-Line product configuration judged as its product schema does (types,
enumerations, ranges, one-of maps), with exactly the two departures MEF's own use cases make."""

from __future__ import annotations

from typing import Any

import pytest

from offnet.sonata.examples import load_example
from offnet.sonata.models import ProductConfiguration, QuoteCreate, validate

SLS = ["carrierEthernetSls", 0, "slsCosNameEntry", 0]


def configuration(path: list[Any] | None = None, value: Any = None) -> dict[str, Any]:
    document = load_example("access_eline_configuration")
    if path:
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    return document


def refusal(document: dict[str, Any]) -> str:
    request = load_example("quote_create")
    request["quoteItem"][0]["product"]["productConfiguration"] = document
    with pytest.raises(ValueError) as refused:
        validate(QuoteCreate, request)
    assert "\n" not in str(refused.value)
    return str(refused.value)


def test_the_example_configuration__is_valid() -> None:
    assert ProductConfiguration.model_validate(configuration()).type.endswith("access-eline-ovc:v5.0.0:all")


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["maximumFrameSize"], "huge", "maximumFrameSize"),
        (["maximumFrameSize"], 1500, "maximumFrameSize"),
        (["ceVlanIdPreservation"], "MAYBE", "ceVlanIdPreservation"),
        ([*SLS, "oneWayFrameLossRatioPmMetric", 0, "oneWayFlrObjective"], 150, "oneWayFlrObjective"),
        (
            [*SLS, "oneWayAvailabilityPmMetric", 0, "oneWayAvailabilityObjective"],
            "99.95",
            "oneWayAvailabilityObjective",
        ),
        (
            [*SLS, "oneWayFrameDelayPmMetric", 0, "oneWayFdObjective", "timeDurationUnits"],
            "FORTNIGHT",
            "timeDurationUnits",
        ),
        ([*SLS, "thresholdC"], 2, "thresholdC"),
        (["uniEp", "ovcEndPointMap", "ovcEndPointMapFormU"], [5000], "ovcEndPointMap"),
        (["uniEp", "ovcEndPointMap"], {}, "matches several shapes"),
        (
            ["uniEp", "ingressBandwidthProfilePerClassOfServiceName", 0, "bwpFlow", "cir", "irUnits"],
            "MB",
            "irUnits",
        ),
        (
            ["uniEp", "ingressBandwidthProfilePerClassOfServiceName"],
            [],
            "ingressBandwidthProfilePerClassOfServiceName",
        ),
        (["listOfClassOfServiceNames"], ["H", "H"], "array items must be unique"),
        (["uniEp"], None, "uniEp"),
    ],
)
def test_a_mef_invalid_configuration__is_refused_in_one_line_naming_the_field(
    path: list[Any], value: Any, field: str
) -> None:
    assert field in refusal(configuration(path, value))


def test_the_departures_of_mefs_own_use_cases__are_tolerated_and_nothing_more() -> None:
    document = configuration()
    document["uniEp"]["ingressClassOfServiceMap"]["l2cp_P"] = {
        "l2cpIdentifier": {"l2cpProtocolType": "ETHERTYPE", "llcAddressOrEtherType": 34825},
        "l2cpCosName": "H",
    }
    document["enniEp"]["ingressBandwidthProfilePerClassOfServiceName"] = []
    ProductConfiguration.model_validate(document)  # both departures: valid
    document["uniEp"]["ingressClassOfServiceMap"]["l2cp_P"] = "LACP"
    assert "l2cp_P" in refusal(document)
