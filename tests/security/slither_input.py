"""Write the solc standard-JSON input Slither analyses (`make lint`): every contract under contracts/, the
remappings and compiler settings of ape-config.yaml, AST output selected.
Usage: python slither_input.py OUT"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from offnet.build import compile_settings, contract_sources, project_root


def standard_input(root: Path) -> dict:
    """The standard-JSON input of the whole contracts/ tree, with the AST Slither reads."""
    settings = dict(compile_settings(root)["settings"])
    settings["outputSelection"] = {
        "*": {
            "": ["ast"],
            "*": [
                "abi",
                "evm.bytecode",
                "evm.deployedBytecode",
                "evm.methodIdentifiers",
                "userdoc",
                "devdoc",
            ],
        }
    }
    sources = {
        name: {"content": text}
        for name, text in contract_sources(root).items()
        if not name.startswith("contracts/test/")
    }
    return {"language": "Solidity", "sources": sources, "settings": settings}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(standard_input(project_root()), indent=1))
    print(out)
