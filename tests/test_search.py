"""Search documents: what Pagefind indexes of each paper, and which bundle it goes to."""

from __future__ import annotations

import lxml.html

from conftest import ROOT
from generator.build import load_site
from generator.config import load_config
from generator.layout import short_date
from generator.search import RECENT, bundle_names, documents
from hostile import write_hostile_archive


def sample_site():
    return load_site(ROOT / "content", load_config(ROOT / "mkdocs.yml"))


def test_papers_of_the_newest_digests_month_are_the_recent_bundle():
    site = sample_site()
    bundles = documents(site)
    assert bundle_names(site) == ["pagefind-2026", RECENT] == list(bundles)
    assert sum(len(docs) for docs in bundles.values()) == len(site.papers) == 323
    newest = site.last_updated
    for paper in site.papers:
        path = site.paper_page(paper).removesuffix(".md") + "/index.html"
        recent = (paper.first_seen.year, paper.first_seen.month) == (newest.year, newest.month)
        assert path in bundles[RECENT if recent else "pagefind-2026"]


def test_a_document_holds_the_paper_and_its_date_and_topics_only():
    site = sample_site()
    # A paper with related papers (shown on its page).
    paper = next(p for p in site.papers if site.related[p.key])
    path = site.paper_page(paper).removesuffix(".md") + "/index.html"
    doc = lxml.html.fromstring(next(docs[path] for docs in documents(site).values()
                                    if path in docs))
    assert doc.get("lang") == "en"
    assert doc.findtext(".//h1") == paper.title
    assert paper.abstract in doc.text_content()
    meta = dict(m.get("data-pagefind-meta").split(":", 1)
                for m in doc.iter() if m.get("data-pagefind-meta"))
    # The date as the site writes it everywhere ("29 Apr 2026").
    assert meta == {"date": short_date(paper.first_seen),
                    "tags": ", ".join(site.tag_names(paper))}
    # Related papers, digest days and links are on the page, not in the index.
    related = site.by_key[site.related[paper.key][0]]
    assert related.title not in doc.text_content()
    assert doc.find(".//a") is None


def test_hostile_text_stays_text_in_search_documents(tmp_path):
    papers = write_hostile_archive(tmp_path / "content")
    config = load_config(ROOT / "mkdocs.yml")
    site = load_site(tmp_path / "content", config)
    docs = {path: lxml.html.fromstring(data) for bundle in documents(site).values()
            for path, data in bundle.items()}
    assert sorted(doc.findtext(".//h1") for doc in docs.values()) == \
        sorted(p.title for p in papers)
    for doc in docs.values():
        elements = {e.tag for e in doc.iter() if isinstance(e.tag, str)}
        assert elements == {"html", "head", "meta", "title", "body", "h1", "p", "span"}
        assert all(set(e.attrib) <= {"lang", "charset", "data-pagefind-meta", "data-pagefind-sort"}
                   for e in doc.iter())
        assert doc.find(".//body/p").text.startswith("Abstract ")


def test_an_empty_archive_has_no_bundles(tmp_path):
    (tmp_path / "content").mkdir()
    site = load_site(tmp_path / "content", load_config(ROOT / "mkdocs.yml"))
    assert bundle_names(site) == [] and documents(site) == {}


def test_each_year_has_its_bundle_and_the_newest_month_its_own(tmp_path):
    import datetime

    from generator.ingest.yaml_records import dump_digest
    from generator.records import Digest, Paper
    (tmp_path / "digests").mkdir()
    for date in (datetime.date(2025, 12, 30), datetime.date(2026, 1, 2),
                 datetime.date(2026, 2, 3)):
        paper = Paper(key=f"paper-{date}", title=f"A paper of {date}", abstract="About it.")
        digest = Digest(date=date, papers=(paper,), source="yaml").with_date(date)
        (tmp_path / "digests" / f"{date}.yaml").write_text(dump_digest(digest),
                                                          encoding="utf-8")
    site = load_site(tmp_path, load_config(ROOT / "mkdocs.yml"))
    bundles = documents(site)
    assert bundle_names(site) == ["pagefind-2025", "pagefind-2026", RECENT] == list(bundles)
    assert [sorted(docs) for docs in bundles.values()] == [
        ["papers/paper-2025-12-30/index.html"], ["papers/paper-2026-01-02/index.html"],
        ["papers/paper-2026-02-03/index.html"]]
