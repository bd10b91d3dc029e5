"""Site -> {path in docs_dir: XML bytes}: RSS 2.0 and Atom feeds written with feedgen, and OPML.

Pure: only processes data. Deterministic: every date comes from the archive, never the clock;
the generator element carries no version; entries are appended in an explicit order (newest
first). GUIDs are the papers' permalinks (or the digest pages'), which never change.
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET

import markdown
from feedgen.feed import FeedGenerator

from generator import layout
from generator.errors import BuildError
from generator.layout import Site, first_sentence
from generator.pages import href, html_text, md
from generator.records import Paper

# Characters XML 1.0 cannot carry.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _moment(date: datetime.date) -> datetime.datetime:
    return datetime.datetime(date.year, date.month, date.day, tzinfo=datetime.timezone.utc)


# Once Markdown has made HTML, the character references that kept punctuation from being
# read as Markdown can be plain characters again (all but those HTML itself reads).
_PUNCTUATION_REFERENCE = re.compile(r"&#(\d+);")
_HTML_SYNTAX = {"<", ">", "&", '"', "'"}


def _plain_punctuation(match: re.Match) -> str:
    char = chr(int(match.group(1)))
    return match.group(0) if char in _HTML_SYNTAX or not char.isascii() else char


_MARKDOWN = markdown.Markdown(extensions=["attr_list"])


def _html(markdown_text: str) -> str:
    html = _MARKDOWN.reset().convert(markdown_text)
    return xml_text(_PUNCTUATION_REFERENCE.sub(_plain_punctuation, html))


def paper_html(site: Site, paper: Paper) -> str:
    """A paper as feed content: HTML made by Markdown from escaped text."""
    parts = []
    if paper.tags:
        names = ", ".join(md(site.tags_by_id[t].name) for t in paper.tags)
        parts.append(f"*Topics:* {names}")
    links = " · ".join(f"[{md(label)}]({href(url)})" for label, url in layout.paper_links(paper))
    if links:
        parts.append(links)
    parts.append(f"<p>{html_text(paper.abstract)}</p>")
    return _html("\n\n".join(parts))


def _feed(site: Site, *, title: str, subtitle: str, page: str, self_path: str,
          updated: datetime.date | None) -> FeedGenerator:
    config = site.config
    feed = FeedGenerator()
    feed.id(site.absolute(page))
    feed.title(xml_text(title))
    feed.subtitle(xml_text(subtitle) or xml_text(title))
    feed.author({"name": xml_text(config.site_name)})
    # rel="self" first: feedgen uses the last link it is given as the RSS <link>.
    feed.link(href=f"{config.site_url}{self_path}", rel="self")
    feed.link(href=site.absolute(page), rel="alternate")
    feed.language("en")
    feed.generator("paper-digest")
    moment = _moment(updated or datetime.date(1970, 1, 1))
    feed.updated(moment)
    feed.lastBuildDate(moment)
    return feed


def _paper_entry(feed: FeedGenerator, site: Site, paper: Paper, contents: dict[str, str]) -> None:
    entry = feed.add_entry(order="append")
    url = site.paper_url(paper)
    entry.id(url)
    entry.guid(url, permalink=True)
    entry.title(xml_text(paper.title))
    entry.link(href=url)
    entry.published(_moment(paper.first_seen))
    entry.updated(_moment(paper.last_seen))
    entry.pubDate(_moment(paper.last_seen))
    entry.summary(xml_text(first_sentence(paper.abstract)))
    # A paper is in the main feed and a feed per topic, two formats each: render it once.
    if paper.key not in contents:
        contents[paper.key] = paper_html(site, paper)
    entry.content(contents[paper.key], type="html")
    for tag_id in paper.tags:
        tag = site.tags_by_id[tag_id]
        entry.category(term=tag.id, label=xml_text(tag.name),
                       scheme=site.absolute(layout.tag_page(tag.id)))
    for author in paper.authors:
        entry.author({"name": xml_text(author)})


def papers_feed(site: Site, papers: list[Paper], *, title: str, subtitle: str, page: str,
                rss: str, atom: str, out: dict[str, bytes], contents: dict[str, str]) -> None:
    newest = papers[: site.config.feed_items]
    updated = max((p.last_seen for p in newest), default=site.last_updated)
    # One feed object per format: each names its own address as rel="self".
    for path in (atom, rss):
        feed = _feed(site, title=title, subtitle=subtitle, page=page, self_path=path,
                     updated=updated)
        for paper in newest:
            _paper_entry(feed, site, paper, contents)
        out[path] = feed.atom_str(pretty=True) if path == atom else feed.rss_str(pretty=True)


def digest_feed(site: Site, out: dict[str, bytes]) -> None:
    digests = site.digests[: site.config.digest_feed_items]
    for path in (layout.DIGEST_ATOM, layout.DIGEST_RSS):
        feed = _feed(site, title=f"{site.config.site_name}: daily digest",
                     subtitle="One item a day: that day's trending papers, in rank order.",
                     page=layout.ARCHIVE, self_path=path,
                     updated=site.last_updated)
        for digest in digests:
            url = site.absolute(layout.digest_page(digest.date))
            entry = feed.add_entry(order="append")
            entry.id(url)
            entry.guid(url, permalink=True)
            entry.title(f"Trending papers, {layout.long_date(digest.date)}")
            entry.link(href=url)
            entry.published(_moment(digest.date))
            entry.updated(_moment(digest.date))
            entry.pubDate(_moment(digest.date))
            entry.summary(f"{len(digest.papers)} papers")
            lines = []
            for rank, paper in enumerate(digest.papers, start=1):
                tags = ", ".join(md(site.tags_by_id[t].name) for t in paper.tags)
                tags = f" *{tags}*" if tags else ""
                lines.append(f"{rank}. [{md(paper.title)}]({site.paper_url(paper)}){tags}  \n"
                             f"    {md(first_sentence(paper.abstract))}")
            entry.content(_html("\n".join(lines)), type="html")
        out[path] = feed.atom_str(pretty=True) if path == layout.DIGEST_ATOM \
            else feed.rss_str(pretty=True)


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

    outline(body, f"{site.config.site_name}: newest papers", layout.RSS, layout.HOME)
    outline(body, f"{site.config.site_name}: daily digest", layout.DIGEST_RSS, layout.ARCHIVE)
    topics = ET.SubElement(body, "outline", text="Topics", title="Topics")
    for tag in site.tags:
        outline(topics, f"{site.config.site_name}: {tag.name}", layout.tag_feeds(tag.id)[0],
                layout.tag_page(tag.id))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") \
        + b"\n"


def render_feeds(site: Site) -> dict[str, bytes]:
    """Every feed of the site, keyed by its path in docs_dir."""
    if not site.config.site_url:
        raise BuildError("site_url is not set, and feeds need absolute links",
                         path=site.config.config_file,
                         fix="add 'site_url: https://<you>.github.io/<repo>/' to it, "
                             "or pass --site-url")
    out: dict[str, bytes] = {}
    contents: dict[str, str] = {}
    papers_feed(site, list(site.papers), title=f"{site.config.site_name}: newest papers",
                subtitle=site.config.site_description, page=layout.HOME, rss=layout.RSS,
                atom=layout.ATOM, out=out, contents=contents)
    for tag in site.tags:
        rss, atom = layout.tag_feeds(tag.id)
        papers_feed(site, list(site.tag_papers[tag.id]),
                    title=f"{site.config.site_name}: {tag.name}",
                    subtitle=tag.description or tag.name, page=layout.tag_page(tag.id),
                    rss=rss, atom=atom, out=out, contents=contents)
    digest_feed(site, out)
    out[layout.OPML] = opml(site)
    return out
