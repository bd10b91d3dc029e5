"""The archive only grows, never loses a paper, and a failed ingest changes nothing."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from conftest import DATA, ROOT, snapshot
from generator import archive as archive_store
from generator.commands import ingest_files
from generator.errors import DigestError
from generator.ingest import yaml_records

SEEDS = sorted((DATA / "seeds").glob("*.txt"))
FIXTURE = DATA / "ingest" / "api_daily_papers.json"


def ingest_seeds(content: Path) -> None:
    ingest_files([SEEDS[0]], content=content, date=datetime.date(2026, 3, 2))
    ingest_files(SEEDS[1:], content=content, date=datetime.date(2026, 11, 23))


def test_sample_archive_holds_every_entry_once(tmp_path):
    archive = archive_store.load(ROOT / "content")
    entries = sum(len(d.papers) for d in archive.digests)
    assert (entries, len(archive.papers)) == (334, 323)
    repeated = [p for p in archive.papers if len(p.dates) > 1]
    assert len(repeated) == 11
    for paper in repeated:
        assert list(paper.dates) == sorted(paper.dates)


def test_sample_archive_is_what_the_seeds_give(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    ingest_seeds(content)
    assert snapshot(content / "digests") == snapshot(ROOT / "content" / "digests")


def test_reingesting_is_a_no_op(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    before = snapshot(content)
    report = ingest_files(SEEDS[1:], content=content, date=datetime.date(2026, 11, 23))
    assert report.written == []
    assert report.lines == ["Nothing to add: the archive already holds these papers."]
    assert snapshot(content) == before


def test_failed_ingest_leaves_the_archive_byte_for_byte(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    before = snapshot(content)
    bad = DATA / "ingest" / "error_last_title_without_abstract.txt"
    with pytest.raises(DigestError) as error:
        ingest_files([FIXTURE, bad], content=content, date=datetime.date(2026, 11, 23))
    assert "the last title has no abstract" in str(error.value)
    assert snapshot(content) == before


def test_write_interrupted_midway_leaves_every_file_as_it_was(tmp_path, monkeypatch):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    before = snapshot(content)
    real_dump = yaml_records.dump_digest
    calls = []

    def failing_dump(digest):
        calls.append(digest.date)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_dump(digest)

    monkeypatch.setattr(archive_store, "dump_digest", failing_dump)
    with pytest.raises(DigestError) as error:
        ingest_files([FIXTURE, DATA / "ingest" / "layout_b_year_rollover.txt"],
                     content=content, date=datetime.date(2027, 1, 2))
    assert str(error.value) == (f"{content}/digests: cannot write the archive: disk full"
                                " - check free space and permissions; no file was changed")
    assert len(calls) == 2
    assert snapshot(content) == before


def test_corrections_by_hand_survive_a_reingest(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    day = content / "digests" / "2026-04-29.yaml"
    text = day.read_text(encoding="utf-8")
    corrected = text.replace(
        "title: Deep Model Assembling",
        "title: Deep Model Assembling (corrected)\n  tags: [ensembles-boosting]")
    assert corrected != text
    day.write_text(corrected, encoding="utf-8")
    ingest_files([SEEDS[2]], content=content, date=datetime.date(2026, 11, 23))
    archive = archive_store.load(content)
    paper = next(p for p in archive.papers if p.key == "deep-model-assembling")
    assert paper.title == "Deep Model Assembling (corrected)"
    assert paper.tags == ("ensembles-boosting",)


def test_a_paper_keeps_its_key_when_its_arxiv_id_becomes_known(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    ingest_files([FIXTURE], content=content)
    archive = archive_store.load(content)
    eora = [p for p in archive.papers if p.title.startswith("EoRA")]
    assert len(eora) == 1
    paper = eora[0]
    # First seen on the page of 11 March without an id: the key stays the title's.
    assert paper.key == ("eora-training-free-compensation-for-compressed-llm-with-eigenspace-"
                         "low-rank-approximation")
    assert paper.arxiv_id == "2603.04511"
    assert paper.dates == (datetime.date(2026, 3, 6), datetime.date(2026, 3, 11))
    assert paper.github_stars == 128


def test_the_same_paper_found_by_arxiv_id_under_another_title(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    ingest_files([FIXTURE], content=content)
    renamed = FIXTURE.read_text(encoding="utf-8").replace(
        '"title": "EoRA: Training-free', '"title": "EoRA (v2): Training-free')
    later = tmp_path / "later.json"
    later.write_text(renamed, encoding="utf-8")
    ingest_files([later], content=content, date=datetime.date(2026, 3, 9))
    archive = archive_store.load(content)
    assert len(archive.papers) == 3
    paper = next(p for p in archive.papers if p.key == "2603.04511")
    assert paper.dates == (datetime.date(2026, 3, 6), datetime.date(2026, 3, 9))


def _api_item(arxiv_id: str, title: str, author: str) -> dict:
    return {"paper": {"id": arxiv_id, "title": title, "summary": f"The report of {author}.",
                      "authors": [{"name": author}]}}


def test_two_arxiv_papers_with_one_title_stay_two_papers(tmp_path):
    """An arXiv id is an identity: 'Technical Report' by Alice and 'Technical report.' by Bob
    are two papers, on one day and on two days."""
    content = tmp_path / "content"
    day = tmp_path / "2025-02-03.json"
    day.write_text(json.dumps([_api_item("2502.00001", "Technical Report", "Alice"),
                               _api_item("2502.00002", "Technical report.", "Bob")]))
    later = tmp_path / "2025-02-04.json"
    later.write_text(json.dumps([_api_item("2502.00003", "TECHNICAL REPORT", "Carol"),
                                 _api_item("2502.00001", "Technical Report", "Alice")]))
    ingest_files([day, later], content=content)
    papers = {p.key: p for p in archive_store.load(content).papers}
    assert sorted(papers) == ["2502.00001", "2502.00002", "2502.00003"]
    assert [(k, p.authors, p.abstract) for k, p in sorted(papers.items())] == [
        ("2502.00001", ("Alice",), "The report of Alice."),
        ("2502.00002", ("Bob",), "The report of Bob."),
        ("2502.00003", ("Carol",), "The report of Carol.")]
    assert len(papers["2502.00001"].dates) == 2


def test_a_paper_known_by_title_gains_one_arxiv_id_not_two(tmp_path):
    """A page gave 'Technical Report' without an id; the API then lists two papers of that
    title: the first takes the page's paper, the second is a paper of its own."""
    content = tmp_path / "content"
    page = tmp_path / "page.yaml"
    page.write_text("date: 2025-02-01\npapers:\n- title: Technical Report\n"
                    "  abstract: The report of someone.\n", encoding="utf-8")
    day = tmp_path / "2025-02-03.json"
    day.write_text(json.dumps([_api_item("2502.00001", "Technical Report", "Alice"),
                               _api_item("2502.00002", "Technical report.", "Bob")]))
    ingest_files([page, day], content=content)
    papers = sorted(archive_store.load(content).papers, key=lambda p: p.key)
    assert [(p.key, p.arxiv_id, p.authors) for p in papers] == [
        ("2502.00002", "2502.00002", ("Bob",)),
        ("technical-report", "2502.00001", ("Alice",))]


def test_empty_api_day_writes_nothing(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    before = snapshot(content)
    report = ingest_files([DATA / "ingest" / "api_empty_day.json"], content=content,
                          date=datetime.date(2026, 3, 7))
    assert report.written == []
    assert snapshot(content) == before


def test_a_bad_archive_file_is_reported_with_its_line(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "digests" / "2026-05-01.yaml").write_text(
        "date: 2026-05-01\npapers:\n- title: A\n  abstract: B\n  upvotes: many\n",
        encoding="utf-8")
    with pytest.raises(DigestError) as error:
        archive_store.load(content)
    assert str(error.value) == (f"{content}/digests/2026-05-01.yaml:3: 'upvotes' must be a whole"
                                " number, got 'many' - correct 'upvotes' or remove it")


def test_a_very_long_title_is_archived_and_read_back_under_a_short_key(tmp_path):
    from generator.records import MAX_KEY, Digest, Paper, paper_key
    long_a = "A Very Long Title " + "with many repeated words " * 30
    long_b = long_a + "and a different ending"
    keys = {paper_key(long_a, None), paper_key(long_b, None)}
    assert len(keys) == 2 and all(len(k) <= MAX_KEY for k in keys)
    content = tmp_path / "content"
    digest = Digest(date=datetime.date(2026, 3, 2), papers=tuple(
        Paper(key=paper_key(t, None), title=t, abstract="An abstract.") for t in (long_a, long_b)))
    archive_store.write_digests(content, [digest])
    assert {p.key for p in archive_store.load(content).papers} == keys


def test_the_archive_index_writes_only_the_days_that_changed(tmp_path):
    """A build's index of parsed days is kept up to date file by file: an edited day's row is
    replaced, a removed day's row goes and a garbled row is written again; the rows of the
    other days are not touched."""
    from generator.cache import Cache

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    cache = Cache(tmp_path / "cache")
    where = cache.where(content)

    def rows() -> dict[str, tuple[int, str]]:
        return {name: (rowid, sha) for rowid, name, sha in cache._db.execute(
            "SELECT rowid, name, sha256 FROM archive WHERE folder = ?", (where,))}

    def load() -> None:
        archive_store.load(content, cache=cache)

    load()
    before = rows()
    days = sorted((content / "digests").glob("*.yaml"))
    assert len(before) == len(days)
    edited, removed = days[0], days[1]
    edited.write_text(edited.read_text(encoding="utf-8").replace("rank: 1", "rank: 1 ", 1),
                      encoding="utf-8")
    removed.unlink()
    cache._db.execute("UPDATE archive SET value = x'00' WHERE name = ?", (days[2].name,))
    changes = cache._db.total_changes
    load()
    # One row written for each of the three days, and no other.
    assert cache._db.total_changes - changes == 3
    after = rows()
    assert removed.name not in after
    assert after[edited.name][1] != before[edited.name][1]
    untouched = [d.name for d in days[3:]]
    assert {n: after[n] for n in untouched} == {n: before[n] for n in untouched}
    assert archive_store.load(content, cache=cache) == archive_store.load(content)


def test_a_papers_print_changes_with_the_files_it_was_read_from_and_no_other(tmp_path):
    """Pages are fingerprinted by the print of the files a paper was read from instead of
    its fields: the print must change when any day that lists the paper changes, and only
    then, with or without the parsed-days index."""
    from generator.cache import Cache

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    cache = Cache(tmp_path / "cache")
    before = archive_store.load(content, cache=cache)
    assert set(before.prints) == {p.key for p in before.papers}
    assert before.prints == archive_store.load(content).prints
    repeated = next(p for p in before.papers if len(p.dates) > 1)
    day = content / "digests" / f"{repeated.dates[0]}.yaml"
    on_that_day = {p.key for p in next(d for d in before.digests
                                       if d.date == repeated.dates[0]).papers}
    text = day.read_text(encoding="utf-8")
    day.write_text(text.replace("rank: 2\n", "rank: 2 \n", 1), encoding="utf-8")
    after = archive_store.load(content, cache=cache)
    changed = {k for k in before.prints if after.prints.get(k) != before.prints[k]}
    assert changed == on_that_day and repeated.key in changed
    assert after.prints == archive_store.load(content).prints


def test_a_build_reads_each_unchanged_archive_file_once(tmp_path, monkeypatch):
    """A build hashes every archive file to know whether anything changed; the load that
    follows takes those hashes and reads again only the files the index does not hold as
    they are, and gives the archive a plain load gives."""
    from generator.cache import Cache

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    cache = Cache(tmp_path / "cache")
    archive_store.load(content, cache=cache)
    days = sorted((content / "digests").glob("*.yaml"))
    edited = days[-1]
    edited.write_text(edited.read_text(encoding="utf-8").replace("rank: 1\n", "rank: 1 \n", 1),
                      encoding="utf-8")
    shas = archive_store.file_shas(content)
    assert len(shas) == len(days)
    read: list[str] = []
    original = Path.read_bytes

    def counted(self):
        read.append(self.name)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counted)
    archive = archive_store.load(content, cache=cache, shas=shas)
    assert read == [edited.name]
    monkeypatch.setattr(Path, "read_bytes", original)
    assert archive == archive_store.load(content)
    assert archive.prints == archive_store.load(content).prints
