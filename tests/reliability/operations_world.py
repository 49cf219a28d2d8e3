"""What the oracle operations tests share: one anvil with the suite, a buyer and a seller (members), the
seller's reference Sonata API behind a cuttable link, and the buyer's oracle configuration."""

from __future__ import annotations

from offnet.chain.anvil import Anvil, free_port
from offnet.chain.connect import connect
from offnet.serving import serve_in_thread
from offnet.testing.faults import CuttableLink
from offnet.testing.processes import OracleProcess, reference_seller
from offnet.testing.world import World

OPS_TOKENS = {
    "OPS_SELLER_NOTIFIES": "seller-notifies-the-buyer",
    "OPS_BUYER_AT_SELLER": "buyer-at-the-seller-api",
    "OPS_OWN_NOTIFIES": "own-system-notifies-us",
    "OPS_OWN_OPERATOR": "own-system-operator-token",
}


def operations_world(tmp_path_factory):
    """Anvil, the suite, a buyer and a seller (members), the seller's reference Sonata API behind a
    cuttable link."""
    workdir = tmp_path_factory.mktemp("ops")
    node = Anvil().start()
    try:
        chain = connect(rpc=node.url)
        world = World.create(chain, "ops", keys=False)
        deployments = workdir / "deployments"
        world.suite.manifest.save(deployments)
        buyer, seller = world.buyer.account, world.seller.account
        tokens = {OPS_TOKENS["OPS_BUYER_AT_SELLER"]: buyer.address}
        with serve_in_thread(reference_seller("ops", world, tokens=tokens)) as seller_api:
            link = CuttableLink(int(seller_api.rsplit(":", 1)[1]))
            yield {
                "workdir": workdir,
                "node": node,
                "chain": chain,
                "suite": world.suite,
                "deployments": deployments,
                "buyer": buyer,
                "seller": seller,
                "seller_api": seller_api,
                "link": link,
            }
            link.close()
    finally:
        node.stop()


def buyer_config(ops, **overrides) -> dict:
    return {
        "member": ops["buyer"].address,
        "rpc": ops["node"].url,
        "deployments": str(ops["deployments"]),
        "listen_port": free_port(),
        "poll_interval": 0.2,
        "peers": [
            {
                "name": "seller",
                "member": ops["seller"].address,
                "sonata_url": ops["link"].url,
                "inbound_token": {"env": "OPS_SELLER_NOTIFIES"},
                "outbound_token": {"env": "OPS_BUYER_AT_SELLER"},
            }
        ],
        **overrides,
    }


def start_oracle(ops, name: str, *, database: str | None = None, **overrides) -> OracleProcess:
    """The buyer's oracle `name` (on `database`, or a SQLite file of its own), started."""
    oracle = OracleProcess(
        name,
        ops["workdir"],
        buyer_config(ops, **overrides),
        ops["buyer"],
        secrets=OPS_TOKENS,
        database=database,
    )
    oracle.start()
    return oracle
