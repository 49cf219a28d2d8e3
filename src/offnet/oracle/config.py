"""One YAML file per carrier's oracle: chain, account, listen address, database, peers, tokens.

Secrets never sit in the file: bearer tokens and OAuth2 client secrets are named by the
environment variable (or file) that holds them, and the signing account is a keystore name whose
password comes from a file or an environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from offnet.chain.addresses import checked_address
from offnet.deployment import load_yaml
from offnet.exceptions import InvalidInput
from offnet.oracle.redact import register_secret

MIN_SECRET = 12


class Secret(BaseModel):
    """Where a secret lives: an environment variable or a file (first line)."""

    model_config = ConfigDict(extra="forbid")

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self

    def read(self) -> str:
        """The secret; refused in one line when missing, empty or shorter than MIN_SECRET characters
        (an empty bearer token would let anyone in)."""
        if self.env is not None:
            where = f"environment variable {self.env}"
            value = os.environ.get(self.env)
            if value is None:
                raise InvalidInput(f"{where} is not set")
        else:
            assert self.file is not None
            where = f"secret file {self.file}"
            if not self.file.is_file():
                raise InvalidInput(f"{where} not found")
            try:
                lines = self.file.read_text().splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"{where} cannot be read ({exc.__class__.__name__})") from None
            value = lines[0] if lines else ""
        value = value.strip()
        if len(value) < MIN_SECRET:
            raise InvalidInput(
                f"{where} holds {'an empty' if not value else 'a too short'} secret: "
                f"at least {MIN_SECRET} characters are required"
            )
        register_secret(value)
        return value


class OAuth2(BaseModel):
    """MEF 128.1-style OAuth2 client credentials toward a peer's Sonata API."""

    model_config = ConfigDict(extra="forbid")

    token_url: str
    client_id: str
    client_secret: Secret
    scope: str | None = None


class PeerConfig(BaseModel):
    """A counterparty carrier: its member address, its Sonata API and oracle, and the tokens both ways."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    member: str
    sonata_url: str  # its Sonata seller API (we buy from it)
    oracle_url: str | None = None  # its oracle (signed quotes are fetched there)
    inbound_token: Secret  # the bearer token its Sonata system presents with notifications
    oracle_token: Secret | None = None  # the token its oracle presents to ours (default: inbound_token)
    outbound_token: Secret | None = None  # a static bearer token for its Sonata API and oracle
    oauth2: OAuth2 | None = None  # or client credentials for its Sonata API
    # Its client secret at our token endpoint (client id = its name): it may then notify us with
    # OAuth 2.0 client-credentials tokens (scoped per event type) instead of its static token.
    inbound_client_secret: Secret | None = None

    @field_validator("member")
    @classmethod
    def _address(cls, value: str) -> str:
        return checked_address(value, "member address")


class PerformanceConfig(BaseModel):
    """Where in-life measurements come from: the reference seller's simulator, or a JSON/CSV file."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["simulator", "file"] = "simulator"
    path: Path | None = None

    @model_validator(mode="after")
    def _path_for_files(self) -> PerformanceConfig:
        if self.source == "file" and self.path is None:
            raise ValueError("a file performance source needs a path")
        return self


class SellerConfig(BaseModel):
    """Our own selling side: our Sonata system, and how our quotes become signed offnet quotes."""

    model_config = ConfigDict(extra="forbid")

    sonata_url: str  # our own Sonata seller API, read with the operator token
    operator_token: Secret
    notification_token: Secret  # the token our Sonata system presents to our listener
    quote_valid_days: int = Field(30, gt=0)
    prepaid_months: int = Field(1, ge=0)
    # Credit schedule offered with every quote (CreditSchedule field names, chain units).
    credits: dict[str, int] = Field(default_factory=dict)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)


class AdminConfig(BaseModel):
    """Where /healthz and /metrics are served: an address of their own, and/or behind a token."""

    model_config = ConfigDict(extra="forbid")

    listen_host: str | None = None  # e.g. 127.0.0.1: an address peers cannot reach
    listen_port: int | None = Field(None, ge=0, le=65535)
    token: Secret | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> AdminConfig:
        if (self.listen_host is None) != (self.listen_port is None):
            raise ValueError("give both listen_host and listen_port, or neither")
        return self


class OracleConfig(BaseModel):
    """Everything one carrier's oracle relay needs."""

    model_config = ConfigDict(extra="forbid")

    member: str  # our member (admin) address
    account: str | None = None  # keystore account name of the oracle key
    password_file: Path | None = None
    password_env: str | None = None
    private_key_env: str | None = None  # CI only
    keystore_dir: Path | None = None
    rpc: str
    deployments: Path = Path("deployments")
    confirmations: int = Field(1, ge=1, le=64)
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None  # how peers reach our listener (hub callback); default from host:port
    database: str = "sqlite:///oracle.db"
    batch_size: int = Field(200, ge=1, le=400)  # reports per SlaLedger.submit
    batch_wait: float = Field(0.2, ge=0, le=10)  # seconds a partial batch waits for more reports
    max_in_flight: int = Field(4, ge=1, le=64)  # submit transactions pending at once
    concurrency: int = Field(64, ge=1, le=1024)  # Sonata fetches at once
    per_peer_concurrency: int = Field(16, ge=1, le=1024)  # ... of which toward one peer
    retry_days: float = Field(3.0, gt=0, le=60)  # how long a failing notification is retried
    poll_interval: float = Field(0.5, gt=0)
    # /healthz calls a duty stuck when it has not succeeded for this long (default: 120 s or 10 passes).
    stuck_after: float | None = Field(None, gt=0)
    # False: nothing runs by itself, `Oracle.tick()` drives every duty (the demo's lockstep story).
    autonomous: bool = True
    admin: AdminConfig = Field(default_factory=AdminConfig)
    peers: list[PeerConfig] = Field(default_factory=list)
    # Who sellers may contact about our orders (MEF relatedContactInformation: role, name,
    # emailAddress, number); default: the contacts of the RFQ's quote request.
    contacts: list[dict[str, str]] = Field(default_factory=list)
    seller: SellerConfig | None = None  # set when this carrier sells through offnet
    buyer: bool = True  # place orders for our awarded RFQs
    auto_award: bool = True  # award the best-ranked quote once an RFQ's deadline passed

    @field_validator("member")
    @classmethod
    def _address(cls, value: str) -> str:
        return checked_address(value, "member address")

    @property
    def callback_url(self) -> str:
        return self.public_url or f"http://{self.listen_host}:{self.listen_port}"

    def peer(self, name: str) -> PeerConfig:
        for peer in self.peers:
            if peer.name == name:
                return peer
        raise LookupError(f"no peer named {name!r} in the oracle config")

    def peer_by_member(self, member: str) -> PeerConfig | None:
        member = to_checksum_address(member)
        return next((p for p in self.peers if p.member == member), None)

    def signer(self) -> LocalAccount:
        """The oracle key: its keystore account, unlocked with the password file or variable given (or,
        in CI only, the private key in `private_key_env`)."""
        from offnet.wallet.signer import signer_of

        return signer_of(self)

    @classmethod
    def load(cls, path: Path) -> OracleConfig:
        return cls.model_validate(load_yaml(path, "oracle config"))
