"""`offnet explorer` refuses in one line what it cannot serve."""

from __future__ import annotations

from offnet.cli.main import main


def test_explorer__without_a_chain_or_a_database__says_what_to_give(capsys):
    assert main(["explorer"]) == 2
    err = capsys.readouterr().err
    assert "give --rpc URL to follow a chain, or --database to serve an index as it is" in err


def test_explorer__a_missing_index_file__one_error_line(capsys, tmp_path):
    assert main(["explorer", "--database", str(tmp_path / "nothing.db")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: no index database at {tmp_path / 'nothing.db'}"


def test_explorer__an_unreachable_rpc__one_error_line(capsys):
    assert main(["explorer", "--rpc", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "127.0.0.1:9" in err
