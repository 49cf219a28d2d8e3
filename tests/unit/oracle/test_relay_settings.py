"""The README's table of relay settings gives the oracle config's own defaults and bounds."""

from __future__ import annotations

import re
from pathlib import Path

from offnet.oracle.config import OracleConfig

README = Path(__file__).parents[3] / "README.md"


def test_readme_sizing_table__matches_the_config_defaults():
    section = README.read_text().split("#### Sizing the relay", 1)[1].split("###", 1)[0]
    fields = OracleConfig.model_fields
    rows = re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", section, flags=re.MULTILINE)
    assert len(rows) == 4
    for names, defaults in rows:
        for name, default in zip(re.findall(r"`(\w+)`", names), defaults.split(","), strict=True):
            assert fields[name].default == type(fields[name].default)(default.strip()), name
    assert "at most 400" in section and any(
        getattr(m, "le", None) == 400 for m in fields["batch_size"].metadata
    )
