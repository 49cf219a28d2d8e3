"""README.md's "Trade from the command line", run verbatim: its shell blocks, in order, in one bash
(`set -euo pipefail`) at the repository root, in a fresh HOME, against the anvil the walkthrough
starts itself on a free port ($OFFNET_PORT, which the README lets the reader choose). The README
cannot drift from what offnet does: a changed command breaks this test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from offnet.chain.node import free_port

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
SECTION = "### Trade from the command line"


def walkthrough_blocks() -> list[str]:
    """The ```bash blocks of the section, in order."""
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n### ", start + len(SECTION))
    return re.findall(r"```bash\n(.*?)```", text[start:end], flags=re.S)


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    script = "set -euo pipefail\n" + "\n".join(walkthrough_blocks())
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OFFNET_") and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }
    env.update(HOME=str(home), OFFNET_PORT=str(port))
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    yield done, home, port
    # The walkthrough leaves its chain running (deploy --keep): stop the anvil on that port.
    found = subprocess.run(["pgrep", "-f", f"anvil.*--port {port}"], capture_output=True, text=True)
    for pid in found.stdout.split():
        os.kill(int(pid), signal.SIGTERM)


def test_walkthrough__has_the_steps_a_new_user_needs():
    script = "\n".join(walkthrough_blocks())
    for step in (
        "make install",
        "offnet account new",
        "offnet deploy --chain anvil --port $OFFNET_PORT --keep",
        "offnet dev fund",
        "offnet dev mint",
        "offnet carrier keys add erin-oracle --role oracle",
        "offnet sla finalize",
        "offnet sla dispute",
        "offnet order withdraw",
    ):
        assert step in script, step


def test_walkthrough__runs_verbatim_from_keystores_to_withdrawals(walkthrough):
    done, _, _ = walkthrough
    assert done.returncode == 0, f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr


def test_walkthrough__offnet_from_the_path_and_the_manifest_outside_the_project(walkthrough):
    done, home, port = walkthrough
    assert (home / ".local" / "bin" / "offnet").is_symlink()
    assert (home / ".offnet" / "deployments" / "31337.json").is_file()
    assert f"export OFFNET_RPC=http://127.0.0.1:{port}" in done.stdout


def test_walkthrough__new_member_found_despite_the_floor_and_money_moved_as_told(walkthrough):
    done, _, _ = walkthrough
    out = done.stdout
    assert "Erin Telecom" in out and "new (n=0)" in out  # discovery: new, not 0 %
    # Delivery final: the installation charge released; the month settled with the 10 % credit.
    assert "1,500.00 tUSD released to the seller" in out
    # The first month runs from delivery to the end of its calendar month, charged pro rata (the
    # walkthrough runs on today's date): Erin gets 1,500 + 90 % of that charge, Alice the 10 % credit
    # and the unused rest of the 900 she prepaid; together, everything escrowed.
    erin, alice = (
        float(line.split("withdrew ")[1].split(" tUSD")[0].replace(",", ""))
        for line in out.splitlines()
        if "withdrew " in line
    )
    assert round(erin + alice, 2) == 2_400.00
    assert 1_500.00 < erin <= 2_310.00 and alice >= 90.00
