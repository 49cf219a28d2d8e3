"""Tools for fault tests of the oracle: a cuttable TCP link, and one awarded order to work on."""

from __future__ import annotations

import contextlib
import socket
import threading

from offnet.chain import Sender
from offnet.chain.connect import Chain
from offnet.deployment import Suite
from offnet.market.quotes import Quote, sign_quote
from offnet.market.registry import ACCESS_ELINE, location_key
from offnet.market.rfq import Rfq
from offnet.market.types import CreditSchedule
from offnet.sonata.canonical import document_hash

DAY = 86_400


class CuttableLink:
    """A TCP relay in front of a server; `down()` refuses and drops connections until `up()`."""

    def __init__(self, port: int):
        self.port_behind = port
        self.open = True
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.live: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                inbound.close()
                continue
            outbound = socket.create_connection(("127.0.0.1", self.port_behind))
            self.live += [inbound, outbound]
            threading.Thread(target=self._copy, args=(inbound, outbound), daemon=True).start()
            threading.Thread(target=self._copy, args=(outbound, inbound), daemon=True).start()

    @staticmethod
    def _copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            src.close()
            dst.close()

    def down(self) -> None:
        self.open = False
        for s in self.live:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.live.clear()

    def up(self) -> None:
        self.open = True

    def close(self) -> None:
        self.down()
        self.listener.close()


def award_one_order(
    chain: Chain, suite: Suite, buyer, seller, *, label: str, after_deadline: bool = False
) -> bytes:
    """Post an RFQ, commit the seller's signed quote and award it; returns the order id."""
    market, pay = suite.market, Sender(chain, buyer)
    pay.transact(suite.token.functions.mint(buyer.address, 10**12))
    pay.transact(suite.token.functions.approve(suite.escrow.address, 10**12))
    rfq = Rfq(
        buyer=buyer.address,
        deadline=chain.now() + DAY,
        token=suite.token.address,
        request_hash=document_hash({"externalId": label}),
        product_key=ACCESS_ELINE,
        location_key=location_key("FR-LYS"),
        invited=(seller.address,),
        min_reputation=0,
    )
    market.post(pay, rfq)
    quote = Quote(
        rfq_id=rfq.rfq_id,
        provider=seller.address,
        buyer=buyer.address,
        token=suite.token.address,
        one_time_charge=1_000 * 10**6,
        monthly_charge=500 * 10**6,
        term_months=12,
        install_days=30,
        sla_terms_hash=document_hash({"sla": label}),
        credits=CreditSchedule.none(),
        prepaid_months=1,
        valid_until=chain.now() + 30 * DAY,
        nonce=1,
    )
    signed = sign_quote(seller, quote, market.domain)
    market.commit(Sender(chain, seller), rfq, signed)
    if after_deadline:
        chain.advance_time(2 * DAY)
    order_id, _ = market.award(pay, rfq, signed)
    return order_id
