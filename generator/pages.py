"""Site -> {path in docs_dir: Markdown text}, rendered from the Jinja2 templates in templates/.

Pure: only processes data. Untrusted text (titles, abstracts, authors, keywords) reaches a
page only through the filters of ``markup``: ``md`` for Markdown, ``html`` inside a raw HTML
block, ``href`` and ``url`` for links, ``front_matter`` for the page's title and description.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from generator import __version__, layout, search
from generator.errors import BuildError
from generator.files import digest_code, digest_files, read_folder
from generator.layout import Site
from generator.markup import attribute_url, front_matter, href, html_text, md
from generator.records import Digest, Paper, printed_from


def make_environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # the output is Markdown: text is escaped by the md filter instead
    )
    env.filters.update(md=md, html=html_text, href=href, url=attribute_url,
                       long_date=layout.long_date, short_date=layout.short_date,
                       month_name=layout.month_name, first_sentence=layout.first_sentence,
                       authors_short=layout.authors_short, summary=layout.summary_of)
    env.globals.update(front_matter=front_matter, served=_served, layout=layout,
                       topic_counts=topic_counts)
    return env


def topic_counts(papers: Iterable[Paper]) -> list[tuple[str, int]]:
    """The topics of ``papers`` with how many of them each tags, most first. Pure."""
    counts: dict[str, int] = {}
    for paper in papers:
        for tag_id in paper.tags:
            counts[tag_id] = counts.get(tag_id, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@jinja2.pass_context
def _served(context, target: str) -> str:
    """Link for raw HTML (which MkDocs does not rewrite) from the page being rendered to the
    page ``target`` (a docs_dir path), as served with directory URLs."""
    return layout.served_link(layout.url_of(target), context["page_path"])


@dataclass(frozen=True)
class TagLabel:
    """What a page shows of a topic in a chip (the link comes from the topic's id)."""

    name: str


@dataclass(frozen=True)
class PageView:
    """All that a paper or digest page reads of the site: the slugs of the papers it links to
    and the names of the topics it shows. Such a page is kept from the last build when this,
    its own context, the templates and the config are unchanged, so its template is given
    nothing else (reading anything else fails the build)."""

    slugs: dict[str, str]
    tags_by_id: dict[str, TagLabel]

    @classmethod
    def of(cls, site: Site, linked: Iterable[Paper], tagged: Iterable[Paper]) -> PageView:
        return cls(slugs={p.key: site.slugs[p.key] for p in linked},
                   tags_by_id={t: TagLabel(site.tags_by_id[t].name) for p in tagged
                               for t in p.tags})

    def paper_page(self, paper: Paper) -> str:
        return f"papers/{self.slugs[paper.key]}.md"


@dataclass(frozen=True)
class Shows:
    """The papers a paper, digest or period page links to and those whose topics it names:
    what its ``PageView`` is made of, and what its fingerprint says of the site."""

    linked: tuple[Paper, ...]
    tagged: tuple[Paper, ...]


@dataclass(frozen=True)
class Rendered:
    #: Markdown text of every page rendered, by path in docs_dir.
    pages: dict[str, str]
    #: Paper and digest pages not rendered again: the file in docs_dir was made from the same
    #: inputs.
    kept: frozenset[str]
    #: For each paper and digest page, the fingerprint of what it is made from (``PageView``).
    inputs: dict[str, str]


def _inputs_digest(site: Site) -> hashlib._Hash:
    """What every page depends on: the templates, the config and this package's code (its
    filters and links), so that editing any of them renders every page again."""
    # The config's settings, without the folders it was read from (a clone elsewhere is the
    # same site).
    settings = dataclasses.replace(site.config, config_file=Path("mkdocs.yml"),
                                   docs_dir=Path("docs"), templates=Path("templates"))
    digest = hashlib.sha256(f"{__version__}\n{settings!r}\n".encode())
    digest_files(digest, read_folder(site.config.templates))
    digest_code(digest)
    return digest


def _organization_link(site: Site, paper: Paper) -> tuple[str, str] | None:
    """(name, page) of the paper's organisation, when it has other papers."""
    organization = site.organization_of(paper)
    if organization is None or len(organization.papers) < 2:
        return None
    return organization.name, layout.organization_page(organization.slug)


def listing_entries(site: Site, papers: Iterable[Paper],
                    page_path: str) -> list[tuple[str, str, str]]:
    """(date, link, title) of each paper in a long list, as HTML-escaped text: the link is the
    paper's served URL relative to the page (every paper page is at papers/<slug>/)."""
    prefix = layout.served_link("papers/", page_path)
    return [(layout.short_date(p.last_seen), f"{prefix}{site.slugs[p.key]}/", html_text(p.title))
            for p in papers]


def oldest_first(papers: Iterable[Paper]) -> list[Paper]:
    """By the day a paper first appeared, then its rank that day: the order in which papers
    arrived, which a new day only extends."""
    return sorted(papers, key=lambda p: (p.first_seen, p.appearances[0].rank, p.key))


def top_papers(site: Site, papers: list[Paper], page_path: str,
               most: int = 5) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The most upvoted of ``papers`` first seen in the month of the newest digest and in its
    year: (heading, [(upvotes, link, title)]) for each that has one, as HTML-escaped text."""
    if not site.digests:
        return []
    newest = site.digests[0].date
    out = []
    for heading, holds in ((layout.month_name(newest), lambda d: (d.year, d.month) ==
                            (newest.year, newest.month)),
                           (str(newest.year), lambda d: d.year == newest.year)):
        best = sorted((p for p in papers if p.upvotes and holds(p.first_seen)),
                      key=lambda p: (-p.upvotes, p.key))[:most]
        if best:
            entries = listing_entries(site, best, page_path)
            out.append((f"Most upvoted, {heading}",
                        [(f"{p.upvotes} upvote{'s' if p.upvotes != 1 else ''}", link, title)
                         for p, (_, link, title) in zip(best, entries, strict=True)]))
    return out


def render_topic(site: Site, tag, render) -> None:
    """A topic's page (its newest papers, and papers per month) and the pages that hold its
    papers a hundred at a time from the oldest (see ``layout.tag_page``)."""
    papers = oldest_first(site.tag_papers[tag.id])
    size = layout.TOPIC_PAGE_SIZE
    blocks = len(papers) // size if len(papers) > size else 0
    newest = papers[-size:][::-1]
    path = layout.tag_page(tag.id)
    render("tag.md.j2", path, _NO_PAPERS, tag=tag, total=len(papers), block=None,
           entries=listing_entries(site, newest, path), first=0, last=0,
           chart=month_chart(layout.topic_months(site, tag.id), tag.name) if papers else None,
           tops=top_papers(site, papers, path),
           newer=None, older=layout.tag_page(tag.id, blocks) if blocks else None)
    for block in range(1, blocks + 1):
        path = layout.tag_page(tag.id, block)
        part = papers[(block - 1) * size: block * size][::-1]
        render("tag.md.j2", path, _NO_PAPERS, tag=tag, total=None, block=block,
               entries=listing_entries(site, part, path), chart=None, tops=[],
               first=(block - 1) * size + 1, last=block * size,
               newer=layout.tag_page(tag.id, block + 1 if block < blocks else None),
               older=layout.tag_page(tag.id, block - 1) if block > 1 else None)


def render_period(site: Site, period: layout.Period, render, newer, older) -> None:
    """A week's or month's papers, ranked, ``layout.PERIOD_PAGE_SIZE`` a page (see
    ``layout.period_page``): each page lists its ``part`` and links to every page."""
    size = layout.PERIOD_PAGE_SIZE
    pages = [layout.period_page(period.kind, period.key, n)
             for n in range(1, period.page_count + 1)]
    for number, path in enumerate(pages, start=1):
        part = period.papers[(number - 1) * size: number * size]
        render("period.md.j2", path, Shows(part, part), period=period,
               part=part, start=(number - 1) * size + 1, number=number, count=len(pages),
               pages=pages, newer=newer, older=older)


def month_chart(counts: list[tuple[str, int]], name: str) -> str:
    """Papers per month as a static SVG bar chart that reads without colour: every bar has
    its number above it and its month below, and a table-like text alternative. Pure."""
    if not counts:
        return ""
    bar, gap, height, top, bottom = 28, 6, 80, 16, 30
    width = len(counts) * (bar + gap) + gap
    most = max(n for _, n in counts) or 1
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
    parts = []
    for i, (month, n) in enumerate(counts):
        x = gap + i * (bar + gap)
        h = round(height * n / most)
        y = top + height - h
        # The year under January and under the first month.
        year = f" '{month[2:4]}" if month.endswith("-01") or i == 0 else ""
        label = months[int(month[5:]) - 1] + year
        parts.append(f'<rect x="{x}" y="{y}" width="{bar}" height="{h}"/>'
                     f'<text x="{x + bar / 2:g}" y="{y - 3}">{n}</text>'
                     f'<text x="{x + bar / 2:g}" y="{top + height + 14}">{html_text(label)}</text>')
    described = ", ".join(f"{layout.month_label(m)}: {n}" for m, n in counts)
    return (f'<figure class="pd-chart"><svg role="img" aria-labelledby="chart-title" '
            f'viewBox="0 0 {width} {top + height + bottom}" width="{width}" '
            f'height="{top + height + bottom}"><title id="chart-title">Papers of '
            f'{html_text(name)} per month: {described}</title>{"".join(parts)}</svg>'
            f'<figcaption>New papers per month</figcaption></figure>')


def render_pages(site: Site) -> dict[str, str]:
    """Every Markdown page of the site, keyed by its path in docs_dir."""
    return render_site(site).pages


#: Values a fingerprint holds as they are (no record inside).
_PLAIN = frozenset({str, int, float, bool, type(None), datetime.date})


class Prints:
    """What a page's fingerprint says of the records it shows: a paper by a digest of the
    files it was read from and its tags (of all its fields when it has no such print), a
    digest, period or organisation by a digest of what it holds (each worked out once a
    build)."""

    def __init__(self, sources: dict[str, str] | None = None) -> None:
        #: id -> (the record, its print): the record is held so that its id is not reused.
        self._records: dict[int, tuple[object, str]] = {}
        #: Paper key -> the print of the files it was read from (``Site.prints``).
        self._sources = sources or {}
        #: Paper key -> (the paper, its print).
        self._papers: dict[str, tuple[Paper, str]] = {}

    def _print(self, record: object, what: object) -> str:
        found = self._records.get(id(record))
        if found is None:
            found = self._records[id(record)] = (record, hashlib.blake2b(
                repr(what).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest())
        return found[1]

    def paper(self, paper: Paper) -> str:
        found = self._papers.get(paper.key)
        if found is not None and found[0] is paper:
            return found[1]
        # The files a paper was read from stand for all its fields but its tags (which
        # tagging sets), at a fraction of the cost of printing them.
        printed = printed_from(self._sources, paper, paper.tags) or self._print(paper, paper)
        self._papers[paper.key] = (paper, printed)
        return printed

    def describe(self, value: object) -> object:
        """``value`` with every record replaced by its print: as much as a template can read
        of it, in a form cheap to hash."""
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is Paper:
            return ("paper", self.paper(value))
        if kind is tuple or kind is list:
            return tuple(map(self.describe, value))
        if isinstance(value, dict):
            return tuple((k, self.describe(v)) for k, v in sorted(value.items()))
        if kind in _RECORDS:
            found = self._records.get(id(value))
            # Fields left out of comparison (a digest's origin: the path it was read by) are
            # not shown on any page.
            return (kind.__name__, found[1] if found is not None else self._print(
                value, tuple(self.describe(getattr(value, name)) for name in _RECORDS[kind])))
        return value


#: The records a page may be given whole, and the fields of each that it can show.
_RECORDS = {kind: tuple(f.name for f in dataclasses.fields(kind) if f.compare)
            for kind in (Digest, layout.Period, layout.Organization)}


def render_site(site: Site, previous: dict[str, str] | None = None,
                sink: Callable[[str, str], None] | None = None) -> Rendered:
    """Every Markdown page of the site, except those whose fingerprint in ``previous`` (path ->
    fingerprint of pages already in docs_dir) is unchanged: those are kept. With ``sink``,
    each page is handed to it (path, text) as it is rendered instead of being kept in
    ``pages``: a full build of 100,000 papers held 650 MB of pages at once.

    A page's fingerprint covers its template, this package's code, the config and what its
    template is given: paper, digest and period pages are given a ``PageView`` (only what they
    show of other papers), listings their entries ready made; the few pages that read the
    whole site (the home page, the indexes, feeds and search) are fingerprinted with all of
    it."""
    env = make_environment(site.config.templates)
    pages: dict[str, str] = {}
    previous = previous or {}
    base = _inputs_digest(site)
    slugs, topics = site.slugs, {t.id: t.name for t in site.tags}
    prints = Prints(site.prints)
    inputs: dict[str, str] = {}
    kept = set()
    whole: list[str] = []

    def whole_site() -> str:
        """The print of everything a page that reads the whole site can show."""
        if not whole:
            whole.append(hashlib.blake2b(repr(prints.describe((
                site.digests, [repr(t) for t in site.tags], sorted(site.slugs.items())))).encode(
                    "utf-8", "surrogatepass"), digest_size=16).hexdigest())
        return whole[0]

    by_key, paper_print = site.by_key, prints.paper
    # All a page can show of a paper: its print (all of its fields), its slug and the names
    # of its topics; worked out once a paper, not once a page that shows it.
    cards = {paper.key: hashlib.blake2b(repr((
        paper_print(paper), slugs[paper.key],
        tuple(map(topics.get, paper.tags)))).encode(
            "utf-8", "surrogatepass"), digest_size=12).hexdigest() for paper in site.papers}
    card = cards.__getitem__

    def fingerprint(template: str, path: str, seen: object, described: object) -> bool:
        """Record the page's fingerprint; whether the page in docs_dir was made from it."""
        digest = base.copy()
        digest.update(repr((template, path, seen, described)).encode("utf-8", "surrogatepass"))
        inputs[path] = digest.hexdigest()
        if previous.get(path) == inputs[path]:
            kept.add(path)
            return True
        return False

    def render(template: str, path: str, view: Shows | None = None, *,
               described: object = None, seen: object = None, **context) -> None:
        """Render, unless the page in docs_dir was made from the same inputs. ``view`` is
        what the template sees of the site: the PageView of a ``Shows``, or None for the
        whole site. ``described`` is what the fingerprint says of ``context`` when the caller
        knows it more cheaply than ``prints.describe`` (it must cover all of it), and
        ``seen`` what it says of the view (it must cover the slugs and topic names shown)."""
        # What a view shows of a paper is in its card (the slug of a paper linked to, the
        # names of the topics of a paper tagged).
        if seen is None:
            seen = whole_site() if view is None else (
                tuple(card(p.key) for p in view.linked),
                None if view.tagged is view.linked else tuple(card(p.key) for p in view.tagged))
        if not fingerprint(template, path, seen,
                           prints.describe(context) if described is None else described):
            write(template, path, view, context)

    def write(template: str, path: str, view: Shows | None, context: dict) -> None:
        try:
            text = env.get_template(template).render(
                {"site": site if view is None else PageView.of(site, view.linked, view.tagged),
                 "config": site.config, **context},
                page_path=path)
        except jinja2.TemplateError as exc:
            name = getattr(exc, "filename", None) or str(site.config.templates / template)
            raise BuildError(f"template error: {exc}", path=name,
                             line=getattr(exc, "lineno", None),
                             fix="correct the template") from exc
        if sink is None:
            pages[path] = text
        else:
            sink(path, text)

    digests = site.digests
    render("home.md.j2", layout.HOME, latest=digests[0] if digests else None,
           earlier=digests[1: 1 + site.config.home_digests],
           rising=layout.rising_topics(site))
    months = [(month, list(group)) for month, group in
              itertools.groupby(digests, key=lambda d: (d.date.year, d.date.month))]
    render("archive.md.j2", layout.ARCHIVE, months=months)
    for index, digest in enumerate(digests):
        render("digest.md.j2", layout.digest_page(digest.date),
               Shows(digest.papers, digest.papers), digest=digest,
               newer=digests[index - 1].date if index > 0 else None,
               older=digests[index + 1].date if index + 1 < len(digests) else None)
    related_of, authors_of = site.related, site.by_authors
    for paper in site.papers:
        key = paper.key
        related_keys = related_of.get(key, ())
        author_keys = authors_of.get(key, ())
        organization = _organization_link(site, paper)
        path = site.paper_page(paper)
        # Papers by their cards, which cover all a template can read of them.
        if fingerprint("paper.md.j2", path, (), (
                card(key), tuple(map(card, related_keys)), tuple(map(card, author_keys)),
                organization)):
            continue
        related = tuple(by_key[k] for k in related_keys)
        by_authors = tuple(by_key[k] for k in author_keys)
        write("paper.md.j2", path, Shows((paper, *related, *by_authors), (paper,)),
              {"paper": paper, "related": related, "by_authors": by_authors,
               "organization": organization})
    for kind in ("week", "month"):
        all_periods = layout.periods(site, kind)
        for index, period in enumerate(all_periods):
            render_period(site, period, render,
                          newer=_period_link(all_periods[index - 1]) if index > 0 else None,
                          older=_period_link(all_periods[index + 1])
                          if index + 1 < len(all_periods) else None)
        render("periods.md.j2", layout.WEEK_INDEX if kind == "week" else layout.MONTH_INDEX,
               kind=kind, all=[(p.label, p.page, len(p.papers)) for p in all_periods])
    by_count = sorted(site.tags, key=lambda t: (-len(site.tag_papers[t.id]), t.id))
    render("tags.md.j2", layout.TAG_INDEX, topics=by_count)
    for tag in site.tags:
        render_topic(site, tag, render)
    render("organizations.md.j2", layout.ORGANIZATION_INDEX,
           organizations=[(o.name, o.slug, len(o.papers)) for o in sorted(
               site.organizations.values(),
               key=lambda o: (-len(o.papers), o.name.casefold(), o.slug))])
    for organization in site.organizations.values():
        path = layout.organization_page(organization.slug)
        render("organization.md.j2", path, _NO_PAPERS, name=organization.name,
               total=len(organization.papers),
               entries=listing_entries(site, organization.papers, path))
    render("feeds.md.j2", layout.FEEDS_PAGE)
    render("search.md.j2", layout.SEARCH_PAGE, _NO_PAPERS, bundles=search.bundle_names(site))
    return Rendered(pages=pages, kept=frozenset(kept), inputs=inputs)


#: The view of a page that shows no paper of its own (its entries come ready made).
_NO_PAPERS = Shows((), ())


@dataclass(frozen=True)
class PeriodLink:
    """What a period page shows of the period before or after it."""

    label: str
    page: str


def _period_link(period: layout.Period) -> PeriodLink:
    return PeriodLink(period.label, period.page)
