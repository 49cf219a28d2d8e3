"""Every exception offnet raises on purpose, under one base class.

`except OffnetError` catches anything offnet refuses or fails at by design (a contract's custom error,
a refused transaction, a bad file, a wrong password, a Sonata peer's error...). The families also
derive from the built-in class a caller would expect (ValueError for bad input, LookupError for
something missing), so existing `except ValueError` code keeps working.
"""

from __future__ import annotations


class OffnetError(Exception):
    """Base class of every offnet error."""


class InvalidInput(OffnetError, ValueError):
    """An argument, a file or a peer's document cannot be used as it is."""


# --- chain ----------------------------------------------------------------------------------------------


class ChainError(OffnetError, RuntimeError):
    """The chain could not be reached or does not support what was asked."""


class AnvilError(ChainError):
    """A local anvil node could not be found, started or stopped."""


class DeploymentError(ChainError):
    """The suite could not be deployed as planned."""


class TransactionRejected(ChainError, ValueError):
    """The node refused a transaction before executing it (funds, fees, nonce...)."""

    @classmethod
    def from_node(cls, exc: Exception, label: str = "") -> TransactionRejected:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, dict):  # a JSON-RPC error object
            detail = detail.get("message", detail)
        prefix = f"{label}: " if label else ""
        return cls(f"{prefix}the node refused the transaction: {detail}")


class BroadcastUnknown(ChainError):
    """A signed transaction was handed to the node, which did not say whether it took it."""


class TransactionDropped(ChainError):
    """A mined transaction vanished before reaching its confirmations (a chain reorganisation)."""


class ContractRevert(OffnetError):
    """A transaction or call refused by a contract: the custom error's name and its arguments."""

    def __init__(self, name: str, args: dict[str, object], data: bytes = b""):
        self.name = name
        self.arguments = args
        self.data = data
        super().__init__(self.describe())

    def describe(self) -> str:
        inner = ", ".join(f"{k}={show_value(v)}" for k, v in self.arguments.items())
        return f"{self.name}({inner})"


def show_value(value: object) -> str:
    """An error argument as text: byte strings as 0x hex, lists in brackets."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)


# --- wallet ---------------------------------------------------------------------------------------------


class WalletError(OffnetError, ValueError):
    """A keystore, password or signer problem the user can fix."""


class InvalidAccountName(WalletError):
    """An account name that cannot be a keystore file name."""


class AccountNotFound(WalletError, LookupError):
    """No keystore holds the account asked for."""


class AccountExists(WalletError):
    """A new account would take a name that is already used."""


class WrongPassword(WalletError):
    """The password does not decrypt the keystore (its MAC does not match)."""


class CorruptKeystore(WalletError):
    """A file that is not a readable v3 keystore, or whose address does not match its key."""


class InvalidAddress(WalletError):
    """A string given as an address is not a 20-byte hex address (or fails its checksum)."""


class InvalidPrivateKey(WalletError):
    """A private key that is not 32 bytes of hex in the curve's range."""


class KeystoreFolderUnusable(WalletError):
    """The keystore folder cannot be created or written (a file in the way, no space, no permission)."""


class PasswordUnavailable(WalletError):
    """The password could not be read from the source the user named."""


class ConflictingOptions(WalletError):
    """Two ways to say the same thing were given at once (two password sources, two signers)."""


class EmptyPassword(WalletError):
    """A new keystore would be encrypted with an empty password."""


class SignerRequired(WalletError):
    """A command that signs was given no account."""


class PrivateKeyUnavailable(WalletError):
    """--private-key-env names a variable that is not set."""


# --- market ---------------------------------------------------------------------------------------------


class CopyUnreadable(OffnetError, LookupError):
    """No published copy of the contract could be decrypted with the given key."""


# --- Sonata ---------------------------------------------------------------------------------------------


class SonataError(OffnetError):
    """A Sonata call failed: ``status`` is the HTTP status (None when the seller was unreachable);
    ``reasons`` holds one line per MEF error entry of the answer (every issue of a 422)."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        code: str | None = None,
        method: str = "",
        url: str = "",
        reasons: tuple[str, ...] = (),
    ) -> None:
        self.status = status
        self.message = message
        self.code = code
        self.method = method
        self.url = url
        self.reasons = reasons
        where = f"{method} {url}: " if method else ""
        super().__init__(f"{where}{status if status is not None else 'unreachable'} {message}".strip())


class AuthError(OffnetError):
    """A token endpoint refused the credentials or answered something unusable."""


class SonataRefusal(OffnetError):
    """A Sonata request refused with a MEF error (``offnet.sonata.errors`` writes its body): the HTTP
    status, the MEF code, the message and, for a 422, one ``(code, JSON pointer, reason)`` issue per
    problem."""

    def __init__(
        self, status: int, code: str, message: str, issues: tuple[tuple[str, str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.issues = tuple(issues) or (((code, "", message),) if status == 422 else ())

    @classmethod
    def unprocessable(cls, code: str, pointer: str, message: str) -> SonataRefusal:
        """A 422 with one issue."""
        return cls(422, code, message, ((code, pointer, message),))


class SellerError(SonataRefusal):
    """A request the reference seller refuses."""


# --- demo -----------------------------------------------------------------------------------------------


class DemoFailure(OffnetError):
    """An invariant of the marketplace broke, or the demo could not run: the reason in one line."""
