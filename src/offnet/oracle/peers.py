"""Who this oracle talks to: the Sonata client toward each peer's seller API and toward our own
Sonata system, and the fetch of a peer's signed quote from its oracle."""

from __future__ import annotations

import asyncio
import json

import httpx

from offnet.exceptions import InvalidInput
from offnet.market.codec import signed_quote_from_json
from offnet.market.quotes import SignedQuote
from offnet.oracle.config import OracleConfig, PeerConfig
from offnet.oracle.store import Store
from offnet.sonata.auth import ClientCredentials, TokenSource
from offnet.sonata.client import SonataClient
from offnet.sonata.models import PRODUCT_ORDER_API, QUOTE_API, TROUBLE_TICKET_API

SELF = "self"  # the peer name of our own Sonata system
SIGNED_QUOTE_DEADLINE = 15.0  # seconds for a peer oracle's whole answer
SIGNED_QUOTE_MAX_BYTES = 16 * 1024


class PeerClients:
    """One Sonata client per peer (and for our own system), created on first use and kept."""

    def __init__(self, config: OracleConfig, store: Store):
        self.config = config
        self.store = store
        self._clients: dict[str, SonataClient] = {}

    def sonata(self, peer_name: str) -> SonataClient:
        """The Sonata client toward a peer's seller API, or toward our own system (peer `self`)."""
        if peer_name not in self._clients:
            if peer_name == SELF:
                seller = self.config.seller
                if seller is None:
                    raise LookupError("this oracle has no seller section: it has no Sonata system of its own")
                client = SonataClient(seller.sonata_url, seller.operator_token.read())
            else:
                peer = self.config.peer(peer_name)
                client = SonataClient(peer.sonata_url, _auth(peer), buyer_id=self.config.member)
            self._clients[peer_name] = client
        return self._clients[peer_name]

    async def subscribe(self, peer_name: str) -> None:
        """Register our listener at a seller's hubs (once per peer and API, remembered)."""
        for api in (QUOTE_API, PRODUCT_ORDER_API, TROUBLE_TICKET_API):
            if self.store.subscription(peer_name, api.name):
                continue
            subscription = await self.sonata(peer_name).register_hub(api, self.config.callback_url)
            self.store.save_subscription(peer_name, api.name, subscription.id)

    async def signed_quote(self, peer: PeerConfig, rfq_id: int) -> SignedQuote:
        """The signed quote `peer` committed for RFQ `rfq_id`, fetched from its oracle."""
        if not peer.oracle_url:
            raise LookupError(f"peer {peer.name} has no oracle_url to fetch its signed quote from")
        headers = {"Authorization": f"Bearer {peer.outbound_token.read()}"} if peer.outbound_token else {}
        url = f"{peer.oracle_url.rstrip('/')}/offnet/v1/signedQuotes/{rfq_id}"
        try:
            async with (
                asyncio.timeout(SIGNED_QUOTE_DEADLINE),
                httpx.AsyncClient(timeout=10) as http,
                http.stream("GET", url, headers=headers) as response,
            ):
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > SIGNED_QUOTE_MAX_BYTES:
                        raise InvalidInput(f"signed quote for RFQ {rfq_id} from {peer.name} is too large")
        except TimeoutError:
            raise LookupError(f"signed quote for RFQ {rfq_id} from {peer.name}: no answer in time") from None
        if response.status_code != 200:
            raise LookupError(f"signed quote for RFQ {rfq_id} from {peer.name}: HTTP {response.status_code}")
        try:
            return signed_quote_from_json(json.loads(body))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                f"signed quote for RFQ {rfq_id} from {peer.name} is malformed: {exc}"
            ) from None

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def _auth(peer: PeerConfig) -> TokenSource | str | None:
    if peer.oauth2:
        return ClientCredentials(
            peer.oauth2.token_url,
            peer.oauth2.client_id,
            peer.oauth2.client_secret.read(),
            scope=peer.oauth2.scope,
        )
    if peer.outbound_token:
        return peer.outbound_token.read()
    return None
