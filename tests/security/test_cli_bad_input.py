"""Bad input at the CLI edge, through offnet's real entry point (its error policy): invalid addresses and
amounts, missing files, wrong passwords and corrupted keystore files each give a one-line error and a
non-zero exit, no traceback, and leave the keystore folder exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account

from offnet.cli.main import main

KEY = "0x" + "4f" * 32
PASSWORD = "correct horse battery staple"


def _keystore(**changes: object) -> dict:
    data = Account.encrypt(KEY, PASSWORD, iterations=2)
    for path, value in changes.items():
        node = data
        *parents, leaf = path.split("__")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return data


CASES = {
    "provider address not hex": (["reputation", "not-an-address"], "not a 0x-prefixed 20-byte address"),
    "provider address too short": (["reputation", "0x1234"], "not a 0x-prefixed 20-byte address"),
    "negative months": (
        ["order", "fund", "0x" + "ab" * 32, "--months", "-3"],
        "Invalid value for '--months'",
    ),
    "keystore file missing": (
        [
            "account",
            "import",
            "acct",
            "--keystore",
            "{tmp}/missing.json",
            "--password-env",
            "OFFNET_TEST_PASSWORD",
        ],
        "missing.json",
    ),
    "keystore file not JSON": (
        [
            "account",
            "import",
            "acct",
            "--keystore",
            "{tmp}/garbage.json",
            "--password-env",
            "OFFNET_TEST_PASSWORD",
        ],
        "keystore",
    ),
    "keystore truncated": (
        [
            "account",
            "import",
            "acct",
            "--keystore",
            "{tmp}/truncated.json",
            "--password-env",
            "OFFNET_TEST_PASSWORD",
        ],
        "keystore",
    ),
    "keystore ciphertext corrupted": (
        [
            "account",
            "import",
            "acct",
            "--keystore",
            "{tmp}/corrupt.json",
            "--password-env",
            "OFFNET_TEST_PASSWORD",
        ],
        "",
    ),
    "keystore of the wrong version": (
        [
            "account",
            "import",
            "acct",
            "--keystore",
            "{tmp}/v9.json",
            "--password-env",
            "OFFNET_TEST_PASSWORD",
        ],
        "",
    ),
    "wrong password": (
        [
            "account",
            "import",
            "acct",
            "--keystore",
            "{tmp}/good.json",
            "--password-env",
            "OFFNET_TEST_WRONG_PASSWORD",
        ],
        "password",
    ),
    "password variable unset": (
        ["account", "import", "acct", "--keystore", "{tmp}/good.json", "--password-env", "OFFNET_TEST_UNSET"],
        "OFFNET_TEST_UNSET",
    ),
    "unknown account": (["account", "export-address", "ghost"], "no account named 'ghost'"),
}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "garbage.json").write_bytes(b"\x00\xffnot json at all")
    good = json.dumps(_keystore())
    (tmp_path / "good.json").write_text(good)
    (tmp_path / "truncated.json").write_text(good[: len(good) // 2])
    (tmp_path / "corrupt.json").write_text(json.dumps(_keystore(crypto__ciphertext="00" * 32)))
    (tmp_path / "v9.json").write_text(json.dumps(_keystore(version=9)))
    (tmp_path / "keystores").mkdir()
    return tmp_path


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("case", list(CASES))
def test_cli__bad_input__one_line_error_nonzero_exit_and_nothing_changed(workdir, case, monkeypatch):
    args, hint = CASES[case]
    args = [a.replace("{tmp}", str(workdir)) for a in args]
    keystores = workdir / "keystores"
    before = _tree(keystores)
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("OFFNET_KEYSTORE_DIR", str(keystores))
    monkeypatch.setenv("OFFNET_TEST_PASSWORD", PASSWORD)
    monkeypatch.setenv("OFFNET_TEST_WRONG_PASSWORD", "not the password")
    monkeypatch.delenv("OFFNET_TEST_UNSET", raising=False)
    with CliRunner(mix_stderr=False).isolation(input="") as (out, err):
        code = main(args)
        stderr = err.getvalue().decode()
    assert code != 0, out.getvalue()
    assert "Traceback" not in stderr, stderr
    message = [line for line in stderr.splitlines() if line.lower().startswith("error")]
    assert len(message) == 1, stderr
    assert hint.lower() in message[0].lower(), message[0]
    assert _tree(keystores) == before
