"""Build the contract artifacts shipped inside the package (developers only).

The compile configuration is the `solidity:` block of ape-config.yaml, the same one `ape compile`
uses, so the package and the ape project can never disagree on bytecode. The compiler is the
solc-js front registered for py-solc-x in `.solcx/` (SOLCX_BINARY_PATH).

The same sources are compiled once per EVM version in `EVM_BUILDS`: ape-config.yaml's own
`evm_version` (Cancun: MCOPY, transient storage) and Shanghai, for chains that predate Cancun (PUSH0
is their newest opcode). What only one EVM can do sits behind the `evm/` import remapping: each
build maps it to `contracts/evm/<version>/` (the reentrancy guard: transient storage on Cancun, a
storage slot on Shanghai), so both builds behave alike. Artifacts land in `artifacts/<version>/`.

A content hash of every source and of every build's configuration is kept in `artifacts/index.json`:
an unchanged tree is not compiled again, and the tests check that the shipped artifacts match the
sources.
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

from offnet.chain.artifacts import EVM_BUILDS

PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"
INDEX_FILE = ARTIFACTS_DIR / "index.json"

# The import prefix of the EVM-specific seams, and the folder of each version's implementation.
SEAM_PREFIX = "evm"
SEAM_DIR = "contracts/evm"


def project_root() -> Path:
    """The repository root (where ape-config.yaml sits)."""
    return PACKAGE_DIR.parent.parent


def _seam_remapping(evm: str) -> str:
    return f"{SEAM_PREFIX}={SEAM_DIR}/{evm}"


def compile_settings(root: Path, evm: str | None = None) -> dict:
    """Read the solidity block of ape-config.yaml into standard-JSON `settings` for one EVM build
    (default: the config's own `evm_version`, the first of EVM_BUILDS)."""
    config = yaml.safe_load((root / "ape-config.yaml").read_text())["solidity"]
    native = config["evm_version"]
    if native != EVM_BUILDS[0]:
        raise ValueError(f"ape-config.yaml compiles for {native}, but the first build is {EVM_BUILDS[0]}")
    evm = evm or native
    if evm not in EVM_BUILDS:
        raise ValueError(f"no {evm} build: offnet builds for {', '.join(EVM_BUILDS)}")
    remappings = list(config.get("import_remapping", []))
    if _seam_remapping(native) not in remappings:
        raise ValueError(f"ape-config.yaml must map the EVM seam: {_seam_remapping(native)}")
    return {
        "version": str(config["version"]),
        "evm": evm,
        "settings": {
            "evmVersion": evm,
            "optimizer": {"enabled": bool(config["optimize"]), "runs": int(config["optimization_runs"])},
            "viaIR": bool(config.get("via_ir", False)),
            "remappings": [_seam_remapping(evm) if r == _seam_remapping(native) else r for r in remappings],
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


def all_sources(root: Path) -> dict[str, str]:
    """Every .sol file under contracts/ (the seams of every EVM build included), by relative path."""
    files = sorted((root / "contracts").rglob("*.sol"))
    return {f.relative_to(root).as_posix(): f.read_text() for f in files}


def contract_sources(root: Path) -> dict[str, str]:
    """The sources a build compiles: contracts/ less the EVM seams, which each build reaches only
    through its `evm/` remapping (the Cancun seam does not compile for Shanghai)."""
    return {name: text for name, text in all_sources(root).items() if not name.startswith(SEAM_DIR + "/")}


def source_hash(sources: dict[str, str], configs: list[dict]) -> str:
    """sha256 over the build configurations and every source, in path order."""
    digest = hashlib.sha256(json.dumps(configs, sort_keys=True).encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


def current_hash(root: Path) -> str:
    """The source hash of the tree as it is now, over every build."""
    return source_hash(all_sources(root), [compile_settings(root, evm) for evm in EVM_BUILDS])


def recorded_hash() -> str | None:
    """The source hash the shipped artifacts were built from, if any."""
    if not INDEX_FILE.exists():
        return None
    return json.loads(INDEX_FILE.read_text()).get("sourceHash")


def compile_all(root: Path, evm: str | None = None) -> tuple[dict, dict]:
    """Compile contracts/ for one EVM build with the front; return (standard-JSON output, config)."""
    import solcx  # only developers compile; the installed package never imports this

    config = compile_settings(root, evm)
    solc = root / ".solcx" / f"solc-v{config['version']}"
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in contract_sources(root).items()},
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


def _write_build(root: Path, evm: str) -> dict:
    """Compile one EVM build into artifacts/<evm>/ (one JSON per deployable contract)."""
    output, config = compile_all(root, evm)
    folder = ARTIFACTS_DIR / evm
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
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
                "evmVersion": evm,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
            }
            text = json.dumps(artifact, indent=1, sort_keys=True) + "\n"
            (folder / f"{name}.json").write_text(text)
            written[name] = {"sourceName": source_name, "sha256": hashlib.sha256(text.encode()).hexdigest()}
    return {
        "settings": {k: v for k, v in config["settings"].items() if k != "outputSelection"},
        "contracts": written,
    }


def write_artifacts(root: Path) -> list[str]:
    """Compile every EVM build and write its artifacts plus index.json. Returns the contract names."""
    builds = {evm: _write_build(root, evm) for evm in EVM_BUILDS}
    for stale in ARTIFACTS_DIR.glob("*.json"):  # the single-build layout this one replaced
        if stale != INDEX_FILE:
            stale.unlink()
    names = [set(build["contracts"]) for build in builds.values()]
    if any(n != names[0] for n in names):
        raise RuntimeError("the EVM builds do not produce the same contracts")
    index = {
        "compiler": compile_settings(root)["version"],
        "builds": builds,
        "sourceHash": current_hash(root),
    }
    INDEX_FILE.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return sorted(names[0])


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
    current = current_hash(root)
    if args.check:
        if recorded_hash() != current:
            print("artifacts are stale: run `make artifacts`", file=sys.stderr)
            return 1
        return 0
    with _build_lock():
        current = current_hash(root)
        if not args.force and recorded_hash() == current:
            print("artifacts up to date")
            return 0
        names = write_artifacts(root)
    print(f"compiled {len(names)} contracts for {' and '.join(EVM_BUILDS)}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
