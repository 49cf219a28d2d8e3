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
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "out" / "explorer"
# Chromium as this machine runs it: no sandbox (root), no GPU, no network of its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed by `make browser` when this session can install packages."""
    if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["make", "-C", str(ROOT), "browser"], capture_output=True, timeout=900)
    if not CHROMIUM.exists():
        pytest.skip(
            "headless Chromium is not installed and cannot be installed here: run `make browser` as root"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser_context(chromium) -> Iterator[Any]:
    """One Chromium per test module, with a new empty profile folder. Playwright's sync API keeps an
    event loop running in this thread while it is open, so it is closed before the next module (whose
    code may call asyncio.run)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="offnet-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


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
