"""Headless Chromium for the tests that look at a page as a person would: Debian's `chromium`
(installed by `make browser`), driven by Playwright, which never downloads a browser of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine's headless Chromium needs (no sandbox as root, no background networking);
# Playwright gives each launch a new empty profile folder.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A browser context at `width` x `height`, closed on exit. Playwright's sync API runs an event
    loop in this thread while it is open: close it before code that calls asyncio.run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=FLAGS, chromium_sandbox=False
        )
        context = browser.new_context(viewport={"width": width, "height": height})
        try:
            yield context
        finally:
            context.close()
            browser.close()
