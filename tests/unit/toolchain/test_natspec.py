"""Interfaces carry the documentation explorers show (read from the compiler's own NatSpec output),
and the contracts see the registry through its narrow seam."""

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FRONT = ROOT / ".solcx" / "solc-v0.8.29"
INTERFACES = sorted((ROOT / "contracts" / "interfaces").glob("*.sol"))


@pytest.fixture(scope="module")
def natspec() -> dict[str, dict]:
    """userdoc, devdoc and ABI of every interface, from solc's standard-JSON output."""
    sources = {p.relative_to(ROOT).as_posix(): {"content": p.read_text()} for p in INTERFACES}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {"outputSelection": {"*": {"*": ["abi", "userdoc", "devdoc"]}}},
    }
    done = subprocess.run(
        [FRONT, "--standard-json", "--base-path", str(ROOT), "--allow-paths", str(ROOT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(done.stdout)
    assert not [e for e in output.get("errors", []) if e["severity"] == "error"], output["errors"]
    return {
        name: data
        for path, contracts in output["contracts"].items()
        if path.startswith("contracts/interfaces/")
        for name, data in contracts.items()
    }


def _signature(item: dict) -> str:
    def kind(p: dict) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(kind(c) for c in p["components"]) + ")" + p["type"][5:]
        return p["type"]

    return f"{item['name']}({','.join(kind(p) for p in item['inputs'])})"


def test_natspec__every_interface_is_checked(natspec):
    assert {"ICarrierRegistry", "IMembership", "IRfqMarket", "IOrderEscrow", "ISlaLedger"} <= set(natspec)


def test_natspec__every_function_documents_its_purpose_arguments_and_results(natspec):
    missing = []
    for name, data in natspec.items():
        user, dev = data["userdoc"].get("methods", {}), data["devdoc"].get("methods", {})
        for item in (i for i in data["abi"] if i["type"] == "function"):
            sig = _signature(item)
            if not user.get(sig, {}).get("notice"):
                missing.append(f"{name}.{sig}: @notice")
            params = dev.get(sig, {}).get("params", {})
            missing += [
                f"{name}.{sig}: @param {p['name']}" for p in item["inputs"] if p["name"] not in params
            ]
            returns = dev.get(sig, {}).get("returns", {})
            if len(returns) != len(item["outputs"]):
                missing.append(f"{name}.{sig}: @return ({len(returns)} of {len(item['outputs'])})")
    assert not missing, "\n".join(missing)


def test_natspec__every_error_and_event_says_when_it_fires(natspec):
    missing = []
    for name, data in natspec.items():
        for kind, section in (("error", "errors"), ("event", "events")):
            documented = data["userdoc"].get(section, {})
            for item in (i for i in data["abi"] if i["type"] == kind):
                notices = documented.get(_signature(item))
                # solc lists errors as a list of entries (one per declaration), events as one entry
                entries = notices if isinstance(notices, list) else [notices or {}]
                if not all(e.get("notice") for e in entries) or not entries:
                    missing.append(f"{name}.{_signature(item)}")
    assert not missing, "undocumented: " + ", ".join(missing)


def test_seam__the_other_contracts_see_the_registry_only_through_imembership():
    """What the market, escrow, ledger and notary trust of the registry is one file: IMembership."""
    for name in ("RfqMarket", "OrderEscrow", "SlaLedger", "ContractNotary"):
        source = (ROOT / "contracts" / f"{name}.sol").read_text()
        assert "ICarrierRegistry" not in source, f"{name} depends on the whole registry interface"
        assert 'import {IMembership} from "./interfaces/IMembership.sol";' in source, name
