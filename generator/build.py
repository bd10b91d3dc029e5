"""The one place that writes the site: gather everything, then write.

Stages, in order (each needs the one before): load the archive and taxonomy -> tag papers ->
relate them -> render the pages -> write docs_dir -> MkDocs builds the HTML -> the search
bundles are copied into the site. Feeds and the search index are made in two other processes
(``background``) while the pages are rendered and MkDocs runs (the machine's second core); the
feeds must be in docs_dir before MkDocs starts, and the search bundles copied after it: a full
MkDocs build empties the site folder first. MkDocs and the search stage write a stage beside
the site, swapped in whole at the end (``sitedir``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import importlib.metadata
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from generator import archive as archive_store
from generator import search, similarity, sitedir
from generator.background import Background
from generator.config import PLACEHOLDER_URL, Config, data_root, load_config
from generator.errors import BuildError, write_error
from generator.feeds import render_feeds
from generator.files import digest_files, locked, read_folder, replace_bytes, sync_folder
from generator.layout import Site, gather
from generator.opendata import render_data
from generator.pages import render_pages, render_site
from generator.similarity import by_authors
from generator.sitemap import render_sitemap
from generator.tagging import load_taxonomy
from generator.textfeatures import Reference

#: Written into docs_dir so that a later build knows the folder is ours to clean.
MARKER = ".paper-digest"
TAXONOMY = "taxonomy.yaml"
#: In the cache: what each paper and digest page in docs_dir was made from
#: (see pages.render_site).
PAGE_INPUTS = "page-inputs.json"
#: In the cache: the tags and related papers of the last build (see ``build``).
TAGS_KEPT, RELATED_KEPT = "tags.json", "related.json"


@dataclass(frozen=True)
class BuildResult:
    site: Site
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


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    replace_bytes(path, json.dumps(data, sort_keys=True, separators=(",", ":")).encode())


def taxonomy_path(content: Path) -> Path:
    """The content folder's taxonomy, else the embedded default one."""
    own = Path(content) / TAXONOMY
    return own if own.is_file() else data_root() / "content" / TAXONOMY


def load_site(content: Path, config: Config,
              related: dict[str, tuple[str, ...]] | None = None) -> Site:
    """Read and check everything a build needs, without writing anything. ``related`` given
    (e.g. empty) skips working out related papers."""
    taxonomy = load_taxonomy(taxonomy_path(content))
    archive = archive_store.load(content)
    return gather(archive, taxonomy, config, related=related)


def render(site: Site, templates: Path) -> dict[str, bytes]:
    """Every file of docs_dir: pages, feeds and the site's own assets."""
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
    is one), papers by the same authors, and what the next build can reuse (``previous`` is
    that of the last build; see similarity.relate)."""
    model = taxonomy.model
    reference = Reference(model.reference_papers, model.reference_frequency) \
        if model and model.reference_papers else None
    papers = list(site.papers)
    found = similarity.relate(papers, site.config.related_papers, reference,
                              (previous or {}).get("papers"))
    version = _version("related", site.config.related_papers, model.reference_frequency
                       if reference else None)
    return found.lists, by_authors(papers, BY_AUTHORS, found.lists), {
        "version": version, "papers": found.state}


def _version(*parts: object) -> str:
    """A fingerprint of what a kept result was made with, this package's code included."""
    digest = hashlib.sha256(repr(parts).encode())
    digest_files(digest, read_folder(Path(__file__).parent, "*.py"))
    return digest.hexdigest()


def _kept(path: Path, version: str) -> dict:
    """A kept result of the last build, if it was made with the same ``version``."""
    data = _read_json(path)
    return data if data.get("version") == version else {}


def render_following(site: Site) -> dict[str, bytes]:
    """What readers follow and download: the feeds, and the archive as open data."""
    return {**render_feeds(site), **render_data(site)}


def install_sitemap(site: Site, pages: list[str], stage: Path) -> None:
    """Our sitemap in place of MkDocs' (which lists every page with the build's date, in one
    file however many pages there are)."""
    (stage / "sitemap.xml.gz").unlink(missing_ok=True)
    files = render_sitemap(site, [p for p in pages if p.endswith(".md")])
    sync_folder(stage / "sitemaps", {k.removeprefix("sitemaps/"): v for k, v in files.items()
                                     if k.startswith("sitemaps/")})
    if (stage / "sitemaps").is_dir() and not any((stage / "sitemaps").iterdir()):
        (stage / "sitemaps").rmdir()
    replace_bytes(stage / "sitemap.xml", files["sitemap.xml"])


def write_docs(docs_dir: Path, files: dict[str, bytes],
               kept: frozenset[str] = frozenset()) -> tuple[int, int]:
    """Make docs_dir hold exactly ``files`` and the ``kept`` files already there: write what
    is new or changed, remove the rest.

    A folder with files but no marker was not made by paper-digest: it is never cleaned."""
    docs_dir = Path(docs_dir)
    if docs_dir.is_dir() and any(docs_dir.iterdir()) and not (docs_dir / MARKER).exists():
        raise BuildError("docs_dir holds files that paper-digest did not write", path=docs_dir,
                         fix="point docs_dir in mkdocs.yml at a folder of its own, "
                             "e.g. build/docs")
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / MARKER).write_text("Generated by `digest build`; edits here are lost.\n",
                                   encoding="utf-8")
    return sync_folder(docs_dir, files, keep=kept | {MARKER})


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
    import shutil

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
               last_updated: datetime.date | None, dirty: bool = False) -> None:
    """MkDocs with the project's mkdocs.yml, reading docs_dir and writing ``out``. ``dirty``:
    build only the pages whose Markdown is newer than their HTML (MkDocs' --dirty)."""
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
                           docs_dir=str(Path(config.docs_dir).resolve()),
                           site_dir=str(Path(out).resolve()),
                           site_url=config.site_url, strict=strict)
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


#: The engines that can turn docs_dir into the site (``digest build --engine``).
ENGINES = ("mkdocs", "zensical")


def run_zensical(config: Config, out: Path, *, strict: bool) -> None:
    """Zensical (Material's successor, from the same team) on docs_dir, writing ``out``. It
    reads mkdocs.yml, and wants docs_dir and the site inside the folder of its config: a copy
    with this build's folders and address is written as ``.zensical.yml`` in the folder that
    holds both (the project folder), where Zensical keeps its ``.cache`` too (git ignores
    both). It builds every page every time."""
    import os
    import shutil
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


def _site_stamp(config: Config, site_dir: Path, strict: bool) -> str:
    """What a built site depends on besides docs_dir: the MkDocs config, the theme overrides,
    where it was built and for which address, and the versions of what built it. A rebuild
    may let MkDocs rebuild only changed pages (dirty) only when this is unchanged. Folders
    count relative to the config's folder: a fresh clone elsewhere with the cache restored
    (the publish workflow) builds incrementally too."""
    digest = hashlib.sha256()
    project = Path(config.config_file).resolve().parent

    def where(folder: Path) -> str:
        folder = Path(folder).resolve()
        return folder.relative_to(project).as_posix() if project in folder.parents \
            or folder == project else str(folder)

    parts = [where(config.docs_dir), where(site_dir), str(config.site_url), str(strict)]
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


def build(content: Path, *, config_file: Path | None = None, out: Path | None = None,
          site_url: str | None = None, strict: bool = False, html: bool = True,
          full: bool = False, progress: Progress = _quiet,
          docs_dir: Path | None = None, engine: str = "mkdocs") -> BuildResult:
    """Build the site from the archive in ``content``.

    Everything is read, checked and rendered before the first file is written, so bad input
    stops the build with docs_dir and the site as they were.

    A rebuild of a site built before with the same config, theme and versions is incremental:
    MkDocs rebuilds only the pages whose Markdown changed, and Pagefind indexes only the bundle
    whose papers changed. The result is the same as a full build (tested); ``full`` forces one.
    ``docs_dir`` overrides the config's (``digest serve`` builds apart from the published site).
    A write that fails (a full disk, a read-only folder) is one BuildError.
    """
    try:
        return _build(content, config_file=config_file, out=out, site_url=site_url,
                      strict=strict, html=html, full=full, progress=progress,
                      docs_dir=docs_dir, engine=engine)
    except OSError as exc:
        raise write_error(exc) from exc


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
    with _stage(progress, "load") as detail:
        taxonomy = load_taxonomy(taxonomy_path(content))
        archive = archive_store.load(Path(content))
        detail.append(f"{len(archive.papers)} papers in {len(archive.digests)} digests, "
                      f"{len(taxonomy.tags)} topics")
    # What the last build worked out for unchanged papers: their tags (for this taxonomy and
    # model) and related papers. Kept in the build cache; `--full` starts afresh.
    cache = config.cache_dir
    taxonomy_file = taxonomy_path(content)
    tag_version = _version("tags", taxonomy_file.read_bytes(), (taxonomy_file.with_name(
        "topic-model.json").read_bytes() if taxonomy_file.with_name("topic-model.json")
        .is_file() else b""))
    kept_tags = {} if full else _kept(cache / TAGS_KEPT, tag_version).get("tags", {})
    with _stage(progress, "tag") as detail:
        tags_known = dict(kept_tags)
        site = gather(archive, taxonomy, config, related={}, tags_known=tags_known)
        tagged = sum(bool(p.tags) for p in site.papers)
        detail.append(f"{tagged} of {len(site.papers)} papers tagged")
    with _stage(progress, "relate") as detail:
        model = taxonomy.model
        previous = {} if full else _kept(cache / RELATED_KEPT, _version(
            "related", config.related_papers, model.reference_frequency
            if model and model.reference_papers else None))
        related, authors, related_state = relate(site, taxonomy, previous)
        site = dataclasses.replace(site, related=related, by_authors=authors)
        shown = sum(len(r) for r in related.values())
        detail.append(f"{shown} related papers ({shown / max(len(related), 1):.1f} a paper)")
    # One build at a time writes docs_dir and its cache, and one the site folder.
    with contextlib.ExitStack() as held:
        held.enter_context(_lock_beside(config.docs_dir, f"docs_dir ({config.docs_dir})"))
        if html:
            held.enter_context(_lock_beside(site_dir, f"the site folder {site_dir}"))
        cache = config.cache_dir
        cache.mkdir(parents=True, exist_ok=True)
        # Feeds and the search index need only the site model: they are made in other processes
        # while this one renders the pages and runs MkDocs.
        feeds_job = Background(render_following, site)
        search_job = Background(search.index, site, cache / "search", full) if html else None
        try:
            with _stage(progress, "pages") as detail:
                # Paper and digest pages made from the same inputs as the ones in docs_dir are kept.
                previous = {} if full else _read_json(cache / PAGE_INPUTS)
                previous = {path: key for path, key in previous.items()
                            if (config.docs_dir / path).is_file()}
                rendered = render_site(site, previous)
                # Each page's text is let go once encoded: a page is held once, not twice.
                page_paths = [*rendered.pages, *rendered.kept]
                files = {path: rendered.pages.pop(path).encode("utf-8")
                         for path in list(rendered.pages)}
                detail.append(f"{len(files)} Markdown pages rendered, "
                              f"{len(rendered.kept)} paper and digest pages unchanged")
            with _stage(progress, "feeds") as detail:
                feeds = feeds_job.result()
                files.update(feeds)
                files.update(site_assets(config.templates))
                detail.append(f"{sum(p.endswith('.xml') for p in feeds)} feeds")
            stamp_file = cache / "site.stamp"
            # A site made by another engine is never the base of an incremental one.
            stamp = _site_stamp(config, site_dir, strict) + engine if html else ""
            with _stage(progress, "write") as detail:
                (cache / PAGE_INPUTS).unlink(missing_ok=True)
                written, removed = write_docs(config.docs_dir, files, rendered.kept)
                _write_json(cache / PAGE_INPUTS, rendered.inputs)
                # (Entries of papers edited since stay: the archive only grows, and so do
                # they, by one an edit.)
                _write_json(cache / TAGS_KEPT, {"version": tag_version, "tags": tags_known})
                _write_json(cache / RELATED_KEPT, related_state)
                detail.append(f"{written} changed, {removed} removed in {config.docs_dir}")
            # The pages are on disk: their text is not held while MkDocs (which holds every
            # page it builds) runs.
            kept = len(rendered.kept)
            del rendered, files, feeds
            if search_job is None:
                return BuildResult(site=site, written=written, removed=removed, out=None,
                                   kept=kept)
            # A removed page would stay in the site (MkDocs' dirty build never deletes one).
            incremental = (engine == "mkdocs" and not full and removed == 0
                           and (site_dir / "index.html").is_file()
                           and stamp_file.is_file() and stamp_file.read_text() == stamp)
            # A build stopped half-way is followed by a full one.
            stamp_file.unlink(missing_ok=True)
            # The new site is made beside the old one and swapped in whole (see sitedir).
            with sitedir.staged(site_dir, reuse=incremental) as stage:
                with _stage(progress, engine) as detail:
                    if engine == "zensical":
                        run_zensical(config, stage, strict=strict)
                    else:
                        run_mkdocs(config, stage, strict=strict,
                                   last_updated=site.last_updated, dirty=incremental)
                    how = "changed pages" if incremental else "every page"
                    detail.append(f"{how} -> {site_dir}")
                install_sitemap(site, page_paths, stage)
                with _stage(progress, "search") as detail:
                    indexed = search_job.result()
                    search.install(indexed, cache / "search", stage)
                    reused = [name for name in indexed.bundles if name not in indexed.reindexed]
                    detail.append(f"indexed {', '.join(indexed.reindexed) or 'nothing'}, "
                                  f"reused {', '.join(reused) or 'nothing'}")
        finally:
            feeds_job.stop()
            if search_job is not None:
                search_job.stop()
        stamp_file.write_text(stamp)
        warnings = ()
        if config.site_url == PLACEHOLDER_URL:
            warnings = (f"{config.config_file}: site_url is still the example address, so "
                        "feeds and links point there - set site_url in it, or pass "
                        "--site-url",)
        return BuildResult(site=site, written=written, removed=removed, out=site_dir,
                           incremental=incremental, reindexed=indexed.reindexed,
                           kept=kept, warnings=warnings)
