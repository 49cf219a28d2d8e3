"""`offnet account` as a user drives it: prompts, password files and variables, imports, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account

from offnet.cli.main import main
from offnet.wallet import keystore as keystore_module
from offnet.wallet.keystore import Keystore

ROOT = Path(__file__).resolve().parents[3]
OFFNET = ROOT / ".venv" / "bin" / "offnet"
KEY = bytes.fromhex("6c1d4a7e9b0f3e2d5a8c7b6e1f0a9d8c3b2e5f4a7d6c9b8e1f0a3d2c5b4e7f6a")
ADDRESS = Account.from_key(KEY).address
FAST_N = 2**4  # scrypt n for keystores written in-process; the subprocess test keeps the default


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keystore_module, "SCRYPT_N", FAST_N)


@pytest.fixture
def keystore_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The keystore folder, named through $OFFNET_KEYSTORE_DIR as a user's shell would."""
    folder = tmp_path / "keystores"
    monkeypatch.setenv("OFFNET_KEYSTORE_DIR", str(folder))
    return folder


@pytest.fixture
def offnet():
    """Run `offnet ARGS...` through the real entry point (its error policy), with typed input."""
    runner = CliRunner(mix_stderr=False)

    def run(*args: str, input: str | None = None) -> Run:
        with runner.isolation(input=input) as (out, err):
            code = main(list(args))
            return Run(code, out.getvalue().decode(), err.getvalue().decode())

    return run


@pytest.fixture
def keyfile(tmp_path: Path):
    """Factory: an eth-account v3 keystore file of KEY under `password`."""

    def write(name: str, password: str, **changes: object) -> Path:
        path = tmp_path / "elsewhere" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(Account.encrypt(KEY, password, iterations=FAST_N) | changes))
        return path

    return write


def folder_state(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under `folder` with its permission bits and content."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_mode & 0o777, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_no_plaintext(key: bytes, *places: Path | str) -> None:
    """`key` appears in no file under the folders and in none of the texts, raw or hex in any case."""
    needles = (key, key.hex().encode())
    for place in places:
        if isinstance(place, Path):
            blobs = [p.read_bytes() for p in place.rglob("*") if p.is_file()]
        else:
            blobs = [place.encode()]
        for blob in blobs:
            assert not any(needle in blob.lower() or needle in blob for needle in needles)


def assert_one_line_error(run: Run, *fragments: str) -> None:
    assert run.code == 1, run
    assert run.err.startswith("error: ") and run.err.count("\n") == 1, run.err
    assert "Traceback" not in run.err
    for fragment in fragments:
        assert fragment in run.err, run.err


# --- new --------------------------------------------------------------------------------------


def test_new__hidden_prompt_with_confirmation__creates_a_private_encrypted_keystore(offnet, keystore_dir):
    run = offnet("account", "new", "alice", input="s3cret pass\ns3cret pass\n")
    assert run.code == 0, run
    address = Keystore(keystore_dir).address("alice")
    assert f"created account 'alice' {address}" in run.out
    assert "s3cret pass" not in run.out + run.err  # hidden input is not echoed
    assert keystore_dir.stat().st_mode & 0o777 == 0o700
    assert (keystore_dir / "alice.json").stat().st_mode & 0o777 == 0o600
    key = Keystore(keystore_dir).unlock("alice", "s3cret pass").key
    assert_no_plaintext(key, keystore_dir, run.out, run.err)


def test_new__confirmation_differs__asks_again_and_keeps_the_confirmed_password(offnet, keystore_dir):
    run = offnet("account", "new", "alice", input="one\ntwo\nfinal\nfinal\n")
    assert run.code == 0, run
    assert "do not match" in run.err + run.out
    assert Keystore(keystore_dir).unlock("alice", "final").address == Keystore(keystore_dir).address("alice")


def test_new__password_file_and_password_env__for_automation(offnet, keystore_dir, tmp_path, monkeypatch):
    password_file = tmp_path / "pw.txt"
    password_file.write_text("from a file\n")
    monkeypatch.setenv("BOB_PASSWORD", "from the environment")
    assert offnet("account", "new", "alice", "--password-file", str(password_file)).code == 0
    assert offnet("account", "new", "bob", "--password-env", "BOB_PASSWORD").code == 0
    keystore = Keystore(keystore_dir)
    assert keystore.unlock("alice", "from a file").address == keystore.address("alice")
    assert keystore.unlock("bob", "from the environment").address == keystore.address("bob")


def test_new__keystore_dir_option__wins_over_the_environment(offnet, keystore_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PW", "pw")
    other = tmp_path / "other"
    assert offnet("account", "new", "alice", "--password-env", "PW", "--keystore-dir", str(other)).code == 0
    assert [p.name for p in other.iterdir()] == ["alice.json"]
    assert not keystore_dir.exists()


# --- import -----------------------------------------------------------------------------------


def test_import__private_key_env__encrypts_it_and_never_writes_it_in_clear(offnet, keystore_dir, monkeypatch):
    monkeypatch.setenv("CI_DEPLOYER_KEY", "0x" + KEY.hex())
    run = offnet("account", "import", "ci", "--private-key-env", "CI_DEPLOYER_KEY", input="pw\npw\n")
    assert run.code == 0, run
    assert f"imported account 'ci' {ADDRESS}" in run.out
    assert Keystore(keystore_dir).unlock("ci", "pw").key == KEY
    assert_no_plaintext(KEY, keystore_dir, run.out, run.err)


@pytest.mark.parametrize("layout", ["eth-account", "ape", "geth"])
def test_import__keystore_file__is_copied_as_it_is(offnet, keystore_dir, keyfile, monkeypatch, layout):
    name = {
        "eth-account": "exported.json",
        "ape": ".ape/accounts/deployer.json",
        "geth": f"keystore/UTC--2026-11-25T10-00-00.000000000Z--{ADDRESS[2:].lower()}",
    }[layout]
    source = keyfile(name, "their password")
    monkeypatch.setenv("THEIR_PASSWORD", "their password")
    run = offnet(
        "account", "import", "carrier", "--keystore", str(source), "--password-env", "THEIR_PASSWORD"
    )
    assert run.code == 0, run
    assert (keystore_dir / "carrier.json").read_bytes() == source.read_bytes()
    assert (keystore_dir / "carrier.json").stat().st_mode & 0o777 == 0o600
    assert Keystore(keystore_dir).unlock("carrier", "their password").key == KEY


def test_import__needs_exactly_one_source(offnet, keystore_dir, keyfile):
    both = ("--keystore", str(keyfile("a.json", "pw")), "--private-key-env", "K")
    run = offnet("account", "import", "x", *both)
    assert run.code == 2 and "exactly one of --keystore FILE or --private-key-env VAR" in run.err
    assert offnet("account", "import", "x").code == 2
    assert folder_state(keystore_dir) == {}


# --- list and export-address ------------------------------------------------------------------


def test_list_and_export_address__json_for_scripts_and_a_table_for_humans(offnet, keystore_dir, monkeypatch):
    monkeypatch.setenv("PW", "pw")
    monkeypatch.setenv("CI_DEPLOYER_KEY", KEY.hex())
    offnet("account", "import", "ops", "--private-key-env", "CI_DEPLOYER_KEY", "--password-env", "PW")
    offnet("account", "new", "alice", "--password-env", "PW")
    alice = Keystore(keystore_dir).address("alice")

    listed = json.loads(offnet("account", "list", "--json").out)
    assert [(row["name"], row["address"], row["problem"]) for row in listed] == [
        ("alice", alice, None),
        ("ops", ADDRESS, None),
    ]
    assert listed[1]["path"] == str(keystore_dir / "ops.json")

    table = offnet("account", "list").out
    assert "alice" in table and alice in table and "ops" in table and ADDRESS in table

    assert offnet("account", "export-address", "ops").out == ADDRESS + "\n"
    assert json.loads(offnet("account", "export-address", "ops", "--json").out) == {
        "name": "ops",
        "address": ADDRESS,
    }


def test_list__empty_folder__says_how_to_create_one(offnet, keystore_dir):
    run = offnet("account", "list")
    assert run.code == 0 and "no accounts" in run.err and "offnet account new NAME" in run.err
    assert json.loads(offnet("account", "list", "--json").out) == []


def test_list__corrupted_keystore__is_flagged_not_fatal(offnet, keystore_dir, monkeypatch):
    monkeypatch.setenv("PW", "pw")
    offnet("account", "new", "good", "--password-env", "PW")
    offnet("account", "new", "bad", "--password-env", "PW")
    (keystore_dir / "bad.json").write_text("{ truncated")
    rows = {row["name"]: row for row in json.loads(offnet("account", "list", "--json").out)}
    assert rows["bad"]["address"] is None and "not valid JSON" in rows["bad"]["problem"]
    assert rows["good"]["address"] and rows["good"]["problem"] is None


# --- delete -----------------------------------------------------------------------------------


def test_delete__asks_first_and_keeps_the_keystore_on_no(offnet, keystore_dir, monkeypatch):
    monkeypatch.setenv("PW", "pw")
    offnet("account", "new", "alice", "--password-env", "PW")
    before = folder_state(keystore_dir)
    refused = offnet("account", "delete", "alice", input="n\n")
    assert refused.code == 130 and folder_state(keystore_dir) == before
    accepted = offnet("account", "delete", "alice", input="y\n")
    assert accepted.code == 0 and "deleted account 'alice'" in accepted.out
    assert folder_state(keystore_dir) == {}


def test_delete__yes_flag__skips_the_question(offnet, keystore_dir, monkeypatch):
    monkeypatch.setenv("PW", "pw")
    offnet("account", "new", "alice", "--password-env", "PW")
    assert offnet("account", "delete", "alice", "--yes").code == 0
    assert not (keystore_dir / "alice.json").exists()


# --- errors: one line, exit 1, nothing changed on disk ----------------------------------------


@pytest.fixture
def populated(offnet, keystore_dir, keyfile, monkeypatch, tmp_path):
    """A keystore folder holding 'alice' (password 'pw'), plus files to import from."""
    monkeypatch.setenv("PW", "pw")
    monkeypatch.setenv("WRONG", "not the password")
    assert offnet("account", "new", "alice", "--password-env", "PW").code == 0
    corrupted = tmp_path / "elsewhere" / "corrupted.json"
    keyfile("corrupted.json", "pw")
    corrupted.write_text(corrupted.read_text().replace('"version": 3', '"version": 2'))
    return {
        "good": keyfile("good.json", "pw"),
        "corrupted": corrupted,
        "lying": keyfile("lying.json", "pw", address="11" * 20),
    }


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["import", "bob", "--keystore", "{good}", "--password-env", "WRONG"],
            ["wrong password for keystore file good.json"],
        ),
        (
            ["import", "bob", "--keystore", "{corrupted}", "--password-env", "PW"],
            ["keystore file corrupted.json is corrupted: its version is 2, not 3"],
        ),
        (
            ["import", "bob", "--keystore", "{lying}", "--password-env", "PW"],
            ["address field says 0x1111111111111111111111111111111111111111 but its key is"],
        ),
        (["import", "bob", "--keystore", "{missing}", "--password-env", "PW"], ["keystore file not found"]),
        (
            ["import", "alice", "--keystore", "{good}", "--password-env", "PW"],
            ["an account named 'alice' already exists"],
        ),
        (["new", "alice", "--password-env", "PW"], ["an account named 'alice' already exists"]),
        (
            ["new", "bob", "--password-file", "{missing}"],
            ["cannot read password file", "No such file or directory"],
        ),
        (["new", "bob", "--password-file", "{folder}"], ["cannot read password file", "Is a directory"]),
        (
            ["new", "bob", "--password-env", "UNSET_FOR_THIS_TEST"],
            ["UNSET_FOR_THIS_TEST (--password-env) is not set"],
        ),
        (
            ["new", "bob", "--password-env", "PW", "--password-file", "{good}"],
            ["either --password-file or --password-env"],
        ),
        (["new", "../bob", "--password-env", "PW"], ["invalid account name '../bob'"]),
        (
            ["new", "bob", "--password-env", "PW", "--keystore-dir", "{blocked}"],
            ["cannot write to keystore folder", "Not a directory"],
        ),
        (
            ["import", "bob", "--private-key-env", "WRONG", "--password-env", "PW"],
            ["WRONG does not hold a private key"],
        ),
        (["export-address", "ghost"], ["no account named 'ghost'"]),
        (["export-address", "0x1234"], ["bad address '0x1234'"]),
        (["delete", "ghost", "--yes"], ["no account named 'ghost'"]),
    ],
)
def test_user_error__one_line_exit_1_and_nothing_changed(
    offnet, keystore_dir, populated, tmp_path, args, fragments
):
    paths = {
        **{k: str(v) for k, v in populated.items()},
        "missing": str(tmp_path / "missing.json"),
        "folder": str(tmp_path),
        "blocked": str(tmp_path / "a-file" / "keystores"),
    }
    (tmp_path / "a-file").write_text("in the way")
    before = folder_state(keystore_dir)
    run = offnet("account", *(a.format(**paths) for a in args))
    assert_one_line_error(run, *fragments)
    assert folder_state(keystore_dir) == before


def test_user_error__wrong_password_never_prints_the_password(offnet, populated):
    run = offnet("account", "import", "bob", "--keystore", str(populated["good"]), "--password-env", "WRONG")
    assert "not the password" not in run.out + run.err


# --- the installed console script -------------------------------------------------------------


def test_console_script__new_list_and_a_wrong_password_in_real_processes(tmp_path, keyfile):
    folder = tmp_path / "keystores"
    env = {**os.environ, "OFFNET_KEYSTORE_DIR": str(folder), "CI_PASSWORD": "ci password", "WRONG": "nope"}

    def offnet_process(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(OFFNET), "account", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    created = offnet_process("new", "ci", "--password-env", "CI_PASSWORD")
    assert created.returncode == 0, created.stderr
    stored = json.loads((folder / "ci.json").read_text())
    assert stored["crypto"]["kdf"] == "scrypt"
    assert stored["crypto"]["kdfparams"]["n"] == 2**18  # eth-account's default cost in production
    assert (folder / "ci.json").stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700

    listed = offnet_process("list", "--json")
    assert listed.returncode == 0
    assert [row["name"] for row in json.loads(listed.stdout)] == ["ci"]
    assert json.loads(listed.stdout)[0]["address"] in created.stdout, listed.stdout

    before = folder_state(folder)
    source = keyfile("k.json", "pw")
    refused = offnet_process("import", "other", "--keystore", str(source), "--password-env", "WRONG")
    assert refused.returncode == 1
    assert refused.stderr == "error: wrong password for keystore file k.json\n"
    assert folder_state(folder) == before
