"""The built sample site: every paper on a page, strict MkDocs, search index, no third-party
requests, small pages, and the same bytes on every build."""

from __future__ import annotations

import dataclasses
import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from conftest import ROOT, build_project, make_project, snapshot
from generator import archive as archive_store
from generator.records import Digest


def pages(site: Path):
    return sorted(site.rglob("*.html"))


def test_sample_site_builds_with_a_home_page(served_sample):
    site = served_sample["site"]
    assert (site / "index.html").is_file()
    assert (site / "sitemap.xml").is_file()
    assert sorted(p.name for p in site.glob("pagefind*")) == ["pagefind-2026", "pagefind-recent"]
    assert (site / "pagefind-2026" / "pagefind.js").is_file()
    # Nothing nobody loads: Pagefind's own interfaces (the search page drives pagefind.js),
    # Material's scripts (no page loads them) and source maps.
    assert not list(site.glob("pagefind-*/pagefind-*ui*")) and not list(site.rglob("*.map"))
    assert not (site / "assets" / "javascripts").exists()
    for page in pages(site):
        assert "assets/javascripts/" not in page.read_text(encoding="utf-8"), page
    assert (site / "feed.xml").is_file() and (site / "feeds.opml").is_file()
    assert not (site / "tags.json").exists()  # the tags plugin's export is switched off


def test_every_paper_of_the_sample_is_on_its_own_page(served_sample):
    site, result = served_sample["site"], served_sample["result"]
    archive = archive_store.load(served_sample["project"] / "content")
    assert len(archive.papers) == 323
    for paper in archive.papers:
        page = site / result.site.paper_page(paper).removesuffix(".md") / "index.html"
        doc = lxml.html.parse(str(page)).getroot()
        assert doc.findtext(".//h1").strip() == paper.title
        assert doc.find(".//title").text.startswith(paper.title)
        article = doc.find_class("md-content__inner")[0].text_content()
        assert paper.abstract[:200] in " ".join(article.split())


def test_pages_load_nothing_from_other_hosts(served_sample):
    for page in pages(served_sample["site"]):
        doc = lxml.html.parse(str(page)).getroot()
        for element in doc.iter("script", "link", "img", "iframe"):
            if element.tag == "link" and element.get("rel") not in ("stylesheet", "preload",
                                                                     "icon", "modulepreload"):
                continue
            url = element.get("src") or element.get("href") or ""
            assert not url.startswith(("http://", "https://", "//")) or \
                url.startswith(served_sample["url"]), (page, url)
        assert "fonts.googleapis" not in page.read_text(encoding="utf-8")


def test_every_page_announces_the_feeds_and_papers_have_open_graph(served_sample):
    site = served_sample["site"]
    for page in pages(site):
        if page.name == "404.html" or page.relative_to(site).parts[0].startswith("pagefind"):
            continue
        head = lxml.html.parse(str(page)).getroot().find("head")
        feeds = [link.get("href") for link in head.iter("link")
                 if link.get("rel") == "alternate" and link.get("type") == "application/rss+xml"]
        depth = len(page.relative_to(site).parts) - 1
        assert feeds[0] == ("../" * depth + "feed.xml" if depth else "feed.xml"), page
        # A topic's page announces its own feed too.
        topic = page.parent.parent.name == "tags" and page.parent.name != "tags"
        assert feeds[1:] == (["feed.xml"] if topic else []), page
    paper = site / "papers" / "deep-model-assembling" / "index.html"
    head = lxml.html.parse(str(paper)).getroot().find("head")
    og = {m.get("property"): m.get("content") for m in head.iter("meta") if m.get("property")}
    assert og["og:title"] == "Deep Model Assembling"
    assert og["og:type"] == "article"
    described = {m.get("name"): m.get("content") for m in head.iter("meta") if m.get("name")}
    assert described["description"].startswith("Large deep learning models have achieved")


def test_paper_pages_stay_small(served_sample):
    sizes = [p.stat().st_size for p in (served_sample["site"] / "papers").rglob("index.html")]
    assert len(sizes) == 323
    assert max(sizes) <= 30_000


def test_navigation_lists_sections_not_papers(served_sample):
    """The header: the site's name, three sections, search; no sidebar listing pages."""
    for page in ("index.html", "papers/deep-model-assembling/index.html"):
        doc = lxml.html.parse(str(served_sample["site"] / page)).getroot()
        nav = doc.find_class("pd-nav")[0]
        assert [a.text_content() for a in nav.iter("a")] == ["Digests", "Topics", "Feeds"]
        assert doc.get_element_by_id("pd-q").get("name") == "q"
        assert not doc.find_class("md-sidebar")
    paper = (served_sample["site"] / "papers/deep-model-assembling/index.html").read_text()
    # Only its related papers: the navigation does not list every paper on every page.
    assert paper.count('href="../') - paper.count('href="../../') < 20


def test_the_same_archive_builds_the_same_bytes(tmp_path, served_sample):
    """In other processes with other hash seeds (set and dict orders differ between them;
    the forked feeds and search workers share their parent's), and on another file system
    (tmpfs lists a folder in another order than ext4), every file is the same: HTML, feeds,
    search documents and index, and docs_dir."""
    import tempfile
    other_fs = Path("/dev/shm")
    base = {"1": tmp_path, "2": Path(tempfile.mkdtemp(dir=other_fs)) if other_fs.is_dir()
            and os.access(other_fs, os.W_OK) else tmp_path}
    builds = []
    for seed in ("1", "2"):
        folder = make_project(base[seed] / f"seed-{seed}", served_sample["project"] / "content")
        subprocess.run([sys.executable, "-m", "generator", "build", "--site-url",
                        served_sample["url"]], cwd=folder, check=True, capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        builds.append(folder)
    first = snapshot(served_sample["site"])
    for folder in builds:
        for part in ("site", "build/docs", "build/docs-cache/search"):
            one, other = snapshot(builds[0] / part), snapshot(folder / part)
            assert sorted(one) == sorted(other), part
            assert [p for p in one if one[p] != other[p]] == [], part
        second = snapshot(folder / "site")
        assert [p for p in first if first[p] != second.get(p)] == []
    if base["2"] != tmp_path:
        shutil.rmtree(base["2"])


def test_every_internal_link_resolves(served_sample):
    """Links in raw HTML are not checked by MkDocs: every page, every href, checked here."""
    import posixpath
    import urllib.parse
    site, url = served_sample["site"], served_sample["url"]
    broken = []
    for page in pages(site):
        if page.relative_to(site).parts[0].startswith("pagefind"):
            continue
        base = url + page.relative_to(site).parent.as_posix() + "/"
        doc = lxml.html.parse(str(page)).getroot()
        for element in doc.iter("a", "link"):
            href = element.get("href")
            if not href or href.startswith(("#", "mailto:")):
                continue
            target = urllib.parse.urljoin(base, href)
            if not target.startswith(url):
                continue
            path = posixpath.normpath(urllib.parse.urlsplit(target).path[len("/"):]) \
                if urllib.parse.urlsplit(target).path != "/" else "."
            file = site / urllib.parse.unquote(path)
            if not (file.is_file() or (file / "index.html").is_file()):
                broken.append((page.relative_to(site).as_posix(), href))
    assert broken == []


def test_a_day_of_200_papers_stays_a_light_page(tmp_path):
    """The heaviest day the list has had is about 200 papers: at most 150 KB of HTML, with the
    first 40 as cards (abstracts included) and the rest one line each."""
    day = datetime.date(2026, 4, 29)
    sample = archive_store.load(ROOT / "content").papers
    papers = tuple(dataclasses.replace(sample[i % len(sample)], key=f"p{i}",
                                       title=f"{sample[i % len(sample)].title} ({i})")
                   for i in range(200))
    project = make_project(tmp_path / "project", content=None)
    (project / "content").mkdir()
    for name in ("taxonomy.yaml", "topic-model.json"):
        shutil.copy(ROOT / "content" / name, project / "content" / name)
    archive_store.write_digests(project / "content",
                                [Digest(date=day, papers=papers).with_date(day)])
    build_project(project, "https://example.org/digest/")
    page = project / "site" / "digests" / "2026-04-29" / "index.html"
    assert page.stat().st_size <= 150_000
    doc = lxml.html.parse(str(page)).getroot()
    assert len(doc.find_class("pd-card")) == 40
    rows = [ol for ol in doc.iter("ol") if ol.get("class") == "pd-rows"]
    assert len(rows) == 1 and len(rows[0].findall("li")) == 160


@pytest.mark.parametrize("archive", ["sample", "hostile"])
def test_pages_taken_past_markdown_are_the_bytes_markdown_makes(tmp_path, monkeypatch, archive):
    """The plugin takes each page's whole HTML elements out before Python-Markdown and puts
    them back after it (most of MkDocs' time): every file equals a build that gives Markdown
    the whole page, on the sample and on titles and abstracts that try to be Markdown."""
    from generator import mkdocs_plugin
    from hostile import write_hostile_archive
    sites = []
    for lifted in (True, False):
        folder = tmp_path / str(lifted)
        if archive == "sample":
            make_project(folder)
        else:
            make_project(folder, content=None)
            write_hostile_archive(folder / "content")
            shutil.copy(ROOT / "content" / "taxonomy.yaml", folder / "content")
        if not lifted:
            monkeypatch.setattr(mkdocs_plugin, "lift_html", lambda markdown: (markdown, {}))
        build_project(folder, "http://127.0.0.1:1/")
        sites.append(snapshot(folder / "site"))
    assert sorted(sites[0]) == sorted(sites[1])
    assert [p for p in sites[0] if sites[0][p] != sites[1][p]] == []


def test_a_paper_page_is_made_without_markdown_as_markdown_makes_it(labelled, tmp_path):
    """Past the lifted HTML, a paper page is only headings: the plugin makes its HTML and its
    table of contents itself (``headings_only``), as Python-Markdown would. On the labelled
    papers (keywords, summaries, links and all)."""
    import markdown as markdown_lib

    from generator import archive as archive_store
    from generator.config import load_config
    from generator.layout import gather
    from generator.mkdocs_plugin import KNOWN_MARKDOWN, headings_only, lift_html
    from generator.pages import render_pages
    site = gather(archive_store.load(labelled["content"]), labelled["taxonomy"],
                  load_config(ROOT / "mkdocs.yml", site_url="http://127.0.0.1:1/"), related={})
    papers = {path: text for path, text in render_pages(site).items()
              if path.startswith("papers/")}
    assert len(papers) == len(site.papers) and any("pd-keywords" in t for t in papers.values())
    for path, text in papers.items():
        body = text.split("---\n", 2)[2]
        lifted_page, lifted = lift_html(body)
        known = headings_only(lifted_page, lifted)
        assert known is not None, path
        md = markdown_lib.Markdown(extensions=KNOWN_MARKDOWN[0],
                                   extension_configs=KNOWN_MARKDOWN[1])
        assert known[0] == md.convert(lifted_page), path
        assert known[1] == md.toc_tokens, path
    # The project's own config is one whose Markdown settings the plugin knows.
    from mkdocs.config import load_config as mkdocs_config

    from generator.mkdocs_plugin import Plugin
    plugin = Plugin()
    plugin.on_config(mkdocs_config(config_file=str(ROOT / "mkdocs.yml"), docs_dir=str(tmp_path)))
    assert plugin._known_markdown
    # A block Markdown would read (a paragraph, a first-level heading, a heading of more
    # than words) is not known.
    key = next(iter(lift_html(body)[1]))
    for other in ("Some *text*", "# Title", "## Heading {#id}", "## A & B"):
        assert headings_only(f"{key}\n\n{other}", {key: "<p>x</p>"}) is None, other


def test_only_whole_elements_are_taken_past_markdown():
    from generator.mkdocs_plugin import lift_html, put_back
    page = ("# Title\n\n<div class=\"a\"><div>x</div></div>\n<p>y</p>\n\n"
            "<p>one</p>\n*two* is Markdown\n\n<div>open\n\nclosed</div>\n\n"
            "<p>z</p> trailing\n\n    <p>code</p>\n\n<pre>kept</pre>")
    markdown, lifted = lift_html(page)
    assert markdown == page and lifted == {}  # preformatted text: the page is left whole
    markdown, lifted = lift_html(page.removesuffix("\n\n<pre>kept</pre>"))
    assert list(lifted.values()) == ["<div class=\"a\"><div>x</div></div>\n<p>y</p>"]
    key = next(iter(lifted))
    assert markdown.startswith(f"# Title\n\n{key}\n\n<p>one</p>\n*two*")
    assert put_back(f"<h1>Title</h1>\n<p>{key}</p>\n<p>{key}x</p>", lifted) == \
        f"<h1>Title</h1>\n{lifted[key]}\n<p>{key}x</p>"
