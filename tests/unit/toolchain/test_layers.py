"""The package layers `make lint` enforces: dependencies run one way, and the check catches a back edge."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source_root,
        env={"PYTHONPATH": str(source_root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_layers__the_package_keeps_them():
    result = _lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_layers__an_import_up_the_layers_breaks_the_check(tmp_path):
    shutil.copytree(ROOT / "src" / "offnet", tmp_path / "offnet", ignore=shutil.ignore_patterns("artifacts"))
    (tmp_path / "offnet" / "market" / "upward.py").write_text("import offnet.oracle.service\n")
    (tmp_path / "offnet" / "sonata" / "sideways.py").write_text("import offnet.market.types\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "offnet.market.upward -> offnet.oracle.service" in result.stdout
    assert "offnet.sonata.sideways -> offnet.market.types" in result.stdout
