"""Delivery of the seller's notifications to the buyers' listeners (thin envelopes, bearer token)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from offnet.sonata.client import shared_ssl_context
from offnet.sonata.seller.engine import Delivery


@dataclass(frozen=True)
class DeliveryRecord:
    """What happened to one notification: final HTTP status (None if unreachable) and attempts."""

    event_id: str
    event_type: str
    url: str
    status: int | None
    attempts: int
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "eventType": self.event_type,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "delivered": self.delivered,
        }


class NotificationSender:
    """POSTs envelopes in order, retrying connection errors and 5xx a few times with backoff."""

    def __init__(
        self, token: str | None, *, timeout: float = 5.0, attempts: int = 3, backoff: float = 0.1
    ) -> None:
        self.token = token
        self.attempts = attempts
        self.backoff = backoff
        self.log: list[DeliveryRecord] = []
        self._http = httpx.AsyncClient(timeout=timeout, verify=shared_ssl_context())
        self._lock = asyncio.Lock()

    async def send(self, deliveries: list[Delivery]) -> list[DeliveryRecord]:
        """Deliver each notification (in order) and record the outcome."""
        async with self._lock:
            records = [await self._deliver(d) for d in deliveries]
            self.log.extend(records)
            return records

    async def _deliver(self, delivery: Delivery) -> DeliveryRecord:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        status, error = None, None
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self._http.post(delivery.url, json=delivery.body, headers=headers)
                status, error = response.status_code, None
                if status < 500:
                    break
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                # A callback MEF's schema allows (any string) may still be no reachable URL.
                status, error = None, f"{type(exc).__name__}: {exc}"
                if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
                    break
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        return DeliveryRecord(
            delivery.body["eventId"], delivery.event_type, delivery.url, status, attempt, error
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
