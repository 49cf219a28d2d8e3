"""The MEF 106 Access E-Line OVC product configuration (``@type``
``urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all``), judged as its product schema does:
types, enumerations, ranges (percentages 0-100, VLAN ids 1-4094, a frame size of at least 1526)
and array bounds. Every property is optional except the two end points, as in the schema.

MEF's own Access E-Line use-case documents depart from the schema in two places, and real
documents like them must stay valid, so exactly these two departures are tolerated:

- a class-of-service map's ``l2cp_P`` given as one object where the schema has an array of them;
- an ENNI end point's ``ingressBandwidthProfilePerClassOfServiceName`` given as an empty list
  (the schema asks for at least one entry; at an ENNI the bandwidth profile is often not per CoS).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from offnet.sonata.models.common import (
    Bool,
    ByteUnits,
    Int,
    Number,
    Percentage,
    Rfc3339,
    SonataModel,
    Str,
    describe_errors,
)
from offnet.sonata.rules import one_as_list, unique

X = TypeVar("X")


Unique = BeforeValidator(unique)
Identifier = Annotated[
    str, Field(min_length=1, max_length=45, pattern=r"[\x20-\x7F]+", strict=True)
]  # unanchored, as in JSON Schema
VlanId = Annotated[int, Field(ge=1, le=4094, strict=True)]
Dscp = Annotated[int, Field(ge=0, le=63, strict=True)]
NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
PositiveInt = Annotated[int, Field(ge=1, strict=True)]
Fraction = Annotated[Number, Field(ge=0, le=1)]
PcpValue = Literal["0", "1", "2", "3", "4", "5", "6", "7"]
PcpOrDiscard = Literal["0", "1", "2", "3", "4", "5", "6", "7", "DISCARD"]
DeiOrDiscard = Literal["0", "1", "DISCARD"]
FrameColor = Literal["GREEN", "YELLOW"]
EnabledDisabled = Literal["ENABLED", "DISABLED"]
FrameDispositionValue = Literal["DISCARD", "DELIVER_UNCONDITIONALLY", "DELIVER_CONDITIONALLY"]


class TimeDurationUnits(StrEnum):
    """Units of a Carrier Ethernet ``TimeDuration`` (SLS objectives, period T)."""

    NS = "NS"
    US = "US"
    MS = "MS"
    SEC = "SEC"
    MIN = "MIN"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class TimeDuration(SonataModel):
    timeDurationValue: NonNegativeInt | None = None
    timeDurationUnits: TimeDurationUnits | None = None


class InformationRate(SonataModel):
    irValue: Annotated[Number, Field(ge=0)] | None = None
    irUnits: Literal["BPS", "KBPS", "MBPS", "GBPS", "TBPS", "PBPS", "EBPS", "ZBPS", "YBPS"] | None = None


class DataSize(SonataModel):
    dataSizeValue: Int | None = None
    dataSizeUnits: ByteUnits | None = None


class BwpFlow(SonataModel):
    """One bandwidth-profile flow: committed and excess rates and bursts."""

    cir: InformationRate | None = None
    cirMax: InformationRate | None = None
    cbs: DataSize | None = None
    eir: InformationRate | None = None
    eirMax: InformationRate | None = None
    ebs: DataSize | None = None
    couplingFlag: Bool | None = None
    colorMode: Literal["COLOR_BLIND", "COLOR_AWARE"] | None = None
    envelopeId: Identifier | None = None
    envelopeRank: PositiveInt | None = None
    tokenRequestOffset: Int | None = None


class BandwidthProfilePerClassOfServiceName(SonataModel):
    classOfServiceName: Str | None = None
    bwpFlow: BwpFlow | None = None


# --- SLS ------------------------------------------------------------------------------------------


class OrderedPair(SonataModel):
    fromCarrierEthernetServiceEndPoint: Str | None = None
    toCarrierEthernetServiceEndPoint: Str | None = None


Pairs = Annotated[list[OrderedPair], Field(min_length=1), Unique]
PairsMaybeRepeated = Annotated[list[OrderedPair], Field(min_length=1)]


class FrameDelayMetric(SonataModel):
    orderedPairList: Pairs | None = None
    oneWayFdPercentile: Percentage | None = None
    oneWayFdObjective: TimeDuration | None = None


class MeanFrameDelayMetric(SonataModel):
    orderedPairList: Pairs | None = None
    oneWayMfdObjective: TimeDuration | None = None


class FrameDelayRangeMetric(SonataModel):
    orderedPairList: PairsMaybeRepeated | None = None
    oneWayFdrPercentile: Percentage | None = None
    oneWayFdrObjective: TimeDuration | None = None


class InterFrameDelayVariationMetric(SonataModel):
    orderedPairList: PairsMaybeRepeated | None = None
    timeDuration: TimeDuration | None = None
    oneWayIfdvPencentile: Percentage | None = None  # sic: the schema's spelling
    oneWayIfdvObjective: TimeDuration | None = None


class FrameLossRatioMetric(SonataModel):
    orderedPairList: Pairs | None = None
    oneWayFlrObjective: Percentage | None = None


class AvailabilityMetric(SonataModel):
    orderedPairList: Pairs | None = None
    oneWayAvailabilityObjective: Percentage | None = None


class HighLossIntervalsMetric(SonataModel):
    orderedPairList: Pairs | None = None
    oneWayHighLossIntervalsObjective: NonNegativeInt | None = None


class ConsecutiveHighLossIntervalsMetric(SonataModel):
    orderedPairList: Pairs | None = None
    consecutiveNumberP: PositiveInt | None = None
    oneWayChliObjective: PositiveInt | None = None


class CompositeMetric(SonataModel):
    orderedPairList: Pairs | None = None
    compositePerformanceIndicatorThreshold: Fraction | None = None
    compositeFrameLoss: Annotated[int, Field(ge=0, le=1, strict=True)] | None = None
    compositeFrameDelay: Annotated[int, Field(ge=0, le=1, strict=True)] | None = None
    compositeFrameDelayVariation: Annotated[int, Field(ge=0, le=1, strict=True)] | None = None
    oneWayFdThreshold: TimeDuration | None = None
    oneWayIfdvThreshold: TimeDuration | None = None
    cpmObjective: Percentage | None = None


def _metrics(model: type[X], most: int | None = None) -> Any:
    return Annotated[list[model], Field(max_length=most), Unique] | None  # type: ignore[valid-type]


class SlsCosNameEntry(SonataModel):
    """The performance objectives of one class of service."""

    cosName: Annotated[str, Field(min_length=1, strict=True)] | None = None
    deltaT: PositiveInt | None = None
    thresholdC: Fraction | None = None
    consecutiveIntervalN: PositiveInt | None = None
    oneWayFrameDelayPmMetric: _metrics(FrameDelayMetric) = None
    oneWayMeanFrameDelayPmMetric: _metrics(MeanFrameDelayMetric) = None
    oneWayFrameDelayRangePmMetric: _metrics(FrameDelayRangeMetric) = None
    oneWayInterFrameDelayVariationPmMetric: _metrics(InterFrameDelayVariationMetric) = None
    oneWayFrameLossRatioPmMetric: _metrics(FrameLossRatioMetric, 1) = None
    oneWayAvailabilityPmMetric: _metrics(AvailabilityMetric) = None
    oneWayHighLossIntervalsPmMetric: _metrics(HighLossIntervalsMetric) = None
    oneWayConsecutiveHighLossIntervalsPmMetric: _metrics(ConsecutiveHighLossIntervalsMetric) = None
    oneWayCompositePmMetric: _metrics(CompositeMetric) = None
    oneWayGroupAvailabilityPmMetric: _metrics(AvailabilityMetric) = None


class CarrierEthernetSls(SonataModel):
    startTime: Rfc3339 | None = None
    timeDuration: TimeDuration | None = None
    slsCosNameEntry: Annotated[list[SlsCosNameEntry], Field(min_length=1), Unique] | None = None


# --- maps at an end point -------------------------------------------------------------------------


class L2cpProtocol(SonataModel):
    l2cpProtocolType: Literal["ETHERTYPE", "LLC"] | None = None
    llcAddressOrEtherType: NonNegativeInt | None = None
    subType: NonNegativeInt | None = None


class CosL2cp(SonataModel):
    l2cpIdentifier: L2cpProtocol | None = None
    l2cpCosName: Str | None = None


L2cpList = Annotated[list[CosL2cp], BeforeValidator(one_as_list), Unique]


class CosStagPcpMapEntry(SonataModel):
    pcpVal: PcpValue | None = None
    pcpCosName: Str | None = None


class CosUniPcpMapEntry(SonataModel):
    pcpVal: Literal["0", "1", "2", "3", "4", "5", "6", "7", "UNTAGGED"] | None = None
    pcpCosName: Str | None = None


class DscpValues(SonataModel):
    dscpValues: Annotated[list[Dscp], Field(min_length=1), Unique] | None = None


class CosDscpMapEntry(SonataModel):
    ipv4List: DscpValues | None = None
    ipv6List: DscpValues | None = None
    cosName: Str | None = None


class CosDscpMap(SonataModel):
    dscpValueCoSList: Annotated[list[CosDscpMapEntry], Unique] | None = None
    otherIPv4: Str | None = None
    otherIPv6: Str | None = None
    notIP: Str | None = None


class CosFromEndPoint(SonataModel):
    mapType: Literal["ENDPOINT"] | None = None
    map_M: Str | None = None
    l2cp_P: L2cpList | None = None


class CosFromStagPcp(SonataModel):
    mapType: Literal["S_TAG_PCP"] | None = None
    map_M: Annotated[list[CosStagPcpMapEntry], Field(min_length=8, max_length=8), Unique] | None = None
    l2cp_P: L2cpList | None = None


class CosFromCtagPcp(SonataModel):
    mapType: Literal["C_TAG_PCP"] | None = None
    map_M: Annotated[list[CosUniPcpMapEntry], Field(min_length=9, max_length=9), Unique] | None = None
    l2cp_P: L2cpList | None = None


class CosFromDscp(SonataModel):
    mapType: Literal["DSCP"] | None = None
    map_M: CosDscpMap | None = None
    l2cp_P: L2cpList | None = None


class ColorFromPcpEntry(SonataModel):
    pcpValue: PcpValue | None = None
    pcpColor: FrameColor | None = None


class ColorFromDscpEntry(SonataModel):
    dscpList: Annotated[list[Dscp], Field(min_length=1), Unique] | None = None
    ipv4Color: FrameColor | None = None
    ipv6Color: FrameColor | None = None


class ColorFromDei(SonataModel):
    mapType: Literal["DEI"] | None = None


class ColorFromPcp(SonataModel):
    mapType: Literal["PCP"] | None = None
    colorFromPcpMap: Annotated[list[ColorFromPcpEntry], Field(min_length=8, max_length=8), Unique] | None = (
        None
    )


class ColorFromDscp(SonataModel):
    mapType: Literal["DSCP"] | None = None
    colorFromDscpMap: Annotated[list[ColorFromDscpEntry], Field(min_length=1), Unique] | None = None


class ColorFromEndPoint(SonataModel):
    mapType: Literal["ENDPOINT"] | None = None
    epColor: FrameColor | None = None


class CnPcp(SonataModel):
    cosName: Str | None = None
    pcpValue: PcpOrDiscard | None = None


class CcDei(SonataModel):
    cosName: Str | None = None
    deiGeen: DeiOrDiscard | None = None  # sic: the schema's spelling
    deiYellow: DeiOrDiscard | None = None


class CcPcp(SonataModel):
    cosName: Str | None = None
    pcpGreen: PcpOrDiscard | None = None
    pcpYellow: PcpOrDiscard | None = None


class PcpFromCos(SonataModel):
    mapType: Literal["CN_PCP"] | None = None
    cnPcpEntries: Annotated[list[CnPcp], Field(min_length=1), Unique] | None = None


class DeiFromCosColor(SonataModel):
    mapType: Literal["CC_DEI"] | None = None
    ccDeiEntries: Annotated[list[CcDei], Field(min_length=1), Unique] | None = None


class PcpFromCosColor(SonataModel):
    mapType: Literal["CC_PCP"] | None = None
    ccPcpEntries: Annotated[list[CcPcp], Field(min_length=1), Unique] | None = None


class PcpFromCosDeiFromCosColor(SonataModel):
    mapType: Literal["CN_PCP_CC_DEI"] | None = None
    cnPcpCcDeiEntries: Annotated[list[PcpFromCosDeiFromCosColor], Field(min_length=1), Unique] | None = None


class EndPointMapFormU(SonataModel):
    mapType: Literal["FORM_U"] | None = None
    ovcEndPointMapFormU: Annotated[list[VlanId], Field(min_length=1, max_length=4094), Unique] | None = None


class EndPointMapFormE(SonataModel):
    mapType: Literal["FORM_E"] | None = None
    ovcEndPointMapFormE: Annotated[list[VlanId], Field(min_length=1, max_length=4094), Unique] | None = None


class OneOf:
    """The schema's ``oneOf`` (an after-validator): the value must match exactly one of the shapes.
    The shapes are kept as an attribute so the pre-check can read them."""

    def __init__(self, *shapes: type[SonataModel]) -> None:
        self.shapes = shapes

    def __call__(self, value: Any) -> Any:
        if value is None:
            return value
        matched, reasons = [], []
        for shape in self.shapes:
            try:
                shape.model_validate(value)
                matched.append(shape.__name__)
            except ValidationError as exc:
                reasons.append(f"{shape.__name__}: {describe_errors(exc)}")
        if not matched:
            raise ValueError("matches none of the allowed shapes (" + "; ".join(reasons) + ")")
        if len(matched) > 1:
            raise ValueError(f"matches several shapes ({', '.join(matched)}); give mapType")
        return value


def one_of(*shapes: type[SonataModel]) -> AfterValidator:
    """The schema's ``oneOf`` on a field."""
    return AfterValidator(OneOf(*shapes))


class AggLinkDepth(SonataModel):
    vlanID: VlanId | None = None
    lagDepth: PositiveInt | None = None


class SourceMacAddressLimit(SonataModel):
    limit: PositiveInt | None = None
    interval: TimeDuration | None = None


class MepLevelAndDirection(SonataModel):
    level: Annotated[int, Field(ge=0, le=7, strict=True)] | None = None
    mepDirection: Literal["UP", "DOWN"] | None = None


class EnvelopeRef(SonataModel):
    envelopeID: Identifier | None = None
    couplingFlagForIndexZero: Bool | None = None


class ConversationIdRange(SonataModel):
    start: Annotated[int, Field(ge=0, le=4094, strict=True)] | None = None
    end: Annotated[int, Field(ge=0, le=4094, strict=True)] | None = None


class ConversationIdToAggregationLinkMap(SonataModel):
    conversationIDs: Annotated[list[ConversationIdRange], Field(min_length=1), Unique] | None = None
    aggLinkList: Annotated[list[PositiveInt], Field(min_length=1), Unique] | None = None


CosMapValue = Annotated[Any, one_of(CosFromEndPoint, CosFromStagPcp, CosFromCtagPcp, CosFromDscp)]
EgressMapValue = Annotated[
    Any, one_of(PcpFromCos, DeiFromCosColor, PcpFromCosColor, PcpFromCosDeiFromCosColor)
]
BwpPerCos = Annotated[list[BandwidthProfilePerClassOfServiceName], Unique]


class OvcEndPoint(SonataModel):
    """One OVC end point (at the UNI or at the ENNI)."""

    identifier: Identifier | None = None
    ovcEndPointMap: Annotated[Any, one_of(EndPointMapFormU, EndPointMapFormE)] = None
    ingressClassOfServiceMap: CosMapValue = None
    colorMap: Annotated[Any, one_of(ColorFromDei, ColorFromPcp, ColorFromDscp, ColorFromEndPoint)] = None
    ovcEgressMap: Annotated[list[EgressMapValue], Field(max_length=1), Unique] | None = None
    egressEquivalenceClassIdentifier: CosMapValue = None
    egressBandwidthProfilePerEndPoint: Annotated[list[BwpFlow], Field(max_length=1), Unique] | None = None
    ingressBandwidthProfilePerClassOfServiceName: BwpPerCos | None = None
    egressBwpPerEgressEquivalenceClassName: list[BandwidthProfilePerClassOfServiceName] | None = None
    aggregationLinkDepth: Annotated[list[AggLinkDepth], Unique] | None = None
    sourceMacAddressLimit: Annotated[list[SourceMacAddressLimit], Field(max_length=1), Unique] | None = None
    maintenanceIntermediatePoint: Literal["0", "1", "2", "3", "4", "5", "6", "7", "NONE"] | None = None
    maintenanceEndPointList: Annotated[list[MepLevelAndDirection], Field(max_length=16), Unique] | None = None
    ovcEndPointEnvelopes: Annotated[list[EnvelopeRef], Unique] | None = None
    ovcEndPointPortConversationToAggregationLinkMap: (
        Annotated[list[ConversationIdToAggregationLinkMap], Unique] | None
    ) = None


class UniEndPoint(OvcEndPoint):
    """The end point at the UNI: at least one ingress bandwidth profile per class of service."""

    ingressBandwidthProfilePerClassOfServiceName: Annotated[BwpPerCos, Field(min_length=1)] | None = None


class FrameDisposition(SonataModel):
    unicast: FrameDispositionValue | None = None
    multicast: FrameDispositionValue | None = None
    broadcast: FrameDispositionValue | None = None


class AccessElineOvc(SonataModel):
    """The Access E-Line OVC product configuration (the properties beside ``@type``)."""

    maximumFrameSize: Annotated[int, Field(ge=1526, strict=True)] | None = None
    ceVlanIdPreservation: Literal["PRESERVE", "STRIP", "RETAIN"] | None = None
    cTagPcpPreservation: EnabledDisabled | None = None
    cTagDeiPreservation: EnabledDisabled | None = None
    listOfClassOfServiceNames: Annotated[list[Str], Field(min_length=1), Unique] | None = None
    carrierEthernetSls: Annotated[list[CarrierEthernetSls], Field(max_length=1), Unique] | None = None
    frameDisposition: FrameDisposition | None = None
    availableMegLevel: Literal["0", "1", "2", "3", "4", "5", "6"] | None = None
    ovcL2cpAddressSet: Literal["CTA", "CTB", "CTB2"] | None = None
    uniEp: UniEndPoint
    enniEp: OvcEndPoint
