"""Where every generated file lives, and the site model that pages and feeds share.

Pure: only processes data. Paths are relative to MkDocs' docs_dir; a page at ``a/b.md`` is
served at ``a/b/`` and ``a/index.md`` at ``a/``. Paper URLs come from the paper's key and never
change once published (see ``urls.assign_slugs``).
"""

from __future__ import annotations

import dataclasses
import datetime
import posixpath
import re
from dataclasses import dataclass

from generator.config import Config
from generator.records import Archive, Digest, Paper, sort_newest_first
from generator.similarity import related_papers
from generator.tagging import Tag, Tagger, Taxonomy
from generator.urls import assign_slugs, slugify

HOME = "index.md"
ARCHIVE = "digests/index.md"
TAG_INDEX = "tags/index.md"
FEEDS_PAGE = "feeds.md"
SEARCH_PAGE = "search.md"
RSS, ATOM = "feed.xml", "atom.xml"
DIGEST_RSS, DIGEST_ATOM = "digests/feed.xml", "digests/atom.xml"
OPML = "feeds.opml"

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def digest_page(date: datetime.date) -> str:
    return f"digests/{date.isoformat()}.md"


def tag_page(tag_id: str) -> str:
    return f"tags/{tag_id}/index.md"


def tag_feeds(tag_id: str) -> tuple[str, str]:
    return f"tags/{tag_id}/{RSS}", f"tags/{tag_id}/{ATOM}"


def url_of(path: str) -> str:
    """The served URL path (relative to the site root) of a generated file."""
    if path.endswith("index.md"):
        return path[: -len("index.md")]
    if path.endswith(".md"):
        return path[:-3] + "/"
    return path


def _relpath(target: str, start_dir: str) -> str:
    """posixpath.relpath for paths that are already relative and normal (no "." or ".."),
    without its abspath calls: it runs for every link of every page."""
    to = [p for p in target.split("/") if p]
    start = [p for p in start_dir.split("/") if p]
    common = 0
    while common < min(len(to), len(start)) and to[common] == start[common]:
        common += 1
    parts = [".."] * (len(start) - common) + to[common:]
    return "/".join(parts) or "."


def relative(target: str, start: str) -> str:
    """Link from the Markdown file ``start`` to the file ``target`` (MkDocs resolves .md links)."""
    return _relpath(target, posixpath.dirname(start))


def served_link(target_url: str, page_path: str) -> str:
    """Link for raw HTML, which MkDocs does not rewrite: from the page's served URL to
    ``target_url`` (relative to the site root)."""
    link = _relpath(target_url.rstrip("/"), url_of(page_path).rstrip("/"))
    return link + "/" if target_url.endswith("/") else link


def long_date(date: datetime.date) -> str:
    """'Wednesday 11 March 2026' without the locale, so output is the same everywhere."""
    return f"{_DAYS[date.weekday()]} {date.day} {_MONTHS[date.month - 1]} {date.year}"


def short_date(date: datetime.date) -> str:
    return f"{date.day} {_MONTHS[date.month - 1][:3]} {date.year}"


def month_name(date: datetime.date) -> str:
    return f"{_MONTHS[date.month - 1]} {date.year}"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def first_sentence(text: str, limit: int = 300) -> str:
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Site:
    """Everything pages and feeds are made from, gathered once."""

    config: Config
    #: Digest days, newest first, with tagged papers.
    digests: tuple[Digest, ...]
    #: Every paper once, tagged, newest first.
    papers: tuple[Paper, ...]
    by_key: dict[str, Paper]
    #: Tags in taxonomy order, then tags set by hand that the taxonomy does not know.
    tags: tuple[Tag, ...]
    tags_by_id: dict[str, Tag]
    #: Papers of each tag, newest first.
    tag_papers: dict[str, tuple[Paper, ...]]
    slugs: dict[str, str]
    related: dict[str, tuple[str, ...]]

    def paper_page(self, paper: Paper) -> str:
        return f"papers/{self.slugs[paper.key]}.md"

    def paper_url(self, paper: Paper) -> str:
        """Absolute permalink of a paper (also its feed GUID); needs site_url."""
        return f"{self.config.site_url}{url_of(self.paper_page(paper))}"

    def tag_names(self, paper: Paper) -> list[str]:
        return [self.tags_by_id[t].name for t in paper.tags]

    def absolute(self, path: str) -> str:
        return f"{self.config.site_url}{url_of(path)}"

    @property
    def last_updated(self) -> datetime.date | None:
        return self.digests[0].date if self.digests else None


def _hand_tag(text: str) -> Tag:
    """A tag set by hand that the taxonomy does not know: named as written, minus markup."""
    name = re.sub(r"[<>{}\[\]\"\\`]", "", text).strip() or "tag"
    return Tag(id=slugify(text), name=name, description="Set by hand.")


def gather(archive: Archive, taxonomy: Taxonomy, config: Config,
           related: dict[str, tuple[str, ...]] | None = None) -> Site:
    """Tag every paper and work out slugs, tag listings and related papers."""
    tagger = Tagger(taxonomy)
    tags = list(taxonomy.tags)
    known = {t.id for t in tags}
    by_name = {t.name.casefold(): t.id for t in tags}

    def tag_ids(paper: Paper) -> Paper:
        # Hand-set tags may name a tag by id or by name; unknown ones become tags of their own.
        ids = []
        for text in paper.tags:
            tag_id = text if text in known else by_name.get(text.casefold())
            if tag_id is None:
                extra = _hand_tag(text)
                tag_id = extra.id
                if tag_id not in known:
                    known.add(tag_id)
                    tags.append(extra)
            ids.append(tag_id)
        return tagger.tag(dataclasses.replace(paper, tags=tuple(ids)))

    papers = [tag_ids(p) for p in archive.papers]
    by_key = {p.key: p for p in papers}
    digests = tuple(
        Digest(date=d.date, papers=tuple(by_key[p.key] for p in d.papers), source=d.source,
               origin=d.origin)
        for d in reversed(archive.digests))
    # Oldest first by first appearance: an earlier paper keeps its slug (urls.assign_slugs).
    oldest_first = sorted(papers, key=lambda p: (p.first_seen, p.appearances[0].rank, p.key))
    slugs = assign_slugs(p.key for p in oldest_first)
    tag_papers: dict[str, list[Paper]] = {t.id: [] for t in tags}
    for paper in papers:
        for tag_id in paper.tags:
            tag_papers[tag_id].append(paper)
    if related is None:
        related = related_papers(papers, config.related_papers)
    return Site(config=config, digests=digests, papers=tuple(papers), by_key=by_key,
                tags=tuple(tags), tags_by_id={t.id: t for t in tags},
                tag_papers={k: tuple(sort_newest_first(v)) for k, v in tag_papers.items()},
                slugs=slugs, related=related)


_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co")


def paper_links(paper: Paper) -> list[tuple[str, str]]:
    """(label, URL) of a paper's links: arXiv, code, project page, then the rest in order."""
    out = []
    if paper.arxiv_id:
        out.append(("arXiv", f"https://arxiv.org/abs/{paper.arxiv_id}"))
    seen = set()
    for url in (paper.github_repo, paper.project_page, *paper.links):
        if not url or url in seen:
            continue
        seen.add(url)
        host = url.split("/")[2].lower() if url.count("/") >= 2 else ""
        if any(host == h or host.endswith("." + h) for h in _CODE_HOSTS):
            label = "Code"
        elif url == paper.project_page:
            label = "Project page"
        else:
            label = host.removeprefix("www.") or "Link"
        out.append((label, url))
    return out
