"""Site -> {path in docs_dir: bytes}: RSS 2.0 and Atom feeds written with feedgen, JSON Feed
1.1 beside each, and OPML.

Feeds: the newest papers, each topic, each custom feed of the config (a query), and one item
a day, a week and a month (the digests). Pure: only processes data. Deterministic: every date
comes from the archive, never the clock; the generator element carries no version; entries
are appended in an explicit order (newest first). An item's id (GUID) is its page's permanent
address: a paper's or a digest day's (weeks and months likewise), the same in every feed.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from feedgen.feed import FeedGenerator

from generator import layout
from generator.config import CustomFeed
from generator.errors import BuildError, ConfigError, raise_all
from generator.layout import Period, Site, summary_of
from generator.markup import attribute_url
from generator.records import Paper

# Characters XML 1.0 cannot carry.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _rss_text(text: str) -> str:
    """Text for an RSS element that readers render as HTML (title, description, category):
    HTML that shows exactly the text, so ``<img onerror=...>`` in a summary stays words."""
    return html.escape(xml_text(text), quote=False)


def _moment(date: datetime.date) -> datetime.datetime:
    return datetime.datetime(date.year, date.month, date.day, tzinfo=datetime.timezone.utc)


def _text(text: object) -> str:
    """Text as HTML that shows exactly it, for a feed's content."""
    return html.escape(xml_text(str(text)), quote=False)


def paper_html(site: Site, paper: Paper, abstract: bool = True) -> str:
    """A paper as feed content: authors, topics, links and abstract (or, without it, the
    paper in one line and a link to its page), each a paragraph of escaped text (written
    directly: Markdown took two thirds of the feeds' time)."""
    parts = []
    if paper.authors:
        parts.append(f"<p><em>{_text(layout.authors_short(paper.authors, 8))}</em></p>")
    if paper.tags:
        names = ", ".join(_text(site.tags_by_id[t].name) for t in paper.tags)
        parts.append(f"<p><em>Topics:</em> {names}</p>")
    links = " · ".join(f'<a href="{attribute_url(url)}">{_text(label)}</a>'
                       for label, url in layout.paper_links(paper, search=False))
    if links:
        parts.append(f"<p>{links}</p>")
    if abstract:
        parts.append(f"<p>{_text(paper.abstract)}</p>")
    else:
        parts.append(f"<p>{_text(summary_of(paper))}</p>\n"
                     f'<p><a href="{attribute_url(site.paper_url(paper))}">Abstract, related '
                     "papers and every day it was listed</a></p>")
    return "\n".join(parts)


@dataclass(frozen=True)
class Item:
    """One entry of a feed, in every format."""

    id: str
    title: str
    url: str
    published: datetime.date
    updated: datetime.date
    summary: str
    content: str
    authors: tuple[str, ...] = ()
    #: (term, label, scheme URL) of each category.
    categories: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Feed:
    title: str
    subtitle: str
    #: The page it follows, and its three files (RSS, Atom, JSON Feed), in docs_dir.
    page: str
    paths: tuple[str, str, str]
    items: tuple[Item, ...]
    updated: datetime.date | None


def _xml(site: Site, feed: Feed, path: str, atom: bool) -> bytes:
    """RSS 2.0 or Atom. Atom says which elements are text (title, summary, category labels
    are); RSS readers read title, description and category as HTML, so there each text is
    written as HTML that shows exactly that text (escaped once more than XML needs)."""
    text = xml_text if atom else _rss_text
    config = site.config
    out = FeedGenerator()
    out.id(site.absolute(feed.page))
    out.title(text(feed.title))
    out.subtitle(text(feed.subtitle) or text(feed.title))
    out.author({"name": xml_text(config.site_name)})
    # rel="self" first: feedgen uses the last link it is given as the RSS <link>.
    out.link(href=f"{config.site_url}{path}", rel="self")
    out.link(href=site.absolute(feed.page), rel="alternate")
    out.language("en")
    out.generator("paper-digest")
    moment = _moment(feed.updated or datetime.date(1970, 1, 1))
    out.updated(moment)
    out.lastBuildDate(moment)
    for item in feed.items:
        entry = out.add_entry(order="append")
        entry.id(item.id)
        entry.guid(item.id, permalink=True)
        entry.title(text(item.title))
        entry.link(href=item.url)
        entry.published(_moment(item.published))
        entry.updated(_moment(item.updated))
        entry.pubDate(_moment(item.updated))
        entry.summary(text(item.summary))
        entry.content(item.content, type="html")
        for term, label, scheme in item.categories:
            entry.category(term=term, label=text(label), scheme=scheme)
        for author in item.authors:
            entry.author({"name": xml_text(author)})
    return out.atom_str(pretty=True) if atom else out.rss_str(pretty=True)


def _json(site: Site, feed: Feed, path: str) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    def stamp(date: datetime.date) -> str:
        return _moment(date).isoformat()

    data = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": site.absolute(feed.page),
        "feed_url": f"{site.config.site_url}{path}",
        "description": feed.subtitle or feed.title,
        "language": "en",
        "authors": [{"name": site.config.site_name}],
        "items": [{
            "id": item.id,
            "url": item.url,
            "title": item.title,
            "content_html": item.content,
            "summary": item.summary,
            "date_published": stamp(item.published),
            "date_modified": stamp(item.updated),
            **({"authors": [{"name": a} for a in item.authors]} if item.authors else {}),
            **({"tags": [label for _, label, _ in item.categories]} if item.categories else {}),
        } for item in feed.items],
    }
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write(site: Site, feed: Feed, out: dict[str, bytes]) -> None:
    rss, atom, json_feed = feed.paths
    out[rss] = _xml(site, feed, rss, atom=False)
    out[atom] = _xml(site, feed, atom, atom=True)
    out[json_feed] = _json(site, feed, json_feed)


def _inputs(site: Site) -> hashlib._Hash:
    """What a feed's files depend on besides the feed: the site's name and address, this
    package's code and feedgen's version."""
    from importlib.metadata import PackageNotFoundError, version

    from generator.files import digest_code
    try:
        feedgen = version("feedgen")
    except PackageNotFoundError:
        feedgen = "-"
    digest = hashlib.sha256(repr(("feeds", site.config.site_url, site.config.site_name,
                                  feedgen)).encode("utf-8", "surrogatepass"))
    digest_code(digest)
    return digest


def paper_items(site: Site, papers: list[Paper], contents: dict[tuple[str, bool], str],
                abstract: bool = True) -> tuple[Item, ...]:
    items = []
    for paper in papers[: site.config.feed_items]:
        # A paper is in several feeds: each kind of its content is made once.
        made = contents.get((paper.key, abstract))
        if made is None:
            made = contents[paper.key, abstract] = paper_html(site, paper, abstract)
        url = site.paper_url(paper)
        items.append(Item(
            id=url, title=paper.title, url=url, published=paper.first_seen,
            updated=paper.last_seen, summary=summary_of(paper), content=made,
            authors=paper.authors,
            categories=tuple((t, site.tags_by_id[t].name,
                              site.absolute(layout.tag_page(t))) for t in paper.tags)))
    return tuple(items)


def papers_feed(site: Site, papers: list[Paper], *, title: str, subtitle: str, page: str,
                paths: tuple[str, str, str], contents: dict[tuple[str, bool], str],
                abstract: bool = True) -> Feed:
    """The newest papers of ``papers``; with their abstracts unless ``abstract`` is false
    (``contents``: what is made of each paper, by its key and kind, for the next feeds)."""
    items = paper_items(site, papers, contents, abstract)
    updated = max((p.last_seen for p in papers[: site.config.feed_items]),
                  default=site.last_updated)
    return Feed(title=title, subtitle=subtitle, page=page, paths=paths, items=items,
                updated=updated)


def _list_html(site: Site, papers: tuple[Paper, ...]) -> str:
    """Papers as a ranked list: title (a link), topics, one-line summary."""
    lines = []
    for paper in papers:
        tags = ", ".join(_text(site.tags_by_id[t].name) for t in paper.tags)
        tags = f" <em>{tags}</em>" if tags else ""
        lines.append(f'<li><a href="{attribute_url(site.paper_url(paper))}">'
                     f"{_text(paper.title)}</a>{tags}<br />\n{_text(summary_of(paper))}</li>")
    return "<ol>\n" + "\n".join(lines) + "\n</ol>"


def digest_feed(site: Site) -> Feed:
    """One item a day: the day's papers in rank order."""
    items = []
    for digest in site.digests[: site.config.digest_feed_items]:
        url = site.absolute(layout.digest_page(digest.date))
        items.append(Item(id=url, title=f"Trending papers, {layout.long_date(digest.date)}",
                          url=url, published=digest.date, updated=digest.date,
                          summary=f"{len(digest.papers)} papers",
                          content=_list_html(site, digest.papers)))
    return Feed(title=f"{site.config.site_name}: daily digest",
                subtitle="One item a day: that day's trending papers, in rank order.",
                page=layout.ARCHIVE, paths=layout.feeds("digests"), items=tuple(items),
                updated=site.last_updated)


def period_feed(site: Site, kind: str) -> Feed:
    """One item a week or a month: its papers ranked (``layout.ranked``). The newest period's
    item grows through the period; its id stays."""
    items = []
    for period in layout.periods(site, kind)[: site.config.digest_feed_items]:
        items.append(_period_item(site, period))
    return Feed(title=f"{site.config.site_name}: the {kind}'s papers",
                subtitle=f"One item a {kind}: its trending papers, ranked by upvotes.",
                page=layout.WEEK_INDEX if kind == "week" else layout.MONTH_INDEX,
                paths=layout.feeds(f"{kind}s"), items=tuple(items), updated=site.last_updated)


def _period_item(site: Site, period: Period) -> Item:
    url = site.absolute(period.page)
    return Item(id=url, title=f"Trending papers, {period.label}", url=url,
                published=min(period.days), updated=max(period.days),
                summary=f"{len(period.papers)} papers",
                content=_list_html(site, period.papers[: site.config.feed_items]))


def matches(feed: CustomFeed, paper: Paper) -> bool:
    """Whether a paper belongs in a custom feed. Pure."""
    if feed.topics and not set(feed.topics) & set(paper.tags):
        return False
    if feed.min_upvotes and (paper.upvotes or 0) < feed.min_upvotes:
        return False
    if feed.has_code and not (paper.github_repo or any(
            label == "Code" for label, _ in layout.paper_links(paper))):
        return False
    if feed.words:
        text = _words(f"{paper.title} {paper.abstract}")
        return all(_words(word) in text for word in feed.words)
    return True


def _words(text: str) -> str:
    """Text as its lowercase words between spaces, so that " video " finds the word."""
    return f" {' '.join(_WORD.findall(text.lower()))} "


_WORD = re.compile(r"[^\W_]+")


def check_custom_feeds(site: Site) -> None:
    """Every topic a custom feed names is a topic of the site: else the config's line."""
    errors = [ConfigError(f"extra.digest.feeds, feed '{feed.id}': no topic '{topic}'",
                          path=site.config.config_file, line=feed.line,
                          fix="use a topic id of the taxonomy (see 'digest tags')")
              for feed in site.config.custom_feeds for topic in feed.topics
              if topic not in site.tags_by_id]
    raise_all(errors)


def opml(site: Site) -> bytes:
    """Every feed in one OPML file, for a one-click import into a feed reader."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_text(f"{site.config.site_name}: feeds")
    if site.last_updated:
        ET.SubElement(head, "dateModified").text = _moment(site.last_updated).strftime(
            "%a, %d %b %Y %H:%M:%S +0000")
    body = ET.SubElement(root, "body")

    def outline(parent, text, rss, page):
        ET.SubElement(parent, "outline", type="rss", text=xml_text(text), title=xml_text(text),
                      xmlUrl=f"{site.config.site_url}{rss}", htmlUrl=site.absolute(page))

    name = site.config.site_name
    outline(body, f"{name}: newest papers", layout.RSS, layout.HOME)
    outline(body, f"{name}: daily digest", layout.DIGEST_RSS, layout.ARCHIVE)
    outline(body, f"{name}: the week's papers", layout.feeds("weeks")[0], layout.WEEK_INDEX)
    outline(body, f"{name}: the month's papers", layout.feeds("months")[0], layout.MONTH_INDEX)
    if site.config.custom_feeds:
        own = ET.SubElement(body, "outline", text="Queries", title="Queries")
        for feed in site.config.custom_feeds:
            outline(own, f"{name}: {feed.title}", layout.custom_feeds(feed.id)[0],
                    layout.FEEDS_PAGE)
    topics = ET.SubElement(body, "outline", text="Topics", title="Topics")
    for tag in site.tags:
        outline(topics, f"{name}: {tag.name}", layout.tag_feeds(tag.id)[0],
                layout.tag_page(tag.id))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") \
        + b"\n"


def render_feeds(site: Site, known: dict[str, str] | None = None,
                 prints: dict[str, str] | None = None) -> dict[str, bytes]:
    """Every feed of the site, keyed by its path in docs_dir. With ``prints``, the print of
    what each feed file is made from goes there, and a feed whose files ``known`` (path ->
    print, of files already in docs_dir) has with the same prints is left out."""
    if not site.config.site_url:
        raise BuildError("site_url is not set, and feeds need absolute links",
                         path=site.config.config_file,
                         fix="add 'site_url: https://<you>.github.io/<repo>/' to it, "
                             "or pass --site-url")
    check_custom_feeds(site)
    out: dict[str, bytes] = {}
    contents: dict[tuple[str, bool], str] = {}
    name = site.config.site_name
    papers = list(site.papers)
    feeds = [papers_feed(site, papers, title=f"{name}: newest papers",
                         subtitle=site.config.site_description, page=layout.HOME,
                         paths=layout.feeds(), contents=contents)]
    # A topic's feed holds each paper in one line, with a link to its abstract: a paper is in
    # two or three of the fifty topics, whose feeds repeated its abstract each time (20 of the
    # real corpus' 151 MB). The newest papers and your own feeds carry whole abstracts.
    for tag in site.tags:
        feeds.append(papers_feed(site, list(site.tag_papers[tag.id]), title=f"{name}: {tag.name}",
                                 subtitle=tag.description or tag.name,
                                 page=layout.tag_page(tag.id), paths=layout.tag_feeds(tag.id),
                                 contents=contents, abstract=False))
    for custom in site.config.custom_feeds:
        feeds.append(papers_feed(site, [p for p in papers if matches(custom, p)],
                                 title=f"{name}: {custom.title}", subtitle=custom.describe(),
                                 page=layout.FEEDS_PAGE, paths=layout.custom_feeds(custom.id),
                                 contents=contents))
    feeds += [digest_feed(site), period_feed(site, "week"), period_feed(site, "month")]
    base = _inputs(site) if prints is not None else None
    for feed in feeds:
        if base is not None:
            # A feed's three files share the print of what they are made from.
            digest = base.copy()
            digest.update(repr(feed).encode("utf-8", "surrogatepass"))
            prints.update(dict.fromkeys(feed.paths, digest.hexdigest()))
            if known and all(known.get(path) == prints[path] for path in feed.paths):
                continue
        write(site, feed, out)
    out[layout.OPML] = opml(site)
    return out
