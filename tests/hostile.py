"""A hostile archive: every title and abstract tries to become HTML, Markdown, Jinja, an
attribute list, YAML or XML, and every payload that could run sets ``window.__pwned``."""

from __future__ import annotations

import datetime
from pathlib import Path

from generator.ingest.clean import clean_text
from generator.ingest.yaml_records import dump_digest
from generator.records import Digest, Paper, paper_key

PAYLOADS = [
    "<script>window.__pwned=1</script> Script Tags in Titles",
    "<img src=x onerror=\"window.__pwned=1\"> Event Handlers",
    "[Click me](javascript:window.__pwned=1) and <a href=\"javascript:window.__pwned=1\">me</a>",
    "{{ 7*7 }} {% if true %}Jinja{% endif %} {# comment #}",
    "Attribute lists {: onclick=\"window.__pwned=1\" } and {#id .class}",
    "\"><script>window.__pwned=1</script><meta x=\" Breaking Out of Attributes",
    "</title><svg onload=window.__pwned=1> Closing the Title",
    "*Emphasis* _under_ `code` | pipe | $x^2$ <!-- comment --> # heading --- ]]> & done",
    "Control\u0007 characters\u0000 and \u202eright-to-left override\u202c here",
    "---\ntitle: injected\n--- YAML front matter",
    "A Very Long Title " + "with many repeated words " * 60,
]


def hostile_papers() -> list[Paper]:
    papers = []
    for number, raw in enumerate(PAYLOADS, start=1):
        title = clean_text(raw)
        abstract = clean_text(f"Abstract {number}: {raw} <iframe src=javascript:window.__pwned=1>"
                              " See https://example.org/x\"onmouseover=\"window.__pwned=1 too.")
        papers.append(Paper(key=paper_key(title, None), title=title, abstract=abstract,
                            tags=("<b onmouseover=window.__pwned=1>hand tag</b>",)
                            if number == 2 else ()))
    return papers


def write_hostile_archive(content: Path) -> list[Paper]:
    date = datetime.date(2026, 3, 11)
    papers = hostile_papers()
    (content / "digests").mkdir(parents=True, exist_ok=True)
    digest = Digest(date=date, papers=tuple(papers), source="yaml").with_date(date)
    (content / "digests" / f"{date}.yaml").write_text(dump_digest(digest), encoding="utf-8")
    return papers
