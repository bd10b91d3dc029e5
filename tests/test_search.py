"""Search documents: what Pagefind indexes of each paper, and which bundle it goes to."""

from __future__ import annotations

import lxml.html

from conftest import ROOT
from generator.build import load_site
from generator.config import load_config
from generator.search import HISTORY, RECENT, bundle_names, documents
from hostile import write_hostile_archive


def sample_site():
    return load_site(ROOT / "content", load_config(ROOT / "mkdocs.yml"))


def test_papers_of_the_newest_digests_month_are_the_recent_bundle():
    site = sample_site()
    bundles = documents(site)
    assert bundle_names(site) == [HISTORY, RECENT] == list(bundles)
    assert sum(len(docs) for docs in bundles.values()) == len(site.papers) == 323
    newest = site.last_updated
    for paper in site.papers:
        path = site.paper_page(paper).removesuffix(".md") + "/index.html"
        recent = (paper.first_seen.year, paper.first_seen.month) == (newest.year, newest.month)
        assert path in bundles[RECENT if recent else HISTORY]


def test_a_document_holds_the_paper_and_its_date_and_topics_only():
    site = sample_site()
    paper = site.by_key["deep-model-assembling"]
    path = site.paper_page(paper).removesuffix(".md") + "/index.html"
    doc = lxml.html.fromstring(next(docs[path] for docs in documents(site).values()
                                    if path in docs))
    assert doc.get("lang") == "en"
    assert doc.findtext(".//h1") == paper.title
    assert paper.abstract in doc.text_content()
    meta = dict(m.get("data-pagefind-meta").split(":", 1)
                for m in doc.iter() if m.get("data-pagefind-meta"))
    assert meta == {"date": paper.first_seen.isoformat(), "tags": ", ".join(site.tag_names(paper))}
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
        assert all(set(e.attrib) <= {"lang", "charset", "data-pagefind-meta"}
                   for e in doc.iter())
        assert doc.find(".//body/p").text.startswith("Abstract ")


def test_an_empty_archive_has_no_bundles(tmp_path):
    (tmp_path / "content").mkdir()
    site = load_site(tmp_path / "content", load_config(ROOT / "mkdocs.yml"))
    assert bundle_names(site) == [] and documents(site) == {}
