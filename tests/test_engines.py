"""The second engine: Zensical (pinned in pyproject.toml) builds the same docs_dir into a site
with every page, our header and search, valid feeds and a working search."""

from __future__ import annotations

import feedparser
import lxml.html
import pytest
from playwright.sync_api import sync_playwright

from conftest import built_and_served, make_project
from generator import archive as archive_store
from test_browser import ARGS, CHROMIUM


@pytest.fixture(scope="module")
def zensical_sample(tmp_path_factory):
    with built_and_served(make_project(tmp_path_factory.mktemp("zensical") / "project"),
                          engine="zensical") as site:
        yield site


def test_zensical_builds_every_page_with_our_header(zensical_sample):
    site, result = zensical_sample["site"], zensical_sample["result"]
    assert not result.incremental
    # Zensical's own ("modern") stylesheets, which only it ships.
    styles = [link.get("href") for link in lxml.html.parse(str(site / "index.html")).getroot()
              .iter("link") if link.get("rel") == "stylesheet"]
    assert styles[0].removeprefix("./").startswith("assets/stylesheets/modern/main.")
    archive = archive_store.load(zensical_sample["project"] / "content")
    for paper in archive.papers:
        page = site / result.site.paper_page(paper).removesuffix(".md") / "index.html"
        doc = lxml.html.parse(str(page)).getroot()
        assert doc.findtext(".//h1").strip() == paper.title
        assert doc.get_element_by_id("pd-q").get("name") == "q"
    for kind in ("digests/2026-03-11", "weeks/2026-W11", "months/2026-03", "tags/video",
                 "tags", "feeds", "search"):
        assert (site / kind / "index.html").is_file(), kind


def test_zensical_sites_have_valid_feeds_and_our_sitemap(zensical_sample):
    site = zensical_sample["site"]
    for feed in ("feed.xml", "atom.xml", "tags/video/feed.xml", "digests/feed.xml"):
        parsed = feedparser.parse((site / feed).read_bytes())
        assert not parsed.bozo and parsed.entries, feed
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert zensical_sample["url"] + "papers/deep-model-assembling/" in sitemap


def test_search_works_on_a_zensical_site(zensical_sample):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(zensical_sample["url"] + "search/?q=platypus")
            result = page.locator("#pd-results li.pd-result").first
            result.wait_for(timeout=15_000)
            assert result.inner_text().startswith("What does a platypus look like?")
        finally:
            browser.close()
