"""Constants and helpers of the ledger tests (imported by the tests and their conftest)."""

from __future__ import annotations

from typing import Any

from web3.logs import DISCARD

from offnet.chain import Receipt, Sender
from offnet.market.ledger import LedgerClient
from offnet.market.types import CreditSchedule, PeriodMetrics

DAY = 86_400
LIVENESS = 2 * DAY
ONE_TIME = 1_000_000_000
MONTHLY = 500_000_000

CREDITS = CreditSchedule(
    late_delivery_bps_per_day=100,
    late_delivery_cap_bps=2_000,
    availability_objective_ppm=999_500,
    availability_credit_bps=1_000,
    frame_delay_objective_us=10_000,
    frame_delay_credit_bps=500,
    frame_loss_objective_ppm=10,
    frame_loss_credit_bps=500,
    time_to_restore_objective_sec=4 * 3600,
    time_to_restore_credit_bps=1_000,
    monthly_credit_cap_bps=3_000,
)
GOOD_MONTH = PeriodMetrics(
    availability_ppm=999_900, frame_delay_us=8_000, frame_loss_ppm=5, time_to_restore_sec=3_600, outages=1
)
BAD_MONTH = PeriodMetrics(
    availability_ppm=998_000,
    frame_delay_us=12_000,
    frame_loss_ppm=50,
    time_to_restore_sec=6 * 3600,
    outages=3,
)


def events(client: LedgerClient, receipt: Receipt, name: str) -> list[Any]:
    """The decoded `name` events the ledger emitted in a transaction."""
    event = getattr(client.contract.events, name)()
    return [e.args for e in event.process_receipt(receipt.raw, errors=DISCARD)]


class UnestimatedSender(Sender):
    """The real Sender, minus gas estimation, which eth-tester does by bisection (about ten EVM runs
    per transaction, three quarters of this test area's time). Every transaction gets a fixed
    allowance; gas_used is unaffected and refusals are still decoded, from the replay of the
    failed transaction."""

    ALLOWANCE = 3_000_000

    def _estimate(self, tx: dict) -> int:
        return self.ALLOWANCE
