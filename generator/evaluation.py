"""Hand labels + tagged papers -> how far the tags can be trusted.

Pure: only processes data (``read_labels`` reads one file). A labels file holds one JSON
object a line, ``{"title": ..., "topics": [topic ids], ...}``, as in the labels that ML
researchers gave the sample's papers from the title and abstract alone; papers are matched to
the archive by their title with case, punctuation and spacing ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ParseError, raise_all
from generator.records import Paper, title_identity


@dataclass(frozen=True)
class Label:
    title: str
    topics: frozenset[str]
    #: Where it was read, for messages.
    line: int = 0


def read_labels(path: Path) -> dict[str, Label]:
    """Labels by title identity; every bad line is reported at once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read the labels: {getattr(exc, 'strerror', None) or exc}",
                         path=path, fix="pass a JSON Lines file of {\"title\", \"topics\"}") \
            from exc
    labels: dict[str, Label] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            row = None
        if not isinstance(row, dict) or not isinstance(row.get("title"), str) \
                or not isinstance(row.get("topics"), list) \
                or not all(isinstance(t, str) for t in row["topics"]):
            errors.append(ParseError("not a label", path=path, line=number,
                                     fix='write {"title": "...", "topics": ["topic-id"]}'))
            continue
        labels[title_identity(row["title"])] = Label(row["title"], frozenset(row["topics"]),
                                                     number)
    raise_all(errors)
    return labels


@dataclass
class TopicScore:
    right: int = 0
    wrong: int = 0
    missed: int = 0

    @property
    def precision(self) -> float:
        return self.right / (self.right + self.wrong) if self.right + self.wrong else 1.0

    @property
    def recall(self) -> float:
        return self.right / (self.right + self.missed) if self.right + self.missed else 1.0


@dataclass
class TagScore:
    #: Labelled papers found in the archive, and labels with no paper there.
    papers: int = 0
    unmatched: int = 0
    untagged: int = 0
    total: TopicScore = field(default_factory=TopicScore)
    topics: dict[str, TopicScore] = field(default_factory=dict)

    @property
    def f1(self) -> float:
        p, r = self.total.precision, self.total.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def worst_first(self) -> list[tuple[str, TopicScore]]:
        return sorted(self.topics.items(),
                      key=lambda item: (-(item[1].wrong + item[1].missed), item[0]))


def vocabulary(labels: dict[str, Label]) -> set[str]:
    """The topics the labellers used."""
    return {t for label in labels.values() for t in label.topics}


def score_tags(papers: Iterable[Paper], labels: dict[str, Label],
               known: Iterable[str] | None = None) -> TagScore:
    """Micro precision and recall of the papers' tags against the labels, and right / wrong /
    missed per topic. Only topics that both the labels use and, with ``known`` (the
    taxonomy's topic ids), the taxonomy has are scored: a topic the labellers did not have is
    neither right nor wrong."""
    scored = vocabulary(labels)
    if known is not None:
        scored &= set(known)
    score = TagScore()
    seen = set()
    for paper in papers:
        label = labels.get(paper.identity)
        if label is None or paper.identity in seen:
            continue
        seen.add(paper.identity)
        score.papers += 1
        score.untagged += not paper.tags
        gold = set(label.topics) & scored
        got = set(paper.tags) & scored
        for topic, kind in [*((t, "right") for t in got & gold),
                            *((t, "wrong") for t in got - gold),
                            *((t, "missed") for t in gold - got)]:
            topic_score = score.topics.setdefault(topic, TopicScore())
            setattr(topic_score, kind, getattr(topic_score, kind) + 1)
            setattr(score.total, kind, getattr(score.total, kind) + 1)
    score.unmatched = len(set(labels) - seen)
    return score


@dataclass
class RelatedScore:
    #: Related-paper links between two labelled papers, and how many of them share a topic.
    links: int = 0
    agreeing: int = 0
    #: Labelled papers with no related paper shown.
    alone: int = 0

    @property
    def share(self) -> float:
        return self.agreeing / self.links if self.links else 0.0


def score_related(papers: Iterable[Paper], related: dict[str, tuple[str, ...]],
                  labels: dict[str, Label]) -> RelatedScore:
    """How many related-paper links join two papers that the labellers gave a topic in
    common. Only links between two labelled papers count."""
    by_key = {p.key: p for p in papers}
    score = RelatedScore()
    for key, others in related.items():
        paper = by_key.get(key)
        label = labels.get(paper.identity) if paper else None
        if label is None:
            continue
        score.alone += not others
        for other_key in others:
            other = labels.get(by_key[other_key].identity)
            if other is not None:
                score.links += 1
                score.agreeing += bool(label.topics & other.topics)
    return score
