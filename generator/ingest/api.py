"""The Hugging Face daily-papers API answer (JSON) -> Digest.

Pure: only processes data. The digest date is the date asked for, else the day the papers were
on the daily list (``paper.submittedOnDailyAt``); never ``publishedAt``, the arXiv date.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter

from generator.errors import ParseError
from generator.ingest.clean import clean_text, find_links
from generator.records import Digest, Paper, normalise_arxiv_id, paper_key
from generator.urls import safe_url


def item_lines(text: str) -> list[int]:
    """The line on which each item of a top-level JSON array starts (for messages)."""
    decoder = json.JSONDecoder()
    lines, index = [], text.index("[") + 1
    # Newlines are counted from the last item on, not from the start: linear in the text.
    line, counted = 1, 0
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index >= len(text) or text[index] == "]":
            return lines
        line += text.count("\n", counted, index)
        counted = index
        lines.append(line)
        _, index = decoder.raw_decode(text, index)


def parse_api(text: str, path: str, date: datetime.date | None = None) -> Digest:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON: {exc.msg} (column {exc.colno})", path=path,
                         line=exc.lineno, fix="pass the API's answer unchanged") from exc
    except RecursionError as exc:
        raise ParseError("JSON nested too deeply to be an answer of the API", path=path, line=1,
                         fix="pass the API's answer unchanged") from exc
    except ValueError as exc:  # an integer of more digits than Python reads
        raise ParseError(f"not an answer of the API: {exc}", path=path, line=1,
                         fix="pass the API's answer unchanged") from exc
    if isinstance(data, dict) and isinstance(data.get("papers"), list):
        data = data["papers"]
    if not isinstance(data, list):
        raise ParseError("expected a JSON list of papers", path=path, line=1,
                         fix="pass the answer of /api/daily_papers unchanged")
    lines = item_lines(text) if data else []
    papers, days = [], Counter()
    for number, (item, line) in enumerate(zip(data, lines, strict=True), start=1):
        if not isinstance(item, dict):
            raise ParseError(f"item {number} is not an object", path=path, line=line,
                             fix="pass the API's answer unchanged")
        paper = item.get("paper") if isinstance(item.get("paper"), dict) else {}
        title = _text(paper.get("title")) or _text(item.get("title"))
        if not title:
            raise ParseError(f"item {number} has no title", path=path, line=line,
                             fix="add a \"title\" to the item, or remove the item")
        abstract = _text(paper.get("summary")) or _text(item.get("summary"))
        arxiv_id = normalise_arxiv_id(_str(paper.get("id")))
        repo, project = safe_url(_str(paper.get("githubRepo"))), \
            safe_url(_str(paper.get("projectPage")))
        links = find_links(abstract) + tuple(u for u in (repo, project) if u)
        for field in ("authors", "ai_keywords"):
            if paper.get(field) is not None and not isinstance(paper[field], list):
                raise ParseError(f"item {number}: '{field}' is not a list", path=path, line=line,
                                 fix="pass the API's answer unchanged")
        authors, accounts = [], []
        for a in paper.get("authors") or ():
            name = clean_text(a["name"]) if isinstance(a, dict) and isinstance(
                a.get("name"), str) else ""
            if not name:
                continue
            authors.append(name)
            account = _account(a.get("user"))
            if account:
                accounts.append((name, account))
        keywords = tuple(clean_text(k) for k in paper.get("ai_keywords") or ()
                         if isinstance(k, str) and k.strip())
        papers.append(Paper(
            key=paper_key(title, arxiv_id), title=title, abstract=abstract, links=links,
            authors=tuple(authors), author_accounts=tuple(accounts), arxiv_id=arxiv_id,
            upvotes=_int(paper.get("upvotes")),
            github_repo=repo, github_stars=_int(paper.get("githubStars")), project_page=project,
            keywords=keywords, summary=_text(paper.get("ai_summary")) or None,
            organization=_organization(paper.get("organization") or item.get("organization")),
            published=_day(paper.get("publishedAt") or item.get("publishedAt")),
            submitter=_person(item.get("submittedBy") or paper.get("submittedOnDailyBy")),
            comments=_int(item.get("numComments")),
            thumbnail=safe_url(_str(item.get("thumbnail")))))
        day = _day(paper.get("submittedOnDailyAt"))
        if day:
            days[day] += 1
    if date is None and days:
        # The day most papers were listed on; a tie goes to the later day.
        date = max(days, key=lambda d: (days[d], d))
    return Digest(date=date, papers=tuple(papers), source="api", origin=path)


def _organization(value: object) -> str | None:
    """The organisation's full name (``{"name": "Beihang", "fullname": "Beihang University"}``)."""
    if isinstance(value, dict):
        value = value.get("fullname") or value.get("name")
    return _text(value) or None


#: A Hugging Face account name: letters, digits and - _ . (as the site allows).
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def _account(user: object) -> str | None:
    """The account of an author who claimed the paper (``{"user": "KouShi2", ...}``)."""
    name = user.get("user") or user.get("name") if isinstance(user, dict) else None
    return name if isinstance(name, str) and _ACCOUNT.fullmatch(name) else None


def _person(user: object) -> str | None:
    """What a person who submitted the paper calls themselves (full name, else account)."""
    if not isinstance(user, dict):
        return None
    return _text(user.get("fullname")) or _text(user.get("name")) or None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _day(value: object) -> datetime.date | None:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
