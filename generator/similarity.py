"""Papers -> for each, the papers most like it, and the papers that share an author with it.

Pure: only processes data. Two papers are alike by what they say and what they are about:

- their words: single words and word pairs of title (counted double), abstract and the
  source's keywords, weighted by TF-IDF and reduced to each paper's ``TERMS_PER_PAPER``
  strongest; the inverse document frequencies are those of a fixed reference (the labelled
  papers the topic model was fitted on, kept in ``topic-model.json``), so that a word weighs
  the same in every build and words common in this field (model, language, learning) weigh
  little;
- their topics (the cosine of their tag sets);
- their authors (a bonus for each shared author, up to two).

Score = (1 - ``TOPIC_WEIGHT``) x words + ``TOPIC_WEIGHT`` x topics + ``AUTHOR_BONUS`` x shared
authors. A paper lists up to k others with at least ``MIN_SCORE``: fewer, rather than weak
ones. The score of a pair depends on the two papers alone, so a new day changes an old
paper's list only where a new paper scores higher than one it had.

Candidates come from an inverted index of the papers' strongest words, scored with numpy a
paper at a time: the cost grows with the archive, not with its square. Ties are broken by key.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from generator.records import Paper
from generator.topicmodel import paper_terms

#: Terms kept per paper.
TERMS_PER_PAPER = 25
#: Weights of the score (see the module's docstring), and the least score worth showing.
TOPIC_WEIGHT, AUTHOR_BONUS, MIN_SCORE = 0.5, 0.15, 0.2
#: A term in more than this share of the reference papers is too common to find candidates
#: (fixed by the reference, so that whether two papers are candidates depends on them alone).
MAX_REFERENCE_SHARE = 0.1
#: An author with more papers than this (a consortium, a placeholder) relates none.
MAX_AUTHOR_PAPERS = 200
#: The state's entry for the authors over that limit (not a paper key: keys have no spaces).
PROLIFIC = "prolific authors"


def terms_of(paper: Paper) -> Counter:
    """A paper's terms for relatedness: abstract and title terms (title counted double), and
    the source's keywords."""
    body, title = paper_terms(paper)
    terms = Counter(body)
    for term, n in title.items():
        terms[term[2:]] += 2 * n
    for keyword in paper.keywords:
        terms["k:" + keyword.lower()] += 2
    return terms


class Reference:
    """Document frequencies of a fixed set of papers, for inverse document frequencies."""

    def __init__(self, papers: int, frequency: dict[str, int]):
        self.papers = max(papers, 1)
        self.frequency = frequency
        self._unseen = math.log(self.papers + 1)

    @classmethod
    def of(cls, papers: Sequence[Paper], least: int = 3) -> Reference:
        df: Counter = Counter()
        for paper in papers:
            df.update(terms_of(paper).keys())
        return cls(len(papers), {t: d for t, d in sorted(df.items()) if d >= least})

    def idf(self, term: str) -> float:
        d = self.frequency.get(term)
        return math.log((self.papers + 1) / (d + 1)) if d else self._unseen

    def common(self, term: str) -> bool:
        return self.frequency.get(term, 0) > MAX_REFERENCE_SHARE * self.papers


def _vector(paper: Paper, reference: Reference) -> dict[str, float]:
    weights = [((1 + math.log(n)) * reference.idf(t), t) for t, n in terms_of(paper).items()]
    top = heapq.nsmallest(TERMS_PER_PAPER, weights, key=lambda wt: (-wt[0], wt[1]))
    norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
    return {t: round(w / norm, 6) for w, t in top}


def fingerprint(paper: Paper) -> str:
    """What a paper's relatedness depends on: its text, keywords, topics and authors."""
    return hashlib.sha1(repr((paper.title, paper.abstract, paper.keywords, paper.tags,
                              sorted(set(paper.authors)))).encode()).hexdigest()[:16]


@dataclass
class Related:
    """Each paper's related papers, and what the next build can reuse of this one's work
    (``state``: by paper key, its fingerprint, word vector and list with scores)."""

    lists: dict[str, tuple[str, ...]]
    state: dict[str, list]


def _order(pair: tuple[float, str]) -> tuple[float, str]:
    # Equal scores (rounded, so that the order does not hang on the last bits of a sum) are
    # settled by key.
    return (-round(pair[0], 9), pair[1])


def related_papers(papers: Sequence[Paper], k: int = 5, reference: Reference | None = None,
                   previous: dict[str, list] | None = None) -> dict[str, tuple[str, ...]]:
    """For each paper key, the keys of up to ``k`` papers most like it, best first."""
    return relate(papers, k, reference, previous).lists


def relate(papers: Sequence[Paper], k: int = 5, reference: Reference | None = None,
           previous: dict[str, list] | None = None) -> Related:
    """Related papers of every paper. With ``previous`` (the ``state`` of an earlier run with
    the same reference and k), only what changed is worked out: the lists of new and changed
    papers, the lists that held a changed or removed paper, and, for every other paper, the
    new papers that score above its list's last. Since a pair's score depends on the two
    papers alone (and whether they are candidates too), that is the result of the whole
    computation."""
    import numpy as np

    papers = list(papers)
    n = len(papers)
    reference = reference or Reference.of(papers)
    previous = previous or {}
    prints = [fingerprint(p) for p in papers]
    keys = [p.key for p in papers]
    reused = [previous.get(key) if previous.get(key, [None])[0] == fp else None
              for key, fp in zip(keys, prints, strict=True)]
    vectors = [old[1] if old else _vector(p, reference)
               for p, old in zip(papers, reused, strict=True)]
    by_author: dict[str, list[int]] = {}
    for i, paper in enumerate(papers):
        for author in set(paper.authors):
            by_author.setdefault(author, []).append(i)
    # An author on more than MAX_AUTHOR_PAPERS papers (a consortium, a placeholder) relates
    # none of them: whether a pair shares an author that counts depends on the archive there,
    # so the papers of an author who just passed the limit are worked out again.
    prolific = {a for a, papers_of in by_author.items() if len(papers_of) > MAX_AUTHOR_PAPERS}
    was = set(previous.get(PROLIFIC, [None, None, []])[2]) if previous else set()
    newly = prolific - was
    # Rows to work out whole: new and changed papers, and lists that held a changed or removed
    # paper; every other list only meets the new and changed papers.
    fresh = {i for i, old in enumerate(reused) if old is None}
    fresh |= {i for a in newly if previous for i in by_author[a]}
    gone = set(previous) - set(keys) - {PROLIFIC} | {keys[i] for i in fresh}
    whole = fresh | {i for i, old in enumerate(reused)
                     if old is not None and any(other in gone for other, _ in old[2])}
    if not whole:
        lists = {key: tuple(o for o, _ in old[2]) for key, old in zip(keys, reused, strict=True)}
        state = {key: old for key, old in zip(keys, reused, strict=True)}
        return Related(lists, state | {PROLIFIC: ["", {}, sorted(prolific)]})
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, vector in enumerate(vectors):
        for term, weight in vector.items():
            if not reference.common(term):
                postings.setdefault(term, []).append((i, weight))
    index = {t: (np.array([i for i, _ in p], dtype=np.int64), np.array([w for _, w in p]))
             for t, p in postings.items()}
    # Topics as unit vectors of a dense matrix (papers x topics); authors as lists.
    topic_ids = {t: j for j, t in enumerate(sorted({t for p in papers for t in p.tags}))}
    topics = np.zeros((n, max(len(topic_ids), 1)), dtype=np.float32)
    for i, paper in enumerate(papers):
        if paper.tags:
            topics[i, [topic_ids[t] for t in paper.tags]] = 1 / math.sqrt(len(paper.tags))
    by_author_ids = {a: np.array(ids, dtype=np.int64) for a, ids in by_author.items()
                     if a not in prolific}
    lists: dict[int, list[tuple[float, str]]] = {}
    extra: dict[int, list[tuple[float, str]]] = {}
    for i in sorted(whole):
        vector = vectors[i]
        terms = [t for t in vector if t in index]
        ids = np.concatenate([index[t][0] for t in terms]) if terms else np.zeros(0, np.int64)
        weights = np.concatenate([index[t][1] * vector[t] for t in terms]) if terms \
            else np.zeros(0)
        authors = [by_author_ids[a] for a in set(papers[i].authors) if a in by_author_ids]
        shared = np.concatenate(authors) if authors else np.zeros(0, np.int64)
        candidates, inverse = np.unique(np.concatenate([ids, shared]), return_inverse=True)
        text = np.bincount(inverse[: len(ids)], weights=weights, minlength=len(candidates))
        together = np.minimum(np.bincount(inverse[len(ids):], minlength=len(candidates)), 2)
        score = (1 - TOPIC_WEIGHT) * text + TOPIC_WEIGHT * (topics[candidates] @ topics[i]) \
            + AUTHOR_BONUS * together
        keep = (candidates != i) & (score >= MIN_SCORE)
        candidates, score = candidates[keep], score[keep]
        if i in fresh:  # this paper may now be on the lists of the others
            for j, s in zip(candidates.tolist(), score.tolist(), strict=True):
                if j not in whole:
                    extra.setdefault(j, []).append((s, keys[i]))
        if len(candidates) > k:
            floor = np.partition(score, len(score) - k)[len(score) - k] - 1e-9
            candidates, score = candidates[score >= floor], score[score >= floor]
        pairs = sorted(((float(s), keys[j]) for j, s in zip(candidates.tolist(), score.tolist(),
                                                           strict=True)), key=_order)
        lists[i] = pairs[:k]
    out: dict[str, tuple[str, ...]] = {}
    state: dict[str, list] = {}
    for i, key in enumerate(keys):
        if i in lists:
            pairs = lists[i]
        else:
            pairs = [(s, o) for o, s in reused[i][2]]
            if i in extra:
                pairs = sorted(pairs + extra[i], key=_order)[:k]
        out[key] = tuple(o for _, o in pairs)
        state[key] = [prints[i], vectors[i], [[o, s] for s, o in pairs]]
    state[PROLIFIC] = ["", {}, sorted(prolific)]
    return Related(out, state)


def by_authors(papers: Sequence[Paper], k: int = 5,
               related: dict[str, tuple[str, ...]] | None = None) -> dict[str, tuple[str, ...]]:
    """For each paper key, up to ``k`` other papers with an author in common, most shared
    authors first, then newest, then key; papers already among its related ones left out."""
    related = related or {}
    by_author: dict[str, list[int]] = {}
    for i, paper in enumerate(papers):
        for author in set(paper.authors):
            by_author.setdefault(author, []).append(i)
    out = {}
    for i, paper in enumerate(papers):
        shared: Counter = Counter()
        for author in set(paper.authors):
            if len(by_author[author]) <= MAX_AUTHOR_PAPERS:
                shared.update(j for j in by_author[author] if j != i)
        skip = set(related.get(paper.key, ()))
        ranked = sorted((j for j in shared if papers[j].key not in skip),
                        key=lambda j: (-shared[j], -papers[j].last_seen.toordinal(),
                                       papers[j].key))
        out[paper.key] = tuple(papers[j].key for j in ranked[:k])
    return out
