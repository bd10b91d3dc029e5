"""Copy answers of the daily-papers API with only the fields paper-digest reads.

    python benchmarks/trim_api_days.py OUT_FOLDER DAY.json...

Used to make tests/data/corpus/ from ../shared/corpus/daily_papers/ (the 104 days whose papers
are labelled in tests/data/labels/recent.jsonl): avatars, media and ids that no reader uses are
left out, so the test data is about half the size; what generator/ingest/api.py reads is kept
as the API sent it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: Fields of an item's ``paper`` that the API reader uses.
PAPER = ("id", "title", "summary", "authors", "publishedAt", "submittedOnDailyAt",
         "submittedOnDailyBy", "upvotes", "githubRepo", "githubStars", "projectPage",
         "ai_summary", "ai_keywords", "organization")
#: Fields of an item itself.
ITEM = ("publishedAt", "title", "summary", "thumbnail", "numComments", "submittedBy",
        "organization")


def _person(user: object) -> object:
    if not isinstance(user, dict):
        return user
    return {k: user[k] for k in ("fullname", "name", "user") if k in user}


def _organization(value: object) -> object:
    if not isinstance(value, dict):
        return value
    return {k: value[k] for k in ("name", "fullname") if k in value}


def trim(item: dict) -> dict:
    paper = {k: v for k, v in (item.get("paper") or {}).items() if k in PAPER}
    if isinstance(paper.get("authors"), list):
        paper["authors"] = [
            {k: _person(v) if k == "user" else v for k, v in a.items() if k in ("name", "user")}
            if isinstance(a, dict) else a for a in paper["authors"]]
    for name in ("submittedOnDailyBy",):
        if name in paper:
            paper[name] = _person(paper[name])
    if "organization" in paper:
        paper["organization"] = _organization(paper["organization"])
    out = {"paper": paper}
    for name in ITEM:
        if name in item:
            value = item[name]
            out[name] = _person(value) if name == "submittedBy" else \
                _organization(value) if name == "organization" else value
    return out


def main(argv: list[str]) -> int:
    out, days = Path(argv[0]), argv[1:]
    out.mkdir(parents=True, exist_ok=True)
    for day in days:
        items = json.loads(Path(day).read_text(encoding="utf-8"))
        text = json.dumps([trim(i) for i in items], ensure_ascii=False, indent=1) + "\n"
        (out / Path(day).name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
