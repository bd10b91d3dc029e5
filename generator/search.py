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

import base64
import contextlib
import hashlib
import html
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.background import die_with_parent
from generator.errors import BuildError
from generator.files import digest_files, folder_files, read_folder, replace_bytes
from generator.layout import Site, short_date, url_of
from generator.records import Paper

#: Bundle folders at the site root. Each name starts with "pagefind": Pagefind takes the
#: site's base URL from the part of the bundle's address before it.
PREFIX = "pagefind-"
RECENT = PREFIX + "recent"
#: Files Pagefind writes for its own search interfaces. The search page drives pagefind.js
#: itself (templates/assets/digest.js), so a bundle does not keep them: 0.5 MB a bundle.
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js",
          "pagefind-component-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
          "pagefind-highlight.js")
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
    # "Newest first" on the search page sorts by the day it first appeared.
    parts.append(f'<span data-pagefind-sort="date:{paper.first_seen.isoformat()}"></span>')
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
    digest = hashlib.sha256(f"pagefind {_pagefind_version()} without {UNUSED}\n".encode())
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


class _Service:
    """Pagefind's indexing service (``pagefind --service``): documents are given one by one,
    in the order we choose, so that the index does not hang on the order in which a file
    system lists a folder (two ext4 file systems list one folder in two orders). A request is
    base64 of a JSON object and a comma; so is each answer."""

    def __init__(self) -> None:
        from pagefind.service import get_executable
        executable = get_executable()
        if executable is None:
            raise BuildError("Pagefind is not installed", fix="pip install 'pagefind[bin]'")
        self._process = subprocess.Popen([str(executable), "--service"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         preexec_fn=die_with_parent)
        self._number = 0
        self._buffer = b""

    def ask(self, payload: dict) -> dict:
        self._number += 1
        message = json.dumps({"message_id": self._number, "payload": payload})
        try:
            self._process.stdin.write(base64.b64encode(message.encode("utf-8")) + b",")
            self._process.stdin.flush()
            # An answer can be tens of megabytes (GetFiles): its chunks are joined once, and
            # only each new chunk is looked through for the end.
            chunks = [self._buffer]
            while b"," not in chunks[-1]:
                chunk = os.read(self._process.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
            self._buffer = b"".join(chunks)
        except (OSError, EOFError) as exc:
            raise BuildError("Pagefind stopped while indexing",
                             fix="run the build again; if it stops again, check that "
                                 "'python -m pagefind --version' works") from exc
        answer, self._buffer = self._buffer.split(b",", 1)
        reply = json.loads(base64.b64decode(answer))["payload"]
        if reply.get("type") == "Error":
            raise BuildError(f"Pagefind failed: {str(reply.get('message'))[:300]}",
                             fix="report it with the page it names")
        return reply

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _index_bundle(documents: dict[str, bytes], output: Path) -> None:
    """One Pagefind bundle of ``documents`` (path -> HTML), given in path order.

    The files are asked for (GetFiles) and written here rather than by Pagefind (WriteFiles):
    Pagefind can answer WriteFiles before its writes end, and a service that exits then
    leaves some files empty (seen in 1 build of 6)."""
    service = _Service()
    try:
        index = service.ask({"type": "NewIndex", "config": None})["index_id"]
        for path in sorted(documents):
            url = "/" + path.removesuffix("index.html")
            service.ask({"type": "AddFile", "index_id": index, "file_path": None, "url": url,
                         "file_contents": documents[path].decode("utf-8")})
        files = service.ask({"type": "GetFiles", "index_id": index})["files"]
    finally:
        service.close()
    output = output.resolve()
    for entry in files:
        if entry["path"] in UNUSED:
            continue
        target = (output / entry["path"]).resolve()
        if not target.is_relative_to(output):
            raise BuildError(f"Pagefind named a file outside its bundle: {entry['path'][:100]!r}",
                             fix="report it with the Pagefind version")
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_bytes(target, base64.b64decode(entry["content"]))


def _bundle_files(folder: Path) -> dict[str, bytes]:
    return read_folder(folder) if folder.is_dir() else {}


def _stamp(fingerprint: str, files: dict[str, bytes]) -> str:
    """What a bundle's stamp holds: the fingerprint of its documents, then a hash of each of
    its files, so that a damaged bundle in the cache is noticed before it is installed."""
    return "\n".join([fingerprint, *(f"{hashlib.sha256(data).hexdigest()} {path}"
                                      for path, data in sorted(files.items()))]) + "\n"


def _stamp_holds(work: Path, fingerprint: str) -> bool:
    """Whether the bundle in ``work`` was made from these documents and is whole."""
    try:
        stamp = (work / _STAMP).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return stamp == _stamp(fingerprint, _bundle_files(work / "bundle")) \
        and (work / "bundle" / "pagefind-entry.json").is_file()


def index(site: Site, cache: Path, full: bool = False) -> Indexed:
    """Index each bundle whose documents differ from the ones its index in ``cache`` was
    made from (every bundle, if ``full``), or whose files there are not whole."""
    if importlib.util.find_spec("pagefind") is None:
        raise BuildError("Pagefind is not installed", fix="pip install 'pagefind[bin]'")
    cache = Path(cache)
    if cache.exists() and not cache.is_dir():
        cache.unlink()  # a file where the cache folder should be: derived, so it goes
    by_bundle = documents(site)
    for stale in (cache.iterdir() if cache.is_dir() else ()):
        if stale.name not in by_bundle:
            shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
    reindexed = []
    for name, docs in by_bundle.items():
        work = cache / name
        fingerprint = _fingerprint(docs)
        if not full and _stamp_holds(work, fingerprint):
            continue
        if work.exists() and not work.is_dir():
            work.unlink()
        work.mkdir(parents=True, exist_ok=True)
        (work / _STAMP).unlink(missing_ok=True)  # stopped half-way, it is made again next time
        shutil.rmtree(work / "docs", ignore_errors=True)  # (an older version's documents)
        shutil.rmtree(work / "bundle", ignore_errors=True)
        _index_bundle(docs, work / "bundle")
        replace_bytes(work / _STAMP, _stamp(fingerprint, _bundle_files(work / "bundle"))
                      .encode("utf-8"))
        reindexed.append(name)
    return Indexed(bundles=tuple(by_bundle), reindexed=tuple(reindexed))


def bundle_files(cache: Path, names) -> dict[str, Path]:
    """The files of the bundles ``names``: path in the site -> the file in ``cache``. A
    bundle is installed only as its stamp says it was made (see ``_stamp_holds``); its files
    there are only ever replaced whole, never changed in place, so the site may link them."""
    return {f"{name}/{path}": file for name in names
            for path, file in folder_files(Path(cache) / name / "bundle").items()}
