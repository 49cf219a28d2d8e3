"""Password sources: a file's first line, a named environment variable, and the clear ways they fail."""

from __future__ import annotations

import pytest

from offnet.exceptions import ConflictingOptions, EmptyPassword, PasswordUnavailable
from offnet.wallet.password import EnvPassword, FilePassword, PromptPassword, new_password, password_source


def test_file_password__is_the_first_line_without_its_newline(tmp_path):
    path = tmp_path / "pw.txt"
    path.write_text("  spaces kept \r\nsecond line ignored\n")
    assert FilePassword(path).read("ignored") == "  spaces kept "


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "missing.txt", "No such file or directory"),
        (lambda tmp: tmp, "Is a directory"),
    ],
)
def test_file_password__unreadable__raises_one_line_naming_the_file(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(PasswordUnavailable) as refused:
        FilePassword(path).read("ignored")
    assert str(refused.value) == f"cannot read password file {path}: {reason}"


def test_file_password__not_text__raises(tmp_path):
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PasswordUnavailable, match="is not UTF-8 text"):
        FilePassword(path).read("ignored")


def test_env_password__reads_the_named_variable_only(monkeypatch):
    monkeypatch.setenv("CI_KEYSTORE_PASSWORD", "from env")
    assert EnvPassword("CI_KEYSTORE_PASSWORD").read("ignored") == "from env"
    monkeypatch.delenv("CI_KEYSTORE_PASSWORD")
    with pytest.raises(PasswordUnavailable, match=r"environment variable CI_KEYSTORE_PASSWORD .* is not set"):
        EnvPassword("CI_KEYSTORE_PASSWORD").read("ignored")


def test_password_source__follows_the_options_given(tmp_path):
    assert password_source() == PromptPassword()
    assert password_source(password_file=tmp_path / "f") == FilePassword(tmp_path / "f")
    assert password_source(password_env="V") == EnvPassword("V")
    with pytest.raises(ConflictingOptions, match="either --password-file or --password-env"):
        password_source(tmp_path / "f", "V")


def test_new_password__empty__is_refused_naming_its_source(monkeypatch):
    monkeypatch.setenv("EMPTY", "")
    with pytest.raises(EmptyPassword, match=r"empty password for account 'ci' \(from --password-env EMPTY\)"):
        new_password(EnvPassword("EMPTY"), "ci")
