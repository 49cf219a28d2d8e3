"""Behaviour profiles of the reference seller: how prompt, punctual, reliable and cheap it is."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class BehaviourProfile:
    """Everything that makes one simulated carrier good or bad. Ranges are (low, high), drawn
    uniformly from the seller's seed, so one seed always gives the same story."""

    name: str
    # Quoting: hours from request to answer; chance of answering after the buyer's deadline.
    quote_delay_hours: tuple[float, float] = (2.0, 20.0)
    late_quote_probability: float = 0.0
    unable_to_provide_probability: float = 0.0
    quote_validity_days: int = 30
    # Delivery: quoted installation interval, and completion relative to the committed
    # expectedCompletionDate (negative = early).
    installation_days: tuple[int, int] = (20, 30)
    delivery_slip_days: tuple[float, float] = (-2.0, 0.0)
    delivery_failure_probability: float = 0.0
    # In life: outages per month (Poisson mean), hours to restore each, and the measured
    # frame delay (ms), inter-frame delay variation (ms) and frame loss ratio (percent).
    outages_per_month: float = 0.2
    restore_hours: tuple[float, float] = (1.0, 3.0)
    frame_delay_ms: tuple[float, float] = (8.0, 20.0)
    ifdv_ms: tuple[float, float] = (0.5, 2.0)
    frame_loss_percent: tuple[float, float] = (0.0, 0.0005)
    # API reliability: chance of a 5xx on any Sonata call, chance a notification is never sent.
    error_probability: float = 0.0
    silent_probability: float = 0.0
    # Prices, in the quote currency.
    currency: str = "EUR"
    installation_price: tuple[float, float] = (800.0, 1200.0)
    monthly_price: tuple[float, float] = (350.0, 450.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("probability") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be within 0-1, got {value}")
            if isinstance(value, tuple) and value[0] > value[1]:
                raise ValueError(f"{f.name} range {value} has low > high")
        if self.outages_per_month < 0:
            raise ValueError("outages_per_month must be >= 0")

    def with_overrides(self, **overrides: Any) -> BehaviourProfile:
        """A copy with some fields changed (validated again)."""
        return replace(self, **overrides)


PRESETS: dict[str, BehaviourProfile] = {
    p.name: p
    for p in (
        BehaviourProfile(
            "prompt-and-punctual",
            quote_delay_hours=(1.0, 6.0),
            delivery_slip_days=(-3.0, -0.5),
            outages_per_month=0.1,
            restore_hours=(0.5, 2.0),
        ),
        BehaviourProfile(
            "cheap-but-late",
            quote_delay_hours=(12.0, 60.0),
            late_quote_probability=0.5,
            delivery_slip_days=(5.0, 20.0),
            installation_price=(300.0, 500.0),
            monthly_price=(220.0, 280.0),
            outages_per_month=0.5,
            restore_hours=(3.0, 10.0),
        ),
        BehaviourProfile(
            "good-quotes-poor-availability",
            quote_delay_hours=(1.0, 4.0),
            installation_price=(500.0, 700.0),
            monthly_price=(250.0, 300.0),
            outages_per_month=4.0,
            restore_hours=(4.0, 14.0),
            frame_delay_ms=(30.0, 140.0),
            frame_loss_percent=(0.0005, 0.01),
        ),
        BehaviourProfile("often-silent", silent_probability=0.6, delivery_slip_days=(0.0, 3.0)),
        BehaviourProfile("flaky-api", error_probability=0.3),
    )
}


def get_profile(name: str) -> BehaviourProfile:
    """The named preset (LookupError listing the presets otherwise)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise LookupError(f"no seller profile {name!r}; presets: {', '.join(PRESETS)}") from None
