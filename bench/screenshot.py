"""Screenshot an HTML file with Debian's Chromium (headless, through Playwright; no browser download).
Usage: python bench/screenshot.py IN.html OUT.png [width] [height] [heading text to scroll to]"""

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def shoot(html: Path, png: Path, width: int = 1100, height: int = 1400, anchor: str | None = None) -> None:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run", "--disable-sync"])
        page = b.new_page(viewport={"width": width, "height": height})
        page.goto(html.resolve().as_uri())
        if anchor:  # scroll so that the heading with this text is at the top
            page.get_by_role("heading", name=anchor).first.evaluate("e => e.scrollIntoView()")
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))
        b.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    shoot(Path(args[0]), Path(args[1]), *(int(x) for x in args[2:4]), *args[4:5])
