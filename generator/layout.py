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
import urllib.parse
from dataclasses import dataclass

from generator.config import Config
from generator.records import Archive, Digest, Paper, sort_newest_first, title_identity
from generator.similarity import related_papers
from generator.tagging import Tag, Tagger, Taxonomy
from generator.urls import assign_slugs, slugify

HOME = "index.md"
ARCHIVE = "digests/index.md"
TAG_INDEX = "tags/index.md"
FEEDS_PAGE = "feeds.md"
SEARCH_PAGE = "search.md"
RSS, ATOM, JSON_FEED = "feed.xml", "atom.xml", "feed.json"
DIGEST_RSS, DIGEST_ATOM = "digests/feed.xml", "digests/atom.xml"
OPML = "feeds.opml"
#: Papers on one page of a topic; the first page keeps the topic's URL.
TOPIC_PAGE_SIZE = 100
#: Papers on one page of a week or month, ranked; the first page keeps the period's URL.
PERIOD_PAGE_SIZE = 100
#: Papers of a day page shown as cards (summary, topics, links, the abstract behind a
#: disclosure); the papers ranked below are one line each, so that a day of 200 papers stays
#: a light page (at most 150 KB).
CARDS_ON_A_DAY = 40


def feeds(folder: str = "") -> tuple[str, str, str]:
    """The RSS, Atom and JSON Feed of a folder ("" for the site's newest papers)."""
    prefix = f"{folder}/" if folder else ""
    return f"{prefix}{RSS}", f"{prefix}{ATOM}", f"{prefix}{JSON_FEED}"

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def digest_page(date: datetime.date) -> str:
    return f"digests/{date.isoformat()}.md"


def tag_page(tag_id: str, block: int | None = None) -> str:
    """A topic's page (its newest papers), or one of the pages that hold its papers a hundred
    at a time counted from the oldest (``block`` 1 holds the first hundred): such a page never
    changes as new papers arrive, so a rebuild leaves it alone."""
    return f"tags/{tag_id}/index.md" if block is None else f"tags/{tag_id}/page/{block}.md"


def tag_feeds(tag_id: str) -> tuple[str, str, str]:
    return feeds(f"tags/{tag_id}")


def week_of(date: datetime.date) -> str:
    """The ISO week of a day, as the API writes it: 2026-W10."""
    year, week, _ = date.isocalendar()
    return f"{year}-W{week:02d}"


def month_of(date: datetime.date) -> str:
    return f"{date.year}-{date.month:02d}"


def week_page(week: str) -> str:
    return f"weeks/{week}.md"


def month_page(month: str) -> str:
    return f"months/{month}.md"


def period_page(kind: str, key: str, number: int = 1) -> str:
    """Page ``number`` of a week's or month's ranked papers (``PERIOD_PAGE_SIZE`` a page):
    the first is the period's own page, the others beside it (months/2026-07/page/2/)."""
    first = week_page(key) if kind == "week" else month_page(key)
    return first if number == 1 else f"{first[:-3]}/page/{number}.md"


WEEK_INDEX, MONTH_INDEX = "weeks/index.md", "months/index.md"
ORGANIZATION_INDEX = "organizations/index.md"
#: Open data: each day's papers beside its page, the whole archive in one file, its schema.
DATA_PAGE = "data.md"
DUMP, DUMP_SCHEMA = "data/papers.jsonl.gz", "data/paper.schema.json"


def custom_feeds(feed_id: str) -> tuple[str, str, str]:
    return feeds(f"feeds/{feed_id}")


def day_data(date: datetime.date) -> str:
    """A day's papers as JSON, beside the day's page."""
    return f"digests/{date.isoformat()}.json"


def organization_page(slug: str) -> str:
    """An organisation's page, by its slug (see ``Organization``)."""
    return f"organizations/{slug}.md"


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


def week_label(week: str) -> str:
    """'2026-W10' -> 'Week 10 of 2026, 2 to 8 March'."""
    year, number = int(week[:4]), int(week[6:])
    monday = datetime.date.fromisocalendar(year, number, 1)
    sunday = monday + datetime.timedelta(days=6)
    start = f"{monday.day}" if monday.month == sunday.month else \
        f"{monday.day} {_MONTHS[monday.month - 1]}"
    return f"Week {number} of {year}, {start} to {sunday.day} {_MONTHS[sunday.month - 1]}"


def month_label(month: str) -> str:
    return f"{_MONTHS[int(month[5:]) - 1]} {month[:4]}"


def long_date(date: datetime.date) -> str:
    """'Wednesday 11 March 2026' without the locale, so output is the same everywhere."""
    return f"{_DAYS[date.weekday()]} {date.day} {_MONTHS[date.month - 1]} {date.year}"


def short_date(date: datetime.date) -> str:
    return f"{date.day} {_MONTHS[date.month - 1][:3]} {date.year}"


def month_name(date: datetime.date) -> str:
    return f"{_MONTHS[date.month - 1]} {date.year}"


def authors_short(authors: tuple[str, ...], most: int = 3) -> str:
    """'A, B, C et al.' for a card."""
    if len(authors) <= most:
        return ", ".join(authors)
    return ", ".join(authors[:most]) + " et al."


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def first_sentence(text: str, limit: int = 300) -> str:
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def summary_of(paper: Paper) -> str:
    """The paper in one line: the source's summary when it gave one, else the abstract's first
    sentence."""
    return first_sentence(paper.summary or paper.abstract, 240)


def ranked(papers: list[Paper]) -> list[Paper]:
    """Papers of a week or month, best first: by upvotes where known, then by their best rank
    in a digest and the number of days they were listed, then key."""
    def order(p: Paper):
        return (-(p.upvotes if p.upvotes is not None else -1),
                min(a.rank for a in p.appearances), -len(p.appearances), p.key)
    return sorted(papers, key=order)


@dataclass(frozen=True)
class Period:
    """A week or a month of digests."""

    #: "week" or "month".
    kind: str
    #: "2026-W10" or "2026-03".
    key: str
    #: Its digest days, newest first.
    days: tuple[datetime.date, ...]
    #: Its papers (listed on any of its days), best first (see ``ranked``).
    papers: tuple[Paper, ...]

    @property
    def page(self) -> str:
        return period_page(self.kind, self.key)

    @property
    def page_count(self) -> int:
        """Its pages of ``PERIOD_PAGE_SIZE`` papers (one at least)."""
        return max(1, -(-len(self.papers) // PERIOD_PAGE_SIZE))

    @property
    def label(self) -> str:
        return week_label(self.key) if self.kind == "week" else month_label(self.key)


def periods(site: Site, kind: str) -> list[Period]:
    """Every week or month of the archive, newest first. Pure."""
    key_of = week_of if kind == "week" else month_of
    days: dict[str, list[Digest]] = {}
    for digest in site.digests:
        days.setdefault(key_of(digest.date), []).append(digest)
    out = []
    for key in sorted(days, reverse=True):
        papers = {p.key: p for d in days[key] for p in d.papers}
        out.append(Period(kind, key, tuple(d.date for d in days[key]),
                          tuple(ranked(list(papers.values())))))
    return out


def topic_months(site: Site, tag_id: str, most: int = 24) -> list[tuple[str, int]]:
    """Papers of a topic first seen in each month, the newest ``most`` months of the archive
    (months without one included), oldest first. Pure."""
    if not site.digests:
        return []
    counts: dict[str, int] = {}
    for paper in site.tag_papers[tag_id]:
        month = month_of(paper.first_seen)
        counts[month] = counts.get(month, 0) + 1
    newest, oldest = site.digests[0].date, site.digests[-1].date
    months, year, month = [], newest.year, newest.month
    while len(months) < most and (year, month) >= (oldest.year, oldest.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return [(m, counts.get(m, 0)) for m in reversed(months)]


def rising_topics(site: Site, most: int = 5) -> list[tuple[Tag, int, int]]:
    """Topics with the most more papers this month (of the newest digest) than the month
    before: (topic, this month, last month), at least 3 this month. Pure."""
    if not site.digests:
        return []
    this = month_of(site.digests[0].date)
    newest = site.digests[0].date
    last = month_of(newest.replace(day=1) - datetime.timedelta(days=1))
    rising = []
    for tag in site.tags:
        months = [month_of(p.first_seen) for p in site.tag_papers[tag.id]]
        now, before = months.count(this), months.count(last)
        if now >= 3 and now > before:
            rising.append((tag, now, before))
    rising.sort(key=lambda item: (-(item[1] - item[2]), -item[1], item[0].id))
    return rising[:most]


@dataclass(frozen=True)
class Organization:
    """An organisation the source names for papers. Names that differ only in case,
    punctuation or spacing ("Zhejiang University", "Zhejiang university") are one."""

    #: What readers see: the variant the source gives most papers, else the first seen.
    name: str
    #: Its page's permanent name (``organizations/<slug>/``), from the name with case and
    #: punctuation ignored; never a generated page's.
    slug: str
    #: Its papers, newest first.
    papers: tuple[Paper, ...]


def organization_identity(name: str) -> str:
    """The name with case, punctuation and spacing ignored: two names with one identity are
    one organisation."""
    return title_identity(name) or name.strip()


def organizations_of(papers: list[Paper]) -> dict[str, Organization]:
    """Every organisation of the papers (newest first), by identity, in identity order. Pure.

    Slugs are given oldest first (by the day an organisation's first paper appeared): when two
    identities give one slug the earlier keeps it, so a page's address never changes."""
    grouped: dict[str, list[Paper]] = {}
    for paper in papers:
        if paper.organization:
            grouped.setdefault(organization_identity(paper.organization), []).append(paper)
    def first(identity: str) -> tuple:
        oldest = min(grouped[identity], key=lambda p: (p.first_seen, p.appearances[0].rank))
        return oldest.first_seen, oldest.appearances[0].rank, identity
    slugs = assign_slugs(sorted(grouped, key=first), reserved=ORGANIZATION_PAGES)
    out = {}
    for identity in sorted(grouped):
        members = grouped[identity]
        counts: dict[str, int] = {}
        # Oldest first, so that a tie goes to the variant seen first.
        for paper in sorted(members, key=lambda p: (p.first_seen, p.appearances[0].rank)):
            counts[paper.organization] = counts.get(paper.organization, 0) + 1
        name = max(counts, key=lambda n: counts[n])
        out[identity] = Organization(name=name, slug=slugs[identity], papers=tuple(members))
    return out


#: Names under organizations/ that are not an organisation's page.
ORGANIZATION_PAGES = frozenset({"index"})


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
    #: For each paper key, other papers that share an author with it, best first.
    by_authors: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    #: Each organisation the source named, by identity (``organization_identity``).
    organizations: dict[str, Organization] = dataclasses.field(default_factory=dict)
    #: Paper key -> the print of the files it was read from (``Archive.prints``); a paper
    #: without one is printed by its fields.
    prints: dict[str, str] = dataclasses.field(default_factory=dict)

    def organization_of(self, paper: Paper) -> Organization | None:
        if not paper.organization:
            return None
        return self.organizations.get(organization_identity(paper.organization))

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
           related: dict[str, tuple[str, ...]] | None = None,
           tags_known: dict[str, tuple[str, ...]] | None = None) -> Site:
    """Tag every paper and work out slugs, tag listings and related papers. ``tags_known``
    (see ``Tagger.tag``) holds the tags of papers tagged before with this taxonomy and model;
    it is added to, and what none of these papers asked for leaves it (a paper read again
    from a changed file is known by a new print)."""
    tagger = Tagger(taxonomy, known=tags_known)
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
        return paper if tuple(ids) == paper.tags else paper.with_tags(ids)

    papers = tagger.tag_all([tag_ids(p) for p in archive.papers], archive.prints)
    if tags_known is not None:
        for key in set(tags_known) - tagger.used:
            del tags_known[key]
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
        related = related_papers(papers, config.related_papers)  # (tests; builds pass theirs)
    return Site(config=config, digests=digests, papers=tuple(papers), by_key=by_key,
                tags=tuple(tags), tags_by_id={t.id: t for t in tags},
                tag_papers={k: tuple(sort_newest_first(v)) for k, v in tag_papers.items()},
                slugs=slugs, related=related,
                organizations=organizations_of(papers), prints=archive.prints)


_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co")


def _link_key(url: str) -> str:
    """A link as a reader tells links apart: scheme, "www.", letter case of the host and a
    final "/" aside (the project page "https://x.io/" and the abstract's "https://x.io" are
    one link, once)."""
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    return f"{host.lower().removeprefix('www.')}/{path}".rstrip("/")


def paper_links(paper: Paper, search: bool = True) -> list[tuple[str, str]]:
    """(label, URL) of a paper's links: its Hugging Face page, arXiv abstract and PDF (or, with
    ``search``, an arXiv search by title where the id is unknown), code, project page, then the
    rest."""
    out = []
    if paper.arxiv_id:
        out += [("Hugging Face", f"https://huggingface.co/papers/{paper.arxiv_id}"),
                ("arXiv", f"https://arxiv.org/abs/{paper.arxiv_id}"),
                ("PDF", f"https://arxiv.org/pdf/{paper.arxiv_id}")]
    elif search:
        query = urllib.parse.urlencode({"query": paper.title, "searchtype": "title"})
        out.append(("Find on arXiv", f"https://arxiv.org/search/?{query}"))
    seen = set()
    for url in (paper.github_repo, paper.project_page, *paper.links):
        key = _link_key(url) if url else None
        if key is None or key in seen:
            continue
        seen.add(key)
        host = url.split("/")[2].lower() if url.count("/") >= 2 else ""
        if any(host == h or host.endswith("." + h) for h in _CODE_HOSTS):
            if any(label == "Code" for label, _ in out):
                continue  # the repository the source names first; others are in the abstract
            label = "Code"
        elif url == paper.project_page:
            label = "Project page"
        else:
            label = host.removeprefix("www.") or "Link"
        out.append((label, url))
    return out
