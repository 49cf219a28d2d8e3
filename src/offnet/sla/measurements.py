"""One month of in-life measurements of a circuit, as the seller's Y.1731 tooling (or the reference
seller's simulator) states it, checked strictly before any of it becomes an on-chain fact.

A typo must never go on chain as a figure: `{"availabilty": 99.99}` would otherwise read as 0 %
availability and trigger the maximum credit. So unknown keys, missing metrics and values out of
range are refused, naming the field, and each metric may be given in one unit only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from offnet.exceptions import InvalidInput
from offnet.sonata.models import percent_to_ppm

PPM = 1_000_000
UINT32 = 2**32 - 1


class Outage(BaseModel):
    """One outage of the month (the simulator lists them; a carrier's file may too)."""

    model_config = ConfigDict(extra="forbid")

    start: Any = None
    end: Any = None
    durationSeconds: int = Field(ge=0, le=UINT32)


class Measurement(BaseModel):
    """The metrics of one month: availability, frame delay and frame loss are required."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    availabilityPpm: int | None = Field(None, ge=0, le=PPM)
    availabilityPercent: float | None = Field(None, ge=0, le=100)
    frameDelayUs: int = Field(ge=0, le=UINT32)
    frameLossRatioPpm: int | None = Field(None, ge=0, le=PPM)
    frameLossRatioPercent: float | None = Field(None, ge=0, le=100)
    timeToRestoreSec: int | None = Field(None, ge=0, le=UINT32)
    outages: int | list[Outage] = Field(0)
    # Context some sources add; never turned into figures.
    orderId: str | None = None
    period: str | None = None
    periodStart: Any = None
    periodEnd: Any = None
    measuredFrom: Any = None
    source: str | None = None
    frameDelayPercentile: float | None = Field(None, ge=0, le=100)
    meanFrameDelayUs: int | None = Field(None, ge=0, le=UINT32)
    ifdvUs: int | None = Field(None, ge=0, le=UINT32)

    @model_validator(mode="after")
    def _one_unit_each(self) -> Measurement:
        for name, ppm, percent in (
            ("availability", self.availabilityPpm, self.availabilityPercent),
            ("frame loss ratio", self.frameLossRatioPpm, self.frameLossRatioPercent),
        ):
            if ppm is None and percent is None:
                raise ValueError(f"{name} is missing (give it in ppm or in percent)")
            if ppm is not None and percent is not None and ppm != percent_to_ppm(percent):
                raise ValueError(f"{name} is given twice with different values")
        if isinstance(self.outages, int) and not 0 <= self.outages <= 65_535:
            raise ValueError("outages must be a count from 0 to 65535")
        if isinstance(self.outages, list) and len(self.outages) > 65_535:
            raise ValueError("more than 65535 outages in one month")
        return self

    @property
    def availability_ppm(self) -> int:
        return _in_ppm(self.availabilityPpm, self.availabilityPercent)

    @property
    def frame_loss_ppm(self) -> int:
        return _in_ppm(self.frameLossRatioPpm, self.frameLossRatioPercent)


def _in_ppm(ppm: int | None, percent: float | None) -> int:
    """A metric given in ppm or in percent (the validator saw that one of them is), in ppm."""
    return ppm if ppm is not None else percent_to_ppm(percent)  # type: ignore[arg-type]


def read_measurement(data: Any, where: str = "measurement") -> Measurement:
    """`data` checked as a Measurement; InvalidInput names every field at fault, on one line."""
    if isinstance(data, Measurement):
        return data
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a JSON object of metrics")
    try:
        return Measurement.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            (f"{'.'.join(map(str, e['loc']))}: " if e["loc"] else "") + _message(e) for e in exc.errors()
        )
        raise InvalidInput(f"{where}: {problems}") from None


def _message(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field (a typo?)"
    if error["type"] == "missing":
        return "missing"
    return error["msg"].removeprefix("Value error, ")
