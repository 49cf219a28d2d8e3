"""Encrypted keystores: creation, imports from eth-account, ape and geth, every way a file can be wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from offnet import exceptions as errors
from offnet.wallet.keystore import Keystore, default_keystore_dir

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ADDRESS = Account.from_key(KEY).address


def test_create__writes_a_scrypt_v3_keystore_that_only_its_password_opens(keystore):
    entry = keystore.create("alice", "correct horse")
    data = json.loads(entry.path.read_text())
    assert entry.path == keystore.directory / "alice.json"
    assert data["version"] == 3 and data["crypto"]["kdf"] == "scrypt"
    assert "0x" + data["address"].lower() == entry.address.lower()
    assert keystore.unlock("alice", "correct horse").address == entry.address
    with pytest.raises(errors.WrongPassword, match="wrong password for account 'alice'"):
        keystore.unlock("alice", "battery staple")


def test_create__folder_is_0700_and_file_0600_whatever_the_umask(keystore):
    previous = os.umask(0o022)
    try:
        entry = keystore.create("alice", "pw")
    finally:
        os.umask(previous)
    assert keystore.directory.stat().st_mode & 0o777 == 0o700
    assert entry.path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in keystore.directory.iterdir()] == ["alice.json"]  # no temporary file left


def test_create__two_accounts__have_different_keys(keystore):
    assert keystore.create("a", "pw").address != keystore.create("b", "pw").address


def test_create__taken_name__raises_account_exists_and_keeps_the_first(keystore):
    first = keystore.create("alice", "pw")
    before = first.path.read_bytes()
    with pytest.raises(errors.AccountExists, match="an account named 'alice' already exists"):
        keystore.create("alice", "pw")
    assert first.path.read_bytes() == before
    assert [e.name for e in keystore.entries()] == ["alice"]


def test_create__folder_blocked_by_a_file__raises_folder_unusable(tmp_path):
    (tmp_path / "a-file").write_text("in the way")
    keystore = Keystore(tmp_path / "a-file" / "keystores")
    with pytest.raises(
        errors.KeystoreFolderUnusable, match=r"cannot write to keystore folder .*: Not a directory"
    ):
        keystore.create("alice", "pw")
    assert (tmp_path / "a-file").read_text() == "in the way"


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "with space", ".hidden", "0xabc", "x" * 65])
def test_create__unusable_name__raises_invalid_account_name_and_creates_nothing(keystore, name):
    with pytest.raises(errors.InvalidAccountName, match="invalid account name"):
        keystore.create(name, "pw")
    assert not keystore.directory.exists()


def test_import_private_key__keeps_the_key_and_its_address(keystore):
    entry = keystore.import_private_key("ops", "0x" + KEY.hex(), "pw")
    assert entry.address == ADDRESS
    assert keystore.unlock("ops", "pw").key == KEY


@pytest.mark.parametrize("bad", ["", "0x1234", "zz" * 32, "00" * 32, "ff" * 33])
def test_import_private_key__not_a_key__raises_without_repeating_it(keystore, bad):
    with pytest.raises(errors.InvalidPrivateKey) as refused:
        keystore.import_private_key("ops", bad, "pw")
    assert bad not in str(refused.value) or bad == ""
    assert not keystore.directory.exists()


def test_import_keystore__eth_account_file__is_copied_unchanged_and_unlocks(keystore, write_keyfile):
    source = write_keyfile("exported.json", KEY, "their password")
    entry = keystore.import_keystore("alice", source, "their password")
    assert entry.address == ADDRESS
    assert entry.path.read_bytes() == source.read_bytes()
    assert entry.path.stat().st_mode & 0o777 == 0o600
    assert keystore.unlock("alice", "their password").key == KEY


def test_import_keystore__file_written_by_ape_itself__imports_as_it_is(keystore, tmp_path):
    # ape's own `accounts import` code, run in a process whose ape data folder is tmp_path/ape.
    script = (
        "import sys; from ape_accounts.accounts import import_account_from_private_key as i; "
        "i('deployer', 'ape passphrase', sys.argv[1])"
    )
    subprocess.run(
        [sys.executable, "-c", script, "0x" + KEY.hex()],
        cwd=tmp_path,
        check=True,
        timeout=120,
        env={**os.environ, "APE_DATA_FOLDER": str(tmp_path / "ape")},
        capture_output=True,
    )
    ape_file = tmp_path / "ape" / "accounts" / "deployer.json"
    entry = keystore.import_keystore("deployer", ape_file, "ape passphrase")
    assert entry.address == ADDRESS
    assert entry.path.read_bytes() == ape_file.read_bytes()
    assert entry.path.stat().st_mode & 0o777 == 0o600  # ape leaves its copy 0644


def test_import_keystore__geth_utc_file_with_capitalised_crypto__imports_as_it_is(keystore, write_keyfile):
    data = Account.encrypt(KEY, "geth password", kdf="scrypt", iterations=2**4)
    data["Crypto"] = data.pop("crypto")  # geth before 1.4 and Mist wrote "Crypto"
    source = write_keyfile(f"keystore/UTC--2026-11-25T17-15-27.123456789Z--{ADDRESS[2:].lower()}", KEY, "x")
    source.write_text(json.dumps(data))
    entry = keystore.import_keystore("node", source, "geth password")
    assert entry.address == ADDRESS
    assert keystore.unlock("node", "geth password").key == KEY


def test_import_keystore__iv_with_leading_zero_bytes__imports(keystore, tmp_path):
    # eth-account drops an iv's leading zero bytes (1 keystore in 256); such files must still open.
    for _ in range(20_000):
        data = Account.encrypt(KEY, "pw", iterations=2**1)
        if len(data["crypto"]["cipherparams"]["iv"]) < 32:
            break
    source = tmp_path / "short-iv.json"
    source.write_text(json.dumps(data))
    assert len(data["crypto"]["cipherparams"]["iv"]) < 32
    assert keystore.import_keystore("short", source, "pw").address == ADDRESS
    assert keystore.unlock("short", "pw").key == KEY


def test_import_keystore__pbkdf2_file__imports(keystore, tmp_path):
    source = tmp_path / "pbkdf2.json"
    source.write_text(json.dumps(Account.encrypt(KEY, "pw", kdf="pbkdf2", iterations=2)))
    assert keystore.import_keystore("old", source, "pw").address == ADDRESS


def test_import_keystore__without_address_field__records_the_address_it_decrypts_to(keystore, write_keyfile):
    source = write_keyfile("anonymous.json", KEY, "pw")
    data = json.loads(source.read_text())
    del data["address"]
    source.write_text(json.dumps(data))
    entry = keystore.import_keystore("anon", source, "pw")
    assert entry.address == ADDRESS
    assert [(e.name, e.address, e.problem) for e in keystore.entries()] == [("anon", ADDRESS, None)]


def test_keystore_without_address_placed_by_hand__lists_as_unknown_and_still_unlocks(keystore, write_keyfile):
    keystore.create("first", "pw")  # creates the folder
    data = json.loads(write_keyfile("anonymous.json", KEY, "pw").read_text())
    del data["address"]
    keystore.path_of("manual").write_text(json.dumps(data))
    listed = {e.name: e for e in keystore.entries()}
    assert listed["manual"].address is None and listed["manual"].problem == "no address recorded"
    assert keystore.unlock("manual", "pw").address == ADDRESS
    with pytest.raises(errors.CorruptKeystore, match="records no address"):
        keystore.address("manual")


def test_import_keystore__wrong_password__raises_and_writes_nothing(keystore, write_keyfile):
    source = write_keyfile("exported.json", KEY, "right")
    with pytest.raises(errors.WrongPassword, match=r"wrong password for keystore file exported\.json"):
        keystore.import_keystore("alice", source, "wrong")
    assert not keystore.directory.exists()


def test_import_keystore__address_field_is_not_the_keys__raises_corrupt(keystore, write_keyfile):
    other = Account.create().address
    source = write_keyfile("lying.json", KEY, "pw", address=other[2:].lower())
    with pytest.raises(errors.CorruptKeystore, match=f"address field says {other} but its key is {ADDRESS}"):
        keystore.import_keystore("liar", source, "pw")
    assert not keystore.directory.exists()


def _break(data: dict, how: str) -> object:
    if how == "not-json":
        return None
    crypto = data["crypto"]
    if how == "version-4":
        data["version"] = 4
    elif how == "no-crypto":
        del data["crypto"]
    elif how == "mac-not-hex":
        crypto["mac"] = "zz" * 32
    elif how == "long-iv":
        crypto["cipherparams"]["iv"] = "00" * 17
    elif how == "unknown-kdf":
        crypto["kdf"] = "argon2"
    elif how == "scrypt-n-not-power-of-two":
        crypto["kdfparams"]["n"] = 1000
    elif how == "scrypt-asks-for-16-gib":
        crypto["kdfparams"]["n"] = 2**24
    elif how == "address-not-hex":
        data["address"] = "not an address"
    return data


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("not-json", "not valid JSON"),
        ("version-4", "its version is 4, not 3"),
        ("no-crypto", "no crypto section"),
        ("mac-not-hex", "ciphertext, iv or mac is missing or not hex"),
        ("long-iv", "ciphertext, iv or mac is missing or not hex"),
        ("unknown-kdf", "key derivation function 'argon2' is not scrypt or pbkdf2"),
        ("scrypt-n-not-power-of-two", "scrypt parameters are invalid"),
        ("scrypt-asks-for-16-gib", "more than 1024 MiB of memory"),
        ("address-not-hex", "address field 'not an address' is not a 20-byte hex address"),
    ],
)
def test_import_keystore__corrupted_file__raises_corrupt_with_the_reason_and_writes_nothing(
    keystore, write_keyfile, how, reason
):
    source = write_keyfile("broken.json", KEY, "pw")
    broken = _break(json.loads(source.read_text()), how)
    source.write_text('{"version": 3, "crypto": {' if broken is None else json.dumps(broken))
    with pytest.raises(errors.CorruptKeystore) as refused:
        keystore.import_keystore("broken", source, "pw")
    assert str(refused.value).startswith("keystore file broken.json is corrupted: ")
    assert reason in str(refused.value)
    assert not keystore.directory.exists()


def test_import_keystore__missing_file__raises_file_not_found(keystore, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"keystore file not found: .*nowhere\.json"):
        keystore.import_keystore("alice", tmp_path / "nowhere.json", "pw")


def test_import_keystore__taken_name__raises_before_reading_the_file(keystore, tmp_path):
    keystore.create("alice", "pw")
    with pytest.raises(errors.AccountExists):
        keystore.import_keystore("alice", tmp_path / "nowhere.json", "pw")


def test_stored_keystore_damaged_later__unlock_raises_corrupt_and_list_flags_it(keystore):
    keystore.create("alice", "pw")
    good = keystore.create("bob", "pw")
    path = keystore.path_of("alice")
    path.write_text(path.read_text()[:100])
    with pytest.raises(errors.CorruptKeystore, match="account 'alice' is corrupted: it is not valid JSON"):
        keystore.unlock("alice", "pw")
    with pytest.raises(errors.CorruptKeystore):
        keystore.address("alice")
    listed = {e.name: e for e in keystore.entries()}
    assert listed["alice"].address is None and "not valid JSON" in listed["alice"].problem
    assert listed["bob"].address == good.address and listed["bob"].problem is None


def test_entries__sorted_by_name_and_empty_when_the_folder_does_not_exist(keystore):
    assert keystore.entries() == []
    keystore.create("zed", "pw")
    keystore.create("amy", "pw")
    assert [e.name for e in keystore.entries()] == ["amy", "zed"]


def test_entry__by_address__finds_the_account_in_any_case(keystore):
    keystore.import_private_key("ops", KEY, "pw")
    assert keystore.entry(ADDRESS.lower()).name == "ops"
    assert keystore.entry(ADDRESS).name == "ops"
    assert keystore.unlock(ADDRESS, "pw").address == ADDRESS


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("0x1234", "expected 0x followed by 40 hex digits"),
        ("0x" + "g" * 40, "expected 0x followed by 40 hex digits"),
        (ADDRESS[:2] + ADDRESS[2:].swapcase(), r"checksum \(EIP-55\) is wrong"),
    ],
)
def test_entry__bad_address__raises_invalid_address(keystore, ref, reason):
    keystore.import_private_key("ops", KEY, "pw")
    with pytest.raises(errors.InvalidAddress, match=reason):
        keystore.entry(ref)


def test_entry__unknown_name_or_address__raises_account_not_found(keystore):
    with pytest.raises(errors.AccountNotFound, match="no account named 'ghost'"):
        keystore.entry("ghost")
    with pytest.raises(errors.AccountNotFound, match=f"no account with address {ADDRESS}"):
        keystore.entry(ADDRESS)


def test_delete__removes_the_file_even_when_corrupted(keystore):
    keystore.create("alice", "pw")
    keystore.path_of("alice").write_text("garbage")
    deleted = keystore.delete("alice")
    assert deleted.name == "alice" and deleted.problem
    assert keystore.entries() == []
    with pytest.raises(errors.AccountNotFound):
        keystore.delete("alice")


def test_default_keystore_dir__home_folder_unless_the_environment_names_one(monkeypatch, tmp_path):
    monkeypatch.delenv("OFFNET_KEYSTORE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_keystore_dir() == tmp_path / ".offnet" / "keystores"
    monkeypatch.setenv("OFFNET_KEYSTORE_DIR", str(tmp_path / "elsewhere"))
    assert default_keystore_dir() == tmp_path / "elsewhere"
    assert Keystore().directory == tmp_path / "elsewhere"
    assert Path(Keystore(tmp_path / "explicit").directory) == tmp_path / "explicit"
