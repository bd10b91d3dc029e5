"""The archive's own YAML (one file per digest day) <-> Digest.

Pure: only processes data. The same format serves the archive in ``content/digests/`` and
``digest ingest --format yaml``, so a person can add or correct a paper by hand::

    date: 2026-03-11
    source: page
    papers:
    - rank: 1
      key: 2603.04511
      title: "EoRA: Training-free Compensation for Compressed LLM ..."
      abstract: In this work, we ...
      tags: [compression]          # tags set by hand are kept
"""

from __future__ import annotations

import datetime
import re

import yaml

from generator import yamlfile
from generator.errors import ParseError, raise_all
from generator.ingest.clean import clean_text, find_links
from generator.records import Digest, Paper, day_problem, normalise_arxiv_id, paper_key
from generator.urls import safe_url

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

DIGEST_FIELDS = ("date", "source", "papers")
#: Paper fields in the order they are written.
PAPER_FIELDS = ("rank", "key", "title", "abstract", "arxiv_id", "authors", "author_accounts",
                "links", "upvotes", "github_repo", "github_stars", "project_page", "keywords",
                "summary", "organization", "published", "submitter", "comments", "thumbnail",
                "tags")
_LISTS = ("authors", "links", "keywords", "tags")
#: A paper's key: printable, no space (keys become file names and URLs, and are printed).
_KEY = re.compile(r"[^\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                  r"\ud800-\udfff]{1,2000}")
_INTS = ("rank", "upvotes", "github_stars", "comments")


def parse_yaml(text: str, path: str) -> Digest:
    data = yamlfile.load(text, path)
    if not isinstance(data, dict):
        raise ParseError("expected a mapping with 'date' and 'papers'", path=path, line=1,
                         fix="start the file with 'date: YYYY-MM-DD' and 'papers:'")
    errors: list[ParseError] = []
    line = data.pop(yamlfile.LINE, 1)
    for name in data:
        if name not in DIGEST_FIELDS:
            errors.append(ParseError(f"unknown field '{name}'", path=path, line=line,
                                     fix=yamlfile.did_you_mean(name, DIGEST_FIELDS)))
    date = data.get("date")
    if isinstance(date, str):
        try:
            date = datetime.date.fromisoformat(date)
        except ValueError:
            date = "bad"
    if date is not None and type(date) is not datetime.date:
        errors.append(ParseError(f"'date' must be a day, got {data.get('date')!r}", path=path,
                                 line=line, fix="write it as YYYY-MM-DD"))
        date = None
    elif date is not None and day_problem(date):
        errors.append(ParseError(day_problem(date), path=path, line=line,
                                 fix="correct the date (YYYY-MM-DD)"))
        date = None
    items = data.get("papers")
    if not isinstance(items, list):
        errors.append(ParseError("'papers' is missing or not a list", path=path, line=line,
                                 fix="list the papers under 'papers:', one '- title: ...' each"))
        items = []
    ranked = []
    for position, item in enumerate(items, start=1):
        try:
            ranked.append(_paper(item, path, position, line))
        except ParseError as exc:
            errors.append(exc)
    keys: dict[str, int] = {}
    for _, paper, paper_line in ranked:
        first = keys.setdefault(paper.key, paper_line)
        if first != paper_line:
            errors.append(ParseError(f"two papers have the key '{paper.key}' (first at line "
                                     f"{first})", path=path, line=paper_line,
                                     fix="give each paper its own key, or merge the two"))
    raise_all(errors)
    ranked.sort(key=lambda item: item[0])
    papers = tuple(p for _, p, _ in ranked)
    digest = Digest(date=date, papers=papers, source=str(data.get("source") or "yaml"),
                    origin=path)
    return digest.with_date(date) if date is not None else digest


def _paper(item: object, path: str, position: int,
           parent_line: int) -> tuple[int, Paper, int]:
    if not isinstance(item, dict):
        raise ParseError(f"paper {position} is not a mapping", path=path, line=parent_line,
                         fix="write each paper as '- title: ...' with its fields indented")
    line = item.pop(yamlfile.LINE, parent_line)
    for name in item:
        if name not in PAPER_FIELDS:
            raise ParseError(f"unknown field '{name}'", path=path, line=line,
                             fix=yamlfile.did_you_mean(name, PAPER_FIELDS))
    cleaned = {}
    for name in ("title", "abstract"):
        cleaned[name] = clean_text(item[name]) if isinstance(item.get(name), str) else ""
        if not cleaned[name]:
            raise ParseError(f"{name} missing", path=path, line=line,
                             fix=f"give paper {position} a '{name}:' with text")
    for name in _LISTS:
        value = item.get(name)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value)):
            raise ParseError(f"'{name}' must be a list of text", path=path, line=line,
                             fix=f"write it as {name}: [first, second]")
    for name in _INTS:
        value = item.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ParseError(f"'{name}' must be a whole number, got {value!r}", path=path,
                             line=line, fix=f"correct '{name}' or remove it")
    accounts = item.get("author_accounts")
    if accounts is not None and not (isinstance(accounts, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in accounts.items()
            if k != yamlfile.LINE)):
        raise ParseError("'author_accounts' must map author names to account names", path=path,
                         line=line, fix="write it as author_accounts: {Author Name: account}")
    published = item.get("published")
    if published is not None and type(published) is not datetime.date:
        raise ParseError(f"'published' must be a day, got {published!r}", path=path, line=line,
                         fix="write it as YYYY-MM-DD")
    for name in ("key", "arxiv_id", "github_repo", "project_page", "summary", "organization",
                 "submitter", "thumbnail"):
        value = item.get(name)
        if isinstance(value, float):
            # YAML reads an unquoted 2603.04510 as the number 2603.0451: the id would change.
            raise ParseError(f"'{name}' is read as a number", path=path, line=line,
                             fix=f"put it in quotes: {name}: '{value}'")
        if value is not None and not isinstance(value, (str, int)):
            raise ParseError(f"'{name}' must be text", path=path, line=line,
                             fix=f"correct '{name}' or remove it")
    title, abstract = cleaned["title"], cleaned["abstract"]
    key = _s(item.get("key"))
    if key is not None and not _KEY.fullmatch(key):
        raise ParseError(f"the key {key[:60]!r} holds a space or a control character, or is "
                         "longer than 2000 characters", path=path, line=line,
                         fix="a key is its arXiv id, or letters and digits joined by hyphens")
    arxiv_id = normalise_arxiv_id(_s(item.get("arxiv_id")))
    links = tuple(u for u in (safe_url(x) for x in item.get("links") or ()) if u)
    paper = Paper(
        key=key or paper_key(title, arxiv_id),
        title=title, abstract=abstract,
        links=links + find_links(abstract),
        authors=tuple(clean_text(a) for a in item.get("authors") or () if clean_text(a)),
        arxiv_id=arxiv_id, upvotes=item.get("upvotes"),
        github_repo=safe_url(_s(item.get("github_repo"))),
        github_stars=item.get("github_stars"),
        project_page=safe_url(_s(item.get("project_page"))),
        keywords=tuple(clean_text(k) for k in item.get("keywords") or ()),
        summary=clean_text(str(item["summary"])) or None if item.get("summary") else None,
        organization=clean_text(str(item["organization"])) or None
        if item.get("organization") else None,
        author_accounts=tuple((clean_text(k), v.strip()) for k, v in (accounts or {}).items()
                              if k != yamlfile.LINE and clean_text(k) and v.strip()),
        published=published,
        submitter=clean_text(str(item["submitter"])) or None if item.get("submitter") else None,
        comments=item.get("comments"),
        thumbnail=safe_url(_s(item.get("thumbnail"))),
        tags=tuple(clean_text(t) for t in item.get("tags") or ()),
    )
    return item.get("rank") or position, paper, line


def _s(value: object) -> str | None:
    return str(value).strip() if value is not None and str(value).strip() else None


def dump_digest(digest: Digest) -> str:
    """Digest -> YAML text: fields in a fixed order, empty ones left out, written by the YAML
    dumper (never by string formatting), so any text stays text."""
    papers = []
    for rank, paper in enumerate(digest.papers, start=1):
        record = {"rank": rank}
        for name in PAPER_FIELDS[1:]:
            value = getattr(paper, name)
            if value in (None, "", ()):
                continue
            if name == "author_accounts":
                value = dict(value)
            record[name] = list(value) if isinstance(value, tuple) else value
        papers.append(record)
    body = yaml.dump({"date": digest.date, "source": digest.source, "papers": papers},
                     Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return (f"# The digest of {digest.date.isoformat()}: papers in rank order. "
            "Corrections by hand are kept by `digest ingest`.\n" + body)
