"""Benchmark: build a synthetic archive of N papers and time every stage.

    python benchmarks/bench.py                      # N = 1,000 and 10,000; writes REPORT.md
    python benchmarks/bench.py --sizes 1000         # a quick run
    python benchmarks/bench.py --sizes 1000 10000 100000 --no-reference   # ten years

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
#: Lighthouse runs on the sizes up to this one (it takes a minute and does not change with N).
LIGHTHOUSE_UP_TO = 10_000
#: Whether to build the bare mkdocs-material reference (--no-reference leaves it out).
REFERENCE = True
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
    # About one author for every two papers: most write one or two, a few many (as on the
    # list), drawn with a skew.
    firsts = ("Wei", "Anna", "Jun", "Maria", "Arjun", "Lena", "Omar", "Yuki", "Sofia", "Chen",
              "Ravi", "Eva", "Tom", "Ines", "Kai", "Noor")
    names = [f"{firsts[k % 16]} {chr(65 + k // 16 % 26)}. Author{k}" for k in range(n // 2 + 16)]
    words = sorted({w for t in titles for w in t.lower().split() if w.isalpha() and len(w) > 5})
    papers = []
    for i in range(n):
        # Lengths as on the list (API days: titles 74 characters on average, abstracts 1,400,
        # ten authors): the start of one real title and the end of another, and sentences up
        # to a drawn length.
        left, right = rng.choice(titles).split(), rng.choice(titles).split()
        title = " ".join(left[:len(left) // 2 + 1] + right[len(right) // 2 + 1:])
        length, parts = min(max(rng.gauss(1300, 350), 500), 2500), []
        while sum(map(len, parts)) < length:
            parts.append(rng.choice(sentences))
        abstract = " ".join(parts)
        # As the API gives them: an arXiv id, authors, upvotes, keywords and a summary.
        arxiv = f"{24 + i // 60_000:02d}{1 + (i // 5000) % 12:02d}.{i % 100_000:05d}"
        papers.append(Paper(key=paper_key(title, arxiv), title=title, abstract=abstract,
                            arxiv_id=arxiv, authors=tuple(dict.fromkeys(
                                names[min(int(rng.paretovariate(1.2)) * rng.randrange(1, 40)
                                          + rng.randrange(len(names) - 40), len(names) - 1)]
                                for _ in range(rng.randint(3, 18)))),
                            upvotes=rng.randint(0, 120), keywords=tuple(rng.sample(words, 5)),
                            summary=rng.choice(sentences)))
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
    for name in ("taxonomy.yaml", "topic-model.json"):
        shutil.copy(ROOT / "content" / name, folder / "content" / name)
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


def site_bytes(folder: Path) -> dict[str, int]:
    """Bytes of the site's files, by top folder (what GitHub Pages counts)."""
    out: dict[str, int] = {}
    for path in (folder / "site").rglob("*"):
        if path.is_file():
            part = path.relative_to(folder / "site").parts
            top = part[0] if len(part) > 1 else "(root files)"
            out[top] = out.get(top, 0) + path.stat().st_size
    return dict(sorted(out.items(), key=lambda item: -item[1]))


def full_build(results: dict, folder: Path) -> None:
    results["full_build_s"] = build_once(folder, results)
    by_folder = site_bytes(folder)
    total = sum(by_folder.values())
    results["site_mb"] = round(total / 2**20, 1)
    results["site_by_folder_mb"] = {k: round(v / 2**20, 2) for k, v in by_folder.items()}
    results["bytes_per_paper"] = round(total / results["papers"])
    # The "all-in": a paper's page and its share of day, topic, search and feed files.
    share = sum(by_folder.get(k, 0) for k in ("papers", "digests", "tags")) + sum(
        v for k, v in by_folder.items() if k.startswith("pagefind")) + by_folder.get(
        "(root files)", 0) + sum(by_folder.get(k, 0) for k in ("feeds",))
    results["all_in_bytes_per_paper"] = round(share / results["papers"])
    html = list((folder / "site").rglob("*.html"))
    results["html_pages"] = len(html)
    results["mkdocs_ms_per_page"] = round(1000 * results["stages"]["mkdocs"] / len(html), 2)
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
        before = {p: p.stat().st_mtime_ns for p in (folder / "site").rglob("*.html")}
        one_more_day(folder, date)
        results[key] = build_once(folder)
        if key == "rebuild_after_one_day_s":
            after = {p: p.stat().st_mtime_ns for p in (folder / "site").rglob("*.html")}
            results["pages_a_new_day_touches"] = sum(
                1 for p, t in after.items() if before.get(p) != t)
            results["paper_pages_a_new_day_touches"] = sum(
                1 for p, t in after.items() if before.get(p) != t and "/papers/" in str(p))
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


def serving(folder: Path):
    """The built site of ``folder`` served at SITE_URL while the block runs."""
    from corpus import served
    return served(folder / "site", int(SITE_URL.rsplit(":", 1)[1].strip("/")))


def first_search_bytes(results: dict, folder: Path) -> None:
    """What a visitor downloads for a first search, measured in Chromium."""
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        results["first_search_kb"] = None
        return
    from playwright.sync_api import sync_playwright

    with serving(folder), sync_playwright() as p:
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
        page.locator("#pd-search-input").fill("diffusion")
        page.locator("#pd-results li.pd-result").first.wait_for(timeout=60_000)
        results["first_search_s"] = round(time.perf_counter() - start, 2)
        page.wait_for_load_state("networkidle")
        results["first_search_kb"] = round(sum(sizes) / 1024, 1)
        # A first view of the home page: every file it loads, as sent with gzip.
        import gzip
        view: list[int] = []
        fresh = browser.new_page()
        fresh.on("response", lambda r: view.append(len(gzip.compress(r.body())))
                 if r.ok else None)
        fresh.goto(SITE_URL)
        fresh.wait_for_load_state("networkidle")
        results["first_view_kb_gzip"] = round(sum(view) / 1024, 1)
        results["first_view_requests"] = len(view)
        browser.close()


LIGHTHOUSE_PAGES = {"home": "", "day": "digests/{day}/", "paper": "papers/{paper}/",
                    "search": "search/?q=diffusion"}


def lighthouse(results: dict, folder: Path) -> None:
    """Lighthouse (npm, mobile settings) on four pages: performance and accessibility, and
    the machine's benchmark index (Lighthouse's measure of how fast this CPU is)."""
    binary = Path(os.environ.get("LIGHTHOUSE") or ROOT / ".ci" / "npm" / "node_modules" / ".bin"
                  / "lighthouse")
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not binary.exists() or not Path(chromium).exists():
        results["lighthouse"] = None
        return
    day = sorted((folder / "site" / "digests").glob("20*/"))[-1].name
    paper = sorted((folder / "site" / "papers").iterdir())[0].name
    scores = {}
    with serving(folder):
        for name, path in LIGHTHOUSE_PAGES.items():
            out = folder / f"lighthouse-{name}.json"
            subprocess.run([str(binary), SITE_URL + path.format(day=day, paper=paper),
                            "--quiet", "--output=json", f"--output-path={out}",
                            "--only-categories=performance,accessibility",
                            "--chrome-flags=--headless --no-sandbox --disable-gpu"],
                           env={**os.environ, "CHROME_PATH": chromium}, check=False,
                           capture_output=True, timeout=300)
            if not out.is_file():
                continue
            data = json.loads(out.read_text(encoding="utf-8"))
            scores[name] = {c: round(100 * data["categories"][c]["score"])
                            for c in ("performance", "accessibility")}
            scores[name]["cls"] = round(data["audits"]["cumulative-layout-shift"]
                                        ["numericValue"], 3)
            scores["benchmark_index"] = data.get("environment", {}).get("benchmarkIndex")
    results["lighthouse"] = scores


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
    if n <= LIGHTHOUSE_UP_TO:
        lighthouse(results, folder)
    if REFERENCE:
        reference_build(results, folder)
    results["stages"]["tagging alone"] = tagging_alone(folder)
    rebuild_after_one_day(results, folder, verify)
    return results


def _get(r: dict, *keys, default="-"):
    for key in keys:
        if not isinstance(r, dict) or r.get(key) is None:
            return default
        r = r[key]
    return r


def _ratio(a, b, fmt="{:.2f}"):
    return fmt.format(a / b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
        and b else "-"


#: Hugo builds 10,000 comparable pages in about 10 s on this machine (the brief's figure).
HUGO_S_PER_PAPER = 10 / 10_000


def report(runs: list[dict]) -> str:
    head = "| figure | " + " | ".join(f"{r['papers']:,} papers" for r in runs) + " |"
    rule = "| --- |" + " ---: |" * len(runs)

    def table(rows):
        out = [head, rule]
        for name, get in rows:
            out.append(f"| {name} | " + " | ".join(str(get(r)) for r in runs) + " |")
        return out

    lines = ["# Benchmark report", "",
             f"Made by `python benchmarks/bench.py` on {datetime.date.today()}, "
             f"{os.cpu_count()} cores, Python {sys.version.split()[0]}. Times in seconds; "
             "every figure comes from the run shown, none from a timed test. Synthetic "
             "archives of 25 papers a day with real titles and abstracts recombined, arXiv "
             "ids, authors, upvotes, keywords and summaries as the API gives them.", ""]
    lines += ["## Stages of a full build", ""]
    lines += table([(stage, lambda r, s=stage: _get(r, "stages", s))
                    for stage in runs[0]["stages"]])
    rows = [
        ("full build", lambda r: r["full_build_s"]),
        ("everything before MkDocs", before_mkdocs),
        ("MkDocs, ms per HTML page", lambda r: r.get("mkdocs_ms_per_page", "-")),
        ("reference: bare mkdocs-material, same paper pages", lambda r: _get(r, "reference_s")),
        ("full build / reference", lambda r: _ratio(r["full_build_s"], r.get("reference_s"))),
        ("full build / Hugo-class (10 s per 10,000 pages)",
         lambda r: _ratio(r["full_build_s"], r["papers"] * HUGO_S_PER_PAPER, "{:.1f}")),
        ("rebuild after one more day", lambda r: r["rebuild_after_one_day_s"]),
        ("rebuild / full build",
         lambda r: f"{r['rebuild_after_one_day_s'] / r['full_build_s']:.0%}"),
        ("rebuild on the first day of a month", lambda r: r["rebuild_new_month_s"]),
        ("rebuild output equals a full build",
         lambda r: {True: "yes", False: "no", None: "not checked"}[
             r.get("rebuild_equals_full_build")]),
        ("HTML pages a new day rewrites (of them paper pages)",
         lambda r: f"{_get(r, 'pages_a_new_day_touches')} "
                   f"({_get(r, 'paper_pages_a_new_day_touches')})"),
        ("peak memory, build process, MiB", lambda r: r["peak_mib_total"]),
        ("peak memory, largest helper process (Pagefind, feeds), MiB",
         lambda r: r["pagefind_peak_mib"]),
        ("site, MB of files", lambda r: _get(r, "site_mb")),
        ("site bytes per paper", lambda r: _get(r, "bytes_per_paper")),
        ("all-in bytes per paper (paper page + share of day, topic, search and feed files)",
         lambda r: _get(r, "all_in_bytes_per_paper")),
        ("paper page, largest / mean KB",
         lambda r: f"{r['paper_page_kb']['max']} / {r['paper_page_kb']['mean']}"),
        ("largest topic page, KB", lambda r: r["largest_tag_page_kb"]),
        ("home page, KB", lambda r: r["home_kb"]),
        ("first view of the home page, KB sent with gzip (requests)",
         lambda r: f"{_get(r, 'first_view_kb_gzip')} ({_get(r, 'first_view_requests')})"),
        ("Pagefind index on disk, MB", lambda r: r["pagefind_mb"]),
        ("first search downloads, KB", lambda r: _get(r, "first_search_kb")),
        ("first search, seconds to the first result", lambda r: _get(r, "first_search_s")),
        ("reference: Material's lunr search_index.json, MB",
         lambda r: _get(r, "reference_search_index_mb")),
    ]
    lines += ["", "## Totals", ""] + table(rows)
    lines += ["", "Site by top folder, MB:", ""]
    lines += table([(folder, lambda r, f=folder: _get(r, "site_by_folder_mb", f))
                    for folder in runs[-1].get("site_by_folder_mb", {})])
    scored = [r for r in runs if r.get("lighthouse")]
    if scored:
        r = scored[-1]
        lines += ["", f"## Lighthouse (mobile settings, {r['papers']:,} papers)", "",
                  "| page | performance | accessibility | layout shift |",
                  "| --- | ---: | ---: | ---: |"]
        for name in LIGHTHOUSE_PAGES:
            got = r["lighthouse"].get(name)
            if got:
                lines.append(f"| {name} | {got['performance']} | {got['accessibility']} | "
                             f"{got['cls']} |")
        lines += ["", f"Lighthouse's benchmark index of this machine: "
                  f"{r['lighthouse'].get('benchmark_index')} (it calls under 1,000 a slow "
                  "device; its mobile settings then slow the CPU four times more)."]
    by = {r["papers"]: r for r in runs}
    ten, big = by.get(10_000), max(runs, key=lambda r: r["papers"])
    targets = []
    if ten:
        targets += [
            ("tagging 10,000 papers in at most 5 s", f"{ten['stages']['tagging alone']} s",
             ten["stages"]["tagging alone"] <= 5),
            ("relating 10,000 papers in at most 10 s", f"{ten['stages']['relate']} s",
             ten["stages"]["relate"] <= 10),
            ("one more day rebuilt in at most 15% of a full build, same output",
             f"{ten['rebuild_after_one_day_s'] / ten['full_build_s']:.0%}",
             ten["rebuild_after_one_day_s"] <= 0.15 * ten["full_build_s"]
             and bool(ten.get("rebuild_equals_full_build"))),
            ("first view of the home page at most 150 KB with gzip",
             f"{_get(ten, 'first_view_kb_gzip')} KB",
             isinstance(ten.get("first_view_kb_gzip"), float)
             and ten["first_view_kb_gzip"] <= 150),
        ]
    targets += [
        (f"all-in at most 8 KB a paper ({big['papers']:,} papers)",
         f"{_get(big, 'all_in_bytes_per_paper')} bytes",
         _get(big, "all_in_bytes_per_paper", default=10**9) <= 8 * 1024),
        ("site of 100,000 papers at most 1 GB (bytes per paper x 100,000)",
         f"{_get(big, 'bytes_per_paper', default=0) * 100_000 / 1e9:.2f} GB",
         _get(big, "bytes_per_paper", default=10**9) * 100_000 <= 1e9),
        (f"peak memory at most 3 GB ({big['papers']:,} papers)",
         f"{max(big['peak_mib_total'], big['pagefind_peak_mib']):,.0f} MiB",
         max(big["peak_mib_total"], big["pagefind_peak_mib"]) <= 3 * 1024),
    ]
    if big["papers"] >= 100_000:
        targets += [
            ("one-day rebuild at 100,000 papers at most 60 s, same output",
             f"{big['rebuild_after_one_day_s']} s",
             big["rebuild_after_one_day_s"] <= 60
             and big.get("rebuild_equals_full_build") is not False),
            ("relating 100,000 papers in at most 2 minutes", f"{big['stages']['relate']} s",
             big["stages"]["relate"] <= 120)]
        if ten:
            for key, name in (("first_search_kb", "first search"),
                              ("first_view_kb_gzip", "first view of the home page")):
                a, b = ten.get(key), big.get(key)
                if isinstance(a, float) and isinstance(b, float):
                    targets.append((f"{name} at 100,000 papers the size it is at 10,000 "
                                    "(within 10%)", f"{b} KB ({a} KB)", b <= 1.1 * a))
    lines += ["", "## Targets", "", "| target | reached | met |", "| --- | ---: | --- |"]
    lines += [f"| {name} | {value} | {'yes' if met else 'no'} |" for name, value, met in targets]
    lines += ["", "How to read the stages: feeds (and the open data) are made in another "
              "process while this one relates the papers and renders the pages, and the search "
              "index in a third while it renders the pages and runs MkDocs. "
              "\"feeds\" is the wait for the first once the pages are rendered; \"search\" is the "
              "wait for the search index once MkDocs is done, plus copying it into the site. "
              "The full build is the wall time of `digest build`; the rebuilds are `digest "
              "build` after adding one digest of 25 papers to the built site, first a day in "
              "the newest digest's month, then the first day of the next month (when the "
              "larger search index is made again). Times on this 2-core machine vary by "
              "10-20% from run to run; the ratios compare figures of the same run."]
    lines += ["", "## Peak memory after each stage (MiB)", ""]
    lines += table([(stage, lambda r, s=stage: _get(r, "peak_mib", s))
                    for stage in runs[0]["peak_mib"]])
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
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the bare mkdocs-material reference build (for large sizes)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    global REFERENCE
    REFERENCE = not args.no_reference
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
                   "--json", str(out)] + (["--no-verify"] if args.no_verify else []) + (
            ["--no-reference"] if args.no_reference else [])
        subprocess.run(command, check=True, env={**os.environ, "CI": "1"})
        runs.append(json.loads(out.read_text(encoding="utf-8")))
    args.report.write_text(report(runs), encoding="utf-8")
    print(report(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
