"""Deploying the offnet suite from packaged artifacts, linked together, and its manifest.

The chain is probed first (`Chain.evm`): the Cancun build where it runs MCOPY and transient storage,
the Shanghai build where it stops at PUSH0, a one-line refusal naming what is missing otherwise.

Order: CarrierRegistry, (TestStablecoin on local chains), OrderEscrow, SlaLedger, ContractNotary,
RfqMarket. The last four name each other in their constructors (immutable links, predicted from the
deployer's nonces), so there is no wiring step (see docs/architecture.md). The manifest `deployments/<chainId>.json` is how every other
command finds the contracts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from web3.contract import Contract

from offnet import __version__
from offnet.chain.addresses import checked_address, predict_deployments
from offnet.chain.artifacts import DEFAULT_EVM, load_artifact
from offnet.chain.connect import Chain
from offnet.chain.tx import Sender
from offnet.exceptions import DeploymentError
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.notary import NotaryClient
from offnet.market.registry import RegistryClient
from offnet.market.rfq import RfqClient

SUITE = ("CarrierRegistry", "OrderEscrow", "SlaLedger", "ContractNotary", "RfqMarket")
TEST_TOKEN = "TestStablecoin"
DEFAULT_DEPLOYMENTS_DIR = Path("deployments")


def load_yaml(path: Path, what: str) -> dict:
    """The mapping a YAML (or JSON) configuration file holds; `what` names it in the one-line error
    for a missing or unreadable file."""
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None


class SuiteConfig(BaseModel):
    """Parameters of a deployment, from a YAML/JSON file or command-line flags."""

    model_config = ConfigDict(extra="forbid")

    founders: list[str] = Field(default_factory=list, description="admin addresses of the founding members")
    council: list[str] = Field(default_factory=list, description="founders who form the council")
    council_threshold: int = Field(1, ge=1, description="approvals a council proposal needs (m of n)")
    sponsors_required: int = Field(2, ge=1, description="active sponsors that admit an applicant")
    application_ttl: int = Field(14 * 86400, gt=0, description="seconds an application stays open")
    liveness_window: int = Field(
        2 * 86400,
        gt=0,
        le=7 * 86400,
        description="seconds before an undisputed report is final (at most 7 days)",
    )
    tokens: list[str] = Field(default_factory=list, description="allow-listed settlement tokens")
    min_order_value: int = Field(
        1_000_000,
        ge=1,
        lt=2**96,
        description="least value of an order (one-time charge + whole term) in each token's smallest unit",
    )
    test_token: bool | None = Field(None, description="deploy TestStablecoin (default: on local chains)")

    @field_validator("founders", "council", "tokens")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return [checked_address(v) for v in values]

    def checked(self, deployer: str) -> SuiteConfig:
        """Fill defaults that depend on the deployer and refuse inconsistent settings."""
        founders = self.founders or [deployer]
        council = self.council or founders
        missing = [c for c in council if c not in founders]
        if missing:
            raise ValueError(f"council members must be founders: {', '.join(missing)}")
        if self.council_threshold > len(council):
            raise ValueError(
                f"council threshold {self.council_threshold} exceeds council size {len(council)}"
            )
        return self.model_copy(update={"founders": founders, "council": council})

    @classmethod
    def from_file(cls, path: Path) -> SuiteConfig:
        """Load a YAML (or JSON) deployment configuration."""
        return cls.model_validate(load_yaml(path, "deployment config"))


@dataclass
class Deployed:
    """One deployed contract in the manifest."""

    address: str
    block: int
    tx_hash: str
    artifact_sha256: str


@dataclass
class Manifest:
    """deployments/<chainId>.json: where the suite lives on one chain."""

    chain_id: int
    deployer: str
    package_version: str
    deployed_at: int
    contracts: dict[str, Deployed] = field(default_factory=dict)
    evm: str = DEFAULT_EVM  # the EVM build deployed (offnet.chain.artifacts.EVM_BUILDS)
    config: dict = field(default_factory=dict)
    gas: dict[str, int] = field(default_factory=dict)

    def address(self, name: str) -> str:
        if name not in self.contracts:
            raise LookupError(f"{name} is not in the deployment manifest of chain {self.chain_id}")
        return self.contracts[name].address

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def save(self, directory: Path = DEFAULT_DEPLOYMENTS_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.chain_id}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)  # atomic: a crash never leaves half a manifest
        return path

    @classmethod
    def load(cls, chain_id: int, directory: Path = DEFAULT_DEPLOYMENTS_DIR) -> Manifest:
        path = directory / f"{chain_id}.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"no deployment manifest for chain {chain_id} at {path.resolve()}: run `offnet deploy` "
                "first, or name the folder that holds it with --deployments or OFFNET_DEPLOYMENTS"
            )
        data = json.loads(path.read_text())
        data["contracts"] = {k: Deployed(**v) for k, v in data["contracts"].items()}
        return cls(**data)


@dataclass
class Suite:
    """The deployed suite bound to a chain: a typed client of each contract (and the test token)."""

    chain: Chain
    manifest: Manifest
    registry: RegistryClient
    escrow: EscrowClient
    ledger: LedgerClient
    notary: NotaryClient
    market: RfqClient
    token: Contract | None = None  # TestStablecoin, on local chains

    @property
    def contracts(self) -> dict[str, Contract]:
        """Every deployed contract by name as a raw web3 object (the test token included)."""
        clients = (self.registry, self.escrow, self.ledger, self.notary, self.market)
        found = {c.CONTRACT: c.contract for c in clients}
        if self.token is not None:
            found[TEST_TOKEN] = self.token
        return found

    @classmethod
    def attach(cls, chain: Chain, manifest: Manifest) -> Suite:
        """Bind the manifest's addresses to the packaged ABIs, checking code exists on chain."""
        if manifest.chain_id != chain.chain_id:
            raise ValueError(f"manifest is for chain {manifest.chain_id}, connected to {chain.chain_id}")
        for name, deployed in manifest.contracts.items():
            if not chain.w3.eth.get_code(deployed.address):
                raise LookupError(
                    f"{name} has no code at {deployed.address} on chain {chain.chain_id}: stale manifest?"
                )
        return cls._bind(chain, manifest)

    @classmethod
    def _bind(cls, chain: Chain, manifest: Manifest) -> Suite:
        token = manifest.contracts.get(TEST_TOKEN)
        return cls(
            chain,
            manifest,
            RegistryClient(chain, manifest.address("CarrierRegistry")),
            EscrowClient(chain, manifest.address("OrderEscrow")),
            LedgerClient(chain, manifest.address("SlaLedger")),
            NotaryClient(chain, manifest.address("ContractNotary")),
            RfqClient(chain, manifest.address("RfqMarket")),
            None
            if token is None
            else chain.w3.eth.contract(address=token.address, abi=load_artifact(TEST_TOKEN).abi),
        )


Progress = Callable[[str], None]


def deploy_suite(
    chain: Chain, sender: Sender, config: SuiteConfig, *, progress: Progress | None = None
) -> Suite:
    """Deploy the whole suite, its contracts linked to each other; returns it with its (unsaved) manifest."""
    config = config.checked(sender.address)
    note = progress or (lambda _msg: None)
    note("probing the chain's EVM")
    evm = chain.evm  # before any transaction: a chain no build can run is refused with nothing spent
    manifest = Manifest(
        chain_id=chain.chain_id,
        deployer=sender.address,
        package_version=__version__,
        deployed_at=int(time.time()),
        config=config.model_dump(),
        evm=evm,
    )

    def deploy(name: str, *args) -> Contract:
        note(f"deploying {name} ({evm} build)")
        artifact = load_artifact(name, evm)
        contract, receipt = sender.deploy(artifact, *args)
        manifest.contracts[name] = Deployed(
            contract.address, receipt.block_number, receipt.tx_hash, artifact.sha256
        )
        manifest.gas[f"deploy {name}"] = receipt.gas_used
        return contract

    registry = deploy(
        "CarrierRegistry",
        config.founders,
        config.council,
        config.council_threshold,
        config.sponsors_required,
        config.application_ttl,
    )
    tokens = list(config.tokens)
    if config.test_token if config.test_token is not None else chain.is_local:
        tokens.append(deploy(TEST_TOKEN).address)
    # The escrow, the ledger and the market point at each other through constructor immutables
    # (no storage read on the hot paths, no wiring transactions): their addresses are predicted
    # from the deployer's next nonces, and checked once deployed.
    predicted = predict_deployments(sender.address, chain.peek_nonce(sender.address), 4)
    at_escrow, at_ledger, _, at_market = predicted
    escrow = deploy("OrderEscrow", registry.address, at_market, at_ledger, tokens, config.min_order_value)
    ledger = deploy("SlaLedger", registry.address, at_escrow, at_market, config.liveness_window)
    notary = deploy("ContractNotary", registry.address, at_escrow)
    market = deploy("RfqMarket", registry.address, at_escrow, at_ledger)
    actual = [escrow.address, ledger.address, notary.address, market.address]
    if actual != predicted:
        raise DeploymentError(
            "the suite's contracts did not land at their predicted addresses (another transaction of the "
            f"deployer {sender.address} was mined in between): redeploy"
        )
    return Suite._bind(chain, manifest)
