"""Rebuilds: a new day lets MkDocs rebuild only the changed pages and Pagefind index only the
changed bundle, and the site is then byte for byte what a full build makes. Anything that
could make a partial rebuild differ (config, theme, a removed page) makes it a full one."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, build_project, make_project, snapshot
from generator.commands import IngestReport, add_digests
from generator.records import Digest, Paper
from generator.search import RECENT

URL = "http://127.0.0.1:8000/"
#: The sample's papers of March 2026 (those of April, the newest month, are RECENT).
YEAR = "pagefind-2026"


def add_day(project: Path, date: datetime.date, *titles: str) -> None:
    papers = tuple(Paper(key=f"new-{date.isoformat()}-{i}", title=title,
                         abstract=f"We study {title.lower()} with diffusion models.")
                   for i, title in enumerate(titles))
    add_digests(project / "content", [Digest(date=date, papers=papers).with_date(date)],
                IngestReport())


def mtimes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns
            for p in site.rglob("*") if p.is_file()}


def assert_same_as_a_full_build(project: Path, tmp_path: Path) -> None:
    fresh = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
    make_project(fresh, project / "content")
    result = build_project(fresh, URL)
    assert not result.incremental
    rebuilt, full = snapshot(project / "site"), snapshot(fresh / "site")
    assert sorted(rebuilt) == sorted(full)
    assert [path for path in full if rebuilt[path] != full[path]] == []


def test_a_new_day_rebuilds_only_what_changed_and_equals_a_full_build(tmp_path):
    project = make_project(tmp_path / "project")
    first = build_project(project, URL)
    assert not first.incremental and first.reindexed == (YEAR, RECENT)
    # MkDocs' folders of links to the pages go when it is done: the next build does not
    # pay for removing a full build's.
    assert list((project / "build" / "docs-cache").glob("mkdocs-*")) == []
    before = mtimes(project / "site")

    # The newest digest is of 29 April: a day in April changes only the recent bundle.
    add_day(project, datetime.date(2026, 4, 30), "Quokka Alignment for Video Generation")
    second = build_project(project, URL)
    assert second.incremental and second.reindexed == (RECENT,)
    assert first.kept == 0 and second.kept > 250  # paper pages not rendered again
    after = mtimes(project / "site")
    rewritten = [p for p in after if p.endswith(".html") and after[p] != before.get(p)]
    assert "papers/new-2026-04-30-0/index.html" in rewritten
    assert "index.html" in rewritten and "digests/2026-04-30/index.html" in rewritten
    pages = [p for p in after if p.endswith(".html")]
    assert len(rewritten) < len(pages) / 5, (len(rewritten), len(pages))
    assert all(after[p] == before[p] for p in after if p.startswith(f"{YEAR}/"))
    assert_same_as_a_full_build(project, tmp_path)

    # A day in May: April's papers join the history bundle, which is indexed again.
    add_day(project, datetime.date(2026, 5, 1), "Wombat Sampling for Language Models")
    third = build_project(project, URL)
    assert third.incremental and third.reindexed == (YEAR, RECENT)
    assert_same_as_a_full_build(project, tmp_path)


def test_nothing_new_reuses_everything(tmp_path):
    project = make_project(tmp_path / "project")
    build_project(project, URL)
    before = mtimes(project / "site")
    again = build_project(project, URL)
    assert again.incremental and again.reindexed == () and again.written == 0
    after = mtimes(project / "site")
    assert [p for p in after if after[p] != before[p] and p.startswith("papers/")] == []


def test_a_day_read_again_leaves_one_row_of_tags_a_paper(tmp_path):
    """Tags are kept by the print of the files a paper was read from: a day file whose bytes
    change (a list read again, a comment) gives its papers new prints, and the rows of the
    old ones go, so that the cache does not grow with every refresh of a day."""
    import sqlite3

    from generator.build import build
    from generator.config import load_config

    project = make_project(tmp_path / "project")
    config = project / "mkdocs.yml"
    docs = project / "build" / "docs"
    first = build(project / "content", config_file=config, html=False, docs_dir=docs)
    day = project / "content" / "digests" / "2026-04-29.yaml"
    day.write_text(day.read_text(encoding="utf-8") + "# read again\n", encoding="utf-8")
    build(project / "content", config_file=config, html=False, docs_dir=docs)
    cache_file = load_config(config).cache_dir / "cache.sqlite"
    with sqlite3.connect(cache_file) as db:
        rows = db.execute("SELECT COUNT(*), COUNT(DISTINCT fingerprint) FROM tags").fetchone()
    assert rows == (first.papers, first.papers)


def test_a_build_from_another_working_folder_reuses_everything(tmp_path, monkeypatch):
    """The cache names the project's folders from where the cache is, not from the working
    folder: `digest build --config elsewhere/mkdocs.yml` finds the rows the last build
    wrote, and a project moved with its cache does too."""
    from generator.build import build

    project = make_project(tmp_path / "project")
    build_project(project, URL)
    before = mtimes(project / "site")
    monkeypatch.chdir(tmp_path)
    again = build(project / "content", config_file=project / "mkdocs.yml",
                  out=project / "site", site_url=URL, strict=True)
    assert again.incremental and again.written == 0 and again.reindexed == ()
    assert mtimes(project / "site") == before

    moved = tmp_path / "moved"
    project.rename(moved)
    monkeypatch.chdir(moved)
    third = build(moved / "content", config_file=moved / "mkdocs.yml", out=moved / "site",
                  site_url=URL, strict=True)
    assert third.incremental and third.written == 0 and third.reindexed == ()


def test_the_files_a_rebuild_checks_are_the_regular_files_not_what_links_reach(tmp_path):
    """What a rebuild compares with the cache's records: every regular file, in folders at
    any depth, with its size and time; not a link (to a file or to a folder) nor a pipe."""
    import os

    from generator.files import walk_files

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "top.html").write_text("x")
    (tmp_path / "a" / "b" / "deep.html").write_text("yy")
    (tmp_path / "link.html").symlink_to(tmp_path / "top.html")
    (tmp_path / "folder-link").symlink_to(tmp_path / "a")
    os.mkfifo(tmp_path / "pipe")
    found = walk_files(tmp_path)
    assert sorted(found) == ["a/b/deep.html", "top.html"]
    st = (tmp_path / "a" / "b" / "deep.html").stat()
    assert found["a/b/deep.html"] == (2, st.st_mtime_ns)


def test_a_changed_config_or_theme_rebuilds_everything(tmp_path):
    project = make_project(tmp_path / "project")
    build_project(project, URL)
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("site_name: Trending Papers Digest",
                                                 "site_name: Our Papers"))
    result = build_project(project, URL)
    assert not result.incremental
    assert "Our Papers" in (project / "site/papers/deep-model-assembling/index.html").read_text()
    assert build_project(project, "http://127.0.0.1:9000/").incremental is False
    assert_same_as_a_full_build_at(project, tmp_path, "http://127.0.0.1:9000/")


def assert_same_as_a_full_build_at(project: Path, tmp_path: Path, url: str) -> None:
    fresh = make_project(tmp_path / "fresh", project / "content")
    shutil.copy(project / "mkdocs.yml", fresh / "mkdocs.yml")
    build_project(fresh, url)
    assert snapshot(project / "site") == snapshot(fresh / "site")


def test_a_removed_page_leaves_nothing_stale_and_equals_a_full_build(tmp_path):
    project = make_project(tmp_path / "project")
    build_project(project, URL)
    assert (project / "site/tags/unlearning/index.html").is_file()
    taxonomy = project / "content" / "taxonomy.yaml"
    text = taxonomy.read_text(encoding="utf-8")
    start = text.index("  - id: unlearning")
    end = text.index("  - id:", start + 1)
    taxonomy.write_text(text[:start] + text[end:], encoding="utf-8")
    result = build_project(project, URL)
    # The pages that listed the topic are made again; nothing else needs to be.
    assert result.removed > 0 and result.kept > 0
    assert not (project / "site/tags/unlearning").exists()
    assert_same_as_a_full_build(project, tmp_path)


def test_a_changed_template_renders_every_paper_page_again(tmp_path):
    project = make_project(tmp_path / "project")
    (project / "templates").unlink()
    shutil.copytree(ROOT / "templates", project / "templates")
    build_project(project, URL)
    template = project / "templates" / "paper.md.j2"
    template.write_text(template.read_text() + "\nKept in the archive.\n")
    result = build_project(project, URL)
    assert result.kept == 0
    for page in (project / "site" / "papers").rglob("index.html"):
        assert "Kept in the archive." in page.read_text(encoding="utf-8")
    fresh = tmp_path / "fresh"
    shutil.copytree(project, fresh, symlinks=True, ignore=shutil.ignore_patterns("site", "build"))
    build_project(fresh, URL)
    assert snapshot(project / "site") == snapshot(fresh / "site")


def test_full_forces_a_full_build(tmp_path):
    from generator.build import build
    project = make_project(tmp_path / "project")
    build_project(project, URL)
    result = build(project / "content", config_file=project / "mkdocs.yml",
                   out=project / "site", site_url=URL, full=True)
    assert not result.incremental and result.kept == 0
    assert result.reindexed == (YEAR, RECENT)


def test_an_edited_title_or_taxonomy_rebuilds_to_a_full_build(tmp_path):
    project = make_project(tmp_path / "project")
    build_project(project, URL)
    day = project / "content" / "digests" / "2026-04-29.yaml"
    day.write_text(day.read_text(encoding="utf-8").replace(
        "title: Deep Model Assembling", "title: Deep Model Assembling, Corrected"),
        encoding="utf-8")
    assert build_project(project, URL).incremental
    page = project / "site" / "papers" / "deep-model-assembling" / "index.html"
    assert "Deep Model Assembling, Corrected" in page.read_text(encoding="utf-8")
    assert_same_as_a_full_build(project, tmp_path)
    taxonomy = project / "content" / "taxonomy.yaml"
    taxonomy.write_text(taxonomy.read_text(encoding="utf-8").replace(
        "match: [video, video generation,", "match: [video, moving pictures, video generation,"),
        encoding="utf-8")
    build_project(project, URL)
    assert_same_as_a_full_build(project, tmp_path)


# -- a damaged cache or site is noticed and rebuilt, never trusted ------------------------------

def _garble(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 8)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def _replace_with_a_file(path: Path) -> None:
    shutil.rmtree(path)
    path.write_text("not a folder")


def _sql(statement: str):
    def damage(project: Path) -> None:
        import sqlite3
        db = sqlite3.connect(project / "build" / "docs-cache" / "cache.sqlite")
        with db:
            db.execute(statement)
        db.close()
    return damage


def _first(pattern: str):
    return lambda project: sorted(project.glob(pattern))[0]


CACHE = "build/docs-cache"
DAMAGES = {
    "database garbled": lambda p: _garble(p / CACHE / "cache.sqlite"),
    "database truncated": lambda p: _truncate(p / CACHE / "cache.sqlite"),
    "cache folder is a file": lambda p: _replace_with_a_file(p / CACHE),
    "search cache is a file": lambda p: _replace_with_a_file(p / CACHE / "search"),
    "bundle stamp garbled": lambda p: _garble(_first(f"{CACHE}/search/*/indexed.txt")(p)),
    "bundle file in the cache truncated": lambda p: _truncate(
        _first(f"{CACHE}/search/*/bundle/fragment/*")(p)),
    "tags of the wrong shape": _sql("UPDATE tags SET value = '{\"a\": 1}'"),
    "related rows garbled": _sql("UPDATE related SET value = 'nonsense'"),
    "authored rows garbled": _sql("UPDATE authored SET value = 'nonsense'"),
    "archive rows of the wrong shape": _sql("UPDATE archive SET value = '[1, 2]'"),
    "outputs rows garbled": _sql("UPDATE outputs SET value = '[\"x\"]'"),
    "a page in the site truncated": lambda p: _truncate(_first("site/papers/*/index.html")(p)),
    "a feed in the site truncated": lambda p: _truncate(p / "site" / "feed.xml"),
    "a search fragment in the site truncated": lambda p: _truncate(
        _first("site/pagefind-*/fragment/*")(p)),
    "a stray file in the site": lambda p: (p / "site" / "papers" / "stray.html").write_text("x"),
    "a Markdown page truncated": lambda p: _truncate(_first("build/docs/papers/*.md")(p)),
    "a theme file in the site truncated": lambda p: _truncate(
        _first("site/assets/stylesheets/*.css")(p)),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A built project and the snapshot of its site (a full build)."""
    project = make_project(tmp_path_factory.mktemp("built") / "project")
    build_project(project, URL)
    return project, snapshot(project / "site")


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_cache_or_site_is_rebuilt_to_a_full_build(built, tmp_path, damage):
    project = tmp_path / "project"
    shutil.copytree(built[0], project, symlinks=True)
    damage(project)
    build_project(project, URL)
    rebuilt = snapshot(project / "site")
    assert sorted(rebuilt) == sorted(built[1])
    assert [path for path in built[1] if rebuilt[path] != built[1][path]] == []
    # And the cache is whole again: the next build has nothing to do.
    assert build_project(project, URL).site is None


def test_search_files_changed_in_place_in_the_site_are_made_again(built, tmp_path):
    """The site's search files are other names of the search cache's (hard links): a file
    written over in place in the site changes the cache's too. The bundle's stamp then does
    not hold, so the next build indexes that bundle again and the site is a full build's."""
    project = tmp_path / "project"
    shutil.copytree(built[0], project, symlinks=True)
    build_project(project, URL, full=True)  # the copy's own links between site and cache
    fragment = sorted((project / "site").glob(f"{YEAR}/fragment/*"))[0]
    cached = project / CACHE / "search" / YEAR / "bundle" / "fragment" / fragment.name
    assert fragment.stat().st_ino == cached.stat().st_ino
    _truncate(fragment)
    assert cached.read_bytes() == fragment.read_bytes() != built[1][
        fragment.relative_to(project / "site").as_posix()]
    result = build_project(project, URL)
    assert YEAR in result.reindexed
    rebuilt = snapshot(project / "site")
    assert sorted(rebuilt) == sorted(built[1])
    assert [path for path in built[1] if rebuilt[path] != built[1][path]] == []


def test_a_build_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    """The collector rests while a build loads and relates the archive, and what is alive
    then is frozen out of its sight: after the build (even a failed one) all is handed back."""
    import gc

    from generator.errors import DigestError
    project = make_project(tmp_path / "project")
    assert gc.isenabled()
    build_project(project, URL)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    (project / "content" / "taxonomy.yaml").write_text("not: [a taxonomy", encoding="utf-8")
    with pytest.raises(DigestError):
        build_project(project, URL)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        (project / "content" / "taxonomy.yaml").write_text(
            (ROOT / "content" / "taxonomy.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        build_project(project, URL)
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()
