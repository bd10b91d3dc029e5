"""Site -> {path in docs_dir: bytes}: the archive as open data.

Pure: only processes data. Deterministic: keys in a fixed order, no timestamps (the gzip
header's time is zero). Three kinds of file:

- ``digests/YYYY-MM-DD.json`` beside each day's page: the day's papers in rank order, with
  their keys, titles, addresses, topics and counts (``DAY_FIELDS``; the rest is in the dump);
- ``data/papers.jsonl.gz``: every paper of the archive, one JSON object a line, newest first
  (one gzip member for each month of the papers' last days, read by any gzip reader as one);
- ``data/paper.schema.json``: the JSON Schema of one line of the dump.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import zlib

from generator import layout
from generator.layout import Site, summary_of
from generator.records import Paper

#: Bumped when a field changes meaning or goes; new fields may come without it.
FORMAT = 1

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "paper.schema.json",
    "title": "A paper of the paper-digest archive",
    "description": "One line of papers.jsonl.gz: a paper that appeared on one or more daily "
                   "digests. Fields without a value are left out.",
    "type": "object",
    "required": ["format", "key", "title", "abstract", "url", "appearances", "tags"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT, "description": "Version of this schema."},
        "key": {"type": "string", "description": "Permanent identity: the arXiv id when known, "
                                                 "else the title without case and punctuation."},
        "title": {"type": "string"},
        "abstract": {"type": "string"},
        "summary": {"type": "string", "description": "One line: the source's, else the "
                                                     "abstract's first sentence."},
        "url": {"type": "string", "format": "uri", "description": "The paper's page."},
        "arxiv_id": {"type": "string"},
        "authors": {"type": "array", "items": {"type": "string"}},
        "author_accounts": {"type": "object", "additionalProperties": {"type": "string"},
                            "description": "Author name -> Hugging Face account, for the "
                                           "authors who claimed the paper there."},
        "organization": {"type": "string"},
        "published": {"type": "string", "format": "date", "description": "The arXiv date."},
        "submitter": {"type": "string", "description": "Who put it on the list."},
        "comments": {"type": "integer", "description": "Comments on its Hugging Face page "
                                                      "when the list was read."},
        "thumbnail": {"type": "string", "format": "uri"},
        "appearances": {
            "type": "array", "minItems": 1, "description": "Every digest the paper was on.",
            "items": {"type": "object", "required": ["date", "rank"],
                      "additionalProperties": False,
                      "properties": {"date": {"type": "string", "format": "date"},
                                     "rank": {"type": "integer", "minimum": 1}}}},
        "tags": {"type": "array", "items": {"type": "string"},
                 "description": "Topic ids (the site's tags/<id>/ pages)."},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "upvotes": {"type": "integer"},
        "github_repo": {"type": "string", "format": "uri"},
        "github_stars": {"type": "integer"},
        "project_page": {"type": "string", "format": "uri"},
        "links": {"type": "array", "items": {"type": "string", "format": "uri"}},
    },
}


def record(site: Site, paper: Paper) -> dict:
    """A paper as one line of the dump (see ``SCHEMA``)."""
    data = {"format": FORMAT, "key": paper.key, "title": paper.title, "abstract": paper.abstract,
            "summary": summary_of(paper), "url": site.paper_url(paper),
            "arxiv_id": paper.arxiv_id, "authors": list(paper.authors),
            "author_accounts": dict(paper.author_accounts),
            "organization": paper.organization,
            "published": paper.published.isoformat() if paper.published else None,
            "submitter": paper.submitter, "comments": paper.comments,
            "thumbnail": paper.thumbnail,
            "appearances": [{"date": a.date.isoformat(), "rank": a.rank}
                            for a in paper.appearances],
            "tags": list(paper.tags), "keywords": list(paper.keywords),
            "upvotes": paper.upvotes, "github_repo": paper.github_repo,
            "github_stars": paper.github_stars, "project_page": paper.project_page,
            "links": list(paper.links)}
    required = SCHEMA["required"]
    return {k: v for k, v in data.items() if k in required or v not in (None, [], "", {})}


#: What a day's JSON says of each paper (the rest, the abstract above all, is in the dump).
DAY_FIELDS = ("key", "title", "url", "arxiv_id", "tags", "upvotes", "github_stars",
              "github_repo")


def day(site: Site, digest) -> dict:
    papers = []
    for rank, paper in enumerate(digest.papers, start=1):
        line = record(site, paper)
        papers.append({"rank": rank, **{k: line[k] for k in DAY_FIELDS if k in line}})
    return {"format": FORMAT, "date": digest.date.isoformat(),
            "url": site.absolute(layout.digest_page(digest.date)), "papers": papers}


def _json(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def dump(site: Site, previous: bytes = b"") -> bytes:
    """Every paper, one JSON line each, gzip-compressed with no timestamp in it: one gzip
    member for the papers last listed in each month (newest first), which any gzip reader
    reads as one stream. A month whose lines are those of a member of ``previous`` (the dump
    a build wrote before) keeps that member's compressed bytes: a new day compresses its own
    month again, not the archive."""
    known = _members(previous)
    parts = []
    for _, group in itertools.groupby(site.papers, key=lambda p: layout.month_of(p.last_seen)
                                      if p.appearances else ""):
        text = b"".join(_json(record(site, paper)) for paper in group)
        parts.append(known.get(hashlib.sha256(text).digest())
                     or gzip.compress(text, compresslevel=6, mtime=0))
    return b"".join(parts) or gzip.compress(b"", compresslevel=6, mtime=0)


def _members(data: bytes) -> dict[bytes, bytes]:
    """The gzip members of ``data`` by the SHA-256 of what each holds; what does not read
    as gzip is left out."""
    members: dict[bytes, bytes] = {}
    while data:
        reader = zlib.decompressobj(wbits=31)
        try:
            text = reader.decompress(data)
        except zlib.error:
            break
        if not reader.eof:
            break
        used = len(data) - len(reader.unused_data)
        members[hashlib.sha256(text).digest()] = data[:used]
        data = reader.unused_data
    return members


def render_data(site: Site, previous_dump: bytes = b"") -> dict[str, bytes]:
    """The open data files; ``previous_dump`` is the dump of the last build (see ``dump``)."""
    out = {layout.day_data(d.date): _json(day(site, d)) for d in site.digests}
    out[layout.DUMP] = dump(site, previous_dump)
    out[layout.DUMP_SCHEMA] = (json.dumps(SCHEMA, indent=1) + "\n").encode("utf-8")
    return out
