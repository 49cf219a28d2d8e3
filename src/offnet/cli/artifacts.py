"""`offnet artifacts`: the compiled contracts shipped in the package, one build per EVM version."""

from __future__ import annotations

import click

from offnet import __version__
from offnet.chain.artifacts import EVM_BUILDS, artifact_names, load_artifact
from offnet.cli.output import echo_json, json_option, table


@click.command()
@json_option
def artifacts(as_json: bool) -> None:
    """List the compiled contracts shipped in this package (both EVM builds)."""
    rows = [
        {
            "contract": name,
            "evm": evm,
            "sha256": load_artifact(name, evm).sha256,
            "initcodeBytes": len(load_artifact(name, evm).bytecode) // 2 - 1,
        }
        for name in artifact_names()
        for evm in EVM_BUILDS
    ]
    if as_json:
        echo_json(rows)
        return
    table(
        f"offnet {__version__} packaged artifacts",
        ("contract", "evm", "init code bytes", "sha256"),
        [(r["contract"], r["evm"], f"{r['initcodeBytes']:,}", r["sha256"][:16]) for r in rows],
        caption="the chain is probed at deployment: Cancun build where it runs MCOPY and transient "
        "storage, Shanghai build where it stops at PUSH0",
    )
