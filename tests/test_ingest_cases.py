"""Parser cases as pairs: tests/data/ingest/<case>.<ext> beside <case>.expected.json.

The expected file holds the options of the case ("options": date, today, format) and either the
digest read ("date", "papers", "warnings") or the exact error message ("error").
Regenerate with ``pytest --update-golden`` and review the diff.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from generator.errors import DigestError
from generator.ingest import read_digest

CASES = Path(__file__).parent / "data" / "ingest"
INPUTS = sorted(p for p in CASES.iterdir() if not p.name.endswith(".expected.json"))

#: Options of a new case, used when its expected file is first written.
NEW_CASE_OPTIONS = {
    "layout_a_no_date": {"date": "2026-03-02"},
    "layout_b_with_date": {"today": "2026-11-23"},
    "layout_b_year_rollover": {"date": "2027-01-02"},
    "tex_remnants_and_links": {"today": "2026-11-23"},
    "crlf_and_bom": {"today": "2026-11-23"},
    "cp1252_text": {"today": "2026-11-23"},
    "repeated_paper_same_day": {"today": "2026-11-23"},
    "error_header_without_papers": {"today": "2026-11-23"},
    "error_last_title_without_abstract": {"today": "2026-11-23"},
    "error_titles_and_abstracts_unpaired": {"today": "2026-11-23"},
    "error_bad_date_line": {"today": "2026-11-23"},
    "error_header_line_as_title": {"today": "2026-11-23"},
    "error_date_line_as_title": {"today": "2026-11-23"},
    "error_mixed_encoding": {"today": "2026-11-23"},
    "error_api_authors_not_a_list": {"date": "2026-03-06"},
    "error_api_nested_too_deeply": {"date": "2026-03-06"},
}


def _paper_json(paper) -> dict:
    out = {"key": paper.key, "title": paper.title, "abstract": paper.abstract,
           "appearances": [[a.date.isoformat(), a.rank] for a in paper.appearances]}
    for name in ("links", "authors", "author_accounts", "arxiv_id", "upvotes", "github_repo",
                 "github_stars", "project_page", "keywords", "summary", "organization",
                 "published", "submitter", "comments", "thumbnail", "tags"):
        value = getattr(paper, name)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        if value not in (None, (), ""):
            out[name] = [list(v) if isinstance(v, tuple) else v for v in value] \
                if isinstance(value, tuple) else value
    return out


def run_case(path: Path, options: dict) -> dict:
    date = options.get("date")
    today = options.get("today")
    try:
        digest, warnings = read_digest(
            path.read_bytes(), path.name, fmt=options.get("format"),
            date=datetime.date.fromisoformat(date) if date else None,
            today=datetime.date.fromisoformat(today) if today else None)
    except DigestError as exc:
        return {"options": options, "error": str(exc)}
    return {"options": options, "date": digest.date.isoformat() if digest.date else None,
            "source": digest.source, "warnings": warnings,
            "papers": [_paper_json(p) for p in digest.papers]}


@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_parser_case(path: Path, update_golden: bool):
    expected_path = path.with_name(path.stem + ".expected.json")
    if expected_path.exists():
        options = json.loads(expected_path.read_text(encoding="utf-8"))["options"]
    else:
        options = NEW_CASE_OPTIONS.get(path.stem, {})
    actual = run_case(path, options)
    if update_golden or not expected_path.exists():
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
        if not update_golden:
            pytest.fail(f"wrote {expected_path.name}; review it and run again")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected
    # A case named error_* must fail, and only such a case.
    assert ("error" in actual) == path.stem.startswith("error_")
