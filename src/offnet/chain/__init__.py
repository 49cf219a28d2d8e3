"""Chain plumbing: packaged artifacts, connections (embedded, anvil, any RPC), signed transactions."""

from offnet.chain.addresses import create_address, predict_deployments
from offnet.chain.artifacts import Artifact, load_artifact
from offnet.chain.client import ContractClient, ContractEvent
from offnet.chain.connect import Chain, connect
from offnet.chain.reverts import decode_revert
from offnet.chain.tx import Receipt, Sender

__all__ = [
    "Artifact",
    "Chain",
    "ContractClient",
    "ContractEvent",
    "Receipt",
    "Sender",
    "connect",
    "create_address",
    "decode_revert",
    "load_artifact",
    "predict_deployments",
]
