"""The one place that writes the site: gather everything, then write.

Stages, in order (each needs the one before): load the archive and taxonomy -> tag papers ->
relate them -> render the pages -> write docs_dir -> MkDocs builds the HTML -> the search
bundles are linked into the site. Feeds and the search index are made in two other processes
(``background``) once the papers are tagged, while they are related, the pages rendered and
MkDocs runs (the machine's second core); the
feeds must be in docs_dir before MkDocs starts, and the search bundles copied after it: a full
MkDocs build empties the site folder first. MkDocs and the search stage write a stage beside
the site, swapped in whole at the end (``sitedir``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gc
import hashlib
import importlib.metadata
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from generator import archive as archive_store
from generator import similarity, sitedir
from generator.background import Background
from generator.cache import FILE, RELATED_KINDS, Cache, open_cache
from generator.config import PLACEHOLDER_URL, Config, data_root, load_config
from generator.errors import BuildError, DigestError, write_error
from generator.files import (
    digest_code,
    digest_files,
    link_or_copy,
    locked,
    read_folder,
    replace_bytes,
    stat_of,
    walk_files,
)
from generator.layout import DUMP, Site, gather, url_of
from generator.tagging import ModelNeeded, load_taxonomy
from generator.textfeatures import Reference

#: Written into docs_dir so that a later build knows the folder is ours to clean.
MARKER = ".paper-digest"
TAXONOMY = "taxonomy.yaml"


@dataclass(frozen=True)
class BuildResult:
    #: The site model; None when nothing had changed since the last build (nothing was read
    #: but the archive's bytes).
    site: Site | None
    #: Papers and digest days of the archive.
    papers: int
    digests: int
    #: Files in docs_dir written because they were new or changed.
    written: int
    #: Files in docs_dir removed because they no longer belong.
    removed: int
    out: Path | None
    #: MkDocs rebuilt only the changed pages (see ``build``).
    incremental: bool = False
    #: The search bundles Pagefind indexed again; the others were reused.
    reindexed: tuple[str, ...] = ()
    #: Paper and digest pages not rendered again: made from the same inputs as the ones in
    #: docs_dir (see pages.render_site).
    kept: int = 0
    #: Things the owner should know that did not stop the build.
    warnings: tuple[str, ...] = ()


#: Called with (stage, None, "") when a stage starts and (stage, seconds, detail) when it ends.
Progress = Callable[[str, "float | None", str], None]


def _quiet(stage: str, seconds: float | None, detail: str) -> None:
    pass


@contextlib.contextmanager
def _stage(progress: Progress, name: str) -> Iterator[list[str]]:
    progress(name, None, "")
    start = time.perf_counter()
    detail: list[str] = []
    yield detail
    progress(name, time.perf_counter() - start, " ".join(detail))


def taxonomy_path(content: Path) -> Path:
    """The content folder's taxonomy, else the embedded default one."""
    own = Path(content) / TAXONOMY
    return own if own.is_file() else data_root() / "content" / TAXONOMY


def load_site(content: Path, config: Config,
              related: dict[str, tuple[str, ...]] | None = None,
              cache: Cache | None = None) -> Site:
    """Read and check everything a build needs, without writing anything but the ``cache``
    (parsed files and tags are taken from it and added to it). ``related`` given (e.g.
    empty) skips working out related papers."""
    with _long_lived():
        return _load_site(content, config, related, cache)


def _load_site(content: Path, config: Config, related: dict[str, tuple[str, ...]] | None,
               cache: Cache | None) -> Site:
    if cache is None:
        taxonomy = load_taxonomy(taxonomy_path(content))
        return gather(archive_store.load(content), taxonomy, config, related=related)
    # The topic model (0.2 s to read) only if a paper is not tagged in the cache yet.
    taxonomy = load_taxonomy(taxonomy_path(content), model_later=related == {})
    archive = archive_store.load(content, cache=cache)
    # Only a build drops the tags no paper asked for (the cache is the build's).
    site, weighed, version, _ = _gather_tagged(content, archive, taxonomy, config, cache,
                                               related)
    if weighed:
        with contextlib.suppress(sqlite3.Error):  # a full disk: the cache is only a cache
            cache.put_tags(version, weighed)
    return site


def _gather_tagged(content: Path, archive, taxonomy, config: Config, cache: Cache,
                   related: dict | None
                   ) -> tuple[Site, dict[str, tuple[str, ...]], str, list[str]]:
    """``gather`` with the tags the cache holds for this taxonomy, model and code: the site,
    the tags of the papers weighed now (for the cache), that tags version, and the keys of
    the cache's tags no paper asked for. A taxonomy read with ``model_later`` gets its model
    once a paper needs weighing."""
    version = tags_version(content)
    tags_known = cache.tags(version)
    before = set(tags_known)
    try:
        site = gather(archive, taxonomy, config, related=related, tags_known=tags_known)
    except ModelNeeded:
        site = gather(archive, load_taxonomy(taxonomy_path(content)), config, related=related,
                      tags_known=tags_known)
    return site, {k: v for k, v in tags_known.items() if k not in before}, version, \
        sorted(before - set(tags_known))


@contextlib.contextmanager
def reading_cache(config: Config | None = None) -> Iterator[Cache | None]:
    """The build cache, for the commands that read the archive (list, email, ingest, fetch)
    so that none parses or tags a paper seen before; None where it cannot be opened (a
    broken config, a read-only checkout) or where no build made it (they make no folder):
    those commands then read everything themselves."""
    cache = None
    try:
        folder = (config or load_config()).cache_dir
        if (folder / FILE).is_file():
            cache = open_cache(folder)
    except (DigestError, OSError, sqlite3.Error):
        cache = None
    try:
        yield cache
    finally:
        if cache is not None:
            cache.close()


def render(site: Site, templates: Path) -> dict[str, bytes]:
    """Every file of docs_dir: pages, feeds and the site's own assets."""
    from generator.pages import render_pages
    files = {path: text.encode("utf-8") for path, text in render_pages(site).items()}
    files.update(render_following(site))
    files.update(site_assets(templates))
    return files


def site_assets(templates: Path) -> dict[str, bytes]:
    """The stylesheet and script of templates/assets, copied as they are."""
    assets = templates / "assets"
    return {f"assets/{a.relative_to(assets).as_posix()}": a.read_bytes()
            for a in sorted(assets.rglob("*")) if a.is_file()} if assets.is_dir() else {}


#: Papers a paper page lists under "More by these authors".
BY_AUTHORS = 3


def relate(site: Site, taxonomy, previous: dict | None = None) -> tuple[dict, dict, dict]:
    """Related papers (weighing words against the topic model's fixed reference, when there
    is one), papers by the same authors, and what the next build can reuse, by kind (the
    cache's RELATED_KINDS: "related", see similarity.relate, and "authored", see
    similarity.same_authors); ``previous`` is that of the last build."""
    model = taxonomy.model
    reference = Reference(model.reference_papers, model.reference_frequency) \
        if model and model.reference_papers else None
    papers = list(site.papers)
    previous = previous or {}
    # Who wrote what, read once for both lists: with accounts, and by name alone.
    authorship = similarity.Authorship.of(papers, accounts=True)
    found = similarity.relate(papers, site.config.related_papers, reference,
                              previous.get("related"), authorship, site.prints)
    authored = similarity.same_authors(papers, BY_AUTHORS, found.lists,
                                       previous.get("authored"), authorship, site.prints)
    return found.lists, authored.lists, {"related": found.state, "authored": authored.state}


def _write_doc(docs_dir: Path, path: str, data: bytes) -> None:
    """One file of docs_dir, written whole (see files.replace_bytes)."""
    target = docs_dir / path
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_bytes(target, data)


def _version(*parts: object) -> str:
    """A fingerprint of what a kept result was made with, this package's code included."""
    digest = hashlib.sha256(repr(parts).encode())
    digest_code(digest)
    return digest.hexdigest()


def render_following(site: Site, docs_dir: Path | None = None,
                     known: dict[str, str] | None = None) -> dict[str, bytes]:
    """What readers follow and download: the feeds, and the archive as open data (whose dump
    reuses what it can of the one in ``docs_dir``: see opendata.dump)."""
    return following_files(site, docs_dir, known)[0]


def following_files(site: Site, docs_dir: Path | None = None, known: dict[str, str] | None = None
                    ) -> tuple[dict[str, bytes], dict[str, str]]:
    """The files of ``render_following`` and the print of each: a feed's is what it is made
    from (a feed whose files ``known`` holds with its prints is left out of the files: see
    feeds.render_feeds), any other file's the SHA-256 of its bytes."""
    from generator.feeds import render_feeds
    from generator.opendata import render_data
    previous = b""
    if docs_dir is not None:
        with contextlib.suppress(OSError):
            previous = (Path(docs_dir) / DUMP).read_bytes()
    prints: dict[str, str] = {}
    files = render_feeds(site, known, prints)
    files.update(render_data(site, previous))
    for path, data in files.items():
        prints.setdefault(path, hashlib.sha256(data).hexdigest())
    return files, prints


class _DirtyNotice(logging.Filter):
    """Drops two of MkDocs' messages: its warning that a dirty build may leave navigation
    stale (this site's navigation never changes between builds that share a stamp, see
    ``_site_stamp``, and the warning would fail a --strict build), and its report of a page
    it could not write for a reason of the system (a full disk), which the build reports as
    its one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "'dirty' build" not in message and not (
            message.startswith("Error building page") and "[Errno " in message)


@contextlib.contextmanager
def _replacing_writes() -> Iterator[None]:
    """MkDocs writes a page by opening its file for writing, which would change the previous
    site through the hard links a reusing stage starts with (see sitedir.staged): while it
    runs, every file it writes or copies is written aside and renamed into place instead."""

    from mkdocs import utils

    def write_file(content: bytes, output_path: str) -> None:
        os.makedirs(os.path.dirname(output_path), exist_ok=True)
        replace_bytes(Path(output_path), content)

    def copy_file(source_path: str, output_path: str) -> None:
        os.makedirs(os.path.dirname(output_path), exist_ok=True)
        if os.path.isdir(output_path):
            output_path = os.path.join(output_path, os.path.basename(source_path))
        temporary = f"{output_path}.{os.getpid()}.tmp"
        try:
            shutil.copyfile(source_path, temporary)
            os.replace(temporary, output_path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    saved = utils.write_file, utils.copy_file
    utils.write_file, utils.copy_file = write_file, copy_file
    try:
        yield
    finally:
        utils.write_file, utils.copy_file = saved


def run_mkdocs(config: Config, out: Path, *, strict: bool,
               last_updated: datetime.date | None, dirty: bool = False,
               docs: Path | None = None) -> None:
    """MkDocs with the project's mkdocs.yml, reading ``docs`` (default: docs_dir) and writing
    ``out``. ``dirty``: build only the pages whose Markdown is newer than their HTML, and do
    not empty ``out`` first (MkDocs' --dirty)."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    # The sitemap's lastmod comes from SOURCE_DATE_EPOCH: the archive's date, not the clock.
    epoch = int(datetime.datetime(*(last_updated or datetime.date(1970, 1, 1)).timetuple()[:3],
                                  tzinfo=datetime.timezone.utc).timestamp())
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config as mkdocs_config
    from mkdocs.exceptions import MkDocsException

    notice = logging.getLogger("mkdocs.commands.build")
    quiet = _DirtyNotice()
    notice.addFilter(quiet)
    try:
        mk = mkdocs_config(config_file=str(config.config_file),
                           docs_dir=str(Path(docs or config.docs_dir).resolve()),
                           site_dir=str(Path(out).resolve()),
                           site_url=config.site_url, strict=strict, **_theme_of(config))
        mk.plugins.on_startup(command="build", dirty=dirty)
        try:
            with _replacing_writes():
                mkdocs_build(mk, dirty=dirty)
        finally:
            mk.plugins.on_shutdown()
    except (MkDocsException, SystemExit) as exc:
        raise BuildError(f"MkDocs failed: {exc}", path=config.config_file,
                         fix="see the MkDocs warnings above") from exc
    finally:
        notice.removeFilter(quiet)
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def _theme_of(config: Config) -> dict:
    """The theme's overrides for MkDocs: a project without templates of its own (one that
    ``digest init`` started) uses the package's, wherever its config's custom_dir points."""
    from generator.config import read_mkdocs_yml
    theme = read_mkdocs_yml(config.config_file).get("theme")
    if not isinstance(theme, dict) or not isinstance(theme.get("custom_dir"), str) \
            or (config.config_file.parent / theme["custom_dir"]).is_dir():
        return {}
    return {"theme": {**theme, "custom_dir": str((config.templates / "theme").resolve())}}


#: The engines that can turn docs_dir into the site (``digest build --engine``).
ENGINES = ("mkdocs", "zensical")


def run_zensical(config: Config, out: Path, *, strict: bool) -> None:
    """Zensical (Material's successor, from the same team) on docs_dir, writing ``out``. It
    reads mkdocs.yml, and wants docs_dir and the site inside the folder of its config: a copy
    with this build's folders and address is written as ``.zensical.yml`` in the folder that
    holds both (the project folder), where Zensical keeps its ``.cache`` too (git ignores
    both). It builds every page every time."""
    import os
    import subprocess

    import yaml

    from generator.config import read_mkdocs_yml
    executable = shutil.which("zensical")
    if executable is None:
        raise BuildError("Zensical is not installed", fix="pip install 'paper-digest[zensical]'")
    docs, site = Path(config.docs_dir).resolve(), Path(out).resolve()
    project = Path(os.path.commonpath([docs, site]))
    data = read_mkdocs_yml(config.config_file)
    data.update(docs_dir=docs.relative_to(project).as_posix(),
                site_dir=site.relative_to(project).as_posix(), site_url=config.site_url)
    theme = data.get("theme") if isinstance(data.get("theme"), dict) else {}
    if theme.get("custom_dir"):
        theme["custom_dir"] = str((config.templates / "theme").resolve())
    # Our plugin is MkDocs'; Zensical runs none of MkDocs' plugins: its stylesheets (the
    # "modern" ones Zensical uses) are listed here instead.
    data["plugins"] = []
    import zensical

    from generator.mkdocs_plugin import theme_stylesheets
    templates = Path(zensical.__file__).parent / "templates"
    data["extra_css"] = [*theme_stylesheets([templates], "modern"),
                         *data.get("extra_css", [])]
    settings = project / ".zensical.yml"
    settings.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = subprocess.run([executable, "build", "-f", str(settings),
                             *(["--strict"] if strict else [])], cwd=project,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise BuildError(f"Zensical failed: {said[-1] if said else result.returncode}",
                         path=config.config_file, fix="correct what it names, or build with "
                                                      "--engine mkdocs")


def _site_stamp(cache: Cache, config: Config, site_dir: Path, strict: bool) -> str:
    """What a built site depends on besides docs_dir: the MkDocs config, the theme overrides,
    where it was built and for which address, and the versions of what built it. A rebuild
    may let MkDocs rebuild only changed pages (dirty) only when this is unchanged. Folders
    count as the cache names them (``Cache.where``): a fresh clone elsewhere with the cache
    restored (the publish workflow) builds incrementally too."""
    digest = hashlib.sha256()
    parts = [cache.where(config.docs_dir), cache.where(site_dir), str(config.site_url),
             str(strict)]
    for package in ("paper-digest", "mkdocs", "mkdocs-material", "markdown", "pymdown-extensions",
                    "jinja2"):
        try:
            parts.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{package} -")
    digest.update("\n".join(parts).encode())
    digest.update(Path(config.config_file).read_bytes())
    digest_files(digest, read_folder(config.templates / "theme"))
    return digest.hexdigest()


def _lock_beside(folder: Path, what: str):
    """The lock of a folder a build writes: a file beside it (``.site.lock`` for ``site``)."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot write here: {exc.strerror or exc}", path=folder.parent,
                         fix="check free space and permissions") from exc
    return locked(folder.with_name(f".{folder.name}.lock"), what=what, wait=0)


def site_path(docs_path: str) -> str:
    """Where a file of docs_dir ends up in the built site: a page ``a/b.md`` at
    ``a/b/index.html`` (``a/index.md`` at ``a/index.html``), any other file as it is."""
    if not docs_path.endswith(".md"):
        return docs_path
    url = url_of(docs_path)
    return f"{url}index.html"


#: The pages the config's nav names: every MkDocs run needs them (see ``_mkdocs_runs``).
NAV_PAGES = ("index.md", "digests/index.md", "tags/index.md", "feeds.md", "search.md")
#: Pages one MkDocs run builds at most: larger builds are split into runs of this many
#: pages, two at a time (the machine's two cores), so that memory stays bounded.
CHUNK = 6000


def _link_docs(docs_dir: Path, paths: list[str], target: Path) -> None:
    """``target`` made anew to hold ``paths`` of docs_dir (hard links where the file system
    has them, else copies), for one MkDocs run."""
    if target.exists() or target.is_symlink():
        shutil.rmtree(target) if target.is_dir() and not target.is_symlink() else target.unlink()
    for path in paths:
        link_or_copy(docs_dir / path, target / path)


def _mkdocs_runs(docs_dir: Path, changed: list[str], cache: Path) -> list[Path]:
    """The docs folders MkDocs runs on for a build of ``changed`` (docs_dir paths): one, or
    several of at most ``CHUNK`` pages each; every one holds the nav's pages too (MkDocs
    checks the nav), and the files that are not pages go with the first."""
    pages = sorted(p for p in changed if p.endswith(".md"))
    others = sorted(p for p in changed if not p.endswith(".md"))
    nav = [p for p in NAV_PAGES if (docs_dir / p).is_file()]
    count = max(1, -(-len(pages) // CHUNK))
    folders = []
    for n in range(count):
        part = pages[n::count] + (others if n == 0 else [])
        folder = cache / f"mkdocs-{n}"
        _link_docs(docs_dir, sorted({*part, *nav}), folder)
        folders.append(folder)
    for stale in cache.glob("mkdocs-*"):
        if stale not in folders:
            shutil.rmtree(stale, ignore_errors=True)
    return folders


def _run_mkdocs_folders(config: Config, folders: list[Path], stage: Path, *, strict: bool,
                        last_updated: datetime.date | None) -> None:
    def run(part: list[Path]) -> None:
        for folder in part:
            run_mkdocs(config, stage, strict=strict, last_updated=last_updated, dirty=True,
                       docs=folder)

    if len(folders) == 1:
        run(folders)
        return
    # Two at a time: every other folder in a second process.
    helper = Background(run, folders[1::2])
    try:
        run(folders[0::2])
        helper.result()
    finally:
        helper.stop()


def _sitemap_files(site: Site, pages: list[str]) -> dict[str, bytes]:
    """Our sitemap (see sitemap.py), in place of MkDocs' (which lists every page with the
    build's date, in one file however many pages there are)."""
    from generator.sitemap import render_sitemap
    return render_sitemap(site, [p for p in pages if p.endswith(".md")])


def _docs_marker(docs_dir: Path) -> None:
    """Claim docs_dir, or refuse a folder of someone else's files."""
    if docs_dir.is_dir() and any(docs_dir.iterdir()) and not (docs_dir / MARKER).exists():
        raise BuildError("docs_dir holds files that paper-digest did not write", path=docs_dir,
                         fix="point docs_dir in mkdocs.yml at a folder of its own, "
                             "e.g. build/docs")
    docs_dir.mkdir(parents=True, exist_ok=True)
    if not (docs_dir / MARKER).is_file():
        (docs_dir / MARKER).write_text("Generated by `digest build`; edits here are lost.\n",
                                       encoding="utf-8")


def build(content: Path, *, config_file: Path | None = None, out: Path | None = None,
          site_url: str | None = None, strict: bool = False, html: bool = True,
          full: bool = False, progress: Progress = _quiet,
          docs_dir: Path | None = None, engine: str = "mkdocs") -> BuildResult:
    """Build the site from the archive in ``content``.

    Everything is read, checked and rendered before the first file is written, so bad input
    stops the build with docs_dir and the site as they were.

    A rebuild works on what changed (see the module's docstring); the result is the same as
    a full build (tested), and ``full`` forces one. ``docs_dir`` overrides the config's
    (``digest serve`` builds apart from the published site). A write that fails (a full disk,
    a read-only folder) is one BuildError.
    """
    try:
        with _long_lived():
            return _build(content, config_file=config_file, out=out, site_url=site_url,
                          strict=strict, html=html, full=full, progress=progress,
                          docs_dir=docs_dir, engine=engine)
    except OSError as exc:
        raise write_error(exc) from exc
    except sqlite3.Error as exc:
        raise BuildError(f"cannot write the build cache: {exc}", path=config_cache(config_file),
                         fix="check free space and permissions; deleting the folder makes the "
                             "next build a full one") from exc


@contextlib.contextmanager
def _long_lived() -> Iterator[None]:
    """While a build runs, what it loads and works out (the archive's records, the related
    papers) lives to its end, and the cyclic garbage collector walked it again and again as it
    grew (eight full collections, 0.45 s of a one-day rebuild of the real corpus). So the
    collector rests while the archive is loaded, tagged and related (plain data and arrays:
    no cycles to collect), and what is alive then is set out of its sight (``_keep``). All is
    handed back after. ``load_site`` (``digest list``, ``tags``, ``email``) rests it too."""
    outermost = not _RESTING
    _RESTING.append(gc.isenabled() if outermost else _RESTING[0])
    gc.disable()
    try:
        yield
    finally:
        enabled = _RESTING.pop()
        if outermost and enabled:  # the collector was on before the build
            gc.unfreeze()
            gc.enable()


#: For each ``_long_lived`` block running, whether the collector was on before the first.
_RESTING: list[bool] = []


def _keep() -> None:
    """Everything alive now lives to the end of the build (see ``_long_lived``); the
    collector watches only what comes after (if it was on before the build)."""
    if _RESTING and _RESTING[0]:
        gc.freeze()
        gc.enable()


def _kept(func: Callable, *args):
    """``func(*args)`` in a process forked while the collector rested: what it was given
    lives to its end (see ``_keep``)."""
    _keep()
    return func(*args)


def config_cache(config_file: Path | None) -> Path:
    """The build cache folder of a config, for messages (the default one if it is broken)."""
    try:
        return load_config(config_file).cache_dir
    except DigestError:
        return Path("build/docs-cache")


def _build(content: Path, *, config_file: Path | None, out: Path | None, site_url: str | None,
           strict: bool, html: bool, full: bool, progress: Progress, docs_dir: Path | None,
           engine: str) -> BuildResult:
    with _stage(progress, "config") as detail:
        config = load_config(config_file, site_url)
        if docs_dir is not None:
            config = dataclasses.replace(config, docs_dir=Path(docs_dir))
        site_dir = Path(out) if out else Path("site")
        if html:
            # Before anything is written: the site folder is replaced whole by a build.
            sitedir.check_out(site_dir, keep={
                "the archive": Path(content), "docs_dir": config.docs_dir,
                "the build cache": config.cache_dir, "the templates": config.templates,
                "the site config": config.config_file})
        detail.append(str(config.config_file))
    # One build at a time writes docs_dir and its cache, and one the site folder.
    with contextlib.ExitStack() as held:
        held.enter_context(_lock_beside(config.docs_dir, f"docs_dir ({config.docs_dir})"))
        if html:
            held.enter_context(_lock_beside(site_dir, f"the site folder {site_dir}"))
        cache = open_cache(config.cache_dir)
        held.callback(cache.close)
        if full:
            cache.reset()
        return _build_locked(content, config, cache, site_dir=site_dir, strict=strict,
                             html=html, full=full, progress=progress, engine=engine)


def _inputs(cache: Cache, content: Path, config: Config, site_dir: Path, strict: bool,
            html: bool, engine: str) -> tuple[str, dict[str, str]]:
    """A fingerprint of everything a build reads: the archive's and the taxonomy's bytes, the
    topic model, the config, the templates, this package's code and the versions of what
    builds, where it builds and for which address; and the sha256 of each archive file read
    (by name), which the load then takes instead of reading the files again."""
    digest = hashlib.sha256(repr((html, engine, strict)).encode())
    digest.update(_site_stamp(cache, config, site_dir, strict).encode())
    digest.update(tags_version(content).encode())
    digest_files(digest, read_folder(config.templates))
    shas = archive_store.file_shas(content)
    digest.update(repr(sorted(shas.items())).encode())
    return digest.hexdigest(), shas


def docs_root(cache: Cache, config: Config) -> str:
    """The cache's name for the files of a docs_dir."""
    return f"docs {cache.where(config.docs_dir)}"


def site_root(cache: Cache, site_dir: Path) -> str:
    """The cache's name for the files of a site folder."""
    return f"site {cache.where(site_dir)}"


class _Listings:
    """What docs_dir and the site folder hold (``walk_files``), listed in another process from
    the start of a build. The site has a folder a paper (108,000 of them at 100,000 papers):
    listing it took 1.7-2.2 s of a one-day rebuild, which the second core, idle while the
    archive is read and tagged, now spends instead. The lists are taken before the build
    writes either folder (it holds both locks; the docs_dir marker is never compared)."""

    def __init__(self, docs_dir: Path, site_dir: Path | None) -> None:
        self._job = Background(_list_folders, docs_dir, site_dir)
        self._lists: tuple[dict, dict] | None = None

    def _got(self) -> tuple[dict, dict]:
        if self._lists is None:
            self._lists = self._job.result()
        return self._lists

    def docs(self) -> dict[str, tuple[int, int]]:
        return dict(self._got()[0])

    def site(self) -> dict[str, tuple[int, int]]:
        return dict(self._got()[1])

    def stop(self) -> None:
        self._job.stop()


def _list_folders(docs_dir: Path, site_dir: Path | None) -> tuple[dict, dict]:
    return walk_files(docs_dir), walk_files(site_dir) if site_dir is not None else {}


def _outputs_hold(cache: Cache, folder: Path, root: str,
                  on_disk: dict[str, tuple[int, int]]) -> bool:
    """Whether every file under ``folder`` (``on_disk``: its ``walk_files``) is one the cache
    recorded, as it was written."""
    recorded = cache.outputs(root)
    marker = MARKER if root.startswith("docs ") else sitedir.MARKER
    on_disk.pop(marker, None)
    recorded.pop(marker, None)
    return bool(recorded) and on_disk.keys() == recorded.keys() and all(
        on_disk[p] == (row[1], row[2]) for p, row in recorded.items())


def _build_locked(content: Path, config: Config, cache: Cache, *, site_dir: Path, strict: bool,
                  html: bool, full: bool, progress: Progress, engine: str) -> BuildResult:
    listings = _Listings(config.docs_dir, site_dir if html else None)
    try:
        return _build_listed(content, config, cache, site_dir=site_dir, strict=strict,
                             html=html, full=full, progress=progress, engine=engine,
                             listings=listings)
    finally:
        listings.stop()


def _build_listed(content: Path, config: Config, cache: Cache, *, site_dir: Path, strict: bool,
                  html: bool, full: bool, progress: Progress, engine: str,
                  listings: _Listings) -> BuildResult:
    inputs, shas = _inputs(cache, content, config, site_dir, strict, html, engine)
    # A project may build into more than one place (digest serve builds apart): each place
    # has its own rows.
    key = f"last build {cache.where(config.docs_dir)} {cache.where(site_dir) if html else ''}"
    last = cache.get(key)
    if not full and isinstance(last, dict) and last.get("inputs") == inputs \
            and _outputs_hold(cache, config.docs_dir, docs_root(cache, config),
                              listings.docs()) and (
                not html or (_outputs_hold(cache, site_dir, site_root(cache, site_dir),
                                           listings.site())
                             and (site_dir / sitedir.MARKER).is_file())):
        # Nothing read has changed and every file written is as it was left: done.
        return BuildResult(site=None, papers=last["papers"], digests=last["digests"],
                           written=0, removed=0, out=site_dir if html else None,
                           incremental=True, warnings=_warnings(config))
    cache.set(key, None)
    result = _build_inputs(content, config, cache, site_dir=site_dir, strict=strict, html=html,
                           full=full, progress=progress, engine=engine, shas=shas,
                           listings=listings)
    cache.set(key, {"inputs": inputs, "papers": result.papers,
                             "digests": result.digests})
    return result


def _build_inputs(content: Path, config: Config, cache: Cache, *, site_dir: Path, strict: bool,
                  html: bool, full: bool, progress: Progress, engine: str,
                  listings: _Listings, shas: dict[str, str] | None = None) -> BuildResult:
    from generator import search
    from generator.pages import render_site
    with _stage(progress, "load") as detail:
        taxonomy = load_taxonomy(taxonomy_path(content))
        archive = archive_store.load(Path(content), cache=cache, shas=shas)
        detail.append(f"{len(archive.papers)} papers in {len(archive.digests)} digests, "
                      f"{len(taxonomy.tags)} topics")
    with _stage(progress, "tag") as detail:
        site, weighed, tag_version, unused = _gather_tagged(content, archive, taxonomy, config,
                                                            cache, related={})
        cache.put_tags(tag_version, weighed, removed=unused)
        tagged = sum(bool(p.tags) for p in site.papers)
        detail.append(f"{tagged} of {len(site.papers)} papers tagged, {len(weighed)} weighed")
    docs_dir = config.docs_dir
    _docs_marker(docs_dir)
    # What docs_dir holds, as the cache says and the files confirm: a file whose size or time
    # differs from what the cache recorded is made again.
    manifest = cache.outputs(docs_root(cache, config))
    on_disk = listings.docs()
    trusted = {path: row[0] for path, row in manifest.items()
               if on_disk.get(path) == (row[1], row[2])}
    # Feeds and data, and the search index, need only the tagged papers, not their related
    # ones: they are made in other processes from now on, beside this one's related papers,
    # pages and MkDocs. The search index is the longest of all (Pagefind takes about 2 ms a
    # paper), so it starts now too.
    feeds_job = Background(_kept, following_files, site, None if full else docs_dir, trusted)
    search_job = Background(_kept, search.index, site, config.cache_dir / "search", full) \
        if html else None
    try:
        with _stage(progress, "relate") as detail:
            version = related_version(config, taxonomy)
            previous = {kind: cache.related(version, kind) for kind in RELATED_KINDS}
            related, authors, state = relate(site, taxonomy, previous)
            for kind in RELATED_KINDS:
                cache.put_related(version, state[kind], [
                    k for k, v in state[kind].items() if previous[kind].get(k) != v], kind)
            site = dataclasses.replace(site, related=related, by_authors=authors)
            shown = sum(len(r) for r in related.values())
            detail.append(f"{shown} related papers ({shown / max(len(related), 1):.1f} a paper)")
        _keep()
        with _stage(progress, "pages") as detail:
            # Each page goes to docs_dir as it is rendered, so that a full build does not hold
            # them all. docs_dir is derived: a page written by a build that stops before it
            # records it (the write stage) differs from the cache's record, and is made again.
            pages_written: list[str] = []

            def write_page(path: str, text: str) -> None:
                _write_doc(docs_dir, path, text.encode("utf-8"))
                pages_written.append(path)

            rendered = render_site(site, trusted, sink=write_page)
            fingerprints = dict(rendered.inputs)
            detail.append(f"{len(pages_written)} Markdown pages rendered, "
                          f"{len(rendered.kept)} kept")
        with _stage(progress, "feeds") as detail:
            following, prints = feeds_job.result()
            files: dict[str, bytes] = {}
            for path, data in site_assets(config.templates).items():
                following[path] = data
                prints[path] = hashlib.sha256(data).hexdigest()
            for path, fingerprint in prints.items():
                fingerprints[path] = fingerprint
                if trusted.get(path) != fingerprint:
                    files[path] = following[path]
            del following
            detail.append(f"{sum(p.endswith('.xml') for p in fingerprints)} feeds")
        with _stage(progress, "write") as detail:
            stale = sorted(set(on_disk) - set(fingerprints) - {MARKER})
            for path, data in files.items():
                _write_doc(docs_dir, path, data)
            rows = {path: [fingerprints[path], *stat_of(docs_dir / path)]
                    for path in (*pages_written, *files)}
            for path in stale:
                (docs_dir / path).unlink(missing_ok=True)
            _prune(docs_dir, stale)
            cache.put_outputs(docs_root(cache, config), rows, removed=stale + [
                p for p in manifest if p not in fingerprints], base=manifest)
            written, removed = len(rows), len(stale)
            changed = sorted(rows)
            del files
            detail.append(f"{written} changed, {removed} removed in {docs_dir}")
        if search_job is None:
            return BuildResult(site=site, papers=len(site.papers), digests=len(site.digests),
                               written=written, removed=removed, out=None,
                               kept=len(rendered.kept))
        page_paths = sorted(fingerprints)
        return _build_html(site, config, cache, site_dir=site_dir, strict=strict, full=full,
                           progress=progress, engine=engine, changed=changed,
                           removed_docs=stale, page_paths=page_paths, search_job=search_job,
                           written=written, kept=len(rendered.kept), listings=listings)
    finally:
        feeds_job.stop()
        if search_job is not None:
            search_job.stop()


def _prune(folder: Path, removed: list[str]) -> None:
    """Remove the folders that removing ``removed`` emptied."""
    for parent in sorted({(folder / p).parent for p in removed}, reverse=True):
        while parent != folder and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def _build_html(site: Site, config: Config, cache: Cache, *, site_dir: Path, strict: bool,
                full: bool, progress: Progress, engine: str, changed: list[str],
                removed_docs: list[str], page_paths: list[str], search_job: Background,
                written: int, kept: int, listings: _Listings) -> BuildResult:
    """MkDocs (or Zensical) on what changed, the sitemap and the search bundles, written
    into a stage and committed into the site (see sitedir)."""
    from generator import search
    stamp = _site_stamp(cache, config, site_dir, strict) + engine
    recorded = cache.outputs(site_root(cache, site_dir))
    stamp_key = f"site stamp {cache.where(site_dir)}"
    incremental = (engine == "mkdocs" and not full and cache.get(stamp_key) == stamp
                   and bool(recorded) and (site_dir / sitedir.MARKER).is_file())
    sources = {site_path(p): p for p in page_paths}
    damaged_bundles: set[str] = set()
    stray: list[str] = []
    if incremental:
        # The site as the cache says it was left, checked against the files: a page whose
        # file is missing or differs is built again, a stray file goes.
        on_disk = listings.site()
        for path, row in recorded.items():
            if on_disk.get(path) != (row[1], row[2]):
                if path in sources:
                    changed.append(sources[path])
                elif path.startswith(search.PREFIX):
                    damaged_bundles.add(path.split("/", 1)[0])
                elif path.startswith("sitemap"):
                    pass  # written into the stage on every build
                else:
                    incremental = False  # a theme file: the next build is a full one
        stray = sorted(p for p in on_disk if p not in recorded and p != sitedir.MARKER)
    # A build stopped half-way is followed by a full one.
    cache.set(stamp_key, None)
    changed = sorted(set(changed))
    with sitedir.staged(site_dir, whole=not incremental) as stage:
        with _stage(progress, engine) as detail:
            if not incremental and engine == "zensical":
                run_zensical(config, stage.path, strict=strict)
            elif not incremental or changed:
                runs = _mkdocs_runs(config.docs_dir, page_paths if not incremental
                                    else changed, config.cache_dir)
                _run_mkdocs_folders(config, runs, stage.path, strict=strict,
                                    last_updated=site.last_updated)
                # The folders of links are MkDocs' input only: they go now (a full build's
                # hold every page), not at the start of the next build.
                for folder in runs:
                    shutil.rmtree(folder, ignore_errors=True)
            how = "changed pages" if incremental else "every page"
            detail.append(f"{how} ({len(changed) if incremental else len(page_paths)} files) "
                          f"-> {site_dir}")
        (stage.path / "sitemap.xml.gz").unlink(missing_ok=True)
        for path, data in _sitemap_files(site, page_paths).items():
            target = stage.path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_bytes(target, data)
        with _stage(progress, "search") as detail:
            indexed = search_job.result()
            install = set(indexed.bundles) if not incremental else \
                set(indexed.reindexed) | (damaged_bundles & set(indexed.bundles))
            bundle = search.bundle_files(config.cache_dir / "search", sorted(install))
            for path, source in bundle.items():
                link_or_copy(source, stage.path / path)
            reused = [name for name in indexed.bundles if name not in indexed.reindexed]
            detail.append(f"indexed {', '.join(indexed.reindexed) or 'nothing'}, "
                          f"reused {', '.join(reused) or 'nothing'}")
        if incremental:
            # Pages no longer made, files of reinstalled or dropped bundles that are gone, and
            # files nobody made.
            stage.removed = sorted(
                {site_path(p) for p in removed_docs}
                | {p for p in recorded if p.startswith(search.PREFIX) and (
                    p.split("/", 1)[0] in install and p not in bundle
                    or p.split("/", 1)[0] not in indexed.bundles)}
                | {p for p in recorded if p.startswith("sitemaps/")
                   and not (stage.path / p).is_file()}
                | set(stray))
    rows = {path: [None, *stat_of(site_dir / path)] for path in stage.written
            if path != sitedir.MARKER and stat_of(site_dir / path)}
    cache.put_outputs(site_root(cache, site_dir), rows, removed=stage.removed,
                      whole=not incremental, base=recorded)
    cache.set(stamp_key, stamp)
    return BuildResult(site=site, papers=len(site.papers), digests=len(site.digests),
                       written=written, removed=len(removed_docs), out=site_dir,
                       incremental=incremental, reindexed=indexed.reindexed, kept=kept,
                       warnings=_warnings(config))


def _warnings(config: Config) -> tuple[str, ...]:
    if config.site_url == PLACEHOLDER_URL:
        return (f"{config.config_file}: site_url is still the example address, so feeds and "
                "links point there - set site_url in it, or pass --site-url",)
    return ()


def tags_version(content: Path) -> str:
    """What tags depend on besides a paper: the taxonomy, the model and this code."""
    taxonomy_file = taxonomy_path(content)
    from generator.topicmodel import model_path
    model = model_path(taxonomy_file)
    return _version("tags", taxonomy_file.read_bytes(),
                    model.read_bytes() if model.is_file() else b"")


def related_version(config: Config, taxonomy) -> str:
    model = taxonomy.model
    return _version("related", config.related_papers, model.reference_frequency
                    if model and model.reference_papers else None)
