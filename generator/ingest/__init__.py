"""Readers: one per input format, each text -> Digest (pure).

:func:`read_digest` picks the reader and settles the digest date.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from generator.errors import ParseError
from generator.ingest.api import parse_api
from generator.ingest.clean import decode
from generator.ingest.page import parse_page
from generator.ingest.yaml_records import parse_yaml
from generator.records import Digest, day_problem

FORMATS = ("text", "api", "yaml")


def detect_format(path: str, text: str) -> str:
    """By the file's ending, else by its first character: JSON is the API, a YAML mapping with
    ``date:`` or ``papers:`` is our own record format, anything else is page text."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return "api"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    head = text.lstrip()[:200]
    if head.startswith(("[", "{")):
        return "api"
    if head.startswith(("date:", "papers:", "source:", "---", "#")):
        return "yaml"
    return "text"


_NAMED_DATE = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")


def _date_in_name(path: str) -> datetime.date | None:
    """The day a file is named for (``2026-03-11.json``, ``digest-2026-03-11.txt``)."""
    match = _NAMED_DATE.search(Path(path).name)
    try:
        return datetime.date(*map(int, match.groups())) if match else None
    except ValueError:
        return None


def read_digest(data: bytes, path: str, *, fmt: str | None = None,
                date: datetime.date | None = None,
                today: datetime.date | None = None) -> tuple[Digest, list[str]]:
    """Bytes of one input file -> a dated Digest and any warnings.

    ``date`` is ``--date``: the digest day for the API (the day asked for) and for a page that
    shows no date, and the reference for a page date without a year ("Dec 31" read on 2
    January is last year's). A digest that says no date and has none given takes the date its
    file is named for (``2026-03-11.json``); with no date at all it is an error."""
    text, warning = decode(data, path)
    warnings = [warning] if warning else []
    fmt = fmt or detect_format(path, text)
    if date is not None and day_problem(date):
        raise ParseError(day_problem(date), path=path, fix="pass another --date (YYYY-MM-DD)")
    if fmt == "api":
        # The day asked for: --date, else the day the file is named for, else the day its
        # papers were listed on.
        digest = parse_api(text, path, date or _date_in_name(path))
    elif fmt == "yaml":
        digest = parse_yaml(text, path)
        digest = digest if digest.date or date is None else digest.with_date(date)
    elif fmt == "text":
        digest = parse_page(text, path, reference=date or today or datetime.date.today())
        if digest.date is None and date is not None:
            digest = digest.with_date(date)
    else:
        raise ParseError(f"unknown format '{fmt}'", path=path, fix="use text, api or yaml")
    if digest.date is None and (named := _date_in_name(path)):
        digest = digest.with_date(named)
    if digest.date is None:
        if digest.papers:
            raise ParseError("no date in digest", path=path, line=1,
                             fix="pass --date YYYY-MM-DD")
    elif day_problem(digest.date):
        raise ParseError(day_problem(digest.date), path=path, line=1,
                         fix="correct the date, or pass --date YYYY-MM-DD")
    elif any(not p.appearances for p in digest.papers):
        digest = digest.with_date(digest.date)
    return digest, warnings
