"""Where a keystore password comes from: a hidden prompt, a file, or a named environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import click

from offnet.exceptions import ConflictingOptions, EmptyPassword, PasswordUnavailable


class PasswordSource(Protocol):
    """Yields the password that unlocks (or will lock) a keystore."""

    def read(self, prompt: str, *, confirm: bool = False) -> str:
        """The password; `confirm` asks twice where a human types it (new keystores)."""
        ...

    def describe(self) -> str:
        """Where the password came from, for error messages (never the password itself)."""
        ...


@dataclass(frozen=True)
class PromptPassword:
    """Ask on the terminal with hidden input."""

    def read(self, prompt: str, *, confirm: bool = False) -> str:
        return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)

    def describe(self) -> str:
        return "typed at the prompt"


@dataclass(frozen=True)
class FilePassword:
    """The first line of a file (trailing newline ignored), as geth's --password reads it."""

    path: Path

    def read(self, prompt: str, *, confirm: bool = False) -> str:
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PasswordUnavailable(f"cannot read password file {self.path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise PasswordUnavailable(f"password file {self.path} is not UTF-8 text") from None
        lines = text.splitlines()
        return lines[0] if lines else ""

    def describe(self) -> str:
        return f"from --password-file {self.path}"


@dataclass(frozen=True)
class EnvPassword:
    """The value of an environment variable the user named explicitly."""

    var: str

    def read(self, prompt: str, *, confirm: bool = False) -> str:
        value = os.environ.get(self.var)
        if value is None:
            raise PasswordUnavailable(f"environment variable {self.var} (--password-env) is not set")
        return value

    def describe(self) -> str:
        return f"from --password-env {self.var}"


def password_source(
    password_file: Path | str | None = None, password_env: str | None = None
) -> PasswordSource:
    """The source the command line named, or the interactive prompt when it named none."""
    if password_file is not None and password_env is not None:
        raise ConflictingOptions("give either --password-file or --password-env, not both")
    if password_file is not None:
        return FilePassword(Path(password_file))
    if password_env is not None:
        return EnvPassword(password_env)
    return PromptPassword()


def new_password(source: PasswordSource, name: str) -> str:
    """A password for a new keystore: confirmed when typed, never empty."""
    password = source.read(f"Password for new account '{name}'", confirm=True)
    if not password:
        raise EmptyPassword(f"refusing an empty password for account '{name}' ({source.describe()})")
    return password
