"""Build the contract artifacts shipped inside the package (developers only).

The compile configuration is the `solidity:` block of ape-config.yaml, the same one `ape compile`
uses, so the package and the ape project can never disagree on bytecode. The compiler is the
solc-js front registered for py-solc-x in `.solcx/` (SOLCX_BINARY_PATH). A content hash of every
source and of the configuration is kept in `artifacts/index.json`: an unchanged tree is not
compiled again, and the tests check that the shipped artifacts match the sources.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"
INDEX_FILE = ARTIFACTS_DIR / "index.json"


def project_root() -> Path:
    """The repository root (where ape-config.yaml sits)."""
    return PACKAGE_DIR.parent.parent


def compile_settings(root: Path) -> dict:
    """Read the solidity block of ape-config.yaml into standard-JSON `settings`."""
    config = yaml.safe_load((root / "ape-config.yaml").read_text())["solidity"]
    return {
        "version": str(config["version"]),
        "settings": {
            "evmVersion": config["evm_version"],
            "optimizer": {"enabled": bool(config["optimize"]), "runs": int(config["optimization_runs"])},
            "viaIR": bool(config.get("via_ir", False)),
            "remappings": list(config.get("import_remapping", [])),
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


def contract_sources(root: Path) -> dict[str, str]:
    """Every .sol file under contracts/, keyed by its project-relative path."""
    files = sorted((root / "contracts").rglob("*.sol"))
    return {f.relative_to(root).as_posix(): f.read_text() for f in files}


def source_hash(sources: dict[str, str], config: dict) -> str:
    """sha256 over the configuration and every source, in path order."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


def recorded_hash() -> str | None:
    """The source hash the shipped artifacts were built from, if any."""
    if not INDEX_FILE.exists():
        return None
    return json.loads(INDEX_FILE.read_text()).get("sourceHash")


def compile_all(root: Path) -> tuple[dict, dict]:
    """Compile contracts/ with the front; return (standard-JSON output, config)."""
    import solcx  # only developers compile; the installed package never imports this

    config = compile_settings(root)
    sources = contract_sources(root)
    solc = root / ".solcx" / f"solc-v{config['version']}"
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": config["settings"],
    }
    output = solcx.compile_standard(
        standard_input,
        solc_binary=solc,
        base_path=str(root),
        allow_paths=[str(root)],
    )
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    return output, config


def write_artifacts(root: Path) -> list[str]:
    """Compile and write one JSON per deployable contract plus index.json. Returns the names."""
    output, config = compile_all(root)
    sources = contract_sources(root)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for old in ARTIFACTS_DIR.glob("*.json"):
        old.unlink()
    written: dict[str, dict] = {}
    for source_name, contracts in sorted(output["contracts"].items()):
        if not source_name.startswith("contracts/"):
            continue
        for name, data in sorted(contracts.items()):
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode or not data["abi"]:
                continue  # interfaces, abstract contracts, internal libraries: nothing to deploy
            artifact = {
                "contractName": name,
                "sourceName": source_name,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
            }
            text = json.dumps(artifact, indent=1, sort_keys=True) + "\n"
            (ARTIFACTS_DIR / f"{name}.json").write_text(text)
            written[name] = {"sourceName": source_name, "sha256": hashlib.sha256(text.encode()).hexdigest()}
    index = {
        "compiler": config["version"],
        "settings": {k: v for k, v in config["settings"].items() if k != "outputSelection"},
        "sourceHash": source_hash(sources, config),
        "contracts": written,
    }
    INDEX_FILE.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return sorted(written)


@contextmanager
def _build_lock():
    """Serialise builds: several processes may run `make artifacts` in one checkout."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    lock_path = project_root() / ".build" / "artifacts.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compile contracts/ into offnet's packaged artifacts.")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the artifacts are stale; compile nothing"
    )
    parser.add_argument("--force", action="store_true", help="compile even when the sources are unchanged")
    args = parser.parse_args(argv)
    root = project_root()
    current = source_hash(contract_sources(root), compile_settings(root))
    if args.check:
        if recorded_hash() != current:
            print("artifacts are stale: run `make artifacts`", file=sys.stderr)
            return 1
        return 0
    with _build_lock():
        current = source_hash(contract_sources(root), compile_settings(root))
        if not args.force and recorded_hash() == current:
            print("artifacts up to date")
            return 0
        names = write_artifacts(root)
    print(f"compiled {len(names)} contracts: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
