"""Compile the anchor contracts at bench time: EAS (from npm) and bench/contracts/, with offnet's front."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from offnet.build import compile_settings, project_root
from offnet.chain.artifacts import Artifact

EAS_DIR = "node_modules/@ethereum-attestation-service/eas-contracts/contracts"
ANCHOR_SOURCES = (f"{EAS_DIR}/SchemaRegistry.sol", f"{EAS_DIR}/EAS.sol", "bench/contracts/PlainEscrow.sol")


@dataclass(frozen=True)
class Anchors:
    """The compiled anchor contracts, by name."""

    schema_registry: Artifact
    eas: Artifact
    plain_escrow: Artifact


def _artifact(name: str, compiled: dict) -> Artifact:
    return Artifact(
        name=name,
        abi=compiled["abi"],
        bytecode="0x" + compiled["evm"]["bytecode"]["object"],
        deployed_bytecode="0x" + compiled["evm"]["deployedBytecode"]["object"],
        sha256="",
    )


def compile_anchors(root: Path | None = None) -> Anchors:
    """Compile SchemaRegistry, EAS and PlainEscrow with offnet's own solc settings (ape-config.yaml)."""
    import solcx

    root = root or project_root()
    config = compile_settings(root)
    standard_input = {
        "language": "Solidity",
        "sources": {path: {"content": (root / path).read_text()} for path in ANCHOR_SOURCES},
        "settings": config["settings"],
    }
    output = solcx.compile_standard(
        standard_input,
        solc_binary=root / ".solcx" / f"solc-v{config['version']}",
        base_path=str(root),
        allow_paths=[str(root)],
    )
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    contracts = output["contracts"]
    return Anchors(
        schema_registry=_artifact("SchemaRegistry", contracts[ANCHOR_SOURCES[0]]["SchemaRegistry"]),
        eas=_artifact("EAS", contracts[ANCHOR_SOURCES[1]]["EAS"]),
        plain_escrow=_artifact("PlainEscrow", contracts[ANCHOR_SOURCES[2]]["PlainEscrow"]),
    )
