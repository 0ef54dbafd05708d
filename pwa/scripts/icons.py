"""Render public/icon.svg to the PNG icons the manifest and iOS ask for.

Run with the repository's venv after editing the SVG:
    .venv/bin/python pwa/scripts/icons.py
The motif fits inside the maskable safe zone (a circle of 40% radius), so the maskable and
Apple icons are the same drawing with square, full-bleed corners.
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

PUBLIC = Path(__file__).resolve().parent.parent / "public"
ICONS = [
    ("icon-192.png", 192, True),
    ("icon-512.png", 512, True),
    ("icon-maskable-512.png", 512, False),
    ("apple-touch-icon.png", 180, False),
]


def main() -> None:
    svg = (PUBLIC / "icon.svg").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        for name, size, rounded in ICONS:
            page.set_viewport_size({"width": size, "height": size})
            page.set_content(
                "<style>html,body{margin:0}svg{display:block;width:100vw;height:100vh}</style>"
                + svg
            )
            if not rounded:
                page.eval_on_selector("#bg", "el => el.setAttribute('rx', 0)")
            page.screenshot(path=str(PUBLIC / name), omit_background=True)
        browser.close()


if __name__ == "__main__":
    main()
