"""The offline toolchain: the solc-js front, the packaged artifacts and the console script."""

import json
import re
import subprocess
from pathlib import Path

import solcx

from offnet import build
from offnet.chain.artifacts import artifact_names, load_artifact
from offnet.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
FRONT = ROOT / ".solcx" / "solc-v0.8.29"


def test_front__answers_version_like_native_solc():
    out = subprocess.run([FRONT, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "solc, the solidity compiler commandline interface"
    assert re.search(r"^Version: 0\.8\.29\+commit\.[0-9a-f]{8}", out, re.M)


def test_front__is_found_by_py_solc_x_as_an_installed_version():
    assert "0.8.29" in [str(v) for v in solcx.get_installed_solc_versions()]


def test_front__standard_json_prints_only_json_and_resolves_imports(tmp_path):
    source = (
        'pragma solidity 0.8.29;\nimport "@openzeppelin/contracts/utils/Strings.sol";\nimport "./b.sol";\n'
        "contract A is B { function f() external pure returns (string memory) "
        "{ return Strings.toString(7); } }\n"
    )
    (tmp_path / "a.sol").write_text(source)
    (tmp_path / "b.sol").write_text("pragma solidity 0.8.29;\ncontract B {}\n")
    request = {
        "language": "Solidity",
        "sources": {"a.sol": {"content": source}},
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    done = subprocess.run(
        [FRONT, "--standard-json", "--base-path", str(tmp_path), "--allow-paths", "/"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(done.stdout)  # the whole of stdout is the JSON document
    assert not [e for e in output.get("errors", []) if e["severity"] == "error"]
    assert "A" in output["contracts"]["a.sol"]
    assert "@openzeppelin/contracts/utils/Strings.sol" in output["sources"]


def test_front__missing_import_is_a_compiler_error_not_a_crash(tmp_path):
    request = {
        "language": "Solidity",
        "sources": {"a.sol": {"content": 'pragma solidity 0.8.29; import "./nowhere.sol"; contract A {}'}},
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    done = subprocess.run(
        [FRONT, "--standard-json", "--base-path", str(tmp_path)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    errors = json.loads(done.stdout)["errors"]
    assert any("nowhere.sol" in e["message"] for e in errors)


def test_artifacts__match_the_current_sources():
    assert build.main(["--check"]) == 0, "packaged artifacts are stale: run `make artifacts`"


def test_artifacts__ship_abi_and_bytecode_for_deployables():
    assert "TestStablecoin" in artifact_names()
    artifact = load_artifact("TestStablecoin")
    assert len(artifact.bytecode) > 1000 and any(e.get("name") == "permit" for e in artifact.abi)


def test_cli__help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "offnet" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert "0.1.0" in capsys.readouterr().out
