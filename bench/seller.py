"""The relay measure's reference Sonata seller, a process of its own (the bench, the load generator and
the oracle each have theirs), on the chain's clock read at most every 0.25 s.

    python -m bench.seller --rpc http://127.0.0.1:8545 --port 8090 --token TOKEN=0xBuyer
"""

from __future__ import annotations

import argparse

from offnet.chain.connect import connect
from offnet.serving import http_server
from offnet.sonata.seller import create_seller_app
from offnet.testing.carriers import chain_clock

CLOCK_TTL = 0.25


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seller", description=__doc__)
    parser.add_argument("--rpc", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", action="append", default=[], help="TOKEN=BUYER_ADDRESS (repeatable)")
    parser.add_argument("--seed", default="bench")
    args = parser.parse_args(argv)
    app = create_seller_app(
        "prompt-and-punctual",
        args.seed,
        clock=chain_clock(connect(rpc=args.rpc), ttl=CLOCK_TTL),
        tokens=dict(t.split("=", 1) for t in args.token),
        tick_seconds=0.05,
    )
    http_server(app, "127.0.0.1", args.port, lifespan="on").run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
