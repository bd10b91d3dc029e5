"""Related papers: the most similar papers by TF-IDF cosine of title and abstract.

Pure: only processes data. Each paper is reduced to its strongest terms, and candidates are
found through an inverted index of those terms, so the cost grows with the archive, not with
its square. Ties are broken by key, so the result is deterministic.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict

from generator.records import Paper

#: Terms kept per paper; enough to find close neighbours, few enough to stay fast.
TERMS_PER_PAPER = 15
#: A term in more than this share of papers says little about closeness and is not indexed.
MAX_DOCUMENT_SHARE = 0.005
_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")
_STOP = frozenset("""
about above across after again against also among an and any are around as at based be been
before being below between both but by can could did do does doing done down during each either
even every few for from further had has have having here how however if in into is it its
itself just large less many may more most much must new no nor not novel now of off often on
once one only or other our out over own paper per propose proposed proposes present show shows
such than that the their them then there these they this those through thus to too two under
until up upon use used uses using very via was we well were what when where which while who
whose why will with within without would yet approach approaches method methods model models
results result learning work task tasks data performance existing different significantly
achieve achieves demonstrate experiments extensive state-of-the-art art state first further
""".split())


def _terms(paper: Paper) -> Counter:
    text = f"{paper.title} {paper.title} {paper.abstract}".lower()
    return Counter(w for w in _WORD.findall(text) if w not in _STOP)


def related_papers(papers: list[Paper], k: int = 5) -> dict[str, tuple[str, ...]]:
    """For each paper key, the keys of the ``k`` most similar other papers, best first."""
    counts = [_terms(p) for p in papers]
    df: Counter = Counter()
    for c in counts:
        df.update(c.keys())
    n = len(papers)
    idf = {t: math.log((1 + n) / (1 + d)) for t, d in df.items()}
    damp = [0.0] + [1 + math.log(tf) for tf in range(1, 64)]
    vectors = []
    for c in counts:
        weights = [((damp[tf] if tf < 64 else 1 + math.log(tf)) * idf[t], t)
                   for t, tf in c.items()]
        # Strongest terms; equal weights are settled by the term, so the choice is stable.
        top = heapq.nsmallest(TERMS_PER_PAPER, weights, key=lambda wt: (-wt[0], wt[1]))
        norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
        vectors.append({t: w / norm for w, t in top})
    common = max(20, int(n * MAX_DOCUMENT_SHARE))
    index: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, vector in enumerate(vectors):
        for term, weight in vector.items():
            if df[term] <= common:
                index[term].append((i, weight))
    related = {}
    for i, vector in enumerate(vectors):
        scores: dict[int, float] = defaultdict(float)
        for term, weight in vector.items():
            for j, other in index.get(term, ()):
                if j != i:
                    scores[j] += weight * other
        # The k best, and ties with the k-th, then ordered by (score, key) so that equal
        # scores always come out in the same order.
        if len(scores) > k:
            floor = heapq.nlargest(k, scores.values())[-1] - 1e-12
            scores = {j: s for j, s in scores.items() if s >= floor}
        best = sorted(scores.items(), key=lambda item: (-round(item[1], 12), papers[item[0]].key))
        related[papers[i].key] = tuple(papers[j].key for j, s in best[:k] if s > 0)
    return related
