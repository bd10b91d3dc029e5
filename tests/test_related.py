"""Related papers a researcher agrees with: on the 584 hand-labelled papers, related links join
papers that share a labelled topic; a new day only adds closer papers to old lists."""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter

import pytest

from conftest import all_labels
from generator import similarity
from generator.evaluation import score_related
from generator.records import Appearance, Paper
from generator.similarity import by_authors, relate, related_papers, same_authors
from generator.tagging import Tagger
from generator.textfeatures import Reference


def unseen_tags(labelled, fitted):
    """The labelled papers with the topics a model fitted without them gave them (and the
    phrases' topics for topics the model does not know): tags as on papers never seen."""
    taxonomy = labelled["taxonomy"]
    phrases = Tagger(taxonomy, use_model=False)
    unknown = {t.id for t in taxonomy.tags} - set(fitted.model.bias)
    return [dataclasses.replace(p, tags=fitted.cross_validated_tags.get(p.key, ()) + tuple(
        t for t in phrases.tag(p).tags if t in unknown)) for p in labelled["papers"]]


def test_related_links_join_papers_of_a_labelled_topic(labelled, fitted):
    labels = all_labels()
    papers = unseen_tags(labelled, fitted)
    model = fitted.model
    related = related_papers(papers, 5, Reference(model.reference_papers,
                                                  model.reference_frequency))
    score = score_related(papers, related, labels)
    assert score.share >= 0.85, (score.share, score.links)
    # Fewer rather than weak: most papers still get several.
    assert score.links >= 3 * len(papers) and score.alone <= 0.15 * len(papers)
    # Deterministic.
    assert related_papers(papers, 5, Reference(model.reference_papers,
                                               model.reference_frequency)) == related


def test_a_new_day_only_adds_closer_papers_to_old_lists(labelled):
    model = labelled["taxonomy"].model
    reference = Reference(model.reference_papers, model.reference_frequency)
    tagged = Tagger(labelled["taxonomy"]).tag_all(labelled["papers"])
    newest = max(p.first_seen for p in tagged)
    old = [p for p in tagged if p.first_seen < newest]
    new_keys = {p.key for p in tagged} - {p.key for p in old}
    before, after = related_papers(old, 5, reference), related_papers(tagged, 5, reference)
    changed = 0
    for paper in old:
        was, now = before[paper.key], after[paper.key]
        kept = [k for k in now if k not in new_keys]
        # Old papers keep their order; what drops out is pushed out by new ones.
        assert kept == list(was[:len(kept)]), paper.key
        changed += now != was
    assert changed < len(old) / 2


def test_more_by_these_authors_lists_shared_authors_first(labelled):
    papers = list(labelled["papers"])
    authors = by_authors(papers, 5)
    with_any = [p for p in papers if authors[p.key]]
    assert with_any
    by_key = {p.key: p for p in papers}
    for paper in with_any:
        for other in authors[paper.key]:
            accounts = {a for _, a in paper.author_accounts} & {
                a for _, a in by_key[other].author_accounts}
            assert len(set(paper.authors) & set(by_key[other].authors)) >= 2 or accounts


def test_reusing_the_last_run_gives_what_a_whole_run_gives(labelled):
    """A rebuild works out only what changed (new papers, an edited one, a removed one); its
    lists are the lists of a run from scratch."""
    model = labelled["taxonomy"].model
    reference = Reference(model.reference_papers, model.reference_frequency)
    tagged = Tagger(labelled["taxonomy"]).tag_all(labelled["papers"])
    newest = max(p.first_seen for p in tagged)
    old = [p for p in tagged if p.first_seen < newest]
    last = relate(old, 5, reference)
    edited = dataclasses.replace(old[3], abstract=old[3].abstract + " We also study video.")
    now = [p for p in tagged if p.first_seen == newest] + [edited] + old[4:]
    again = relate(now, 5, reference, last.state)
    assert again.lists == relate(now, 5, reference).lists
    assert set(again.state) - {"prolific authors"} == {p.key for p in now}


def test_lists_kept_by_the_print_of_the_files_a_paper_was_read_from(labelled):
    """A build knows a paper by the print of the files it was read from (``Site.prints``),
    which changes with any field but the tags, and by its tags: an edited paper, a paper
    tagged anew from the same files and a paper seen on one more day are worked out again,
    and both kinds of list equal a whole run's."""
    model = labelled["taxonomy"].model
    reference = Reference(model.reference_papers, model.reference_frequency)
    tagged = Tagger(labelled["taxonomy"]).tag_all(labelled["papers"])

    def files(papers):  # stands for the bytes of the days each paper was read from
        return {p.key: repr((p.title, p.abstract, p.authors, p.appearances)) for p in papers}

    old, new = tagged[:-30], tagged[-30:]
    last = relate(old, 5, reference, sources=files(old))
    authored = same_authors(old, 3, last.lists, sources=files(old))
    retag = next(p for p in old[6:] if last.lists[p.key] and "robotics" not in p.tags)
    alone = next(p for p in old[6:] if authored.lists[p.key] and p.key != retag.key)
    later = Appearance(max(p.last_seen for p in tagged) + datetime.timedelta(days=1), 1)
    edits = {old[3].key: dataclasses.replace(old[3], abstract="We study video. " * 5),
             retag.key: dataclasses.replace(retag, tags=("robotics",)),
             old[5].key: dataclasses.replace(old[5], appearances=(*old[5].appearances, later)),
             alone.key: dataclasses.replace(alone, authors=("Somebody Else",),
                                            author_accounts=())}
    now = new + [edits.get(p.key, p) for p in old]
    again = relate(now, 5, reference, last.state, sources=files(now))
    assert again.lists == relate(now, 5, reference).lists
    assert again.lists[retag.key] != last.lists[retag.key]
    authored_again = same_authors(now, 3, again.lists, authored.state, sources=files(now))
    assert authored_again.lists == by_authors(now, 3, again.lists)
    assert authored_again.lists[alone.key] == ()


def _paper(key: str, authors: tuple[str, ...], day: int, abstract: str = "",
           accounts: dict[str, str] | None = None) -> Paper:
    return Paper(key=key, title=f"Paper {key}", abstract=abstract or f"About {key}.",
                 authors=authors, author_accounts=tuple((accounts or {}).items()),
                 appearances=(Appearance(datetime.date(2026, 3, day), 1),))


def test_more_by_these_authors_needs_an_account_or_two_names_then_ranks():
    """A shared name alone may be a namesake ("Wei Zhao"): a paper is by the same authors when
    they share an author's Hugging Face account, or two names. Most shared first, then newest,
    then key."""
    ann = {"Ann": "ann"}
    papers = [_paper("x", ("Ann", "Bo"), 10, accounts=ann),
              _paper("old-one", ("Ann",), 1, accounts=ann),
              _paper("both", ("Ann", "Bo"), 2), _paper("new-one", ("Bo",), 9),
              _paper("b-same-day", ("Ann",), 5, accounts=ann),
              _paper("a-same-day", ("Ann", "Bo"), 5, accounts=ann),
              _paper("namesake", ("Ann",), 8, accounts={"Ann": "ann-other"}),
              _paper("stranger", ("Cy",), 11)]
    found = by_authors(papers, 4)
    assert found["x"] == ("a-same-day", "b-same-day", "old-one", "both")
    assert found["stranger"] == () and found["namesake"] == ()
    # One shared name is not enough: "new-one" shares only Bo with anyone.
    assert found["new-one"] == ()
    # Papers already among the related ones are left out, and the next ones move up.
    assert by_authors(papers, 4, {"x": ("a-same-day",)})["x"] == (
        "b-same-day", "old-one", "both")


def test_a_name_that_looks_like_an_account_is_not_that_account():
    """An account is keyed "@account": a paper whose list of names holds a literal "@ann" is
    not by the person who claimed a paper with the account "ann" (which alone would count as
    the same author), nor is a name "\\@ann" the name "@ann"."""
    papers = [_paper("claimed", ("Ann", "Xu"), 1, accounts={"Ann": "ann"}),
              _paper("literal", ("@ann", "\\@bo"), 2),
              _paper("also-claimed", ("Ann Lee",), 3, accounts={"Ann Lee": "ann"}),
              _paper("other-literal", ("\\@ann", "@bo"), 4)]
    found = by_authors(papers, 5)
    assert found["claimed"] == ("also-claimed",)  # the account, shared, still counts
    assert found["literal"] == () and found["other-literal"] == ()
    assert similarity.author_keys(papers[1], accounts=True).isdisjoint(
        similarity.author_keys(papers[0], accounts=True)
        | similarity.author_keys(papers[3], accounts=True))


def test_an_author_on_too_many_papers_relates_none(monkeypatch):
    monkeypatch.setattr(similarity, "MAX_AUTHOR_PAPERS", 3)
    # One topic, nothing else in common: only the shared author makes them candidates.
    team = [dataclasses.replace(_paper(f"t{i}", ("Consortium", f"Member {i}", "Second"), 1 + i),
                                tags=("robotics",)) for i in range(4)]
    assert all(found == () for found in by_authors(team, 5).values())
    # Related lists: the consortium's papers are not candidates through it; a run that reuses
    # the one before the consortium passed the limit gives what a whole run gives.
    before = relate(team[:3], 5)
    assert before.lists["t0"]  # three papers: the consortium still counts
    again = relate(team, 5, previous=before.state)
    assert again.lists == relate(team, 5).lists
    assert all(found == () for found in again.lists.values())
    # And back under the limit (a paper removed): the consortium counts again.
    back = relate(team[:3], 5, previous=again.state)
    assert back.lists == before.lists


def test_names_alone_read_from_an_authorship_with_accounts_are_the_names_authorship(
        monkeypatch):
    """A build reads who wrote what once (with accounts) for both lists; the related papers'
    view of it by name alone must be what reading the names gives: the same authors on each
    paper, the same counts (so the same authors over the limit) and the same lists."""
    monkeypatch.setattr(similarity, "MAX_AUTHOR_PAPERS", 2)
    papers = [_paper("a", ("Ann", "Bo"), 1, accounts={"Ann": "ann"}),
              _paper("b", ("Ann", "Bo", "@ann"), 2, accounts={"Bo": "bo"}),
              _paper("c", ("Cy", "@bo"), 3, accounts={"Cy": "ann"}),
              _paper("d", ("Ann",), 4, accounts={"Ann": "ann"}),
              _paper("e", ("Dee", "Bo"), 5, accounts={"Dee": "dee"})]
    whole = similarity.Authorship.of(papers, accounts=True)
    derived, direct = whole.names_only(), similarity.Authorship.of(papers)

    def pairs(authorship) -> list[tuple[int, str]]:
        return sorted(zip(authorship.rows.tolist(),
                          (authorship.names[c] for c in authorship.codes.tolist()),
                          strict=True))

    assert pairs(derived) == pairs(direct)
    assert pairs(whole) != pairs(direct)  # accounts were there to leave out
    assert derived.prolific() == direct.prolific() == {"Ann", "Bo"}
    assert whole.prolific() != direct.prolific()
    assert relate(papers, 3, authorship=whole).lists == relate(papers, 3).lists


@pytest.mark.parametrize("block", [1, 2, 500])
def test_blocks_of_any_size_give_the_same_lists(labelled, monkeypatch, block):
    model = labelled["taxonomy"].model
    reference = Reference(model.reference_papers, model.reference_frequency)
    tagged = Tagger(labelled["taxonomy"]).tag_all(labelled["papers"])[:120]
    whole = relate(tagged, 5, reference).lists
    authored = by_authors(tagged, 3, whole)
    monkeypatch.setattr(similarity, "BLOCK_ROWS", block)
    assert relate(tagged, 5, reference).lists == whole
    assert by_authors(tagged, 3, whole) == authored


def test_the_topic_part_is_the_same_from_the_table_of_sets_and_without_it(labelled,
                                                                         monkeypatch):
    """Few sets of topics: their part of the score is worked out once for every two sets;
    many: pair by pair. Both give every pair the same score, so the same lists and state."""
    model = labelled["taxonomy"].model
    reference = Reference(model.reference_papers, model.reference_frequency)
    tagged = Tagger(labelled["taxonomy"]).tag_all(labelled["papers"])[:200]
    topics = similarity._Topics(tagged)
    assert topics.table is not None and len(topics.table) < len(tagged)
    made = relate(tagged, 5, reference)
    monkeypatch.setattr(similarity._Topics, "TABLE_UP_TO", 0)
    assert similarity._Topics(tagged).table is None
    again = relate(tagged, 5, reference)
    assert again.lists == made.lists and again.state == made.state
    assert any(made.lists.values())


def test_more_by_these_authors_reusing_the_last_run_gives_what_a_whole_run_gives(
        labelled, monkeypatch):
    """A rebuild works out again only the "more by these authors" lists that may differ; after
    new papers, an edited and a removed one, a paper seen again, changed related lists and an
    author passing the limit and falling back under it, its lists are those of a whole run."""
    monkeypatch.setattr(similarity, "MAX_AUTHOR_PAPERS", 6)
    papers = sorted(labelled["papers"], key=lambda p: (p.first_seen, p.key))
    authors = Counter(a for p in papers for a in set(p.authors))
    busy = next(a for a, n in authors.most_common() if n == 6 and a not in papers[5].authors)
    related = {p.key: tuple(q.key for q in papers[i + 1:i + 3]) for i, p in enumerate(papers)}
    old = papers[:-40]
    last = same_authors(old, 3, related)
    assert sum(map(bool, last.lists.values())) > 50
    # A busy author's next paper takes them past the limit; one of their papers loses an
    # author, another is seen again on a later day; one paper goes; some related lists change.
    theirs = [p for p in old if busy in p.authors]
    later = Appearance(papers[-1].last_seen + datetime.timedelta(days=1), 1)
    now = list(papers[-40:]) + [p for p in old if p.key != old[5].key]
    now += [dataclasses.replace(theirs[0], key="busy-next", title="Another one")]
    edits = {theirs[1].key: dataclasses.replace(theirs[1], authors=tuple(
                 a for a in theirs[1].authors if a != busy)[1:] + (busy,)),
             theirs[2].key: dataclasses.replace(theirs[2], appearances=(*theirs[2].appearances,
                                                                         later))}
    now = [edits.get(p.key, p) for p in now]
    # Related lists that now hold the first paper of a paper's "more by these authors" list.
    changed_related = dict(related, **{key: (listed[0],) for key, listed in
                                       sorted(last.lists.items())[:200] if listed})
    again = same_authors(now, 3, changed_related, last.state)
    assert again.lists == by_authors(now, 3, changed_related)
    assert set(again.state) - {"prolific authors"} == {p.key for p in now}
    assert busy in again.state["prolific authors"][2]
    # The author falls back under the limit: their papers may list each other again.
    back = [p for p in now if p.key != "busy-next"]
    assert same_authors(back, 3, changed_related, again.state).lists == by_authors(
        back, 3, changed_related)
    # With nothing changed, the last run's lists are kept as they were.
    assert same_authors(back, 3, changed_related, same_authors(back, 3, changed_related).state
                        ).state == same_authors(back, 3, changed_related).state
