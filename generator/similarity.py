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

Candidates are the papers that share a term or an author, found and scored for a block of
papers at a time by sparse matrix products (scipy): the cost grows with the pairs that share a
term, not with the square of the archive. Ties are broken by key.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from generator.records import Paper, printed_from
from generator.textfeatures import Reference, related_terms

#: Terms kept per paper.
TERMS_PER_PAPER = 25
#: Weights of the score (see the module's docstring), and the least score worth showing.
TOPIC_WEIGHT, AUTHOR_BONUS, MIN_SCORE = 0.5, 0.15, 0.2
#: A term in more than this share of the reference papers is too common to find candidates
#: (fixed by the reference, so that whether two papers are candidates depends on them alone).
MAX_REFERENCE_SHARE = 0.1
#: Papers whose candidates are worked out in one sparse product (memory grows with it).
BLOCK_ROWS = 500
#: An author with more papers than this (a consortium, a placeholder) relates none.
MAX_AUTHOR_PAPERS = 200
#: The state's entry for the authors over that limit (not a paper key: keys have no spaces).
PROLIFIC = "prolific authors"


#: ``1 + log n`` for the counts a term has in one paper (any larger is worked out).
_LOG_COUNT = (0.0, *(1 + math.log(n) for n in range(1, 256)))


def _vector(paper: Paper, reference: Reference) -> dict[str, float]:
    """The paper's ``TERMS_PER_PAPER`` strongest terms by TF-IDF (ties by term), scaled to
    length 1."""
    idf, unseen = reference.idfs()
    # Negated, so that sorting the pairs puts the strongest first and ties in term order.
    weights = [(-(_LOG_COUNT[n] if n < len(_LOG_COUNT) else 1 + math.log(n))
                * idf.get(t, unseen), t) for t, n in related_terms(paper).items()]
    weights.sort()
    top = weights[:TERMS_PER_PAPER]
    norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
    return {t: round(-w / norm, 6) for w, t in top}


def _word_matrix(vectors: list[dict[str, float]], reference: Reference):
    """Papers x terms (CSR, columns in order): each paper's word vector, without the terms too
    common in the reference to find candidates. Built from flat arrays, not row by row."""
    import numpy as np
    from scipy import sparse

    terms = {t: j for j, t in enumerate(sorted(
        set().union(*vectors) - reference.common_terms(MAX_REFERENCE_SHARE)))}
    lengths = np.fromiter(map(len, vectors), dtype=np.int64, count=len(vectors))
    count = int(lengths.sum())
    columns = np.fromiter(map(terms.get, itertools.chain.from_iterable(vectors),
                              itertools.repeat(-1)), dtype=np.int64, count=count)
    weights = np.fromiter(itertools.chain.from_iterable(v.values() for v in vectors),
                          dtype=np.float64, count=count)
    owners = np.repeat(np.arange(len(vectors), dtype=np.int64), lengths)
    kept = columns >= 0
    matrix = sparse.csr_matrix((weights[kept], (owners[kept], columns[kept])),
                               shape=(len(vectors), max(len(terms), 1)))
    matrix.sort_indices()
    return matrix


#: What a shared author counts for "more by these authors": a name alone confuses namesakes,
#: so it counts 1 and a paper needs two shared names; an account on Hugging Face (an author
#: who claimed both papers) is one person and counts 2 on its own.
NAME_WEIGHT, ACCOUNT_WEIGHT, SAME_AUTHORS = 1.0, 2.0, 2.0


def name_key(name: str) -> str:
    """An author's name as a key. An account's key starts with "@", so a name that starts with
    "@" (or with the backslash that marks it) gets a backslash in front: a literal "@ann" in a
    list of names and the account "ann" are never one author, and a key is an account's if
    and only if it starts with "@"."""
    return "\\" + name if name[:1] in ("@", "\\") else name


def author_keys(paper: Paper, accounts: bool = False) -> set[str]:
    """A paper's authors by name (``name_key``); with ``accounts``, also the accounts of those
    who claimed it (``@account``)."""
    keys = set(map(name_key, paper.authors))
    if accounts:
        keys.update(f"@{account}" for _, account in paper.author_accounts)
    return keys


@dataclass
class Authorship:
    """Who wrote what, as flat arrays: pair p is paper ``rows[p]`` by author ``codes[p]``
    (``names[codes[p]]``); ``counts[c]`` is the number of papers of author ``c``. An author
    is an account when its key starts with "@" (see ``name_key``)."""

    rows: object
    codes: object
    names: list[str]
    counts: object

    @classmethod
    def of(cls, papers: Sequence[Paper], accounts: bool = False) -> Authorship:
        import numpy as np

        keys = [author_keys(p, accounts) for p in papers]
        code: dict[str, int] = {}
        flat = [code.setdefault(a, len(code)) for authors in keys for a in authors]
        codes = np.array(flat, dtype=np.int64)
        rows = np.repeat(np.arange(len(keys), dtype=np.int64),
                         np.fromiter(map(len, keys), dtype=np.int64, count=len(keys)))
        return cls(rows, codes, list(code), np.bincount(codes, minlength=len(code)))

    def _accounts(self):
        """Whether each author (by code) is an account, not a name."""
        import numpy as np
        return np.fromiter((a.startswith("@") for a in self.names), dtype=bool,
                           count=len(self.names))

    def names_only(self) -> Authorship:
        """Who wrote what by name alone: ``Authorship.of(papers)`` from one made with
        accounts, without reading the papers again (an account's author counts no paper)."""
        import numpy as np

        accounts = self._accounts()
        if not accounts.any():
            return self
        named = ~accounts[self.codes]
        codes = self.codes[named]
        return Authorship(self.rows[named], codes, self.names,
                          np.bincount(codes, minlength=len(self.names)))

    def prolific(self) -> set[str]:
        """The authors on more than MAX_AUTHOR_PAPERS papers."""
        import numpy as np
        return {self.names[c] for c in np.flatnonzero(self.counts > MAX_AUTHOR_PAPERS)}

    def papers_of(self, names: set[str]) -> set[int]:
        """The papers (positions) of any of these authors."""
        import numpy as np
        if not names:  # the usual case: no author passed the limit or fell back under it
            return set()
        wanted = np.zeros(len(self.names) + 1, dtype=bool)
        wanted[[c for c, name in enumerate(self.names) if name in names]] = True
        return set(np.unique(self.rows[wanted[self.codes]]).tolist())

    def matrix(self, n: int):
        """Papers x authors and its transpose, for the authors who can relate papers: on two
        or more, and on no more than MAX_AUTHOR_PAPERS. A name is ``NAME_WEIGHT``, an account
        (``@account``) ``ACCOUNT_WEIGHT``."""
        import numpy as np
        from scipy import sparse

        weight = np.append(np.where(self._accounts(), ACCOUNT_WEIGHT, NAME_WEIGHT), 0.0)
        usable = (self.counts > 1) & (self.counts <= MAX_AUTHOR_PAPERS)
        keep = usable[self.codes]
        shared = sparse.csr_matrix((weight[self.codes[keep]],
                                    (self.rows[keep], self.codes[keep])),
                                   shape=(n, max(len(self.names), 1)))
        shared.sort_indices()
        return shared, shared.T.tocsr()


def fingerprint(paper: Paper) -> str:
    """What a paper's relatedness depends on: its text, keywords, topics and authors."""
    return hashlib.sha1(repr((paper.title, paper.abstract, paper.keywords, paper.tags,
                              sorted(set(paper.authors)))).encode()).hexdigest()[:16]


class _Topics:
    """The topic part of a pair's score (``TOPIC_WEIGHT`` times the cosine of the two papers'
    sets of topics), by the papers' positions. An archive has far fewer sets of topics than
    papers: the sets are numbered, and while there are few, the part for every two sets is
    worked out once."""

    #: Sets of topics up to which the table of every two is made (8 bytes each pair).
    TABLE_UP_TO = 2048

    def __init__(self, papers: Sequence[Paper]) -> None:
        import numpy as np

        found: dict[frozenset[str], int] = {}
        self.sets = np.fromiter((found.setdefault(frozenset(p.tags), len(found))
                                 for p in papers), dtype=np.int64, count=len(papers))
        topic_ids = {t: j for j, t in enumerate(sorted(set().union(*found)))}
        self.masks = np.zeros((len(found), len(topic_ids) // 64 + 1), dtype=np.uint64)
        for row, tags in enumerate(found):
            for t in tags:
                self.masks[row, topic_ids[t] // 64] |= np.uint64(1 << topic_ids[t] % 64)
        sizes = np.fromiter(map(len, found), dtype=np.float64, count=len(found))
        self.inverse_root = np.divide(1.0, np.sqrt(sizes), out=np.zeros(len(found)),
                                      where=sizes > 0)
        self.table = None
        if len(found) <= self.TABLE_UP_TO:
            every = np.arange(len(found))
            self.table = self._of_sets(np.repeat(every, len(found)),
                                       np.tile(every, len(found))).reshape(len(found), -1)

    def _of_sets(self, a, b):
        import numpy as np
        both = np.bitwise_count(self.masks[a] & self.masks[b]).sum(axis=1, dtype=np.float64)
        return TOPIC_WEIGHT * both * self.inverse_root[a] * self.inverse_root[b]

    def score(self, rows, counts, b):
        """The topic part for the pairs of papers ``rows[r]``, ``b[i]`` (positions), where
        row ``r`` stands for the next ``counts[r]`` of ``b``."""
        import numpy as np
        b = self.sets[b]
        if self.table is None:
            return self._of_sets(np.repeat(self.sets[rows], counts), b)
        # The rows' part of the table, then each pair's place in it.
        mine = self.table[self.sets[rows]]
        return mine.ravel()[np.repeat(np.arange(len(rows)) * mine.shape[1], counts) + b]


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
           previous: dict[str, list] | None = None,
           authorship: Authorship | None = None,
           sources: Mapping[str, str] | None = None) -> Related:
    """Related papers of every paper. With ``previous`` (the ``state`` of an earlier run with
    the same reference and k), only what changed is worked out: the lists of new and changed
    papers, the lists that held a changed or removed paper, and, for every other paper, the
    new papers that score above its list's last. Since a pair's score depends on the two
    papers alone (and whether they are candidates too), that is the result of the whole
    computation. ``authorship`` is ``Authorship.of(papers, accounts=True)``, when the caller
    has it (only its names count here). ``sources`` (``records.source_prints``) stands for
    a paper's fields but its tags in its fingerprint."""
    import numpy as np

    papers = list(papers)
    n = len(papers)
    reference = reference or Reference.of(papers)
    previous = previous or {}
    prints = [printed_from(sources, p, "related", p.tags) or fingerprint(p) for p in papers]
    keys = [p.key for p in papers]
    reused = [previous.get(key) if previous.get(key, [None])[0] == fp else None
              for key, fp in zip(keys, prints, strict=True)]
    vectors = [old[1] if old else _vector(p, reference)
               for p, old in zip(papers, reused, strict=True)]
    authorship = Authorship.of(papers) if authorship is None else authorship.names_only()
    # An author on more than MAX_AUTHOR_PAPERS papers (a consortium, a placeholder) relates
    # none of them: whether a pair shares an author that counts depends on the archive there,
    # so the papers of an author who just passed the limit are worked out again.
    prolific = authorship.prolific()
    was = set(previous.get(PROLIFIC, [None, None, []])[2]) if previous else set()
    flipped = prolific ^ was  # passed the limit, or fell back under it
    # Rows to work out whole: new and changed papers, and lists that held a changed or removed
    # paper; every other list only meets the new and changed papers.
    fresh = {i for i, old in enumerate(reused) if old is None}
    if previous and flipped:
        fresh |= authorship.papers_of(flipped)
    gone = set(previous) - set(keys) - {PROLIFIC} | {keys[i] for i in fresh}
    whole = fresh | {i for i, old in enumerate(reused)
                     if old is not None and any(other in gone for other, _ in old[2])}
    if not whole:
        lists = {key: tuple(o for o, _ in old[2]) for key, old in zip(keys, reused, strict=True)}
        state = {key: old for key, old in zip(keys, reused, strict=True)}
        return Related(lists, state | {PROLIFIC: ["", {}, sorted(prolific)]})
    # Papers x terms (words) and papers x authors as sparse matrices: a block of rows times
    # the transpose gives every candidate of those rows with its word score, and its number of
    # shared authors, in one product (scipy's, in C): the cost is the pairs that share a term.
    words = _word_matrix(vectors, reference)
    shared, shared_t = authorship.matrix(n)
    words_t = words.T.tocsr()
    topics = _Topics(papers)
    in_whole = np.zeros(n, dtype=bool)
    in_whole[list(whole)] = True
    is_fresh = np.zeros(n, dtype=bool)
    is_fresh[list(fresh)] = True
    lists: dict[int, list[tuple[float, str]]] = {}
    extra: dict[int, list[tuple[float, str]]] = {}
    rows = np.array(sorted(whole), dtype=np.int64)
    for block in np.array_split(rows, max(1, len(rows) // BLOCK_ROWS)):
        score = words[block] @ words_t
        score.data *= 1 - TOPIC_WEIGHT
        score = (score + AUTHOR_BONUS * (shared[block] @ shared_t).minimum(2)).tocsr()
        counts = np.diff(score.indptr)
        owner = np.repeat(block, counts)
        candidates = score.indices
        value = score.data + topics.score(block, counts, candidates)
        keep = (candidates != owner) & (value >= MIN_SCORE)
        owner, candidates, value = owner[keep], candidates[keep], value[keep]
        new = is_fresh[owner] & ~in_whole[candidates]
        # A new or changed paper may now be on the lists of the others.
        for i, j, s in zip(owner[new].tolist(), candidates[new].tolist(), value[new].tolist(),
                           strict=True):
            extra.setdefault(j, []).append((s, keys[i]))
        bounds = np.searchsorted(owner, block, side="right").tolist()
        begin = 0
        for i, stop in zip(block.tolist(), bounds, strict=True):
            mine, score_of = candidates[begin:stop], value[begin:stop]
            begin = stop
            if len(mine) > k:
                floor = np.partition(score_of, len(score_of) - k)[len(score_of) - k] - 1e-9
                mine, score_of = mine[score_of >= floor], score_of[score_of >= floor]
            lists[i] = sorted(((s, keys[j]) for j, s in zip(mine.tolist(), score_of.tolist(),
                                                           strict=True)), key=_order)[:k]
    out: dict[str, tuple[str, ...]] = {}
    state: dict[str, list] = {}
    for i, key in enumerate(keys):
        if i not in lists and i not in extra:  # as it was
            out[key] = tuple(o for o, _ in reused[i][2])
            state[key] = reused[i]
            continue
        if i in lists:
            pairs = lists[i]
        else:
            pairs = sorted([(s, o) for o, s in reused[i][2]] + extra[i], key=_order)[:k]
        out[key] = tuple(o for _, o in pairs)
        state[key] = [prints[i], vectors[i], [[o, s] for s, o in pairs]]
    state[PROLIFIC] = ["", {}, sorted(prolific)]
    return Related(out, state)


def by_authors(papers: Sequence[Paper], k: int = 5,
               related: dict[str, tuple[str, ...]] | None = None) -> dict[str, tuple[str, ...]]:
    """For each paper key, up to ``k`` other papers by the same authors: sharing an author's
    account, or two author names (see ``NAME_WEIGHT``); most shared first, then newest, then
    key; papers already among its related ones left out."""
    return same_authors(papers, k, related).lists


def _authors_print(paper: Paper) -> str:
    """What a paper's place on other papers' "more by these authors" lists depends on."""
    return hashlib.sha1(repr((sorted(author_keys(paper, accounts=True)),
                              paper.last_seen.toordinal())).encode()).hexdigest()[:16]


def same_authors(papers: Sequence[Paper], k: int = 5,
                 related: dict[str, tuple[str, ...]] | None = None,
                 previous: dict[str, list] | None = None,
                 authorship: Authorship | None = None,
                 sources: Mapping[str, str] | None = None) -> Related:
    """``by_authors``, with what the next run can reuse (``state``: by paper key, its
    ``_authors_print``, the related papers it left out, and its list). With ``previous`` (the
    state of an earlier run with the same k), only the lists that may differ are worked out:
    those of new and changed papers, of their co-authors' papers, of papers whose related
    list changed or whose list held a changed or removed paper, and of the papers of authors
    who passed MAX_AUTHOR_PAPERS or fell back under it. A list depends on nothing else.
    ``authorship`` is ``Authorship.of(papers, accounts=True)``, when the caller has it;
    ``sources`` (``records.source_prints``) stands for a paper's authors and days in its
    print."""
    import numpy as np

    related = related or {}
    previous = previous or {}
    papers = list(papers)
    n = len(papers)
    keys = [p.key for p in papers]
    index = {key: i for i, key in enumerate(keys)}
    prints = [printed_from(sources, p, "authored") or _authors_print(p) for p in papers]
    skips = [list(related.get(key, ())) for key in keys]
    if authorship is None:
        authorship = Authorship.of(papers, accounts=True)
    prolific = authorship.prolific()
    reused = [old if isinstance(old, list) and len(old) == 3 and old[0] == fp else None
              for fp, old in zip(prints, map(previous.get, keys), strict=True)]
    changed = {i for i, old in enumerate(reused) if old is None}
    if not previous:
        whole = set(range(n))
    else:
        # New and changed papers, the co-authors of one, and the papers of an author who
        # passed the limit or fell back under it.
        gone = set(previous) - set(keys) - {PROLIFIC}
        touched = np.zeros(len(authorship.names) + 1, dtype=bool)
        touched[authorship.codes[np.isin(authorship.rows, list(changed))]] = True
        whole = changed | set(authorship.rows[touched[authorship.codes]].tolist())
        was = previous.get(PROLIFIC, [None, None, []])[2]
        whole |= authorship.papers_of(prolific ^ set(was if isinstance(was, list) else ()))
        whole |= {i for i, old in enumerate(reused) if old is not None and (
            old[1] != skips[i] or any(o in gone or index.get(o) in changed for o in old[2]))}
    out: dict[str, tuple[str, ...]] = {}
    state: dict[str, list] = {}
    for i, key in enumerate(keys):
        if i not in whole:
            out[key], state[key] = tuple(reused[i][2]), reused[i]
    rows = np.array(sorted(whole), dtype=np.int64)
    if len(rows):
        found = _same_authors_of(rows, papers, keys, index, authorship, k, related)
        for i, listed in zip(rows.tolist(), found, strict=True):
            out[keys[i]] = tuple(listed)
            state[keys[i]] = [prints[i], skips[i], listed]
    state[PROLIFIC] = ["", [], sorted(prolific)]
    return Related({key: out[key] for key in keys}, state)


def _same_authors_of(rows, papers: list[Paper], keys: list[str], index: dict[str, int],
                     authorship: Authorship, k: int,
                     related: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """The "more by these authors" list of each paper in ``rows`` (positions, ascending)."""
    import numpy as np

    n = len(papers)
    shared, shared_t = authorship.matrix(n)
    # Newest first, then by key: a paper's place in that order settles ties of shared authors.
    order = sorted(range(n), key=lambda j: (-papers[j].last_seen.toordinal(), keys[j]))
    place = np.empty(n, dtype=np.int64)
    place[order] = np.arange(n)
    # Itself and its related papers, as codes of (row, column) pairs to leave out.
    skip = np.array(sorted({i * n + j for i in rows.tolist() for j in
                            [i, *(index[o] for o in related.get(keys[i], ()) if o in index)]}),
                    dtype=np.int64)
    found: list[list[str]] = []
    for block in np.array_split(rows, max(1, len(rows) // BLOCK_ROWS)):
        counts = (shared[block] @ shared_t).tocsr()
        owners = np.repeat(block, np.diff(counts.indptr))
        others, count = counts.indices.astype(np.int64), counts.data
        keep = count >= SAME_AUTHORS
        owners, others, count = owners[keep], others[keep], count[keep]
        codes = owners * n + others
        at = np.minimum(np.searchsorted(skip, codes), len(skip) - 1)
        keep = skip[at] != codes
        owners, others, count = owners[keep], others[keep], count[keep]
        rank = count * (n + 1) - place[others]  # more shared authors first, then newer
        # By owner, then best first: each owner's first k.
        by_rank = np.lexsort((-rank, owners))
        owners, others = owners[by_rank], others[by_rank]
        starts = np.searchsorted(owners, block)
        ends = np.minimum(np.searchsorted(owners, block, side="right"), starts + k)
        listed = others.tolist()
        found.extend([keys[j] for j in listed[begin:stop]]
                     for begin, stop in zip(starts.tolist(), ends.tolist(), strict=True))
    return found
