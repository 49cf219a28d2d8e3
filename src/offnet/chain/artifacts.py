"""The compiled contracts shipped as package data (built by `make artifacts`, see offnet.build)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of one deployable contract."""

    name: str
    abi: list[dict]
    bytecode: str
    deployed_bytecode: str
    sha256: str


def _package_files():
    return resources.files("offnet") / "artifacts"


@cache
def load_artifact(name: str) -> Artifact:
    """Load a packaged contract artifact by contract name."""
    path = _package_files() / f"{name}.json"
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
    )


@cache
def artifact_names() -> tuple[str, ...]:
    """Names of every packaged contract."""
    return tuple(
        sorted(
            p.name[:-5]
            for p in _package_files().iterdir()
            if p.name.endswith(".json") and p.name != "index.json"
        )
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
