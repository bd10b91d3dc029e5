"""Feeds: well-formed, valid Atom, stable GUIDs, deterministic, and hostile text stays text."""

from __future__ import annotations

import dataclasses
import datetime
import html
import json
import shutil

import feedparser
import lxml.etree as ET
import pytest
import rnc2rng

from conftest import DATA, ROOT
from generator.build import load_site
from generator.commands import ingest_files
from generator.config import load_config
from generator.errors import BuildError
from generator.feeds import render_feeds
from generator.ingest.yaml_records import dump_digest
from generator.layout import summary_of
from generator.records import Digest
from generator.tagging import load_taxonomy
from hostile import hostile_papers

SITE_URL = "https://example.org/digest/"
TOPICS = load_taxonomy(ROOT / "content" / "taxonomy.yaml").tags


@pytest.fixture(scope="module")
def atom_schema() -> ET.RelaxNG:
    rng = rnc2rng.dumps(rnc2rng.loads((DATA / "atom.rnc").read_text(encoding="utf-8")))
    return ET.RelaxNG(ET.fromstring(rng.encode("utf-8")))


@pytest.fixture(scope="module")
def sample_site():
    return load_site(ROOT / "content", load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))


@pytest.fixture(scope="module")
def sample_feeds(sample_site) -> dict[str, bytes]:
    return render_feeds(sample_site)


def test_every_feed_parses_without_error(sample_feeds):
    feeds = {p: d for p, d in sample_feeds.items() if p.endswith(".xml")}
    # RSS and Atom: the newest papers, each topic, the daily digest, the weeks and the months.
    assert len(feeds) == 2 * (1 + len(TOPICS) + 3)
    for path, data in feeds.items():
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))


def test_a_json_feed_beside_every_rss_feed_holds_the_same_items(sample_feeds):
    """JSON Feed 1.1, valid against a schema written from its specification."""
    import jsonschema
    schema = json.loads((DATA / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    rss = [p for p in sample_feeds if p.endswith("feed.xml")]
    assert rss
    for path in rss:
        data = json.loads(sample_feeds[path.replace("feed.xml", "feed.json")])
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], path
        assert data["feed_url"] == SITE_URL + path.replace("feed.xml", "feed.json")
        parsed = feedparser.parse(sample_feeds[path])
        assert [i["id"] for i in data["items"]] == [e.id for e in parsed.entries], path
        assert [i["title"] for i in data["items"]] == [_shown(e.title_detail)
                                                       for e in parsed.entries], path
        assert parsed.feed.title


def test_atom_feeds_validate_against_the_rfc_4287_schema(sample_feeds, atom_schema):
    for path, data in sample_feeds.items():
        if path.endswith("atom.xml"):
            assert atom_schema.validate(ET.fromstring(data)), (path, atom_schema.error_log)


def test_main_feed_holds_the_newest_papers_with_permalinks(sample_feeds):
    rss = feedparser.parse(sample_feeds["feed.xml"])
    assert len(rss.entries) == 50
    first = rss.entries[0]
    assert first.title == ("Efficient LLM Training and Serving with Heterogeneous Context "
                           "Sharding among Attention Heads")
    assert first.id == first.link and first.link.startswith(SITE_URL + "papers/")
    assert first.published_parsed[:3] == (2026, 4, 29)
    assert {t.term for t in first.tags} >= {"Efficient inference"}
    assert rss.feed.link == SITE_URL
    atom = feedparser.parse(sample_feeds["atom.xml"])
    assert [e.id for e in atom.entries] == [e.id for e in rss.entries]
    assert atom.feed.updated_parsed[:3] == (2026, 4, 29)


def test_tag_feeds_hold_only_their_topic(sample_feeds):
    rss = feedparser.parse(sample_feeds["tags/diffusion-models/feed.xml"])
    assert rss.entries
    for entry in rss.entries:
        assert "diffusion-models" in {t.get("scheme", "").rstrip("/").rsplit("/", 1)[-1]
                                      for t in entry.tags} or \
            any(t.term == "Diffusion models" for t in entry.tags)


def test_topic_feeds_carry_each_paper_in_one_line_and_the_main_feed_its_abstract(
        sample_site, sample_feeds):
    site = sample_site
    papers = {site.paper_url(p): p for p in site.papers}
    main = {i["id"]: i["content_html"]
            for i in json.loads(sample_feeds["feed.json"])["items"]}
    topic = json.loads(sample_feeds["tags/diffusion-models/feed.json"])["items"]
    assert len(topic) == min(50, len(site.tag_papers["diffusion-models"]))
    for item in topic:
        paper = papers[item["id"]]
        content = item["content_html"]
        assert html.escape(summary_of(paper), quote=False) in content
        assert html.escape(paper.abstract, quote=False) not in content
        assert f'<a href="{item["id"]}">Abstract, related papers' in content
    shared = [i for i in topic if i["id"] in main]
    assert shared
    for item in shared:
        assert html.escape(papers[item["id"]].abstract, quote=False) in main[item["id"]]


def test_digest_feed_has_one_item_per_day(sample_feeds):
    parsed = feedparser.parse(sample_feeds["digests/feed.xml"])
    assert [e.title for e in parsed.entries] == [
        "Trending papers, Wednesday 29 April 2026", "Trending papers, Wednesday 11 March 2026",
        "Trending papers, Monday 2 March 2026"]
    content = parsed.entries[0].content[0].value
    assert content.count("<li>") == 78
    assert content.startswith("<ol>")


def test_opml_lists_every_feed(sample_feeds):
    root = ET.fromstring(sample_feeds["feeds.opml"])
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert len(urls) == 4 + len(TOPICS)
    assert SITE_URL + "tags/video/feed.xml" in urls


def test_building_twice_gives_identical_bytes(sample_feeds):
    site = load_site(ROOT / "content", load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    assert render_feeds(site) == sample_feeds


def test_guids_and_links_stay_when_a_digest_is_added(tmp_path, sample_feeds):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    ingest_files([DATA / "ingest" / "layout_a_no_date.txt"], content=content,
                 date=datetime.date(2026, 5, 1))
    site = load_site(content, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    after = feedparser.parse(render_feeds(site)["feed.xml"])
    before = feedparser.parse(sample_feeds["feed.xml"])
    old = {e.title: (e.id, e.link) for e in before.entries}
    new = {e.title: (e.id, e.link) for e in after.entries}
    assert len(set(old) & set(new)) == 48
    for title in set(old) & set(new):
        assert old[title] == new[title]
    # The same in every feed, Atom ids included: topic feeds and the daily digest feed.
    renders = {"before": sample_feeds, "after": render_feeds(site)}
    for path in sample_feeds:
        if not path.endswith(".xml"):
            continue
        ids = {}
        for when, feeds in renders.items():
            parsed = feedparser.parse(feeds[path])
            ids[when] = {e.title: (e.id, e.link) for e in parsed.entries}
        kept = set(ids["before"]) & set(ids["after"])
        assert kept or not ids["before"], path
        assert all(ids["before"][t] == ids["after"][t] for t in kept), path


def _shown(detail) -> str:
    """What a feed reader shows of a parsed field: HTML is rendered, so it must hold no
    markup at all, only text."""
    if detail.type == "text/html":
        assert "<" not in detail.value, detail.value
        return html.unescape(detail.value)
    return detail.value


def test_hostile_text_stays_text_in_every_field_of_every_feed(tmp_path):
    """Titles, one-line summaries and topic names read back, through feedparser, as exactly
    the archive's text in RSS, Atom and JSON Feed: no field is read as HTML."""
    content = tmp_path / "content"
    papers = [dataclasses.replace(p, summary=f"{p.title} <img src=https://evil.example/t.gif "
                                             "onerror=alert(1)> &amp; &lt;b&gt;")
              for p in hostile_papers()]
    (content / "digests").mkdir(parents=True)
    day = datetime.date(2026, 3, 11)
    (content / "digests" / f"{day}.yaml").write_text(
        dump_digest(Digest(day, tuple(papers), source="yaml").with_date(day)), encoding="utf-8")
    site = load_site(content, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    by_url = {site.paper_url(p): p for p in site.papers}
    feeds = render_feeds(site)
    checked = 0
    for path in [p for p in feeds if p.endswith(("feed.xml", "atom.xml"))]:
        parsed = feedparser.parse(feeds[path])
        assert not parsed.bozo, path
        for entry in parsed.entries:
            paper = by_url.get(entry.id)
            if paper is None:  # an item of a day, a week or a month
                assert _shown(entry.title_detail).startswith("Trending papers, "), path
                assert "<script" not in entry.content[0].value
                continue
            assert _shown(entry.title_detail) == paper.title, path
            assert _shown(entry.summary_detail) == summary_of(paper), path
            labels = [t.get("label") or t.get("term") for t in entry.get("tags", [])]
            names = [site.tags_by_id[t].name for t in paper.tags]
            assert [html.unescape(x) for x in labels if x not in paper.tags] == names \
                or labels == list(paper.tags), path
            assert "<img" not in entry.content[0].value and "<a href=\"javascript" \
                not in entry.content[0].value
            checked += 1
    for path in [p for p in feeds if p.endswith("feed.json")]:
        for item in json.loads(feeds[path])["items"]:
            if item["id"] in by_url:
                assert item["title"] == by_url[item["id"]].title
                assert item["summary"] == summary_of(by_url[item["id"]])
    assert checked >= 2 * len(papers)


def test_rss_descriptions_were_read_as_html_before(tmp_path):
    """The fault this guards against, shown with feedgen itself: a summary written into RSS
    as plain XML text comes out of feedparser as an image tag."""
    from feedgen.feed import FeedGenerator
    out = FeedGenerator()
    out.id("https://example.org/")
    out.title("t")
    out.link(href="https://example.org/", rel="alternate")
    out.description("d")
    entry = out.add_entry()
    entry.id("https://example.org/1")
    entry.title("t")
    entry.summary("<img src=https://evil.example/t.gif onerror=alert(1)>")
    parsed = feedparser.parse(out.rss_str())
    assert "<img" in parsed.entries[0].summary


def test_feeds_need_a_site_url(tmp_path):
    config = tmp_path / "mkdocs.yml"
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config.write_text(text.replace("site_url: https://example.github.io/paper-digest/\n", ""),
                      encoding="utf-8")
    (tmp_path / "templates").symlink_to(ROOT / "templates")
    site = load_site(DATA / "small", load_config(config))
    with pytest.raises(BuildError) as error:
        render_feeds(site)
    assert str(error.value) == (
        f"{config}: site_url is not set, and feeds need absolute links - add 'site_url: "
        "https://<you>.github.io/<repo>/' to it, or pass --site-url")


def test_a_feed_made_from_the_same_items_is_not_made_again(sample_site, sample_feeds):
    prints: dict[str, str] = {}
    assert render_feeds(sample_site, None, prints) == sample_feeds
    feed_files = {p for p in sample_feeds if p.endswith((".xml", ".json"))}
    assert set(prints) == feed_files
    # Each feed's three files share one print; feeds differ in theirs.
    topic = [f"tags/{TOPICS[0].id}/{name}" for name in ("feed.xml", "atom.xml", "feed.json")]
    assert len({prints[p] for p in topic}) == 1
    assert len(set(prints.values())) == len(feed_files) // 3
    # Known with the same prints: only the OPML list is made. One feed's print differs (its
    # items changed since): that feed alone is made, as a full render makes it.
    assert set(render_feeds(sample_site, prints, {})) == {"feeds.opml"}
    known = {**prints, topic[0]: "made from other items"}
    again = render_feeds(sample_site, known, {})
    assert set(again) == {"feeds.opml", *topic}
    assert all(again[p] == sample_feeds[p] for p in topic)
    # The print covers the site's address: another address makes every feed again.
    elsewhere = dataclasses.replace(sample_site, config=dataclasses.replace(
        sample_site.config, site_url="https://example.net/"))
    moved: dict[str, str] = {}
    render_feeds(elsewhere, None, moved)
    assert all(moved[p] != prints[p] for p in feed_files)


def test_the_dump_keeps_the_compressed_months_it_had(sample_site):
    import gzip

    from generator.opendata import _members, dump, record
    made = dump(sample_site)
    lines = gzip.decompress(made).decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads(json.dumps(record(sample_site, p))) for p in sample_site.papers]
    months = {p.last_seen.strftime("%Y-%m") for p in sample_site.papers}
    members = _members(made)
    assert len(members) == len(months) > 1
    # From its own dump, from half of it, from garbage: the same bytes.
    assert dump(sample_site, made) == made
    assert dump(sample_site, made[: len(made) // 2]) == made
    assert dump(sample_site, b"not gzip at all") == made
    # A month whose papers changed is compressed again; the others are kept as they were.
    newest = sample_site.papers[0]
    changed = dataclasses.replace(newest, title=newest.title + " (revised)")
    site = dataclasses.replace(sample_site, papers=(changed, *sample_site.papers[1:]))
    kept = set(_members(dump(site, made)).values()) & set(members.values())
    assert len(kept) == len(months) - 1
    assert dump(site, made) == dump(site)
