"""Local wallets: encrypted keystores, password sources, and the account that signs."""

from offnet.wallet.keystore import AccountEntry, Keystore, default_keystore_dir
from offnet.wallet.password import EnvPassword, FilePassword, PasswordSource, PromptPassword, password_source
from offnet.wallet.signer import load_account, recover_typed_data_signer, resolve_signer, sign_typed_data

__all__ = [
    "AccountEntry",
    "EnvPassword",
    "FilePassword",
    "Keystore",
    "PasswordSource",
    "PromptPassword",
    "default_keystore_dir",
    "load_account",
    "password_source",
    "recover_typed_data_signer",
    "resolve_signer",
    "sign_typed_data",
]
