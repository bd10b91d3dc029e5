"""Paper + where the taxonomy's phrases stand -> the probability of each topic, learned from
papers that people labelled by hand.

Pure at build time: the model is a file beside the taxonomy (``topic-model.json``), read once;
a paper's probability of a topic is a logistic function of its words and of where the topic's
phrases stand in it. Fitting (:func:`fit`, ``digest tags --train``) uses scikit-learn and is
deterministic.

The words are the paper's terms (textfeatures.py: single words and pairs, the title's apart
from the abstract's and keywords'), weighted by TF-IDF, each part scaled to length 1. For each
topic, one logistic regression on those words and on five figures of where the topic's phrases
stand (title, contribution sentence, the rest of the abstract, in passing, keywords), with the
classes weighed by their size, since most topics are on few papers. A topic applies from a
threshold of its own, chosen where it tags labelled papers the model was not fitted on best
(leaning towards precision: a wrong paper in a topic feed costs more than a missed one); a
paper with no topic that sure gets its likeliest topic if that passes a floor.

The file holds the vocabulary, each term's inverse document frequency, and each topic's word
weights as bytes (one signed byte a weight, scaled per topic: the model scored in fitting is
the model the file holds), and the figures of the fit's cross-validation.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ConfigError
from generator.records import Paper
from generator.textfeatures import Reference, paper_terms, smooth_idf, tfidf

#: File name of the model, beside the taxonomy it was fitted with.
FILE = "topic-model.json"


def model_path(taxonomy_file: Path) -> Path:
    """The topic model of a taxonomy: the file beside it."""
    return Path(taxonomy_file).with_name(FILE)


FORMAT = 2

#: Regularisation of each topic's regression (scikit-learn's C: larger fits the labels more
#: closely), folds of the cross-validation, the least number of labelled papers a term must
#: stand in, and the scale of the five figures of where the phrases stand.
C, FOLDS, MIN_DF, EVIDENCE_SCALE = 10.0, 5, 2, 0.5
#: Thresholds: F-beta with beta < 1 leans towards precision; a topic's own threshold is drawn
#: towards the one of all topics by ``SHRINK`` papers' worth (few labels, an unsteady choice),
#: and is one where the topic's precision is at least ``MIN_PRECISION`` where one is (readers
#: trust a topic page only if its papers belong there).
BETA, SHRINK, MIN_PRECISION = 0.9, 20, 0.8
#: Where a threshold is chosen from.
GRID = tuple(round(0.05 + 0.01 * i, 2) for i in range(91))


def evidence_features(evidence) -> tuple[float, ...]:
    """Where one topic's phrases stand in a paper (an ``Evidence`` of tagging.py), as five
    figures from 0 to ``EVIDENCE_SCALE``."""
    return tuple(EVIDENCE_SCALE * f for f in (
        float(evidence.title > 0), float(evidence.lead > 0), min(evidence.abstract, 3) / 3,
        min(evidence.passing, 2) / 2, float(evidence.keywords > 0)))


NO_FEATURES = (0.0,) * 5


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x > -500 else 0.0


@dataclass(frozen=True)
class TopicModel:
    #: The topics it knows, and the columns of its word weights.
    topics: tuple[str, ...]
    terms: tuple[str, ...]
    #: Inverse document frequency of each term, in ``terms`` order.
    idf: tuple[float, ...]
    #: Per topic: the weight of each term, in ``terms`` order (dequantised), its bias and the
    #: weights of the five figures of where its phrases stand.
    weights: dict[str, tuple[float, ...]]
    bias: dict[str, float]
    evidence: dict[str, tuple[float, ...]]
    #: Per topic: it applies from this probability on.
    thresholds: dict[str, float]
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
    #: The fit's cross-validation: "total" (precision, recall, F1) and per topic (right,
    #: wrong, missed) on papers a model fitted without them tagged.
    cross_validated: dict = field(default_factory=dict)
    _columns: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _matrix: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        import numpy as np
        self._columns.update((t, j) for j, t in enumerate(self.terms))
        matrix = np.array([self.weights[t] for t in self.topics], dtype=np.float64) \
            if self.topics else np.zeros((0, len(self.terms)))
        object.__setattr__(self, "_matrix", matrix)
        object.__setattr__(self, "_idf", dict(zip(self.terms, self.idf, strict=True)))
        object.__setattr__(self, "_bias", np.array([self.bias[t] for t in self.topics]))
        object.__setattr__(self, "_evidence", np.array([self.evidence[t] for t in self.topics])
                           .reshape(len(self.topics), len(NO_FEATURES)))

    def knows(self, topic: str) -> bool:
        return topic in self.bias

    def vector(self, paper: Paper) -> dict[str, float]:
        return tfidf(paper_terms(paper), self._idf)

    def probabilities(self, paper: Paper, evidence: dict[str, object]) -> dict[str, float]:
        """The probability of each topic it knows; ``evidence`` by topic id (absent: none)."""
        return self.probabilities_of([paper], [evidence])[0]

    def probabilities_of(self, papers: Sequence[Paper],
                         evidence: Sequence[dict[str, object]]) -> list[dict[str, float]]:
        """``probabilities`` of many papers at once: one sparse product for all of them."""
        import numpy as np
        from scipy import sparse
        if not papers:
            return []
        indptr, indices, data = [0], [], []
        for paper in papers:
            for term, value in self.vector(paper).items():
                indices.append(self._columns[term])
                data.append(value)
            indptr.append(len(indices))
        x = sparse.csr_matrix((np.array(data, dtype=np.float64),
                               np.array(indices, dtype=np.int64),
                               np.array(indptr, dtype=np.int64)),
                              shape=(len(papers), len(self.terms)))
        logits = np.asarray(x @ self._matrix.T) + self._bias
        position = {t: k for k, t in enumerate(self.topics)}
        for i, found in enumerate(evidence):
            for topic, e in found.items():
                k = position.get(topic)
                if k is not None:
                    logits[i, k] += float(np.dot(self._evidence[k], evidence_features(e)))
        probabilities = 1 / (1 + np.exp(-np.clip(logits, -500, 500)))
        return [dict(zip(self.topics, row.tolist(), strict=True)) for row in probabilities]

    def contributions(self, paper: Paper, topic: str,
                      most: int = 5) -> tuple[tuple[str, float], ...]:
        """The paper's terms that raise the topic's probability most, with what each adds to
        its log-odds."""
        row = self.weights.get(topic)
        if row is None:
            return ()
        added = []
        for term, value in self.vector(paper).items():
            weight = row[self._columns[term]]
            if weight > 0:
                shown = term.removeprefix("t:") + (" (title)" if term.startswith("t:") else "")
                added.append((shown, round(weight * value, 3)))
        added.sort(key=lambda item: (-item[1], item[0]))
        return tuple(added[:most])

    # -- the file -----------------------------------------------------------------------------

    def to_json(self) -> str:
        quantised = {t: _quantise(self.weights[t]) for t in self.topics}
        data = {"format": FORMAT, "about": self.about, "floor": self.floor,
                "topics": list(self.topics), "thresholds": self.thresholds, "bias": self.bias,
                "evidence": {t: list(v) for t, v in self.evidence.items()},
                "support": self.support, "cross_validated": self.cross_validated,
                "terms": list(self.terms), "idf": list(self.idf),
                "weights": {t: {"scale": s, "bytes": b} for t, (s, b) in quantised.items()},
                "reference": {"papers": self.reference_papers,
                              "frequency": self.reference_frequency}}
        return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=0,
                          separators=(",", ":")) + "\n"


def _quantise(weights: Sequence[float]) -> tuple[float, str]:
    """Weights as one signed byte each (base64) and the scale that turns them back."""
    import numpy as np
    values = np.asarray(weights, dtype=np.float64)
    scale = float(np.abs(values).max()) / 127 if len(values) else 0.0
    scale = float(f"{scale:.6g}") or 1.0
    levels = np.clip(np.rint(values / scale), -127, 127).astype(np.int8)
    return scale, base64.b64encode(levels.tobytes()).decode("ascii")


def _dequantise(scale: float, text: str) -> tuple[float, ...]:
    import numpy as np
    levels = np.frombuffer(base64.b64decode(text, validate=True), dtype=np.int8)
    return tuple((levels.astype(np.float64) * scale).tolist())


def model_about(path: Path) -> str | None:
    """What the model in ``path`` says it was fitted on, without turning its weights back
    into numbers (most of the 0.2 s a load costs); None where there is no model."""
    path = Path(path)
    if not path.is_file():
        return None
    with contextlib.suppress(OSError, ValueError, RecursionError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == FORMAT \
                and isinstance(data.get("about"), str):
            return data["about"]
    model = load_model(path)  # a file it cannot read: the error that says what is wrong
    return model.about if model else None


def load_model(path: Path) -> TopicModel | None:
    """The model in ``path``, or None where there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format') if isinstance(data, dict) else '?'!r}")
        terms = tuple(str(t) for t in data["terms"])
        weights = {t: _dequantise(float(w["scale"]), w["bytes"])
                   for t, w in data["weights"].items()}
        if any(len(w) != len(terms) for w in weights.values()) or len(data["idf"]) != len(terms):
            raise ValueError("weights and terms differ in length")
        return TopicModel(
            topics=tuple(data["topics"]), terms=terms,
            idf=tuple(float(x) for x in data["idf"]), weights=weights,
            bias={t: float(b) for t, b in data["bias"].items()},
            evidence={t: tuple(float(x) for x in v) for t, v in data["evidence"].items()},
            thresholds={t: float(x) for t, x in data["thresholds"].items()},
            floor=float(data["floor"]),
            support={t: int(n) for t, n in data["support"].items()},
            reference_papers=int(data["reference"]["papers"]),
            reference_frequency={t: int(n) for t, n in data["reference"]["frequency"].items()},
            about=str(data.get("about", "")),
            cross_validated=dict(data.get("cross_validated") or {}))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ConfigError(f"not a topic model this version can read ({exc})", path=path,
                          line=1, fix="fit it again with 'digest tags --train LABELS.jsonl', "
                                      "or delete it to tag by phrases alone") from exc


# -- fitting ----------------------------------------------------------------------------------

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


def _fit_topics(np, docs, evidence, gold, rows, topics):
    """One regression per topic on the papers ``rows``: (terms, idf, weights, bias, evidence
    weights), the weights quantised as the file holds them."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    df: dict[str, int] = {}
    for i in rows:
        for part in docs[i]:
            for t in part:
                df[t] = df.get(t, 0) + 1
    terms = sorted(t for t, d in df.items() if d >= MIN_DF)
    idf = [round(smooth_idf(len(rows), df[t]), 4) for t in terms]
    x = _matrix(np, sparse, [docs[i] for i in rows], terms, idf)
    weights, bias, evidence_weights = {}, {}, {}
    for k, topic in enumerate(topics):
        y = gold[rows, k]
        if y.all() or not y.any():  # nothing to tell apart: the topic is always, or never
            weights[topic] = (0.0,) * len(terms)
            bias[topic], evidence_weights[topic] = (30.0 if y.all() else -30.0), NO_FEATURES
            continue
        features = sparse.hstack([x, sparse.csr_matrix(evidence[rows, k])]).tocsr()
        regression = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
        regression.fit(features, y)
        coefficients = regression.coef_[0]
        scale, data = _quantise(coefficients[:len(terms)])
        weights[topic] = _dequantise(scale, data)
        bias[topic] = round(float(regression.intercept_[0]), 4)
        evidence_weights[topic] = tuple(round(float(c), 4) for c in coefficients[len(terms):])
    return terms, idf, weights, bias, evidence_weights


def _matrix(np, sparse, docs, terms, idf):
    """Papers x terms: the TF-IDF vectors (``tfidf``) as a sparse matrix."""
    column = {t: j for j, t in enumerate(terms)}
    weights = dict(zip(terms, idf, strict=True))
    indptr, indices, data = [0], [], []
    for parts in docs:
        vector = tfidf(parts, weights)
        for t in sorted(vector, key=column.__getitem__):
            indices.append(column[t])
            data.append(vector[t])
        indptr.append(len(indices))
    return sparse.csr_matrix((np.array(data), np.array(indices, dtype=np.int64),
                              np.array(indptr, dtype=np.int64)), shape=(len(docs), len(terms)))


def _probabilities(np, sparse, docs, evidence, rows, fitted, topics):
    terms, idf, weights, bias, evidence_weights = fitted
    x = _matrix(np, sparse, [docs[i] for i in rows], terms, idf)
    w = np.array([weights[t] for t in topics]).T
    logits = x @ w + np.array([bias[t] for t in topics])
    logits += np.einsum("ikf,kf->ik", evidence[rows], np.array([evidence_weights[t]
                                                                for t in topics]))
    return 1 / (1 + np.exp(-np.clip(logits, -500, 500)))


def decide(np, probabilities, thresholds, floor: float):
    """Tags chosen from probabilities (papers x topics): those from each topic's threshold
    on, else the likeliest one from the floor on (see ``tagging.Tagger``)."""
    chosen = probabilities >= thresholds[None, :]
    best = probabilities.argmax(axis=1)
    lonely = ~chosen.any(axis=1) & (probabilities.max(axis=1) >= floor)
    chosen[lonely, best[lonely]] = True
    return chosen


def _f_beta(tp: float, chosen: float, gold: float, beta: float = BETA) -> float:
    p, r = tp / max(chosen, 1.0), tp / max(gold, 1.0)
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def choose_thresholds(np, probabilities, gold):
    """Each topic's threshold and the floor with the best F-beta on ``probabilities``
    (papers x topics, of papers the model was not fitted on)."""
    grid = np.array(GRID)
    chosen = probabilities[:, :, None] >= grid[None, None, :]
    tp = (chosen & gold[:, :, None]).sum(axis=0)
    picked, positives = chosen.sum(axis=0), gold.sum(axis=0)
    whole = [_f_beta(tp[:, g].sum(), picked[:, g].sum(), positives.sum())
             for g in range(len(grid))]
    overall = grid[int(np.argmax(whole))]
    thresholds = np.full(gold.shape[1], overall)
    for k in range(gold.shape[1]):
        if not positives[k]:
            continue
        scores = np.array([_f_beta(tp[k, g], picked[k, g], positives[k])
                           for g in range(len(grid))])
        share = positives[k] / (positives[k] + SHRINK)
        mixed = np.round(share * grid[int(np.argmax(scores))] + (1 - share) * overall, 3)
        precision = tp[k] / np.maximum(picked[k], 1)
        at = int(np.searchsorted(grid, mixed))
        if at < len(grid) and precision[at] < MIN_PRECISION and picked[k, at]:
            # Too many wrong papers there: the lowest threshold from which the topic is
            # precise enough, else the highest (the model names it only when it is sure).
            good = np.where((precision >= MIN_PRECISION) & (picked[k] > 0))[0]
            good = good[good > at]
            mixed = grid[good[0]] if len(good) else grid[-1]
        thresholds[k] = mixed
    floors = [f / 100 for f in range(0, 51, 5)]
    scores = []
    for floor in floors:
        got = decide(np, probabilities, thresholds, floor)
        scores.append(_f_beta(float((got & gold).sum()), float(got.sum()), float(gold.sum())))
    return thresholds, floors[int(np.argmax(scores))]


def prf(chosen, gold) -> tuple[float, float, float]:
    tp = float((chosen & gold).sum())
    p = tp / max(float(chosen.sum()), 1.0)
    r = tp / max(float(gold.sum()), 1.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def fit(papers: Sequence[Paper], labels: Sequence[Iterable[str]],
        evidence: Callable[[Paper], dict[str, object]], about: str = "") -> Fitted:
    """Fit a model on labelled papers (``labels[i]``: the topic ids of ``papers[i]``).
    ``evidence(paper)`` gives the phrases' ``Evidence`` by topic id (absent: none).

    Cross-validation: each paper is tagged by a model fitted on the other folds, with
    thresholds chosen on the other folds' papers (tagged by models fitted without them)."""
    import numpy as np
    from scipy import sparse

    topics = sorted({t for topic_ids in labels for t in topic_ids})
    gold = np.array([[t in set(ids) for t in topics] for ids in labels], dtype=bool)
    docs = [paper_terms(p) for p in papers]
    found = [evidence(p) for p in papers]
    features = np.array([[evidence_features(f[t]) if t in f else NO_FEATURES for t in topics]
                         for f in found], dtype=np.float64)
    folds = np.array([_fold(p.key) for p in papers])
    unseen = np.zeros(gold.shape)
    for k in range(FOLDS):
        train, test = np.where(folds != k)[0], np.where(folds == k)[0]
        fitted = _fit_topics(np, docs, features, gold, train, topics)
        unseen[test] = _probabilities(np, sparse, docs, features, test, fitted, topics)
    chosen = np.zeros(gold.shape, dtype=bool)
    for k in range(FOLDS):
        other, this = folds != k, folds == k
        thresholds, floor = choose_thresholds(np, unseen[other], gold[other])
        chosen[this] = decide(np, unseen[this], thresholds, floor)
    cross_validated = prf(chosen, gold)
    per_topic = {t: (int((chosen[:, k] & gold[:, k]).sum()),
                     int((chosen[:, k] & ~gold[:, k]).sum()),
                     int((~chosen[:, k] & gold[:, k]).sum())) for k, t in enumerate(topics)}
    thresholds, floor = choose_thresholds(np, unseen, gold)
    terms, idf, weights, bias, evidence_weights = _fit_topics(
        np, docs, features, gold, np.arange(len(papers)), topics)
    reference = Reference.of(papers)
    model = TopicModel(
        topics=tuple(topics), terms=tuple(terms), idf=tuple(idf), weights=weights, bias=bias,
        evidence=evidence_weights,
        thresholds={t: float(thresholds[k]) for k, t in enumerate(topics)}, floor=floor,
        support={t: int(gold[:, k].sum()) for k, t in enumerate(topics)}, about=about,
        reference_papers=reference.papers, reference_frequency=reference.frequency,
        cross_validated={"papers": len(papers),
                         "total": [round(v, 4) for v in cross_validated],
                         "topics": {t: list(v) for t, v in per_topic.items()}})
    tags = {p.key: tuple(t for k, t in enumerate(topics) if chosen[i, k])
            for i, p in enumerate(papers)}
    return Fitted(model=model, cross_validated=cross_validated, per_topic=per_topic,
                  cross_validated_tags=tags)
