"""Property tests: parsing never fails but with ParseError; writing then reading gives back
the same records; cleaning is idempotent."""

from __future__ import annotations

import datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from generator.errors import ParseError
from generator.ingest import read_digest
from generator.ingest.clean import clean_text
from generator.ingest.yaml_records import dump_digest, parse_yaml
from generator.records import Digest, Paper, paper_key

TODAY = datetime.date(2026, 11, 23)
lines = st.lists(st.text(max_size=200) | st.sampled_from(
    ["new", "Subscribe", "Mar 11", "Feb 29", "", "byAK and the research community",
     "SubscribeA Title", "A Title", "x" * 500, "One. Two. Three sentences here."]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([None, "text", "api", "yaml"]),
       st.sampled_from([None, datetime.date(2026, 3, 2)]))
# Found by this test once: several YAML problems at once must still be one ParseError.
@example(b"(:", "yaml", None)
@example(b"date: [1]", "yaml", None)
def test_reading_arbitrary_bytes_raises_only_parse_error(data, fmt, date):
    try:
        digest, _ = read_digest(data, "in.txt", fmt=fmt, date=date, today=TODAY)
    except ParseError:
        return
    assert digest.date is not None or not digest.papers


@settings(max_examples=300, deadline=None)
@given(lines, st.sampled_from([None, datetime.date(2026, 3, 2)]))
def test_reading_page_like_text_raises_only_parse_error(page_lines, date):
    data = "\n".join(page_lines).encode("utf-8", "surrogatepass")
    try:
        digest, _ = read_digest(data, "page.txt", fmt="text", date=date, today=TODAY)
    except ParseError:
        return
    for paper in digest.papers:
        assert paper.title and paper.title == clean_text(paper.title)


text = st.text(min_size=1, max_size=300).map(clean_text).filter(bool)


@settings(max_examples=200, deadline=None)
# A day holds each paper once (two papers with one key are an error): titles of one key
# are drawn once.
@given(st.lists(st.tuples(text, text), min_size=1, max_size=5,
                unique_by=lambda pair: paper_key(pair[0], None)))
def test_yaml_records_round_trip(pairs):
    date = datetime.date(2026, 3, 11)
    papers = tuple(Paper(key=paper_key(t, None), title=t, abstract=a) for t, a in pairs)
    digest = Digest(date=date, papers=papers, source="yaml").with_date(date)
    again = parse_yaml(dump_digest(digest), "x.yaml")
    assert [(p.title, p.abstract, p.key) for p in again.papers] == \
        [(p.title, p.abstract, p.key) for p in digest.papers]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_cleaning_is_idempotent_and_single_line(raw):
    once = clean_text(raw)
    assert clean_text(once) == once
    assert "\n" not in once and "\x00" not in once and "\u202e" not in once
