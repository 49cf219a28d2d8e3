"""The compiled contracts shipped as package data (built by `make artifacts`, see offnet.build).

The package ships one build per EVM version in EVM_BUILDS, from the same sources: `cancun` (the
default; MCOPY and transient storage) and `shanghai` (for chains without them). Both have the same
ABIs; only the bytecode differs. A deployment picks the build its chain supports (`offnet.chain.evm`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Every EVM version the package ships a build for, newest first (the first is the default).
EVM_BUILDS = ("cancun", "shanghai")
DEFAULT_EVM = EVM_BUILDS[0]


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of one deployable contract, in one EVM build."""

    name: str
    abi: list[dict]
    bytecode: str
    deployed_bytecode: str
    sha256: str
    evm: str = DEFAULT_EVM
    packaged: bool = False  # shipped in this package (one per EVM build), not compiled elsewhere


def _package_files(evm: str):
    if evm not in EVM_BUILDS:
        raise LookupError(f"no {evm!r} build of the contracts (builds: {', '.join(EVM_BUILDS)})")
    return resources.files("offnet") / "artifacts" / evm


@cache
def load_artifact(name: str, evm: str = DEFAULT_EVM) -> Artifact:
    """Load a packaged contract artifact by contract name, from the build for EVM version `evm`."""
    path = _package_files(evm) / f"{name}.json"
    if not path.is_file():
        known = ", ".join(artifact_names()) or "none"
        raise LookupError(f"no packaged artifact for contract {name!r} (known: {known})")
    text = path.read_text()
    data = json.loads(text)
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        evm=evm,
        packaged=True,
    )


@cache
def artifact_names() -> tuple[str, ...]:
    """Names of every packaged contract (every build ships the same ones)."""
    return tuple(
        sorted(p.name[:-5] for p in _package_files(DEFAULT_EVM).iterdir() if p.name.endswith(".json"))
    )


def all_abi_entries() -> list[dict]:
    """Every ABI entry of every packaged contract (used to decode errors and events)."""
    return [entry for name in artifact_names() for entry in load_artifact(name).abi]


def abi_type_string(param: dict) -> str:
    """The canonical type of an ABI parameter, tuples spelled out: `(uint32,address)[]`."""
    if param["type"].startswith("tuple"):
        inner = ",".join(abi_type_string(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]
