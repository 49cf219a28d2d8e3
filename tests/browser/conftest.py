"""Browser tests of the explorer: a real headless Chromium (Debian's `chromium`) driven by Playwright,
against `offnet explorer` running as a real process on a free local port.

Chromium comes from the project's own `make browser` (apt-get); where it is missing and cannot be
installed, every test here is skipped with one line saying so. Playwright never downloads a browser:
it launches /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from offnet.testing.browser import CHROMIUM, chromium

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "out" / "explorer"


@pytest.fixture(scope="session")
def installed() -> Path:
    """Debian's Chromium, installed by `make browser` when this session can install packages."""
    if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["make", "-C", str(ROOT), "browser"], capture_output=True, timeout=900)
    if not CHROMIUM.exists():
        pytest.skip(
            "headless Chromium is not installed and cannot be installed here: run `make browser` as root"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser_context(installed) -> Iterator[Any]:
    """One Chromium per test module (closed before the next module, which may call asyncio.run)."""
    with chromium() as context:
        yield context


@pytest.fixture
def page(browser_context) -> Iterator[Any]:
    tab = browser_context.new_page()
    yield tab
    tab.close()


@pytest.fixture(scope="session")
def screenshot():
    """Write a full-page screenshot of the page under out/explorer/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
