"""What the oracle operations tests share: one anvil with the suite, a buyer and a seller (members), the
seller's reference Sonata API behind a cuttable link, and the buyer's oracle configuration."""

from __future__ import annotations

from offnet.chain import Sender
from offnet.chain.anvil import Anvil, free_port
from offnet.chain.connect import connect
from offnet.deployment import SuiteConfig, deploy_suite
from offnet.sonata.seller import create_seller_app
from offnet.sonata.seller.server import serve_in_thread
from offnet.testing.accounts import funded_account
from offnet.testing.carriers import chain_clock
from offnet.testing.faults import CuttableLink
from offnet.testing.processes import OracleProcess

DAY = 86_400
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
        buyer, seller = funded_account(chain), funded_account(chain)
        suite = deploy_suite(
            chain,
            Sender(chain, funded_account(chain)),
            SuiteConfig(founders=[buyer.address, seller.address], council_threshold=1),
        )
        deployments = workdir / "deployments"
        suite.manifest.save(deployments)
        pay = Sender(chain, buyer)
        pay.transact(suite.token.functions.mint(buyer.address, 10**12))
        pay.transact(suite.token.functions.approve(suite.escrow.address, 10**12))
        app = create_seller_app(
            "prompt-and-punctual",
            "ops",
            clock=chain_clock(chain),
            tokens={OPS_TOKENS["OPS_BUYER_AT_SELLER"]: buyer.address},
            tick_seconds=0.05,
        )
        with serve_in_thread(app) as seller_api:
            link = CuttableLink(int(seller_api.rsplit(":", 1)[1]))
            yield {
                "workdir": workdir,
                "node": node,
                "chain": chain,
                "suite": suite,
                "deployments": deployments,
                "buyer": buyer,
                "seller": seller,
                "seller_api": seller_api,
                "link": link,
            }
            link.close()
    finally:
        node.stop()


def buyer_config(world, **overrides) -> dict:
    return {
        "member": world["buyer"].address,
        "rpc": world["node"].url,
        "deployments": str(world["deployments"]),
        "listen_port": free_port(),
        "poll_interval": 0.2,
        "peers": [
            {
                "name": "seller",
                "member": world["seller"].address,
                "sonata_url": world["link"].url,
                "inbound_token": {"env": "OPS_SELLER_NOTIFIES"},
                "outbound_token": {"env": "OPS_BUYER_AT_SELLER"},
            }
        ],
        **overrides,
    }


def start_oracle(world, name: str, **overrides) -> OracleProcess:
    oracle = OracleProcess(
        name, world["workdir"], buyer_config(world, **overrides), world["buyer"], secrets=OPS_TOKENS
    )
    oracle.spawn()
    oracle.wait_listening()
    return oracle
