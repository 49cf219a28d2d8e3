"""Which EVM build a chain can run: probed by simulating tiny contract creations that use the newest
opcodes, so any node answers the same way whatever it calls its hardfork.

Each probe is init code that computes 42 with one opcode family and returns it as a 32-byte word; an
`eth_call` of it (no `to`) returns that word on a chain that knows the opcodes, and fails (invalid
opcode) on one that does not. The Cancun build needs all three families, the Shanghai build PUSH0.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from offnet.chain.artifacts import EVM_BUILDS
from offnet.exceptions import ChainError

ANSWER = (42).to_bytes(32, "big")


@dataclass(frozen=True)
class Opcodes:
    """An opcode family a build may use, and the init code that proves a chain runs it."""

    name: str
    eip: str
    init_code: str


PUSH0 = Opcodes(
    "PUSH0",
    "EIP-3855, Shanghai",
    # PUSH1 42, PUSH0, MSTORE, PUSH1 32, PUSH0, RETURN
    "602a5f5260205ff3",
)
TRANSIENT_STORAGE = Opcodes(
    "TSTORE/TLOAD",
    "EIP-1153, Cancun",
    # PUSH1 42, PUSH1 0, TSTORE, PUSH1 0, TLOAD, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN
    "602a60005d60005c60005260206000f3",
)
MCOPY = Opcodes(
    "MCOPY",
    "EIP-5656, Cancun",
    # PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, PUSH1 32, MCOPY, PUSH1 32, PUSH1 32, RETURN
    "602a6000526020600060205e60206020f3",
)

# What each build needs, in the order of EVM_BUILDS (the newest a chain supports is chosen).
REQUIREMENTS: dict[str, tuple[Opcodes, ...]] = {
    "cancun": (PUSH0, TRANSIENT_STORAGE, MCOPY),
    "shanghai": (PUSH0,),
}
assert tuple(REQUIREMENTS) == EVM_BUILDS


def _call_failed(exc: Exception) -> bool:
    """True when a probe's eth_call failed because the code did not run (not because the node is down)."""
    return isinstance(exc, ContractLogicError | Web3RPCError | TransactionFailed | ValueError)


def runs(w3: Web3, opcodes: Opcodes) -> bool:
    """Whether the chain executes `opcodes` (an eth_call of its probe returns the expected word)."""
    try:
        result = w3.eth.call({"data": "0x" + opcodes.init_code, "gas": 100_000})
    except Exception as exc:
        if _call_failed(exc):
            return False
        raise
    return bytes(result) == ANSWER


@dataclass(frozen=True)
class EvmSupport:
    """The opcode families a chain runs, and the build that follows."""

    supported: tuple[str, ...]
    missing: tuple[Opcodes, ...]

    @property
    def build(self) -> str | None:
        """The newest build the chain can run, or None."""
        for evm, needs in REQUIREMENTS.items():
            if all(o.name in self.supported for o in needs):
                return evm
        return None

    def describe_missing(self) -> str:
        return ", ".join(f"{o.name} ({o.eip})" for o in self.missing) or "nothing"


def probe(w3: Web3) -> EvmSupport:
    """Probe every opcode family any build needs."""
    families = {o.name: o for needs in REQUIREMENTS.values() for o in needs}
    answers = {name: runs(w3, opcodes) for name, opcodes in families.items()}
    return EvmSupport(
        supported=tuple(n for n, ok in answers.items() if ok),
        missing=tuple(families[n] for n, ok in answers.items() if not ok),
    )


def select_build(support: EvmSupport, where: str = "the chain") -> str:
    """The build to deploy, or a ChainError in one line naming what the chain lacks."""
    build = support.build
    if build is None:
        oldest = EVM_BUILDS[-1]
        raise ChainError(
            f"{where} cannot run offnet: it lacks {support.describe_missing()}; "
            f"the oldest build offnet ships needs {oldest.title()} "
            f"({', '.join(o.name for o in REQUIREMENTS[oldest])})"
        )
    return build
