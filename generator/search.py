"""Search: Pagefind indexes made from the papers themselves, not from the built site.

Each paper becomes a small HTML document for Pagefind alone: its title, authors, abstract and
keywords, with the date it first appeared and its topics as metadata (shown under each
result). Navigation, related papers and digest days are never indexed, and Pagefind does not
have to wait for MkDocs: it runs beside it, on the other core.

The papers are split into Pagefind bundles that the search page merges (``mergeIndex``):

- ``pagefind-recent/``: papers first seen in the month of the newest digest;
- ``pagefind-YYYY/``: the other papers first seen in year YYYY.

A new day changes only the recent bundle, so a rebuild indexes only that month's papers; a
year's bundle is indexed again when a new month starts (last month's papers join it) or when
one of its papers changes. A year is about 6,000 papers: Pagefind needs about 125 KB of
memory a paper while it indexes, so no bundle grows past what a small machine holds, and each
bundle a search reads costs it a few kilobytes more.
A bundle is reused only when its documents are byte for byte the ones it was made from, so a
rebuild writes the same files as a full build. ``index`` is a stage of its own that
``build`` runs in a second process, beside MkDocs.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.background import die_with_parent
from generator.errors import BuildError
from generator.files import digest_files, read_folder, sync_folder
from generator.layout import Site, short_date, url_of
from generator.records import Paper

#: Bundle folders at the site root. Each name starts with "pagefind": Pagefind takes the
#: site's base URL from the part of the bundle's address before it.
PREFIX = "pagefind-"
RECENT = PREFIX + "recent"
#: In a bundle's cache folder: the fingerprint of the documents its index was made from,
#: written when Pagefind succeeded.
_STAMP = "indexed.txt"


def bundle_of(site: Site, paper: Paper) -> str:
    newest = site.last_updated
    first = paper.first_seen
    return RECENT if newest and (first.year, first.month) >= (newest.year, newest.month) \
        else f"{PREFIX}{first.year}"


def document(site: Site, paper: Paper) -> bytes:
    """The paper as Pagefind should see it. Only processes data."""
    text = html.escape
    parts = [f"<h1>{text(paper.title)}</h1>"]
    if paper.authors:
        parts.append(f"<p>{text(', '.join(paper.authors))}</p>")
    parts.append(f"<p>{text(paper.abstract)}</p>")
    if paper.keywords:
        parts.append(f"<p>{text(', '.join(paper.keywords))}</p>")
    # The date as the rest of the site writes it; topics by name.
    meta = {"date": short_date(paper.first_seen), "tags": ", ".join(site.tag_names(paper))}
    parts += [f'<span data-pagefind-meta="{key}:{text(value)}"></span>'
              for key, value in meta.items() if value]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{text(paper.title)}</title></head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n").encode("utf-8")


def documents(site: Site) -> dict[str, dict[str, bytes]]:
    """For each non-empty bundle, its documents by path (``papers/<slug>/index.html``, so that
    Pagefind gives each result the paper page's URL). Only processes data."""
    bundles: dict[str, dict[str, bytes]] = {}
    for paper in site.papers:
        path = url_of(site.paper_page(paper)) + "index.html"
        bundles.setdefault(bundle_of(site, paper), {})[path] = document(site, paper)
    return {name: bundles[name] for name in sorted(bundles, key=_order)}


def _order(name: str) -> tuple[bool, str]:
    """Years in order, then the recent bundle; the first is Pagefind's primary index."""
    return name == RECENT, name


def bundle_names(site: Site) -> list[str]:
    """The bundles the search page merges, primary first."""
    return sorted({bundle_of(site, paper) for paper in site.papers}, key=_order)


def _fingerprint(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(f"pagefind {_pagefind_version()}\n".encode())
    digest_files(digest, files)
    return digest.hexdigest()


def _pagefind_version() -> str:
    for name in ("pagefind_bin", "pagefind-bin", "pagefind"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


@dataclass(frozen=True)
class Indexed:
    #: The bundles the site has, primary first.
    bundles: tuple[str, ...]
    #: The bundles indexed again; the others were reused as they were.
    reindexed: tuple[str, ...]


def index(site: Site, cache: Path, full: bool = False) -> Indexed:
    """Write each bundle's documents under ``cache`` and run Pagefind for every bundle whose
    documents differ from the ones its index was made from (every bundle, if ``full``)."""
    if importlib.util.find_spec("pagefind") is None:
        raise BuildError("Pagefind is not installed", fix="pip install 'pagefind[bin]'")
    cache = Path(cache)
    by_bundle = documents(site)
    for stale in (cache.iterdir() if cache.is_dir() else ()):
        if stale.name not in by_bundle:
            shutil.rmtree(stale)
    reindexed = []
    for name in by_bundle:
        work = cache / name
        fingerprint = _fingerprint(by_bundle[name])
        stamp = work / _STAMP
        # The stamp is written only after Pagefind indexed exactly these documents.
        if not full and stamp.is_file() and stamp.read_text() == fingerprint \
                and (work / "bundle" / "pagefind-entry.json").is_file():
            continue
        sync_folder(work / "docs", by_bundle[name])
        stamp.unlink(missing_ok=True)  # stopped half-way, the bundle is made again next time
        shutil.rmtree(work / "bundle", ignore_errors=True)
        result = subprocess.run(
            [sys.executable, "-m", "pagefind", "--site", str(work / "docs"),
             "--output-path", str((work / "bundle").resolve()), "--silent"],
            capture_output=True, text=True, check=False, preexec_fn=die_with_parent)
        if result.returncode != 0:
            raise BuildError(f"Pagefind failed: {(result.stderr or result.stdout).strip()[:500]}",
                             path=work / "docs",
                             fix=f"run 'python -m pagefind --site {work / 'docs'}' to see why")
        stamp.write_text(fingerprint)
        reindexed.append(name)
    return Indexed(bundles=tuple(by_bundle), reindexed=tuple(reindexed))


def install(indexed: Indexed, cache: Path, site_dir: Path) -> None:
    """Copy the bundles into the built site; remove a bundle that is no longer made. Runs
    after MkDocs, which empties the site folder on a full build."""
    site_dir = Path(site_dir)
    for name in indexed.bundles:
        bundle, copy = Path(cache) / name / "bundle", site_dir / name
        entry = "pagefind-entry.json"  # names every index file by its hash
        if name not in indexed.reindexed and (copy / entry).is_file() \
                and (copy / entry).read_bytes() == (bundle / entry).read_bytes():
            continue
        sync_folder(copy, read_folder(bundle))
    for stale in site_dir.glob("pagefind*"):
        if stale.name not in indexed.bundles:
            shutil.rmtree(stale)
