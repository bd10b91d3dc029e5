"""Rendered Markdown: golden files for a small archive, slugs, and stable URLs."""

from __future__ import annotations

import datetime
import difflib
import gzip
import json
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA, ROOT
from generator import archive as archive_store
from generator.build import load_site, render
from generator.commands import ingest_files
from generator.config import load_config
from generator.layout import url_of
from generator.markup import html_text, md
from generator.urls import assign_slugs, slugify

SMALL = DATA / "small"
GOLDEN = DATA / "golden"
SITE_URL = "https://example.org/digest/"


def render_small() -> dict[str, bytes]:
    config = load_config(ROOT / "mkdocs.yml", site_url=SITE_URL)
    site = load_site(SMALL, config)
    return render(site, config.templates)


def test_golden_files(update_golden):
    """Every generated file of the small archive, byte for byte. Review changes like code;
    regenerate with `pytest --update-golden`."""
    # The compressed dump is kept as its text, to be read in a diff.
    files = {p.removesuffix(".gz"): gzip.decompress(d) if p.endswith(".gz") else d
             for p, d in render_small().items() if not p.startswith("assets/")}
    if update_golden:
        for old in GOLDEN.rglob("*"):
            if old.is_file() and not old.name.startswith("email."):
                old.unlink()
        for path, data in files.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_bytes(data)
    # The email's parts have golden files of their own (tests/test_mail.py).
    expected = {p.relative_to(GOLDEN).as_posix(): p.read_bytes()
                for p in GOLDEN.rglob("*") if p.is_file() and not p.name.startswith("email.")}
    assert sorted(files) == sorted(expected)
    for path, data in files.items():
        if data != expected[path]:
            diff = "\n".join(difflib.unified_diff(
                expected[path].decode().splitlines(), data.decode().splitlines(),
                f"golden/{path}", f"rendered/{path}", lineterm=""))
            pytest.fail(f"{path} differs from its golden file:\n{diff}")


def test_rendering_is_deterministic():
    assert render_small() == render_small()


def test_md_escape_leaves_no_markdown_syntax():
    hostile = ("<script>x</script> [a](javascript:b) {{ 7*7 }} {% x %} {: onclick=y } *_|$"
               " <!-- # ---")
    escaped = md(hostile)
    for char in "<>[](){}*_|$#!-:=`\\":
        assert char not in escaped.replace("&#", "").replace(";", ""), char


@pytest.mark.parametrize("title", ["../../etc/passwd", "CON", "???", "x" * 1500, "😀 emoji",
                                   "深度学习的综述", "a/b\\c:d*e?f\"g<h>i|j", ".hidden", "-"])
def test_slugs_are_safe_file_names(title):
    slug = slugify(title)
    assert slug and len(slug) <= 90
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert slug.lower() not in {"con", "prn", "aux", "nul"}
    assert not slug.startswith("-") and not slug.endswith("-")


def test_slug_collisions_leave_the_earlier_paper_its_slug():
    assert assign_slugs(["a.b", "a-b", "a b"]) == {"a.b": "a-b", "a-b": "a-b-2", "a b": "a-b-3"}


def test_different_titles_keep_different_slugs_when_cut():
    long_a, long_b = "x" * 1500 + "a", "x" * 1500 + "b"
    assert slugify(long_a) != slugify(long_b)


def test_urls_survive_a_new_digest(tmp_path):
    """Build, add a digest, build again: every earlier paper URL still shows the same paper."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    config = load_config(ROOT / "mkdocs.yml", site_url=SITE_URL)
    before = load_site(content, config)
    urls_before = {p.key: url_of(before.paper_page(p)) for p in before.papers}
    ingest_files([DATA / "ingest" / "api_daily_papers.json"], content=content)
    ingest_files([DATA / "ingest" / "layout_a_no_date.txt"], content=content,
                 date=datetime.date(2026, 5, 1))
    after = load_site(content, config)
    urls_after = {p.key: url_of(after.paper_page(p)) for p in after.papers}
    assert len(urls_after) == len(urls_before) + 2
    for key, url in urls_before.items():
        assert urls_after[key] == url
    pages = render(after, config.templates)
    for paper in before.papers:
        page = pages[after.paper_page(after.by_key[paper.key])].decode()
        assert f"<h1>{html_text(paper.title)}</h1>\n" in page


def test_every_sample_paper_has_a_page_and_is_on_its_digest_pages():
    config = load_config(ROOT / "mkdocs.yml", site_url=SITE_URL)
    site = load_site(ROOT / "content", config)
    pages = render(site, config.templates)
    archive = archive_store.load(ROOT / "content")
    assert len(site.papers) == len(archive.papers) == 323
    for digest in site.digests:
        text = pages[f"digests/{digest.date}.md"].decode()
        for paper in digest.papers:
            link = f'<a href="../../{site.paper_page(paper).removesuffix(".md")}/">'
            assert f"{link}{html_text(paper.title)}</a>" in text


def test_stale_generated_files_are_removed_and_unchanged_ones_kept(tmp_path):
    from generator.build import build
    docs = tmp_path / "docs"
    build(SMALL, config_file=ROOT / "mkdocs.yml", html=False, docs_dir=docs)
    page = next(docs.glob("papers/*.md"))
    mtime = page.stat().st_mtime_ns
    (docs / "b").mkdir()
    (docs / "b" / "c.md").write_text("left by an older version")
    result = build(SMALL, config_file=ROOT / "mkdocs.yml", html=False, docs_dir=docs)
    assert (result.written, result.removed) == (0, 1)
    assert not (docs / "b").exists()
    assert page.stat().st_mtime_ns == mtime


def test_a_folder_paper_digest_did_not_write_is_never_cleaned(tmp_path):
    from generator.build import build
    from generator.errors import BuildError
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "mine.md").write_text("my notes")
    with pytest.raises(BuildError, match="docs_dir holds files that paper-digest did not write"):
        build(SMALL, config_file=ROOT / "mkdocs.yml", html=False, docs_dir=docs)
    assert [p.name for p in docs.iterdir()] == ["mine.md"]
    assert (docs / "mine.md").read_text() == "my notes"


def test_templates_are_used_with_strict_undefined(tmp_path):
    import dataclasses

    from generator.errors import BuildError
    from generator.layout import gather
    from generator.tagging import load_taxonomy
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "feeds.md.j2").write_text("{{ no_such_variable }}\n")
    config = dataclasses.replace(load_config(ROOT / "mkdocs.yml", site_url=SITE_URL),
                                 templates=templates)
    site = gather(archive_store.load(SMALL), load_taxonomy(ROOT / "content" / "taxonomy.yaml"),
                  config)
    with pytest.raises(BuildError) as error:
        render(site, templates)
    assert "'no_such_variable' is undefined" in str(error.value)
    assert str(error.value).startswith(str(templates / "feeds.md.j2"))


@given(st.lists(st.sampled_from(["a", "b", "index.md", "x.md"]), min_size=1, max_size=4),
       st.lists(st.sampled_from(["a", "b", "index.md", "x.md"]), min_size=1, max_size=4))
def test_relative_links_agree_with_posixpath(target, start):
    import posixpath

    from generator.layout import relative
    target, start = "/".join(target), "/".join(start)
    assert relative(target, start) == posixpath.relpath(target, posixpath.dirname(start) or ".")


def _day_of_organisations(tmp_path, names: list[str]):
    """An archive of one API day whose papers name the given organisations, in order."""
    items = [{"paper": {"id": f"2607.{n:05d}", "title": f"Paper {n} of {name}",
                        "summary": "An abstract.", "organization": {"fullname": name}}}
             for n, name in enumerate(names, start=1)]
    tmp_path.mkdir(parents=True, exist_ok=True)
    day = tmp_path / "2026-07-01.json"
    day.write_text(json.dumps(items), encoding="utf-8")
    content = tmp_path / "content"
    ingest_files([day], content=content)
    return load_site(content, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))


def test_names_that_differ_in_case_or_punctuation_are_one_organisation(tmp_path):
    """Real variants of the corpus: one page each, every paper on it, named as most papers
    name it; before, 'Zhejiang university' (1 paper) overwrote 'Zhejiang University' (45)."""
    names = (["Zhejiang University"] * 3 + ["Zhejiang university"]
             + ["University of Wisconsin - Madison", "University of Wisconsin-Madison"]
             + ["SII - GAIR", "SII-GAIR", "SII-GAIR"] + ["Index", "index"])
    site = _day_of_organisations(tmp_path, names)
    pages = render(site, site.config.templates)
    organisations = sorted((o.name, o.slug, len(o.papers)) for o in site.organizations.values())
    assert organisations == [
        ("Index", "index-2", 2),
        ("SII-GAIR", "sii-gair", 3),
        ("University of Wisconsin - Madison", "university-of-wisconsin-madison", 2),
        ("Zhejiang University", "zhejiang-university", 4)]
    org_pages = sorted(p for p in pages if p.startswith("organizations/"))
    assert org_pages == ["organizations/index-2.md", "organizations/index.md",
                         "organizations/sii-gair.md", "organizations/university-of-wisconsin-"
                         "madison.md", "organizations/zhejiang-university.md"]
    zju = pages["organizations/zhejiang-university.md"].decode()
    assert zju.count("<li>") == 4 and "4 papers" in zju
    # Every paper page links to its organisation's one page, under its one name.
    for paper in site.papers:
        organization = site.organization_of(paper)
        page = pages[site.paper_page(paper)].decode()
        assert f'/organizations/{organization.slug}/">{html_text(organization.name)}</a>' in page
    # The index is the list of organisations, not the page of one named "Index".
    assert "Every organisation" not in pages["organizations/index.md"].decode()


def test_an_organisation_keeps_its_address_when_a_variant_arrives_later(tmp_path):
    first = _day_of_organisations(tmp_path / "a", ["Zhejiang university"])
    later = _day_of_organisations(tmp_path / "b", ["Zhejiang university", "Zhejiang University",
                                                   "Zhejiang University"])
    assert [o.slug for o in first.organizations.values()] == ["zhejiang-university"]
    assert [(o.slug, o.name) for o in later.organizations.values()] == [
        ("zhejiang-university", "Zhejiang University")]


def test_an_empty_organisations_page_says_why():
    site = load_site(SMALL, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    assert not site.organizations
    page = render(site, site.config.templates)["organizations/index.md"].decode()
    assert "No organisation yet." in page and "<ul" not in page


def test_an_empty_archive_builds_a_home_page_that_says_so(tmp_path):
    """A new digest (the sample's days dropped) builds before its first fetch, and its home
    page says how to add the first day instead of showing nothing."""
    from generator.build import build
    content = tmp_path / "content"
    (content / "digests").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "taxonomy.yaml", content / "taxonomy.yaml")
    docs = tmp_path / "docs"
    result = build(content, config_file=ROOT / "mkdocs.yml", html=False, docs_dir=docs)
    assert (result.papers, result.digests) == (0, 0)
    home = (docs / "index.md").read_text(encoding="utf-8")
    assert "No digest has arrived yet: the first appears here after the next fetch. (Owner: " \
           "`digest fetch`, or `digest ingest FILE --date YYYY-MM-DD`, then build again.)" in home


def _card_site(tmp_path, thumbnails: bool):
    """One API day of one paper with everything the Hugging Face list shows of it."""
    item = {"paper": {"id": "2608.00001", "title": "A paper", "summary": "An abstract.",
                      "publishedAt": "2026-08-14T10:00:00.000Z", "upvotes": 7,
                      "submittedOnDailyBy": {"fullname": "<b>Eve</b> & co", "name": "eve"}},
            "numComments": 3, "submittedBy": {"fullname": "<b>Eve</b> & co", "name": "eve"},
            "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/"
                         "2608.00001.png?a=1&b=2"}
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "2026-08-17.json").write_text(json.dumps([item]), encoding="utf-8")
    content = tmp_path / "content"
    ingest_files([tmp_path / "2026-08-17.json"], content=content)
    config = load_config(ROOT / "mkdocs.yml", site_url=SITE_URL)
    config = type(config)(**{**config.__dict__, "thumbnails": thumbnails})
    return load_site(content, config)


def test_cards_show_comments_the_arxiv_date_and_the_submitter(tmp_path):
    site = _card_site(tmp_path, thumbnails=False)
    pages = render(site, site.config.templates)
    day = pages["digests/2026-08-17.md"].decode()
    meta = day.split('<p class="pd-meta">', 1)[1].split("</p>", 1)[0]
    assert meta == ('7 upvotes · 3 comments · arXiv 14 Aug 2026<span class="pd-by"> · '
                    "submitted by &lt;b&gt;Eve&lt;/b&gt; &amp; co</span>")
    # No thumbnail unless asked for: reading the site asks no third party.
    assert "<img" not in day and "cdn-thumbnails" not in pages["index.md"].decode()


def test_thumbnails_when_switched_on_are_lazy_with_their_size_reserved(tmp_path):
    site = _card_site(tmp_path, thumbnails=True)
    pages = render(site, site.config.templates)
    for path in ("digests/2026-08-17.md", "index.md"):
        page = pages[path].decode()
        assert ('<img class="pd-thumb" src="https://cdn-thumbnails.huggingface.co/social-'
                'thumbnails/papers/2608.00001.png?a=1&amp;b=2" alt="" width="128" '
                'height="72" loading="lazy" decoding="async" referrerpolicy="no-referrer">'
                ) in page, path


def test_the_thumbnails_switch_is_checked(tmp_path):
    from generator.errors import DigestError
    config = tmp_path / "mkdocs.yml"
    config.write_text((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace(
        "thumbnails: false", "thumbnails: 1"), encoding="utf-8")
    with pytest.raises(DigestError, match=r"extra.digest.thumbnails must be true or false"):
        load_config(config)
    config.write_text((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace(
        "thumbnails: false", "thumbnails: true"), encoding="utf-8")
    assert load_config(config).thumbnails is True


def _month_of(tmp_path, papers: int):
    """An archive of one API day of ``papers`` papers, upvotes falling with the rank."""
    items = [{"paper": {"id": f"2607.{n:05d}", "title": f"Paper number {n}",
                        "summary": "An abstract.", "upvotes": 1000 - n}}
             for n in range(1, papers + 1)]
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "2026-07-01.json").write_text(json.dumps(items), encoding="utf-8")
    content = tmp_path / "content"
    ingest_files([tmp_path / "2026-07-01.json"], content=content)
    site = load_site(content, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    return render(site, site.config.templates)


def test_a_month_is_ranked_a_hundred_papers_a_page_and_keeps_its_address(tmp_path):
    """Before, a month was one page of every paper (July 2026: 399 papers, 31,000 px on a
    phone). Its first page keeps the month's URL; the others are beside it."""
    pages = _month_of(tmp_path, 250)
    month = [p for p in pages if p.startswith("months/2026-07")]
    assert sorted(month) == ["months/2026-07.md", "months/2026-07/page/2.md",
                             "months/2026-07/page/3.md"]
    first, second, third = (pages[p].decode() for p in sorted(month))
    assert first.count("<li data-topics") == 100 and third.count("<li data-topics") == 50
    assert '<ol class="pd-rows" start="101">' in second
    assert "Paper number 101<" in second and "Paper number 100<" not in second
    # Each page links to every other, by the ranks it holds.
    assert ('<nav class="pd-pages" aria-label="Pages of July 2026">Ranked <a href="../../">'
            '1–100</a> · <strong aria-current="page">101–200</strong> · '
            '<a href="../3/" rel="next">201–250</a></nav>') in second.replace(' rel="prev"', "")
    assert "title: Trending papers, July 2026 (page 2 of 3)" in second
    # The week of the same day is cut the same way; a small period is one page, no pager.
    assert "weeks/2026-W27/page/3.md" in pages
    assert "pd-pages" not in _month_of(tmp_path / "small", 20)["months/2026-07.md"].decode()


def test_day_week_and_month_pages_have_tabs_to_each_other():
    site = load_site(SMALL, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    pages = {p: d.decode() for p, d in render(site, site.config.templates).items()
             if p.endswith(".md")}
    tabs = {path: page.split('<nav class="pd-tabs"', 1)[1].split("</nav>", 1)[0]
            for path, page in pages.items() if '<nav class="pd-tabs"' in page}
    day = "digests/2026-03-10.md"
    assert tabs[day] == (
        ' aria-label="Day, week or month"><a href="./" aria-current="page">Day <span '
        'class="pd-tab-of">10 Mar 2026</span></a><a href="../../weeks/2026-W11/">Week <span '
        'class="pd-tab-of">11</span></a><a href="../../months/2026-03/">Month <span '
        'class="pd-tab-of">March 2026</span></a>')
    # Every day, week and month page has them, and marks itself.
    for path in pages:
        kind = path.split("/")[0]
        if kind in ("digests", "weeks", "months") and not path.endswith("index.md"):
            current = {"digests": "Day", "weeks": "Week", "months": "Month"}[kind]
            assert f'aria-current="page">{current} ' in tabs[path], path
    # A week's or month's Day tab is its newest day.
    assert 'href="../../digests/2026-03-11/">Day' in tabs["months/2026-03.md"]


def test_lists_carry_their_topics_and_a_filter_of_them():
    site = load_site(SMALL, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    pages = render(site, site.config.templates)
    for path in ("digests/2026-03-10.md", "weeks/2026-W11.md", "months/2026-03.md",
                 "index.md"):
        page = pages[path].decode()
        assert '<details class="pd-filter">' in page, path
        items = page.count("<li data-topics=") + page.count('<li class="pd-card" data-topics=')
        assert items == page.count("<li"), path
    day = pages["digests/2026-03-10.md"].decode()
    digest = next(d for d in site.digests if d.date == datetime.date(2026, 3, 10))
    for paper in digest.papers:
        assert f'data-topics="{" ".join(paper.tags)}" data-first=' in day
    # One button a topic of the page's papers, with how many it tags, most first.
    counts = {}
    for paper in digest.papers:
        for tag in paper.tags:
            counts[tag] = counts.get(tag, 0) + 1
    buttons = day.split('<div role="group"', 1)[1].split("</div>", 1)[0]
    found = [(b.split('"', 1)[0], int(b.split('<span class="pd-count">', 1)[1].split("<")[0]))
             for b in buttons.split('data-topic="')[1:]]
    assert found == sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def test_a_paper_link_given_twice_with_and_without_a_final_slash_is_shown_once():
    """Before, cards and feeds showed "Project page · ui-mate.github.io" for one site."""
    from generator.layout import paper_links
    from generator.records import Paper
    paper = Paper(key="2608.00002", title="UI-Mate", abstract="An abstract.",
                  arxiv_id="2608.00002", project_page="https://ui-mate.github.io/",
                  links=("https://ui-mate.github.io", "https://WWW.ui-mate.github.io/",
                         "https://ui-mate.github.io/demo"))
    assert [label for label, _ in paper_links(paper)] == [
        "Hugging Face", "arXiv", "PDF", "Project page", "ui-mate.github.io"]
    assert paper_links(paper)[-1][1] == "https://ui-mate.github.io/demo"


def test_a_topic_page_shows_its_most_upvoted_papers_of_the_month_and_the_year(tmp_path):
    """Issue 22: a topic page worth bookmarking; before, it listed only the newest papers."""
    items = [{"paper": {"id": f"2607.{n:05d}", "title": f"Diffusion model number {n}",
                        "summary": "We train a diffusion model for image generation.",
                        "upvotes": n * 3 % 17}} for n in range(1, 13)]
    days = []
    for date, part in (("2025-12-01", items[:6]), ("2026-07-01", items[6:])):
        path = tmp_path / f"{date}.json"
        path.write_text(json.dumps(part), encoding="utf-8")
        days.append(path)
    content = tmp_path / "content"
    ingest_files(days, content=content)
    shutil.copy(ROOT / "content" / "taxonomy.yaml", content / "taxonomy.yaml")
    site = load_site(content, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    tag = next(t for t in site.tags if len(site.tag_papers[t.id]) == 12)
    page = render(site, site.config.templates)[f"tags/{tag.id}/index.md"].decode()
    tops = page.split('<div class="pd-tops">', 1)[1].split("</div>", 1)[0]
    month, year = tops.split("<section>")[1:]
    assert month.startswith("<h2>Most upvoted, July 2026</h2>")
    assert year.startswith("<h2>Most upvoted, 2026</h2>")
    expected = sorted(((n * 3 % 17, n) for n in range(7, 13) if n * 3 % 17),
                      key=lambda u: (-u[0], f"2607.{u[1]:05d}"))[:5]
    listed = [(int(li.split('<span class="pd-meta">')[1].split(" ")[0]),
               int(li.split("Diffusion model number ")[1].split("<")[0]))
              for li in month.split("<li>")[1:]]
    assert listed == expected
    # Papers of December 2025 are in neither list of 2026.
    assert all(n >= 7 for _, n in listed) and "number 1<" not in year
    assert "## Newest papers" in page


def test_a_topic_page_says_how_many_papers_it_lists(tmp_path, monkeypatch):
    """"12 papers; the newest 5 here" when the page holds only the newest, "12 papers" when it
    holds them all, and "No papers yet" (no chart of zeros, no empty list) for a new topic."""
    from generator import layout
    items = [{"paper": {"id": f"2607.{n:05d}", "title": f"Diffusion model number {n}",
                        "summary": "We train a diffusion model for image generation."}}
             for n in range(1, 13)]
    day = tmp_path / "2026-07-01.json"
    day.write_text(json.dumps(items), encoding="utf-8")
    content = tmp_path / "content"
    ingest_files([day], content=content)
    shutil.copy(ROOT / "content" / "taxonomy.yaml", content / "taxonomy.yaml")
    site = load_site(content, load_config(ROOT / "mkdocs.yml", site_url=SITE_URL))
    full = next(t for t in site.tags if len(site.tag_papers[t.id]) == 12)
    empty = next(t for t in site.tags if not site.tag_papers[t.id])

    def lead(tag_id: str) -> str:
        page = render(site, site.config.templates)[f"tags/{tag_id}/index.md"].decode()
        return page.split('<p class="pd-lead">', 1)[1].split(" Follow this topic", 1)[0], page

    assert lead(full.id)[0].endswith(" 12 papers, newest first.")
    text, page = lead(empty.id)
    assert text.endswith(" No papers yet; they will be listed here and in its feeds.")
    assert "pd-chart" not in page and "paper-list" not in page
    monkeypatch.setattr(layout, "TOPIC_PAGE_SIZE", 5)
    assert lead(full.id)[0].endswith(" 12 papers; the newest 5 here, newest first.")
