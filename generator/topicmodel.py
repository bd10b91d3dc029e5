"""Paper -> a score per topic, learned from papers that people labelled by hand, and the
probability that a topic is right given that score and the taxonomy's phrases.

Pure at build time: the model is a JSON file beside the taxonomy (``topic-model.json``),
read once; scoring a paper is a sum of word weights. Fitting it (:func:`fit`, ``digest tags
--train``) needs numpy and is deterministic.

The words of a paper are its title's and its abstract's (with the source's keywords): single
words and pairs of words, without common English words, weighted by TF-IDF (each part scaled
to length 1, the title's words apart from the abstract's). A topic's score is a ridge
regression on those words. The probability that the topic applies joins that score with
where the topic's phrases stand (title, contribution sentence, abstract, in passing, keywords)
in a logistic regression shared by all topics, fitted on scores the ridge gave papers it was
not fitted on, so that it trusts the score as much as it deserves on unseen papers.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ConfigError
from generator.records import Paper

#: File name of the model, beside the taxonomy it was fitted with.
FILE = "topic-model.json"
FORMAT = 1

_WORDS = re.compile(r"[a-z0-9]+")
_STOP = frozenset("""
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


def _terms(text: str) -> Counter:
    """Single words and pairs of neighbouring words, without common English words."""
    words = _WORDS.findall(text.lower())
    content = [w if w not in _STOP and len(w) > 1 and not w.isdigit() else "" for w in words]
    terms = [w for w in content if w]
    terms += [f"{a} {b}" for a, b in zip(content, content[1:], strict=False) if a and b]
    return Counter(terms)


def paper_terms(paper: Paper) -> tuple[Counter, Counter]:
    """(abstract and keyword terms, title terms) of a paper; title terms start with "t:"."""
    body = _terms(f"{paper.abstract} {' '.join(paper.keywords)}")
    title = Counter({f"t:{t}": n for t, n in _terms(paper.title).items()})
    return body, title


def _vector(parts: Iterable[Counter], idf: dict[str, float]) -> dict[str, float]:
    """TF-IDF of the known terms, each part scaled to length 1, parts added."""
    vector: dict[str, float] = {}
    for counts in parts:
        weights = {t: (1 + math.log(n)) * idf[t] for t, n in counts.items() if t in idf}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        for t, w in weights.items():
            vector[t] = vector.get(t, 0.0) + w / norm
    return vector


def combiner_features(score: float, evidence, support: float) -> tuple[float, ...]:
    """What the probability of one topic is made from: the model's score, where the topic's
    phrases stand (an ``Evidence`` of tagging.py), and how much the model knows of the topic
    (``support``: 0 for a topic no labelled paper had, 1 from a hundred papers on), so that
    the phrases weigh more where the model learned little."""
    title, lead = float(evidence.title > 0), float(evidence.lead > 0)
    body = min(evidence.abstract, 3) / 3
    return (1.0, score, title, lead, body, min(evidence.passing, 2) / 2,
            float(evidence.keywords > 0), score * title, score * body, support,
            score * support, title * (1 - support), lead * (1 - support))


def support_of(papers: int) -> float:
    """How much the model knows of a topic that ``papers`` labelled papers had, from 0 to 1."""
    return min(math.log1p(papers) / math.log1p(100), 1.0)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x > -500 else 0.0


@dataclass(frozen=True)
class TopicModel:
    #: Inverse document frequency of every term the model knows.
    idf: dict[str, float]
    #: Per topic: the bias and the weight of each term that counts.
    bias: dict[str, float]
    weights: dict[str, dict[str, float]]
    #: Coefficients of ``combiner_features``.
    combiner: tuple[float, ...]
    #: A topic applies from this probability on.
    threshold: float
    #: A paper with no topic that sure gets its likeliest one, if at least this likely.
    floor: float
    #: Per topic: how many labelled papers had it.
    support: dict[str, int] = field(default_factory=dict)
    #: How many papers it was fitted on, and in how many of them each term stands: the fixed
    #: reference of related papers' term weights (see similarity.py).
    reference_papers: int = 0
    reference_frequency: dict[str, int] = field(default_factory=dict)
    #: What it was fitted on, for ``digest tags``.
    about: str = ""
    _index: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict, repr=False,
                                                             compare=False)

    def __post_init__(self) -> None:
        # With no phrase found, a topic's probability grows with its score alone: below this
        # score it cannot reach the floor, and need not be worked out.
        silent = {}
        for topic in self.bias:
            c, support = self.combiner, support_of(self.support.get(topic, 0))
            slope = c[1] + c[10] * support if len(c) > 10 else 0.0
            silent[topic] = (math.log(self.floor / (1 - self.floor)) - c[0] - c[9] * support)\
                / slope if slope > 0 and 0 < self.floor < 1 else -math.inf
        object.__setattr__(self, "silent_below", silent)
        index: dict[str, list[tuple[str, float]]] = {}
        for topic in sorted(self.weights):
            for term, weight in self.weights[topic].items():
                index.setdefault(term, []).append((topic, weight))
        self._index.update({t: tuple(v) for t, v in index.items()})

    def knows(self, topic: str) -> bool:
        return topic in self.bias

    def vector(self, paper: Paper) -> dict[str, float]:
        return _vector(paper_terms(paper), self.idf)

    def scores(self, paper: Paper) -> dict[str, float]:
        """The ridge score of every topic the model knows."""
        scores = dict(self.bias)
        index = self._index
        for term, value in self.vector(paper).items():
            for topic, weight in index.get(term, ()):
                scores[topic] += weight * value
        return scores

    def probability(self, topic: str, score: float, evidence) -> float:
        features = combiner_features(score, evidence, support_of(self.support.get(topic, 0)))
        return _sigmoid(sum(c * f for c, f in zip(self.combiner, features, strict=True)))

    def contributions(self, paper: Paper, topic: str,
                      most: int = 5) -> tuple[tuple[str, float], ...]:
        """The paper's terms that raise the topic's score most, with what each adds."""
        weights = self.weights.get(topic, {})
        added = [(term.removeprefix("t:") + (" (title)" if term.startswith("t:") else ""),
                  round(weights[term] * value, 3))
                 for term, value in self.vector(paper).items() if weights.get(term, 0) > 0]
        added.sort(key=lambda item: (-item[1], item[0]))
        return tuple(added[:most])

    # -- the file -----------------------------------------------------------------------------

    def to_json(self) -> str:
        data = {"format": FORMAT, "about": self.about, "threshold": self.threshold,
                "floor": self.floor, "combiner": list(self.combiner), "bias": self.bias,
                "support": self.support,
                "reference": {"papers": self.reference_papers,
                              "frequency": self.reference_frequency},
                "idf": self.idf, "weights": self.weights}
        return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=0,
                          separators=(",", ":")) + "\n"


def load_model(path: Path) -> TopicModel | None:
    """The model in ``path``, or None where there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        return TopicModel(idf=dict(data["idf"]), bias=dict(data["bias"]),
                          weights={t: dict(w) for t, w in data["weights"].items()},
                          combiner=tuple(float(c) for c in data["combiner"]),
                          threshold=float(data["threshold"]), floor=float(data["floor"]),
                          support={t: int(n) for t, n in data["support"].items()},
                          reference_papers=int(data["reference"]["papers"]),
                          reference_frequency={t: int(n) for t, n in
                                               data["reference"]["frequency"].items()},
                          about=str(data.get("about", "")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"not a topic model this version can read ({exc})", path=path,
                          line=1, fix="fit it again with 'digest tags --train LABELS.jsonl', "
                                      "or delete it to tag by phrases alone") from exc


# -- fitting ----------------------------------------------------------------------------------

#: Ridge penalty, terms kept per topic, folds for the out-of-fold scores, and the weight of
#: precision against recall when the threshold is chosen (F-beta with beta < 1 favours
#: precision: readers trust a topic page by the papers on it).
RIDGE, TERMS_PER_TOPIC, FOLDS, BETA = 0.3, 150, 5, 0.7


@dataclass(frozen=True)
class Fitted:
    model: TopicModel
    #: Out-of-fold (precision, recall, F1) on the labelled papers: how the model does on papers
    #: it was not fitted on.
    cross_validated: tuple[float, float, float]
    #: The same per topic: (right, wrong, missed).
    per_topic: dict[str, tuple[int, int, int]]
    #: Each labelled paper's topics as a model fitted without it chose them (by paper key).
    cross_validated_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _fold(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % FOLDS


def _ridge(np, docs: Sequence[tuple[Counter, Counter]], targets, topics: Sequence[str]):
    """Fit the term weights on ``docs`` (targets: papers x topics, 1 or 0); keep the
    ``TERMS_PER_TOPIC`` strongest terms of each topic and fit again on those alone, so that
    the model a file holds is the model that was scored."""
    df: Counter = Counter()
    for parts in docs:
        df.update(set().union(*parts))
    n = len(docs)

    def solve(vocabulary: list[str]):
        idf = {t: round(math.log((1 + n) / (1 + df[t])) + 1, 4) for t in vocabulary}
        column = {t: j for j, t in enumerate(vocabulary)}
        x = np.zeros((n, len(vocabulary) + 1))
        x[:, -1] = 1.0  # the bias, penalised like any weight
        for i, doc in enumerate(docs):
            for t, v in _vector(doc, idf).items():
                x[i, column[t]] = v
        signs = targets * 2.0 - 1.0
        dual = np.linalg.solve(x @ x.T + RIDGE * np.eye(n), signs)
        return idf, x.T @ dual

    vocabulary = sorted(t for t, d in df.items() if d >= 2)
    _, weights = solve(vocabulary)
    keep = set()
    for k in range(len(topics)):
        order = np.argsort(-np.abs(weights[:-1, k]), kind="stable")[:TERMS_PER_TOPIC]
        keep.update(vocabulary[j] for j in order)
    vocabulary = sorted(keep)
    idf, weights = solve(vocabulary)
    kept = {}
    for k, topic in enumerate(topics):
        order = np.argsort(-np.abs(weights[:-1, k]), kind="stable")[:TERMS_PER_TOPIC]
        kept[topic] = {vocabulary[j]: round(float(weights[j, k]), 4) for j in sorted(order)}
    return idf, {topic: round(float(weights[-1, k]), 4) for k, topic in enumerate(topics)}, kept


def _logistic(np, rows, targets, penalty: float = 1e-3):
    """Logistic regression by Newton's method: deterministic, a few features."""
    w = np.zeros(rows.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(rows @ w)))
        gradient = rows.T @ (p - targets) + penalty * w
        hessian = (rows * (p * (1 - p))[:, None]).T @ rows + penalty * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def choose(probabilities, gold, papers_topics, beta: float = BETA):
    """The threshold and floor with the best F-beta on ``probabilities`` (papers x topics)."""
    best = (-1.0, 0.5, 0.5)
    for threshold in [t / 100 for t in range(20, 91)]:
        for floor in [f / 100 for f in range(5, int(threshold * 100) + 1, 5)]:
            chosen = predict(probabilities, threshold, floor)
            p, r, _ = prf(chosen, gold)
            f = (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0
            if f > best[0]:
                best = (f, threshold, floor)
    return best[1], best[2]


def predict(probabilities, threshold: float, floor: float):
    """Tags chosen from probabilities: those from the threshold on, else the likeliest one
    from the floor on (see ``tagging.Tagger._scored``)."""
    chosen = probabilities >= threshold
    best = probabilities.argmax(axis=1)
    lonely = ~chosen.any(axis=1) & (probabilities.max(axis=1) >= floor)
    chosen[lonely, best[lonely]] = True
    return chosen


def prf(chosen, gold) -> tuple[float, float, float]:
    tp = float((chosen & gold).sum())
    p = tp / max(float(chosen.sum()), 1.0)
    r = tp / max(float(gold.sum()), 1.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def fit(papers: Sequence[Paper], labels: Sequence[Iterable[str]],
        evidence: Callable[[Paper], dict[str, object]], about: str = "") -> Fitted:
    """Fit a model on labelled papers (``labels[i]``: the topic ids of ``papers[i]``).
    ``evidence(paper)`` gives the phrases' ``Evidence`` by topic id (absent: none)."""
    import numpy as np

    from generator.tagging import NO_EVIDENCE

    topics = sorted({t for topic_ids in labels for t in topic_ids})
    gold = np.array([[t in set(ids) for t in topics] for ids in labels])
    docs = [paper_terms(p) for p in papers]
    found = [evidence(p) for p in papers]
    folds = np.array([_fold(p.key) for p in papers])
    # Scores of every paper by a model fitted without it.
    scores = np.zeros(gold.shape)
    for k in range(FOLDS):
        train, test = np.where(folds != k)[0], np.where(folds == k)[0]
        idf, bias, weights = _ridge(np, [docs[i] for i in train], gold[train], topics)
        model = TopicModel(idf=idf, bias=bias, weights=weights, combiner=(), threshold=1,
                           floor=1)
        for i in test:
            paper_scores = model.scores(papers[i])
            scores[i] = [paper_scores[t] for t in topics]
    support = {t: int(gold[:, k].sum()) for k, t in enumerate(topics)}
    rows = np.array([[combiner_features(scores[i, k], found[i].get(t, NO_EVIDENCE),
                                        support_of(support[t]))
                      for k, t in enumerate(topics)] for i in range(len(papers))])
    combiner = np.zeros(rows.shape[-1])
    probabilities = np.zeros(gold.shape)
    # The combiner too is scored on papers it was not fitted on.
    for k in range(FOLDS):
        train, test = folds != k, folds == k
        w = _logistic(np, rows[train].reshape(-1, rows.shape[-1]), gold[train].reshape(-1))
        probabilities[test] = 1 / (1 + np.exp(-(rows[test] @ w)))
    threshold, floor = choose(probabilities, gold, None)
    chosen = predict(probabilities, threshold, floor)
    cross_validated = prf(chosen, gold)
    per_topic = {t: (int((chosen[:, k] & gold[:, k]).sum()),
                     int((chosen[:, k] & ~gold[:, k]).sum()),
                     int((~chosen[:, k] & gold[:, k]).sum())) for k, t in enumerate(topics)}
    combiner = _logistic(np, rows.reshape(-1, rows.shape[-1]), gold.reshape(-1))
    idf, bias, weights = _ridge(np, docs, gold, topics)
    from generator.similarity import Reference
    reference = Reference.of(papers)
    model = TopicModel(idf=idf, bias=bias, weights=weights,
                       combiner=tuple(round(float(c), 4) for c in combiner),
                       threshold=threshold, floor=floor, support=support, about=about,
                       reference_papers=reference.papers,
                       reference_frequency=reference.frequency)
    unseen = {p.key: tuple(t for k, t in enumerate(topics) if chosen[i, k])
              for i, p in enumerate(papers)}
    return Fitted(model=model, cross_validated=cross_validated, per_topic=per_topic,
                  cross_validated_tags=unseen)
