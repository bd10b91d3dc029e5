"""Benchmark: build a synthetic archive of N papers and time every stage.

    python benchmarks/bench.py                      # N = 1,000 and 10,000; writes REPORT.md
    python benchmarks/bench.py --sizes 1000         # a quick run

Each size runs in a fresh process (peak memory is that process's). The archive is made from the
sample digests' real titles and abstracts, recombined: digests of 25 papers a day, about 3% of
papers appearing on a second day. For each size it records the time of each stage, peak
memory, page sizes, a rebuild after one more day's digest (and whether it equals a full build),
the bytes a first search downloads (in Chromium, when it is installed), and a reference run: a
bare mkdocs-material build of the same paper pages with a minimal config and a small nav.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import archive as archive_store  # noqa: E402
from generator.commands import IngestReport, add_digests  # noqa: E402
from generator.files import read_folder  # noqa: E402
from generator.records import Digest, Paper, paper_key  # noqa: E402
from generator.tagging import Tagger, load_taxonomy  # noqa: E402

PER_DAY = 25
LAST_DAY = datetime.date(2026, 4, 29)


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Where the benchmark serves the built site; pages and feeds are built for this address.
SITE_URL = f"http://127.0.0.1:{free_port()}/"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_digests(n: int, seed: int = 0) -> list[Digest]:
    """N papers in digests of 25 a day, ending on LAST_DAY, from recombined real text."""
    rng = random.Random(seed)
    sample = archive_store.load(ROOT / "content").papers
    titles = [p.title for p in sample]
    sentences = [s.strip() + "." for p in sample for s in p.abstract.split(". ") if len(s) > 40]
    papers = []
    for i in range(n):
        left, right = rng.choice(titles), rng.choice(titles)
        title = f"{left.split(':')[0]}: {right.split(':')[-1].strip()} ({i})"
        abstract = " ".join(rng.sample(sentences, rng.randint(5, 9)))
        papers.append(Paper(key=paper_key(title, None), title=title, abstract=abstract))
    days = -(-n // PER_DAY)
    digests = []
    for d in range(days):
        date = LAST_DAY - datetime.timedelta(days=days - 1 - d)
        chunk = papers[d * PER_DAY:(d + 1) * PER_DAY]
        if d and rng.random() < 0.8:  # a paper trending again on a later day
            chunk = chunk + [rng.choice(papers[max(0, (d - 5) * PER_DAY):d * PER_DAY])]
        digests.append(Digest(date=date, papers=tuple(chunk), source="yaml").with_date(date))
    return digests


def make_project(folder: Path, digests: list[Digest]) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "content").mkdir(parents=True)
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copy(ROOT / "content" / "taxonomy.yaml", folder / "content" / "taxonomy.yaml")
    (folder / "templates").symlink_to(ROOT / "templates")
    archive_store.write_digests(folder / "content", digests)
    return folder


class Recorder:
    """build()'s progress callback: the time of each stage and the peak memory after it."""

    def __init__(self, results: dict) -> None:
        self.results = results

    def __call__(self, stage: str, seconds: float | None, detail: str) -> None:
        if seconds is not None:
            self.results["stages"][stage] = round(seconds, 2)
            self.results["peak_mib"][stage] = round(peak_mib(), 1)


def build_once(folder: Path, results: dict | None = None) -> float:
    """`digest build` in ``folder`` (the real code path, stage by stage); its wall time."""
    from generator.build import build
    start = time.perf_counter()
    build(folder / "content", config_file=folder / "mkdocs.yml", out=folder / "site",
          site_url=SITE_URL, progress=Recorder(results) if results is not None else _ignore)
    return round(time.perf_counter() - start, 2)


def _ignore(*args) -> None:
    pass


#: Stages that run before MkDocs starts. Feeds and the search index are made in other
#: processes: "feeds" is the wait for the feeds once the pages are rendered, and "search" the
#: wait for the search index once MkDocs is done (and copying it into the site).
BEFORE_MKDOCS = ["config", "load", "tag", "relate", "pages", "feeds", "write"]


def before_mkdocs(results: dict) -> float:
    return round(sum(results["stages"][s] for s in BEFORE_MKDOCS), 2)


def full_build(results: dict, folder: Path) -> None:
    results["full_build_s"] = build_once(folder, results)
    papers = sorted((folder / "site" / "papers").rglob("index.html"))
    sizes = [p.stat().st_size for p in papers]
    results["paper_pages"] = len(papers)
    results["paper_page_kb"] = {"max": round(max(sizes) / 1024, 1),
                                "mean": round(sum(sizes) / len(sizes) / 1024, 1)}
    tags = [p.stat().st_size for p in (folder / "site" / "tags").rglob("index.html")]
    results["largest_tag_page_kb"] = round(max(tags) / 1024, 1)
    results["home_kb"] = round((folder / "site" / "index.html").stat().st_size / 1024, 1)
    results["pagefind_mb"] = round(sum(p.stat().st_size for p in (folder / "site").glob(
        "pagefind*/**/*") if p.is_file()) / 2**20, 1)


def one_more_day(folder: Path, date: datetime.date) -> None:
    papers = tuple(Paper(key=f"new-paper-{date}-{i}",
                         title=f"A New Paper on Diffusion Models {date} {i}",
                         abstract="We study diffusion models for video generation. " * 4)
                   for i in range(PER_DAY))
    add_digests(folder / "content", [Digest(date=date, papers=papers).with_date(date)],
                IngestReport())


def rebuild_after_one_day(results: dict, folder: Path, verify: bool) -> None:
    """A day in the newest digest's month, then the first day of the next month (when papers
    of the month just ended join the larger search bundle)."""
    for key, date in (("rebuild_after_one_day_s", LAST_DAY + datetime.timedelta(days=1)),
                      ("rebuild_new_month_s", LAST_DAY + datetime.timedelta(days=2))):
        one_more_day(folder, date)
        results[key] = build_once(folder)
    if verify:
        fresh = folder.parent / f"{folder.name}-fresh"
        if fresh.exists():
            shutil.rmtree(fresh)
        shutil.copytree(folder, fresh, symlinks=True, ignore=shutil.ignore_patterns(
            "site", "build"))
        os.chdir(fresh)
        build_once(fresh)
        os.chdir(folder)
        a, b = read_folder(folder / "site"), read_folder(fresh / "site")
        results["rebuild_equals_full_build"] = a == b
        shutil.rmtree(fresh)


def reference_build(results: dict, folder: Path) -> None:
    """Bare mkdocs-material over the same paper pages: minimal config, a one-page nav."""
    ref = folder.parent / f"{folder.name}-reference"
    if ref.exists():
        shutil.rmtree(ref)
    shutil.copytree(folder / "build" / "docs" / "papers", ref / "docs" / "papers")
    (ref / "docs" / "index.md").write_text("# Papers\n", encoding="utf-8")
    (ref / "mkdocs.yml").write_text("site_name: Reference\ntheme:\n  name: material\n"
                                    "nav:\n  - Home: index.md\n", encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=ref, check=True,
                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    results["reference_s"] = round(time.perf_counter() - start, 2)
    index = ref / "site" / "search" / "search_index.json"
    results["reference_search_index_mb"] = round(index.stat().st_size / 2**20, 1)
    shutil.rmtree(ref)


def tagging_alone(folder: Path) -> float:
    """Tagging every paper, without the rest of the "tag" stage (for the tagging figure)."""
    taxonomy = load_taxonomy(folder / "content" / "taxonomy.yaml")
    papers = archive_store.load(folder / "content").papers
    start = time.perf_counter()
    Tagger(taxonomy).tag_all(papers)
    return round(time.perf_counter() - start, 2)


def first_search_bytes(results: dict, folder: Path) -> None:
    """What a visitor downloads for a first search, measured in Chromium."""
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        results["first_search_kb"] = None
        return
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    port = int(SITE_URL.rsplit(":", 1)[1].strip("/"))
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Quiet, directory=str(folder / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            # Everything of Pagefind's the first search needs: the search UI and engine
            # (loaded with the page), then the index parts and result fragments it fetches.
            sizes: list[int] = []
            page.on("response", lambda r: sizes.append(len(r.body()))
                    if "/pagefind" in r.url and r.ok else None)
            page.goto(SITE_URL + "search/")
            page.wait_for_load_state("networkidle")
            start = time.perf_counter()
            page.locator("#pagefind-search input").fill("diffusion")
            page.locator(".pagefind-ui__result-link").first.wait_for(timeout=60_000)
            results["first_search_s"] = round(time.perf_counter() - start, 2)
            page.wait_for_load_state("networkidle")
            results["first_search_kb"] = round(sum(sizes) / 1024, 1)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def run_one(n: int, work: Path, verify: bool) -> dict:
    results: dict = {"papers": n, "stages": {}, "peak_mib": {}}
    start = time.perf_counter()
    digests = synthetic_digests(n)
    folder = make_project(work / f"n{n}", digests)
    results["digests"] = len(digests)
    results["synthesis_s"] = round(time.perf_counter() - start, 2)
    os.chdir(folder)
    full_build(results, folder)
    results["peak_mib_total"] = round(peak_mib(), 1)
    results["pagefind_peak_mib"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    first_search_bytes(results, folder)
    reference_build(results, folder)
    results["stages"]["tagging alone"] = tagging_alone(folder)
    rebuild_after_one_day(results, folder, verify)
    return results


def report(runs: list[dict]) -> str:
    lines = ["# Benchmark report", "",
             f"Made by `python benchmarks/bench.py` on {datetime.date.today()}, "
             f"{os.cpu_count()} cores, Python {sys.version.split()[0]}. Times in seconds; "
             "every figure comes from the run shown, none from a timed test.", ""]
    stages = list(runs[0]["stages"])
    lines += ["## Stages of a full build", "",
              "| stage | " + " | ".join(f"{r['papers']:,} papers" for r in runs) + " |",
              "| --- |" + " ---: |" * len(runs)]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(str(r["stages"][stage]) for r in runs) + " |")
    rows = [
        ("everything before MkDocs", before_mkdocs),
        ("papers per second before MkDocs", lambda r: f"{r['papers'] / before_mkdocs(r):,.0f}"),
        ("full build", lambda r: r["full_build_s"]),
        ("reference: bare mkdocs-material, same paper pages", lambda r: r["reference_s"]),
        ("full build / reference", lambda r: f"{r['full_build_s'] / r['reference_s']:.2f}"),
        ("rebuild after one more day", lambda r: r["rebuild_after_one_day_s"]),
        ("rebuild / full build",
         lambda r: f"{r['rebuild_after_one_day_s'] / r['full_build_s']:.0%}"),
        ("rebuild on the first day of a month", lambda r: r["rebuild_new_month_s"]),
        ("first-of-the-month rebuild / full build",
         lambda r: f"{r['rebuild_new_month_s'] / r['full_build_s']:.0%}"),
        ("rebuild output equals a full build",
         lambda r: {True: "yes", False: "no", None: "not checked"}[
             r.get("rebuild_equals_full_build")]),
        ("peak memory, MiB (the build's process)", lambda r: r["peak_mib_total"]),
        ("peak memory of Pagefind, MiB (its own process)", lambda r: r["pagefind_peak_mib"]),
        ("paper page, largest / mean KB",
         lambda r: f"{r['paper_page_kb']['max']} / {r['paper_page_kb']['mean']}"),
        ("largest tag page, KB", lambda r: r["largest_tag_page_kb"]),
        ("home page, KB", lambda r: r["home_kb"]),
        ("Pagefind index on disk, MB", lambda r: r["pagefind_mb"]),
        ("first search downloads, KB", lambda r: r["first_search_kb"]),
        ("first search, seconds to the first result", lambda r: r.get("first_search_s")),
        ("reference: Material's lunr search_index.json, MB",
         lambda r: r["reference_search_index_mb"]),
    ]
    lines += ["", "## Totals and targets", "",
              "| figure | " + " | ".join(f"{r['papers']:,} papers" for r in runs) + " |",
              "| --- |" + " ---: |" * len(runs)]
    for name, get in rows:
        lines.append(f"| {name} | " + " | ".join(str(get(r)) for r in runs) + " |")
    big = max(runs, key=lambda r: r["papers"])
    targets = [
        ("everything before MkDocs: 10,000 papers per second or more",
         f"{big['papers'] / before_mkdocs(big):,.0f} papers/s",
         big["papers"] / before_mkdocs(big) >= 10_000),
        ("full build within 1.2x the bare reference",
         f"{big['full_build_s'] / big['reference_s']:.2f}x",
         big["full_build_s"] <= 1.2 * big["reference_s"]),
        ("one more day rebuilt in at most 15% of a full build, same output",
         f"{big['rebuild_after_one_day_s'] / big['full_build_s']:.0%}, "
         f"{'same' if big.get('rebuild_equals_full_build') else 'not checked or different'}",
         big["rebuild_after_one_day_s"] <= 0.15 * big["full_build_s"]
         and bool(big.get("rebuild_equals_full_build"))),
        ("peak memory at most 1 GiB",
         f"{max(big['peak_mib_total'], big['pagefind_peak_mib']):,.0f} MiB",
         max(big["peak_mib_total"], big["pagefind_peak_mib"]) <= 1024),
        ("paper pages at most 30 KB", f"{big['paper_page_kb']['max']} KB",
         big["paper_page_kb"]["max"] <= 30),
        ("first search downloads at most 500 KB", f"{big['first_search_kb']} KB",
         big["first_search_kb"] is not None and big["first_search_kb"] <= 500),
    ]
    lines += ["", f"## The targets, at {big['papers']:,} papers", "",
              "| target | reached | met |", "| --- | ---: | --- |"]
    lines += [f"| {name} | {value} | {'yes' if met else 'no'} |" for name, value, met in targets]
    lines += ["", "How to read the stages: feeds and the search index are made in two other "
              "processes while this one renders the pages and runs MkDocs. \"feeds\" is the "
              "wait for the feeds once the pages are rendered; \"search\" is the wait for the "
              "search index once MkDocs is done, plus copying it into the site. The full build "
              "is the wall time of `digest build`; the rebuilds are `digest build` after "
              "adding one digest of 25 papers to the built site, first a day in the newest "
              "digest's month, then the first day of the next month (when the larger search "
              "index is made again). Times on this 2-core machine vary by 10-20% from run to "
              "run; the ratios compare figures of the same run."]
    lines += ["", "## Peak memory after each stage (MiB)", "",
              "| stage | " + " | ".join(f"{r['papers']:,} papers" for r in runs) + " |",
              "| --- |" + " ---: |" * len(runs)]
    for stage in runs[0]["peak_mib"]:
        lines.append(f"| {stage} | " + " | ".join(str(r["peak_mib"][stage]) for r in runs)
                     + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--report", type=Path, default=ROOT / "benchmarks" / "REPORT.md")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the second full build that checks the rebuild's output")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report from the last run's results in --work")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.one:
        result = run_one(args.one, args.work.resolve(), not args.no_verify)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return 0
    runs = []
    for n in args.sizes:
        out = args.work / f"n{n}.json"
        if args.report_only:
            runs.append(json.loads(out.read_text(encoding="utf-8")))
            continue
        print(f"benchmark: {n:,} papers ...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--one", str(n), "--work", str(args.work),
                   "--json", str(out)] + (["--no-verify"] if args.no_verify else [])
        subprocess.run(command, check=True, env={**os.environ, "CI": "1"})
        runs.append(json.loads(out.read_text(encoding="utf-8")))
    args.report.write_text(report(runs), encoding="utf-8")
    print(report(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
