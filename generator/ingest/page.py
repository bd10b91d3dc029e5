"""The Hugging Face papers page saved as text -> Digest.

Pure: only processes data. Two layouts are known:

(a) no blank lines and no date; two header lines, then the first title glued to "Subscribe";
(b) blank-line separated; a header ("new", "Get trending papers in your email inbox!",
    "Subscribe", "byAK and the research community") and a date line such as "Mar 11".

After the header, titles and abstracts alternate, one per line.
"""

from __future__ import annotations

import datetime
import re

from generator.errors import ParseError
from generator.ingest.clean import clean_text, find_links
from generator.records import Digest, Paper, paper_key

_HEADER = {
    "new",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
    "subscribe",
    "byak and the research community",
    "daily papers",
}
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_DATE_LINE = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+([0-9]{1,2})(?:,?\s+([0-9]{4}))?$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")

#: A title longer than this, or this long and of several sentences, is taken for an abstract.
MAX_TITLE, LONG_TITLE = 400, 150
#: An abstract shorter than this, of one sentence, is taken for a title.
MIN_ABSTRACT = 80
_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-Z]")


def resolve_date(month: int, day: int, reference: datetime.date) -> datetime.date:
    """The latest ``month``/``day`` not after ``reference``: "Dec 31" read on 2 January is
    last year's; "Feb 29" goes back to the last leap year."""
    for year in range(reference.year, reference.year - 9, -1):
        try:
            candidate = datetime.date(year, month, day)
        except ValueError:
            continue
        if candidate <= reference:
            return candidate
    raise ValueError(f"no such day: {month}/{day}")


def _parse_date_line(text: str, reference: datetime.date) -> datetime.date | None:
    iso = _ISO_DATE.match(text)
    if iso:
        return datetime.date(*map(int, iso.groups()))
    match = _DATE_LINE.match(text)
    if not match or match.group(1).lower() not in _MONTHS:
        return None
    month, day = _MONTHS[match.group(1).lower()], int(match.group(2))
    if match.group(3):
        return datetime.date(int(match.group(3)), month, day)
    return resolve_date(month, day, reference)


def _looks_like_date(text: str) -> bool:
    """A date line, whether or not it names a real day ("Mar 11", "Sept 31", "2026-03-11")."""
    match = _DATE_LINE.match(text)
    return bool(_ISO_DATE.match(text) or (match and match.group(1).lower() in _MONTHS))


def _looks_like_abstract(text: str) -> bool:
    return len(text) > MAX_TITLE or (len(text) > LONG_TITLE
                                     and _SENTENCE_BREAK.search(text) is not None)


def _looks_like_title(text: str) -> bool:
    return len(text) < MIN_ABSTRACT and _SENTENCE_BREAK.search(text) is None


def parse_page(text: str, path: str, reference: datetime.date) -> Digest:
    """Page text -> Digest. The date is None when the page shows none (layout (a))."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip()]
    date = None
    body: list[tuple[int, str]] = []
    in_header = True
    for n, line in lines:
        if in_header:
            lowered = line.casefold()
            if lowered in _HEADER:
                continue
            try:
                parsed = _parse_date_line(line, reference)
            except ValueError as exc:
                raise ParseError(f"'{line}' is not a day of the year", path=path, line=n,
                                 fix="correct the date line, e.g. 'Mar 11'") from exc
            if parsed is not None:
                date = parsed
                continue
            # Layout (a): the first title is glued to the word "Subscribe".
            if line.startswith("Subscribe") and len(line) > len("Subscribe"):
                line = line[len("Subscribe"):].strip()
            in_header = False
        body.append((n, line))

    if not body:
        raise ParseError("the page has a header but no papers", path=path,
                         line=lines[-1][0] if lines else 1,
                         fix="save the whole page, titles and abstracts included")
    papers = []
    for i in range(0, len(body), 2):
        title_line, title = body[i]
        if i + 1 >= len(body):
            raise ParseError(f"the last title has no abstract: '{_short(title)}'", path=path,
                             line=title_line, fix="add its abstract on the next line, or remove it")
        abstract_line, abstract = body[i + 1]
        if title.casefold() in _HEADER or _looks_like_date(title):
            what = "a line of the page's header" if title.casefold() in _HEADER else "a date"
            raise ParseError(f"expected a title, found {what}: '{_short(title)}'", path=path,
                             line=title_line, fix="a page holds one header, before its papers; "
                                                  "remove this line")
        if _looks_like_abstract(title):
            raise ParseError(f"expected a title, found a paragraph of {len(title)} characters",
                             path=path, line=title_line,
                             fix="titles and abstracts must alternate; add the missing title")
        if _looks_like_title(abstract):
            raise ParseError(f"expected the abstract of '{_short(title)}', found another title "
                             f"'{_short(abstract)}'", path=path, line=abstract_line,
                             fix="titles and abstracts must alternate; add the missing abstract")
        title, abstract = clean_text(title), clean_text(abstract)
        if not title:
            raise ParseError("this title has no visible characters", path=path, line=title_line,
                             fix="correct or remove the title")
        papers.append(Paper(key=paper_key(title, None), title=title, abstract=abstract,
                            links=find_links(abstract)))
    return Digest(date=date, papers=tuple(papers), source="page", origin=path)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
