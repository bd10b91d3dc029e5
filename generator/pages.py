"""Site -> {path in docs_dir: Markdown text}, rendered from the Jinja2 templates in templates/.

Pure: only processes data. Untrusted text (titles, abstracts, authors, keywords) reaches
Markdown only through the ``md`` filter, or inside a raw HTML block through the ``html``
filter; front matter only through :func:`front_matter` (HTML-escaped, then written by the YAML
dumper); URLs only through ``href``. Nothing a paper says can become HTML, Markdown syntax, an
attribute list, Jinja or YAML structure.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import itertools
import string
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from generator import __version__, layout, search
from generator.errors import BuildError
from generator.files import digest_files, read_folder
from generator.layout import Site
from generator.records import Paper

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# ASCII punctuation becomes a numeric character reference: Markdown and its extensions give
# meaning only to punctuation, and a character reference is always plain text. Left as they
# are: the few marks no syntax used here reads (, ; ? % / @ ' "), so the Markdown stays legible.
_PLAIN = set(",;?%/@'\"")
_MD_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in string.punctuation if c not in _PLAIN})
# Characters that could end a Markdown link destination or an HTML attribute.
_URL_SAFE = "/:?#&=+%~.,;!$@-_*"


def md(text: object) -> str:
    """Text -> Markdown that shows exactly that text."""
    return str(text).translate(_MD_ESCAPES)


def html_text(text: object) -> str:
    """Text -> HTML that shows exactly that text, for a raw HTML block in the Markdown.

    Markdown leaves a raw HTML block as it is (no links, emphasis or attribute lists inside),
    and skipping Markdown's inline processing is what makes long abstracts cheap to build."""
    return html.escape(str(text), quote=True)


def href(url: str) -> str:
    """A URL that stays one URL inside a Markdown link: anything but plain URL characters is
    percent-encoded (parentheses, brackets, quotes, spaces)."""
    return urllib.parse.quote(url, safe=_URL_SAFE)


def front_matter(**fields: object) -> str:
    """YAML front matter. MkDocs and the theme put title, description and tags into HTML as
    they are, so text is HTML-escaped first; the YAML dumper then quotes whatever YAML needs."""
    def escape(value):
        if isinstance(value, str):
            return html.escape(value, quote=True)
        if isinstance(value, (list, tuple)):
            return [escape(v) for v in value]
        return value
    data = {k: escape(v) for k, v in fields.items() if v not in (None, "", [], ())}
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{body}---\n"


def make_environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # the output is Markdown: text is escaped by the md filter instead
    )
    env.filters.update(md=md, html=html_text, href=href, long_date=layout.long_date,
                       short_date=layout.short_date, month_name=layout.month_name,
                       first_sentence=layout.first_sentence)
    env.globals.update(front_matter=front_matter, link=_link, served=_served, layout=layout)
    return env


@jinja2.pass_context
def _link(context, target: str) -> str:
    """Relative link from the page being rendered to ``target`` (a docs_dir path)."""
    return layout.relative(target, context["page_path"])


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

    def paper_page(self, paper: Paper | RelatedPaper) -> str:
        return f"papers/{self.slugs[paper.key]}.md"


@dataclass(frozen=True)
class RelatedPaper:
    """What a paper page shows of a related paper."""

    key: str
    title: str
    last_seen: datetime.date


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
    digest = hashlib.sha256(f"{__version__}\n{site.config!r}\n".encode())
    digest_files(digest, read_folder(site.config.templates))
    digest_files(digest, read_folder(Path(__file__).parent, "*.py"))
    return digest


def listing_entries(site: Site, papers: Iterable[Paper],
                    page_path: str) -> list[tuple[str, str, str]]:
    """(date, link, title) of each paper in a long list, as HTML-escaped text: the link is the
    paper's served URL relative to the page (every paper page is at papers/<slug>/)."""
    prefix = layout.served_link("papers/", page_path)
    return [(layout.short_date(p.last_seen), f"{prefix}{site.slugs[p.key]}/", html_text(p.title))
            for p in papers]


def render_pages(site: Site) -> dict[str, str]:
    """Every Markdown page of the site, keyed by its path in docs_dir."""
    return render_site(site).pages


def render_site(site: Site, previous: dict[str, str] | None = None) -> Rendered:
    """Every Markdown page of the site, except the paper and digest pages whose fingerprint in
    ``previous`` (path -> fingerprint of pages already in docs_dir) is unchanged."""
    env = make_environment(site.config.templates)
    common = {"site": site, "config": site.config}
    pages: dict[str, str] = {}

    def render(template: str, path: str, **context) -> None:
        try:
            pages[path] = env.get_template(template).render({**common, **context},
                                                            page_path=path)
        except jinja2.TemplateError as exc:
            name = getattr(exc, "filename", None) or str(site.config.templates / template)
            raise BuildError(f"template error: {exc}", path=name,
                             line=getattr(exc, "lineno", None),
                             fix="correct the template") from exc

    digests = site.digests
    render("home.md.j2", layout.HOME, latest=digests[0] if digests else None,
           earlier=digests[1: 1 + site.config.home_digests])
    months = [(month, list(group)) for month, group in
              itertools.groupby(digests, key=lambda d: (d.date.year, d.date.month))]
    render("archive.md.j2", layout.ARCHIVE, months=months)
    base = _inputs_digest(site)
    inputs: dict[str, str] = {}
    kept = set()

    def render_kept(template: str, path: str, view: PageView, **context) -> None:
        """Render, unless the page in docs_dir was made from the same inputs."""
        digest = base.copy()
        digest.update(repr((template, path, view, sorted(context.items()))).encode())
        inputs[path] = digest.hexdigest()
        if previous and previous.get(path) == inputs[path]:
            kept.add(path)
        else:
            render(template, path, site=view, **context)

    for index, digest in enumerate(digests):
        render_kept("digest.md.j2", layout.digest_page(digest.date),
                    PageView.of(site, digest.papers, digest.papers), digest=digest,
                    newer=digests[index - 1].date if index > 0 else None,
                    older=digests[index + 1].date if index + 1 < len(digests) else None)
    for paper in site.papers:
        related = tuple(site.by_key[k] for k in site.related.get(paper.key, ()))
        render_kept("paper.md.j2", site.paper_page(paper),
                    PageView.of(site, (paper, *related), (paper,)),
                    paper=paper, related=tuple(RelatedPaper(p.key, p.title, p.last_seen)
                                               for p in related))
    render("tags.md.j2", layout.TAG_INDEX)
    for tag in site.tags:
        path = layout.tag_page(tag.id)
        render("tag.md.j2", path, tag=tag, papers=site.tag_papers[tag.id],
               entries=listing_entries(site, site.tag_papers[tag.id], path))
    render("feeds.md.j2", layout.FEEDS_PAGE)
    render("search.md.j2", layout.SEARCH_PAGE, bundles=search.bundle_names(site))
    return Rendered(pages=pages, kept=frozenset(kept), inputs=inputs)
