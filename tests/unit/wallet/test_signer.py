"""The signing account: unlocked from a keystore or a named env var; transactions and EIP-712 on chain."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from offnet import exceptions as errors
from offnet.chain import Sender
from offnet.chain.permit import PERMIT_TYPES
from offnet.chain.tx import call
from offnet.wallet.password import EnvPassword
from offnet.wallet.signer import load_account, recover_typed_data_signer, resolve_signer, sign_typed_data

KEY = bytes.fromhex("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f")
ADDRESS = Account.from_key(KEY).address


@pytest.fixture
def ops(keystore, monkeypatch):
    """Account 'ops' in the test keystore, its password in $OPS_PASSWORD."""
    keystore.import_private_key("ops", KEY, "ops password")
    monkeypatch.setenv("OPS_PASSWORD", "ops password")
    return keystore


def test_load_account__right_password__unlocks_the_key(ops):
    account = load_account("ops", EnvPassword("OPS_PASSWORD"), ops.directory)
    assert account.address == ADDRESS and account.key == KEY


def test_load_account__wrong_password__says_where_the_password_came_from(ops, monkeypatch):
    monkeypatch.setenv("OPS_PASSWORD", "guess")
    with pytest.raises(errors.WrongPassword) as refused:
        load_account("ops", EnvPassword("OPS_PASSWORD"), ops.directory)
    assert str(refused.value) == "wrong password for account 'ops' (from --password-env OPS_PASSWORD)"


def test_load_account__unknown_account__fails_before_asking_for_a_password(ops):
    # The variable is unset: reading it would raise PasswordUnavailable instead.
    with pytest.raises(errors.AccountNotFound, match="no account named 'nobody'"):
        load_account("nobody", EnvPassword("UNSET_VARIABLE_FOR_THIS_TEST"), ops.directory)


def test_resolve_signer__account_with_password_env_or_file(ops, tmp_path):
    password_file = tmp_path / "pw"
    password_file.write_text("ops password\n")
    by_env = resolve_signer(account="ops", password_env="OPS_PASSWORD", keystore_dir=ops.directory)
    by_file = resolve_signer(account="ops", password_file=password_file, keystore_dir=ops.directory)
    assert by_env.address == by_file.address == ADDRESS


def test_resolve_signer__keystore_dir_from_the_environment(ops, monkeypatch):
    monkeypatch.setenv("OFFNET_KEYSTORE_DIR", str(ops.directory))
    assert resolve_signer(account="ops", password_env="OPS_PASSWORD").address == ADDRESS


def test_resolve_signer__private_key_env__for_ci(monkeypatch):
    monkeypatch.setenv("CI_DEPLOYER_KEY", "0x" + KEY.hex())
    assert resolve_signer(private_key_env="CI_DEPLOYER_KEY").address == ADDRESS


def test_resolve_signer__private_key_env_unset_or_not_a_key__fails_without_echoing_it(monkeypatch):
    with pytest.raises(
        errors.PrivateKeyUnavailable, match=r"environment variable CI_DEPLOYER_KEY .* is not set"
    ):
        resolve_signer(private_key_env="CI_DEPLOYER_KEY")
    almost = KEY.hex()[:-2]
    monkeypatch.setenv("CI_DEPLOYER_KEY", almost)
    with pytest.raises(errors.InvalidPrivateKey) as refused:
        resolve_signer(private_key_env="CI_DEPLOYER_KEY")
    assert "CI_DEPLOYER_KEY does not hold a private key" in str(refused.value)
    assert almost not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_resolve_signer__nothing_chosen__required_raises_optional_returns_none():
    with pytest.raises(errors.SignerRequired, match="choose --account NAME or --private-key-env VAR"):
        resolve_signer()
    assert resolve_signer(required=False) is None


@pytest.mark.parametrize(
    "options",
    [
        {"account": "ops", "private_key_env": "CI_DEPLOYER_KEY"},
        {"private_key_env": "CI_DEPLOYER_KEY", "password_env": "OPS_PASSWORD"},
        {"account": "ops", "password_env": "OPS_PASSWORD", "password_file": "pw.txt"},
    ],
)
def test_resolve_signer__contradictory_options__raise(ops, options):
    with pytest.raises(errors.ConflictingOptions):
        resolve_signer(keystore_dir=ops.directory, **options)


def test_unlocked_account__signs_transactions_locally(chain, stablecoin, ops):
    account = load_account("ops", EnvPassword("OPS_PASSWORD"), ops.directory)
    chain.fund(account.address, 10**18)
    Sender(chain, account).transact(stablecoin.functions.mint(account.address, 42_000_000))
    assert call(stablecoin.functions.balanceOf(ADDRESS)) == 42_000_000


def test_sign_typed_data__is_eip712_and_recovers_to_the_signer(ops):
    account = load_account("ops", EnvPassword("OPS_PASSWORD"), ops.directory)
    domain = {
        "name": "offnet",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": "0x000000000000000000000000000000000000dEaD",
    }
    message = {
        "owner": ADDRESS,
        "spender": domain["verifyingContract"],
        "value": 5,
        "nonce": 0,
        "deadline": 9,
    }
    digest, signature = sign_typed_data(account, domain, PERMIT_TYPES, message)
    expected = account.sign_message(encode_typed_data(domain, PERMIT_TYPES, message))
    assert digest == bytes(expected.message_hash) and len(digest) == 32
    assert signature == bytes(expected.signature) and len(signature) == 65
    assert recover_typed_data_signer(domain, PERMIT_TYPES, message, signature) == ADDRESS
    with_domain_type = {
        "EIP712Domain": [
            {"name": k, "type": t}
            for k, t in (
                ("name", "string"),
                ("version", "string"),
                ("chainId", "uint256"),
                ("verifyingContract", "address"),
            )
        ],
        **PERMIT_TYPES,
    }
    assert sign_typed_data(account, domain, with_domain_type, message) == (digest, signature)
    tampered = {**message, "value": 6}
    assert recover_typed_data_signer(domain, PERMIT_TYPES, tampered, signature) != ADDRESS


def test_sign_typed_data__permit_verifies_in_a_real_contract(chain, stablecoin, ops, make_party):
    owner = load_account("ops", EnvPassword("OPS_PASSWORD"), ops.directory)
    spender = make_party("permit-spender")
    _, name, version, chain_id, verifying_contract, _, _ = call(stablecoin.functions.eip712Domain())
    deadline = chain.now() + 3600
    domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract}
    message = {
        "owner": owner.address,
        "spender": spender.address,
        "value": 7,
        "nonce": 0,
        "deadline": deadline,
    }
    _, signature = sign_typed_data(owner, domain, PERMIT_TYPES, message)
    r, s, v = signature[:32], signature[32:64], signature[64]
    spender.sender.transact(stablecoin.functions.permit(owner.address, spender.address, 7, deadline, v, r, s))
    assert call(stablecoin.functions.allowance(owner.address, spender.address)) == 7
