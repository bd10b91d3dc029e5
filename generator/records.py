"""Paper and Digest records, and the rules that merge them into one archive.

Pure: only processes data. Records are frozen; change one with ``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# ASCII digits only: a fullwidth or Arabic-Indic "2502.00001" is not an arXiv id (it would
# give a second paper whose address looks like the real one's).
_ARXIV_ID = re.compile(r"(?:arxiv:)?([0-9]{4}\.[0-9]{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/[0-9]{7})"
                       r"(?:v[0-9]+)?", re.IGNORECASE | re.ASCII)


def normalise_arxiv_id(value: str | None) -> str | None:
    """``arXiv:2603.04511v2`` -> ``2603.04511``; anything that is not an arXiv id -> None."""
    if not value:
        return None
    match = _ARXIV_ID.fullmatch(value.strip())
    return match.group(1) if match else None


def title_identity(title: str) -> str:
    """The title with case, punctuation and spacing ignored: two papers whose titles give the
    same identity are the same paper. Letters of every script are kept."""
    text = unicodedata.normalize("NFKC", title).casefold()
    words = re.findall(r"[^\W_]+", text)
    return "-".join(words)


#: The longest key a new paper is given (keys written by earlier versions may be longer).
MAX_KEY = 200


def paper_key(title: str, arxiv_id: str | None) -> str:
    """Stable identity of a new paper: its arXiv id when known, else its title identity.

    Only for papers the archive has not seen: a known paper keeps the key it was given first
    (see :func:`assign_keys`), so its URL never changes. A title identity longer than
    ``MAX_KEY`` characters is cut and ends in a hash of the whole, so keys stay short and two
    long titles keep two keys."""
    key = arxiv_id or title_identity(title) or "untitled"
    if len(key) > MAX_KEY:
        key = f"{key[:MAX_KEY - 9].rstrip('-')}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
    return key


#: The days a digest can have: arXiv began in 1991, and nothing is dated in the year 3000.
FIRST_DAY, LAST_DAY = datetime.date(1991, 1, 1), datetime.date(2999, 12, 31)


def day_problem(date: datetime.date) -> str | None:
    """Why ``date`` cannot be a digest day, or None."""
    if not FIRST_DAY <= date <= LAST_DAY:
        return f"{date} is not a day of a digest (they lie between {FIRST_DAY.year} and " \
               f"{LAST_DAY.year})"
    return None


@dataclass(frozen=True, order=True)
class Appearance:
    #: The digest day.
    date: datetime.date
    #: 1-based position in that day's digest.
    rank: int


@dataclass(frozen=True)
class Paper:
    #: Stable identity: arXiv id when known, else the title identity. Never changes once published.
    key: str
    title: str
    abstract: str
    #: Every digest the paper appeared in, ascending by date.
    appearances: tuple[Appearance, ...] = ()
    #: Code and project URLs found in the abstract or given by the source, in order of first sight.
    links: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    arxiv_id: str | None = None
    upvotes: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    #: Keywords given by the source (the API's ``ai_keywords``).
    keywords: tuple[str, ...] = ()
    #: A one-sentence summary given by the source (the API's ``ai_summary``).
    summary: str | None = None
    #: The organisation the source names for the paper (the API's ``organization``).
    organization: str | None = None
    #: (author name, Hugging Face account) of the authors who claimed the paper there: the
    #: account tells namesakes apart, a name alone does not.
    author_accounts: tuple[tuple[str, str], ...] = ()
    #: The arXiv date (the API's ``publishedAt``).
    published: datetime.date | None = None
    #: Who put the paper on the list (the API's ``submittedBy``), as they call themselves.
    submitter: str | None = None
    #: Comments on its Hugging Face page when the list was read (the API's ``numComments``).
    comments: int | None = None
    #: The image the list shows for it (the API's ``thumbnail``), an http(s) URL.
    thumbnail: str | None = None
    #: Tag ids. In the archive: tags set by hand. After tagging: hand-set plus matched.
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # One appearance a day: a paper listed twice on one day keeps its better rank.
        best: dict[datetime.date, Appearance] = {}
        for a in sorted(set(self.appearances)):
            best.setdefault(a.date, a)
        object.__setattr__(self, "appearances", tuple(best.values()))
        object.__setattr__(self, "links", _unique(self.links))
        object.__setattr__(self, "authors", tuple(self.authors))
        object.__setattr__(self, "keywords", _unique(self.keywords))
        object.__setattr__(self, "author_accounts", tuple(dict(self.author_accounts).items()))
        object.__setattr__(self, "tags", _unique(self.tags))

    def with_tags(self, tags: Iterable[str]) -> Paper:
        """The paper with these tags (repeats dropped); the rest is taken as it is, not
        checked again (``dataclasses.replace`` would: a third of what `digest list` costs)."""
        paper = object.__new__(type(self))
        paper.__dict__.update(self.__dict__)  # (copy.copy, at a third of its cost)
        paper.__dict__["tags"] = _unique(tags)
        return paper

    @property
    def dates(self) -> tuple[datetime.date, ...]:
        return tuple(sorted({a.date for a in self.appearances}))

    @property
    def first_seen(self) -> datetime.date:
        return self.appearances[0].date

    @property
    def last_seen(self) -> datetime.date:
        return self.appearances[-1].date

    @property
    def identity(self) -> str:
        return title_identity(self.title)


@dataclass(frozen=True)
class Digest:
    #: The digest day; None when the source did not say (page layout (a)) and no --date was given.
    date: datetime.date | None
    #: Papers in rank order; each carries its appearance on this day once the date is known.
    papers: tuple[Paper, ...]
    #: Where it came from: "page", "api" or "yaml".
    source: str = "page"
    #: For messages: the file it was read from.
    origin: str = field(default="", compare=False)

    def with_date(self, date: datetime.date) -> Digest:
        """The same digest on ``date``: every paper appears once, at its rank."""
        papers = tuple(
            dataclasses.replace(p, appearances=(Appearance(date, rank),))
            for rank, p in enumerate(self.papers, start=1)
        )
        return dataclasses.replace(self, date=date, papers=papers)


@dataclass(frozen=True)
class Archive:
    """The whole archive as read from ``content/`` (see archive.py, its store)."""

    #: Every digest day, oldest first.
    digests: tuple[Digest, ...]
    #: Every paper once, newest first (see ``sort_newest_first``).
    papers: tuple[Paper, ...]
    #: Paper key -> a print of every file the paper was read from (their bytes, oldest
    #: first): it changes whenever the paper as merged may (see ``source_prints``).
    prints: dict[str, str] = field(default_factory=dict, compare=False)


def digest_to_data(digest: Digest) -> dict:
    """A dated digest as plain JSON data (the build cache keeps parsed archive days so)."""
    papers = []
    for paper in digest.papers:
        data = {}
        for f in dataclasses.fields(Paper):
            value = getattr(paper, f.name)
            if value in (None, "", ()):
                continue
            if f.name == "appearances":
                value = [[a.date.isoformat(), a.rank] for a in value]
            elif f.name == "published":
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            data[f.name] = value
        papers.append(data)
    return {"date": digest.date.isoformat(), "source": digest.source, "papers": papers}


def digest_from_data(data: object, origin: str = "") -> Digest | None:
    """The digest ``digest_to_data`` made, or None if ``data`` is not one."""
    try:
        papers = []
        for item in data["papers"]:
            values = dict(item)
            values["appearances"] = tuple(
                Appearance(datetime.date.fromisoformat(d), int(r))
                for d, r in values.get("appearances", ()))
            if "published" in values:
                values["published"] = datetime.date.fromisoformat(values["published"])
            if "author_accounts" in values:
                values["author_accounts"] = tuple(tuple(a) for a in values["author_accounts"])
            for name in ("links", "authors", "keywords", "tags"):
                if name in values:
                    values[name] = tuple(values[name])
            papers.append(Paper(**values))
        return Digest(date=datetime.date.fromisoformat(data["date"]), papers=tuple(papers),
                      source=str(data["source"]), origin=origin)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return tuple(seen)


def merge_paper(old: Paper, new: Paper) -> Paper:
    """One paper seen twice. Appearances, links, keywords and hand-set tags are united; for the
    other fields a non-empty value from ``new`` (the later digest) wins, so a correction made by
    hand in a later digest file takes effect. The key is always ``old``'s."""
    updates = {}
    for f in dataclasses.fields(Paper):
        name = f.name
        if name == "key":
            continue
        a, b = getattr(old, name), getattr(new, name)
        if name in ("appearances", "links", "keywords", "tags"):
            updates[name] = tuple(a) + tuple(b)
        elif name == "author_accounts":
            updates[name] = tuple({**dict(a), **dict(b)}.items())
        elif b not in (None, "", ()):
            updates[name] = b
    return dataclasses.replace(old, **updates)


def merge_digests(digests: Iterable[Digest]) -> list[Paper]:
    """Every paper of the archive once, with all its appearances.

    Digests are applied in date order so that later values win (see :func:`merge_paper`).
    The result is sorted newest first by (last date, rank), then key: the order of listings."""
    papers: dict[str, Paper] = {}
    for digest in sorted(digests, key=lambda d: d.date or datetime.date.min):
        for paper in digest.papers:
            papers[paper.key] = merge_paper(papers[paper.key], paper) if paper.key in papers \
                else paper
    return sort_newest_first(papers.values())


def source_prints(digests: Iterable[tuple[Digest, str]]) -> dict[str, str]:
    """Paper key -> a print of the files it was read from, given each digest with a digest of
    its file's bytes. A merged paper is made only of the days it appears in (see
    :func:`merge_digests`), so the print changes whenever the paper may: it stands for all of
    its fields but its tags, without reading them."""
    files: dict[str, list[str]] = {}
    for digest, sha in sorted(digests, key=lambda item: item[0].date or datetime.date.min):
        for paper in digest.papers:
            files.setdefault(paper.key, []).append(sha)
    return {key: hashlib.blake2b(" ".join(shas).encode(), digest_size=12).hexdigest()
            for key, shas in files.items()}


def printed_from(sources: Mapping[str, str] | None, paper: Paper, *more: object) -> str | None:
    """A print of ``paper`` and ``more`` from its key and the print of the files it was read
    from (``sources``: see :func:`source_prints`), or None when there is none: a few bytes to
    hash in place of all of the paper's fields. The papers of one file share that file's
    print: the key tells them apart."""
    source = sources.get(paper.key) if sources else None
    if source is None:
        return None
    return hashlib.blake2b(repr((paper.key, source, *more)).encode("utf-8", "surrogatepass"),
                           digest_size=12).hexdigest()


def sort_newest_first(papers: Iterable[Paper]) -> list[Paper]:
    """Newest first: by the last day a paper appeared (descending), then its rank that day,
    then key, so the order is total and stable."""
    def order(p: Paper):
        last = p.appearances[-1] if p.appearances else Appearance(datetime.date.min, 0)
        return (-last.date.toordinal(), last.rank, p.key)
    return sorted(papers, key=order)


def assign_keys(digest: Digest, known: Iterable[Paper]) -> Digest:
    """Give each paper of an incoming digest the key the archive already uses for it.

    A paper is the same as a known one when the arXiv ids agree, else when the title
    identities agree and at most one of the two has an arXiv id: an arXiv id is an identity,
    so two papers with two ids are two papers, whatever their titles. An unknown paper keeps
    the key it was read with. Papers repeated within the digest are merged into their first
    place."""
    by_arxiv: dict[str, str] = {}
    by_title: dict[str, list[str]] = {}
    #: The arXiv id each key has by now (a paper read without one may gain it here).
    ids: dict[str, str | None] = {}

    def remember(paper: Paper, key: str) -> None:
        if paper.arxiv_id:
            by_arxiv.setdefault(paper.arxiv_id, key)
        if key not in ids:
            by_title.setdefault(paper.identity, []).append(key)
        ids[key] = ids.get(key) or paper.arxiv_id

    for p in known:
        remember(p, p.key)
    out: dict[str, Paper] = {}
    for paper in digest.papers:
        key = by_arxiv.get(paper.arxiv_id or "") or next(
            (k for k in by_title.get(paper.identity, ())
             if not ids[k] or not paper.arxiv_id or ids[k] == paper.arxiv_id), paper.key)
        paper = dataclasses.replace(paper, key=key)
        out[key] = merge_paper(out[key], paper) if key in out else paper
        remember(out[key], key)
    return dataclasses.replace(digest, papers=tuple(out.values()))
