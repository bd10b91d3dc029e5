"""Screenshots of every kind of page for README, from real API days.

    python benchmarks/screenshots.py [--corpus DIR] [--days N] [--out .github/screenshots]

Ingests the newest N (default 40) days of ../shared/corpus/daily_papers into a new project
with the default config (no thumbnails: what a new site shows), builds it for 127.0.0.1,
serves it, and saves the first screen of each kind of page at 1280 x 900 and at 390 x 844 as
PNG of 64 colours (needs Pillow: ``pip install pillow``), light scheme, in Debian's Chromium
driven by Playwright (requests to other hosts are refused, as on this machine).
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import free_port, project, served

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def kinds(folder: Path) -> dict[str, str]:
    """Kind of page -> its path in the site: the newest of each."""
    site = folder / "site"

    def newest(pattern: str) -> str:
        found = sorted(p for p in site.glob(pattern) if p.is_dir())
        return found[-1].relative_to(site).as_posix() + "/" if found else ""

    def largest(pattern: str) -> str:
        found = max((p for p in site.glob(pattern) if (p / "index.html").is_file()),
                    key=lambda p: (p / "index.html").stat().st_size)
        return found.relative_to(site).as_posix() + "/"

    day = newest("digests/2*")
    first_paper = (site / day / "index.html").read_text(encoding="utf-8")
    paper = first_paper.split('href="../../papers/', 1)[1].split('"', 1)[0]
    return {"home": "", "day": day, "week": newest("weeks/2*"), "month": newest("months/2*"),
            "paper": f"papers/{paper}", "topic": largest("tags/*"),
            "organisation": largest("organizations/*"), "archive": "digests/",
            "topics": "tags/", "search": "search/?q=diffusion"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path,
                        default=ROOT.parent / "shared" / "corpus" / "daily_papers")
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / ".github" / "screenshots")
    args = parser.parse_args()
    days = sorted(args.corpus.glob("*.json"))[-args.days:]
    if not days:
        sys.exit(f"{args.corpus}: no API days (*.json) there - pass --corpus DIR")
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as work:
        folder = project(Path(work) / "project")
        port = free_port()
        for step in (["ingest", *map(str, days)],
                     ["build", "--site-url", f"http://127.0.0.1:{port}/"]):
            subprocess.run([sys.executable, "-m", "generator", *step], cwd=folder, check=True,
                           capture_output=True)
        pages = kinds(folder)
        if args.out.exists():
            shutil.rmtree(args.out)
        args.out.mkdir(parents=True)
        with served(folder / "site", port), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox"])
            for size, viewport in SIZES.items():
                context = browser.new_context(viewport=viewport, color_scheme="light")
                context.route("https://**/*", lambda route: route.abort())
                page = context.new_page()
                for kind, path in pages.items():
                    page.goto(f"http://127.0.0.1:{port}/{path}")
                    page.wait_for_load_state("networkidle")
                    shot = Image.open(io.BytesIO(page.screenshot()))
                    # 64 colours: a page of text and flat colours loses nothing a reader sees
                    # and the file a third of its size.
                    shot.quantize(colors=64).save(args.out / f"{kind}-{size}.png",
                                                  optimize=True)
                context.close()
            browser.close()
    total = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"wrote {len(list(args.out.iterdir()))} screenshots to {args.out} ({total // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
