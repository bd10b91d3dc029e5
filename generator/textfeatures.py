"""Paper -> its words as features: terms, TF-IDF vectors, and the fixed reference of
document frequencies. The topic model (topicmodel.py) and related papers (similarity.py)
both stand on these; neither imports the other.

Pure: only processes data. A paper's terms are the single words and pairs of neighbouring
words of its text, lowercase ASCII letters and digits, without common English words; the
title's terms are kept apart from the abstract's (they start with ``t:``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from generator.records import Paper

_WORDS = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset("""
a about above after again against all also an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having here how however i if in into is it its itself just more most no nor not
of off on once only or other our ours out over own same should so some such than that the
their them then there these they this those through to too under until up upon very via was
we were what when where which while who whom why will with within without would you your
new novel paper propose proposed proposes present presents show shows using use used based
approach method methods results work task tasks existing different significantly achieve
achieves demonstrate experiments extensive first further state art
""".split())


def terms(text: str) -> Counter:
    """Single words and pairs of neighbouring words, without common English words."""
    words = _WORDS.findall(text.lower())
    content = [w if w not in STOP_WORDS and len(w) > 1 and not w.isdigit() else ""
               for w in words]
    found = [w for w in content if w]
    found += [f"{a} {b}" for a, b in zip(content, content[1:], strict=False) if a and b]
    return Counter(found)


def paper_terms(paper: Paper) -> tuple[Counter, Counter]:
    """(abstract and keyword terms, title terms) of a paper; title terms start with "t:"."""
    body = terms(f"{paper.abstract} {' '.join(paper.keywords)}")
    title = Counter({f"t:{t}": n for t, n in terms(paper.title).items()})
    return body, title


def tfidf(parts: Iterable[Counter], idf: dict[str, float]) -> dict[str, float]:
    """TF-IDF of the known terms (``1 + log n`` times the idf), each part scaled to length
    1, parts added."""
    vector: dict[str, float] = {}
    for counts in parts:
        weights = {t: (1 + math.log(n)) * idf[t] for t, n in counts.items() if t in idf}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        for t, w in weights.items():
            vector[t] = vector.get(t, 0.0) + w / norm
    return vector


def smooth_idf(papers: int, frequency: int) -> float:
    """The inverse document frequency of a term in ``frequency`` of ``papers`` documents."""
    return math.log((1 + papers) / (1 + frequency)) + 1


def related_terms(paper: Paper) -> Counter:
    """A paper's terms for relatedness: abstract and title terms (title counted double), and
    the source's keywords."""
    body, title = paper_terms(paper)
    found = Counter(body)
    for term, n in title.items():
        found[term[2:]] += 2 * n
    for keyword in paper.keywords:
        found["k:" + keyword.lower()] += 2
    return found


class Reference:
    """Document frequencies of a fixed set of papers (the labelled ones, kept with the topic
    model), so that a word weighs the same in every build."""

    def __init__(self, papers: int, frequency: dict[str, int]):
        self.papers = max(papers, 1)
        self.frequency = frequency
        self._unseen = math.log(self.papers + 1)
        self._common: dict[float, frozenset[str]] = {}
        self._idfs: dict[str, float] | None = None

    @classmethod
    def of(cls, papers: Sequence[Paper], least: int = 3) -> Reference:
        df: Counter = Counter()
        for paper in papers:
            df.update(related_terms(paper).keys())
        return cls(len(papers), {t: d for t, d in sorted(df.items()) if d >= least})

    def idf(self, term: str) -> float:
        d = self.frequency.get(term)
        return math.log((self.papers + 1) / (d + 1)) if d else self._unseen

    def idfs(self) -> tuple[dict[str, float], float]:
        """``idf`` of every term the reference has, and of any other: for weighing many
        papers' terms without a call for each."""
        if self._idfs is None:
            self._idfs = {t: self.idf(t) for t in self.frequency}
        return self._idfs, self._unseen

    def common_terms(self, share: float) -> frozenset[str]:
        """The terms in more than ``share`` of the papers."""
        found = self._common.get(share)
        if found is None:
            found = self._common[share] = frozenset(
                t for t, d in self.frequency.items() if d > share * self.papers)
        return found
