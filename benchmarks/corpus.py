"""Benchmark on the real corpus: every command a user runs, timed on the archive of the
534 real API days in ../shared/corpus/daily_papers (9,005 papers).

    python benchmarks/corpus.py [--corpus DIR] [--work DIR] [--report benchmarks/REPORT.md]

Each command runs as its own process (``python -m generator ...``), so its time includes
start-up and its peak memory is its own (and its helpers'). Steps: ingest all days but the
last; a full build; a build with nothing changed; one more day ingested (``digest ingest``,
the file-reading part of ``digest fetch``); the rebuild after it, whose site is compared byte
for byte with a full build of the same archive in a second folder; ``digest list``,
``digest email``, ``digest tags``; ``digest serve`` until its first page answers and until
it serves its own build, twice. The quick commands run ``RUNS`` times each (one more day from
the same copy of the project each time) and are shown as the median with the fastest and
slowest run. The yardstick is reading the archive's YAML once with libyaml
in this process. The results replace the "Real corpus" section of the report.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- corpus: start -->", "<!-- corpus: end -->"
URL = "https://example.org/digest/"


def run(folder: Path, *args: str) -> tuple[float, float]:
    """(seconds, peak MiB of the process or its largest helper) of one digest command."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    err = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"digest {' '.join(args)} failed: {err.strip()[-500:]}")
    return seconds, usage.ru_maxrss / 1024


#: How many times the quick commands run: this machine's timings vary by a third from run to
#: run, so each is the median of several runs, shown with the fastest and slowest.
RUNS = 5


def runs(times: list[tuple[float, float]]) -> tuple[float, float, str]:
    """(median seconds, peak MiB, "fastest-slowest") of several runs of one command."""
    seconds = sorted(s for s, _ in times)
    spread = f"{seconds[0]:.2f}-{seconds[-1]:.2f}" if len(seconds) > 1 else ""
    return statistics.median(seconds), max(m for _, m in times), spread


def project(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "content").mkdir(parents=True)
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    (folder / "templates").symlink_to(ROOT / "templates")
    for name in ("taxonomy.yaml", "topic-model.json"):
        shutil.copy(ROOT / "content" / name, folder / "content" / name)
    return folder


def yaml_read(content: Path) -> float:
    start = time.perf_counter()
    for path in sorted((content / "digests").glob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return time.perf_counter() - start


def snapshot(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file()}


def site_sizes(site: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in site.rglob("*"):
        if path.is_file():
            top = path.relative_to(site).parts[0] if len(path.relative_to(site).parts) > 1 \
                else "(top level)"
            top = "pagefind-*" if top.startswith("pagefind-") else top
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    return sizes


@contextlib.contextmanager
def served(site: Path, port: int):
    """The built ``site`` folder served on 127.0.0.1:``port`` while the block runs, quietly."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_page(folder: Path, port: int) -> tuple[float, float]:
    """``digest serve`` started in ``folder``: seconds until its first page answers, and
    until it serves the site it built for its own address (the last build is served
    meanwhile)."""
    import threading
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--port", str(port)],
                               cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    ready: list[float] = []

    def watch() -> None:
        for line in process.stdout:
            if line.startswith("Serving build/serve/site/"):
                ready.append(time.perf_counter() - start)
    threading.Thread(target=watch, daemon=True).start()
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    if answer.status == 200 and b"<html" in answer.read(2000).lower():
                        first = time.perf_counter() - start
                        break
            except OSError:
                time.sleep(0.1)
            if process.poll() is not None:
                sys.exit("digest serve stopped")
        while not ready:
            if process.poll() is not None:
                sys.exit("digest serve stopped")
            time.sleep(0.1)
        return first, ready[0]
    finally:
        process.terminate()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path,
                        default=ROOT.parent / "shared" / "corpus" / "daily_papers")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "corpus")
    parser.add_argument("--report", type=Path, default=ROOT / "benchmarks" / "REPORT.md")
    args = parser.parse_args()
    days = sorted(args.corpus.glob("*.json"))
    if not days:
        sys.exit(f"{args.corpus}: no API days (*.json) there - pass --corpus DIR")
    main_folder = project(args.work / "project")
    rows: list[tuple[str, str, str]] = []

    def note(what: str, seconds: float, mib: float | None = None, spread: str = "",
             yardstick: float = 0) -> None:
        ratio = f" ({seconds / yardstick:.1f}x a YAML read)" if yardstick else ""
        spread = f"; {spread} in {RUNS} runs" if spread else ""
        rows.append((what, f"{seconds:.2f}{ratio}{spread}", f"{mib:.0f}" if mib else "-"))
        print(f"{what}: {seconds:.2f} s{ratio}{spread}", flush=True)

    ingest_all = run(main_folder, "ingest", *map(str, days[:-1]))
    note(f"ingest {len(days) - 1} API days into an empty archive", *ingest_all)
    build = ("build", "--site-url", URL)
    note("`digest build`, first (full) build", *run(main_folder, *build))
    read = yaml_read(main_folder / "content")
    note("yardstick: reading the archive's YAML once (libyaml)", read)
    note("`digest build`, nothing changed",
         *runs([run(main_folder, *build) for _ in range(RUNS)]), yardstick=read)
    # One more day, from the same state each time: the project as the full build left it.
    before = args.work / "before-the-day"
    if before.exists():
        shutil.rmtree(before)
    shutil.copytree(main_folder, before, symlinks=True)
    ingests, rebuilds = [], []
    for _ in range(RUNS):
        shutil.rmtree(main_folder)
        shutil.copytree(before, main_folder, symlinks=True)
        ingests.append(run(main_folder, "ingest", str(days[-1])))
        rebuilds.append(run(main_folder, *build))
    shutil.rmtree(before)
    note("`digest ingest` of one more day (what `digest fetch` does after the network)",
         *runs(ingests), yardstick=read)
    note("`digest build` after one more day", *runs(rebuilds), yardstick=read)
    note("`digest list`", *runs([run(main_folder, "list") for _ in range(RUNS)]),
         yardstick=read)
    note("`digest email --out` of the newest day",
         *runs([run(main_folder, "email", "--out", str(args.work / "digest.eml"))
                for _ in range(RUNS)]), yardstick=read)
    note("`digest tags`", *runs([run(main_folder, "tags") for _ in range(RUNS)]),
         yardstick=read)
    # A full build of the same archive elsewhere: the rebuild must equal it.
    fresh = project(args.work / "fresh")
    shutil.rmtree(fresh / "content")
    shutil.copytree(main_folder / "content", fresh / "content")
    note("`digest build` of the same archive in a fresh folder (full)", *run(fresh, *build))
    rebuilt, full = snapshot(main_folder / "site"), snapshot(fresh / "site")
    differing = sorted(set(rebuilt) ^ set(full)) + [p for p in full if p in rebuilt
                                                    and rebuilt[p] != full[p]]
    port = free_port()
    for start in ("first", "next"):
        page, own = first_page(main_folder, port)
        note(f"`digest serve`, {start} start: its first page (the last build)", page)
        note(f"`digest serve`, {start} start: its own site for 127.0.0.1 built and served", own)
    with gzip.open(main_folder / "site" / "data" / "papers.jsonl.gz", "rt") as lines:
        papers = sum(1 for _ in lines)
    sizes = site_sizes(main_folder / "site")
    total = sum(sizes.values())

    lines = [START, "## Real corpus", "",
             f"Made by `python benchmarks/corpus.py` on {datetime.date.today()}, "
             f"{os.cpu_count()} cores: {len(days)} real API days, {papers:,} papers. Each "
             "command is its own process; seconds include start-up; memory is the peak of "
             "the process or of its largest helper. The quick commands ran "
             f"{RUNS} times (one more day: from the same state each time): their seconds are "
             "the median, then the fastest and slowest run.", "",
             "| command | seconds | peak MiB |", "| --- | ---: | ---: |"]
    lines += [f"| {what} | {seconds} | {mib} |" for what, seconds, mib in rows]
    lines += ["", f"The rebuild after one more day equals the full build: "
              f"{'yes' if not differing else f'no, {len(differing)} files differ'}.", "",
              f"Site: {total / 1e6:.1f} MB, {total / papers / 1000:.1f} KB a paper.", "",
              "| folder | MB |", "| --- | ---: |"]
    lines += [f"| {name} | {size / 1e6:.1f} |"
              for name, size in sorted(sizes.items(), key=lambda item: -item[1])]
    lines.append(END)
    section = "\n".join(lines) + "\n"
    text = args.report.read_text(encoding="utf-8") if args.report.is_file() else ""
    if START in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    args.report.write_text(text, encoding="utf-8")
    print(f"wrote {args.report}")
    return 0 if not differing else 1


if __name__ == "__main__":
    sys.exit(main())
