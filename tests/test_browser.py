"""The built site in a real browser (Playwright driving Debian's Chromium), against the sample
archive and against a hostile one. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import shutil

import feedparser
import lxml.etree
import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import ROOT, built_and_served, make_project
from hostile import write_hostile_archive

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page that records console errors, page errors and failed requests."""

    def __init__(self, browser, viewport=DESKTOP):
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # A request the browser cancelled because the page moved on (a click during loading)
        # is not a broken link.
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}")
                     if r.failure != "net::ERR_ABORTED" else None)

    def close(self):
        self.context.close()


@pytest.fixture
def watched(browser):
    page = Watched(browser)
    yield page
    page.close()
    assert page.problems == []


def test_home_shows_the_latest_digest(served_sample, watched):
    page = watched.page
    page.goto(served_sample["url"])
    heading = page.locator("h2", has_text="Latest digest")
    assert heading.inner_text() == "Latest digest: Wednesday 29 April 2026"
    first = page.locator("article h3").first
    assert first.inner_text().startswith("1. Efficient LLM Training and Serving")


def test_a_digest_links_to_a_paper_page(served_sample, watched):
    page = watched.page
    page.goto(served_sample["url"] + "digests/2026-03-11/")
    link = page.locator("article h2 a").first
    title = link.inner_text()
    link.click()
    page.wait_for_url("**/papers/**")
    expect(page.locator("article h1")).to_have_text(title)
    expect(page.locator("article", has_text="In the digest of")).to_have_count(1)


def test_a_tag_chip_leads_to_the_tag_page_and_its_feed(served_sample, watched):
    page = watched.page
    page.goto(served_sample["url"] + "papers/deep-model-assembling/")
    chip = page.locator("a.md-tag").first
    name = chip.inner_text()
    chip.click()
    page.wait_for_url("**/tags/**")
    expect(page.locator("article h1")).to_have_text(name)
    feed_link = page.locator("article a", has_text="RSS").first
    response = page.request.get(feed_link.evaluate("a => a.href"))
    assert response.ok
    parsed = feedparser.parse(response.body())
    assert not parsed.bozo and parsed.feed.title.endswith(name)
    assert "Deep Model Assembling" in [e.title for e in parsed.entries]


def test_search_finds_a_paper_by_a_word_of_its_title(served_sample, watched):
    page = watched.page
    page.goto(served_sample["url"] + "search/")
    box = page.locator("#pagefind-search input")
    box.fill("Platypus")
    result = page.locator(".pagefind-ui__result-link").first
    result.wait_for(timeout=15_000)
    assert result.inner_text().startswith("What does a platypus look like?")
    # Results show the paper's date and topics.
    details = page.locator(".pagefind-ui__result").first.inner_text()
    assert "2026-03-11" in details and "Few-shot and zero-shot learning" in details
    result.click()
    page.wait_for_url("**/papers/**")
    expect(page.locator("article h1")).to_have_text(
        "What does a platypus look like? Generating customized prompts for zero-shot image"
        " classification")


def test_search_merges_earlier_months_and_the_newest_one(served_sample, watched):
    """Papers first seen before April are in the primary bundle, April's in the merged one;
    one search box finds both."""
    page = watched.page
    page.goto(served_sample["url"] + "search/")
    box = page.locator("#pagefind-search input")
    for word, title, date in (
            ("Sharding", "Efficient LLM Training and Serving with Heterogeneous Context Sharding",
             "2026-04-29"),
            ("platypus", "What does a platypus look like?", "2026-03-11")):
        box.fill(word)
        result = page.locator(".pagefind-ui__result").first
        expect(result.locator(".pagefind-ui__result-link")).to_contain_text(title,
                                                                            timeout=15_000)
        assert date in result.inner_text()
    assert [url for url in watched.requests if "/pagefind-recent/" in url]


def test_the_archive_leads_to_a_past_digest(served_sample, watched):
    page = watched.page
    page.goto(served_sample["url"])
    page.locator(".md-tabs__link", has_text="Digests").click()
    page.wait_for_url("**/digests/")
    expect(page.locator("article h2")).to_have_text(["April 2026", "March 2026"])
    page.locator("article a", has_text="Monday 2 March 2026").click()
    page.wait_for_url("**/digests/2026-03-02/")
    expect(page.locator("article h1")).to_have_text("Trending papers, Monday 2 March 2026")


def test_the_light_dark_toggle_works(served_sample, watched):
    page = watched.page
    page.goto(served_sample["url"])
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    assert page.evaluate(scheme) == "slate"
    page.reload()
    assert page.evaluate(scheme) == "slate"  # the choice is remembered


SHOTS = {"home": "", "digest": "digests/2026-03-11/",
         "paper": "papers/deep-model-assembling/", "tag": "tags/diffusion-models/",
         "topics": "tags/", "feeds": "feeds/", "archive": "digests/", "search": "search/"}


@pytest.mark.parametrize("viewport_name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_no_page_scrolls_sideways_or_logs_an_error_and_screenshots(served_sample, browser,
                                                                     viewport_name, viewport):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watched = Watched(browser, viewport)
    try:
        for name, path in SHOTS.items():
            watched.page.goto(served_sample["url"] + path)
            watched.page.wait_for_load_state("networkidle")
            width = watched.page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (name, width)
            if name in ("home", "digest", "paper", "tag"):
                watched.page.screenshot(path=str(ARTIFACTS / f"{name}-{viewport_name}.png"))
    finally:
        watched.close()
    assert watched.problems == []


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    folder = make_project(tmp_path_factory.mktemp("hostile") / "project", content=None)
    papers = write_hostile_archive(folder / "content")
    shutil.copy(ROOT / "content" / "taxonomy.yaml", folder / "content" / "taxonomy.yaml")
    with built_and_served(folder) as site:
        yield {**site, "papers": papers}


def test_hostile_text_shows_literally_and_runs_nothing(hostile_site, browser):
    watched = Watched(browser)
    site = hostile_site["result"].site
    try:
        pages = ["", "digests/2026-03-11/", "tags/", "feeds/", "digests/"]
        pages += [site.paper_page(p).removesuffix(".md") + "/" for p in hostile_site["papers"]]
        pages += [f"tags/{t.id}/" for t in site.tags if site.tag_papers[t.id]]
        for path in pages:
            watched.page.goto(hostile_site["url"] + path)
            watched.page.wait_for_load_state("networkidle")
            # Would-be handlers (onmouseover, onclick on non-links) get their events.
            watched.page.evaluate("""() => document.querySelectorAll('article *').forEach(e => {
                e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
                if (!e.closest('a')) e.dispatchEvent(new MouseEvent('click', {bubbles: true}));
            })""")
            assert watched.page.evaluate("typeof window.__pwned") == "undefined", path
            assert watched.page.locator("article script, article iframe, article img").count() \
                == 0, path
        for paper in hostile_site["papers"]:
            watched.page.goto(hostile_site["url"] + site.paper_page(paper).removesuffix(".md"))
            assert watched.page.locator("article h1").inner_text() == paper.title
            assert watched.page.title().startswith(paper.title[:50])
            body = watched.page.locator("article").inner_text()
            assert paper.abstract in " ".join(body.split())
            hrefs = watched.page.locator("article a").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))")
            assert not any(h and h.lower().startswith("javascript") for h in hrefs)
    finally:
        watched.close()
    assert watched.problems == []


def test_hostile_text_stays_text_in_search_results(hostile_site, browser):
    watched = Watched(browser)
    try:
        watched.page.goto(hostile_site["url"] + "search/")
        watched.page.locator("#pagefind-search input").fill("window")
        links = watched.page.locator(".pagefind-ui__result-link")
        links.first.wait_for(timeout=15_000)
        watched.page.wait_for_load_state("networkidle")
        titles = links.all_inner_texts()
        assert titles and set(titles) <= {p.title for p in hostile_site["papers"]}
        assert watched.page.locator("#pagefind-search script, #pagefind-search img, "
                                    "#pagefind-search iframe, #pagefind-search svg").count() == 0
        assert watched.page.evaluate("typeof window.__pwned") == "undefined"
    finally:
        watched.close()
    assert watched.problems == []


def test_hostile_feeds_stay_well_formed(hostile_site):
    feeds = list(hostile_site["site"].rglob("*.xml"))
    assert len(feeds) > 4
    for feed in feeds:
        if feed.name.startswith("sitemap"):
            continue
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
    # The titles as XML text (feedparser would sanitise them as HTML on the way).
    for name, item in (("feed.xml", "item/title"), ("atom.xml", "{*}entry/{*}title")):
        root = lxml.etree.parse(str(hostile_site["site"] / name)).getroot()
        titles = [t.text for t in root.iterfind(f".//{item}")]
        assert sorted(titles) == sorted(p.title for p in hostile_site["papers"])
