"""Paper + Taxonomy -> tags, each with the phrases that matched and where.

Pure: only processes data (``load_taxonomy`` reads one file). Matching works on words, not
regular expressions: title and abstract are split into words once, and the phrases of every
tag are looked up in one trie of words, so tagging 10,000 papers takes well under a second.

Word rules, the same for phrases and text:
- case is ignored and a plural ending is dropped ("models" finds "model");
- a word in capitals in a phrase (LLM, NAS, RAG, 3D) is an acronym and matches only in capitals
  ("LLMs" included), so "nas" in "dynas" or a lowercase "rag" never tags a paper;
- hyphens and spaces between words are the same, and "few-shot" also finds "fewshot".

Score of a tag: 3 for a phrase in the title, 1 for each mention in the abstract (up to 4), 2 for
a source keyword; the tag applies from ``min_score`` (2) on. A match that lies inside one of
the tag's ``exclude`` phrases does not count.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from generator.errors import ConfigError, raise_all
from generator.ingest.clean import decode
from generator.ingest.yaml_records import _did_you_mean, _LineLoader
from generator.records import Paper

TITLE_SCORE, ABSTRACT_SCORE, ABSTRACT_CAP, KEYWORD_SCORE = 3, 1, 4, 2
DEFAULT_MIN_SCORE = 2
TAG_FIELDS = ("id", "name", "description", "match", "exclude", "min_score")
_TAG_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WORD = re.compile(r"[^\W_]+")
# Splitting on punctuation by translate() is twice as fast as a regular expression, and text
# is split on every build. Unicode quotes and dashes count as punctuation too.
_SPLIT = str.maketrans({c: " " for c in string.punctuation + "\u2018\u2019\u201c\u201d"
                        "\u2013\u2014\u2026\u00ab\u00bb\u00b7\u2022\u00a0\u2212"})


@dataclass(frozen=True)
class Tag:
    #: Permanent name in URLs and feeds: lowercase words joined by hyphens.
    id: str
    #: What readers see.
    name: str
    description: str = ""
    match: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_score: int = DEFAULT_MIN_SCORE


@dataclass(frozen=True)
class Taxonomy:
    tags: tuple[Tag, ...]
    #: For messages: where it was read from.
    origin: str = field(default="", compare=False)

    def get(self, tag_id: str) -> Tag | None:
        return next((t for t in self.tags if t.id == tag_id), None)


@dataclass(frozen=True)
class Match:
    #: "title", "abstract" or "keywords".
    where: str
    #: The taxonomy phrase.
    phrase: str
    #: The words as they stand in the text.
    found: str


@dataclass(frozen=True)
class Explanation:
    tag: str
    score: int
    matches: tuple[Match, ...] = ()
    #: Set by hand in the archive.
    by_hand: bool = False


# -- the taxonomy file -------------------------------------------------------------------------

def load_taxonomy(path: Path) -> Taxonomy:
    """Read and check a taxonomy file; every problem is reported at once, with its line."""
    text, _ = decode(Path(path).read_bytes(), str(path))
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", path=path,
                          line=mark.line + 1 if mark else 1,
                          fix="correct the YAML syntax (quote phrases that hold ': ')") from exc
    return parse_taxonomy(data, str(path))


def parse_taxonomy(data: object, path: str) -> Taxonomy:
    errors: list[ConfigError] = []

    def problem(line: int, message: str, fix: str) -> None:
        errors.append(ConfigError(message, path=path, line=line, fix=fix))

    if not isinstance(data, dict) or not isinstance(data.get("tags"), list):
        raise ConfigError("expected 'tags:' with a list of tags", path=path, line=1,
                          fix="start the file with 'tags:' and list one '- id: ...' per tag")
    tags, seen_ids, seen_names = [], {}, {}
    for number, item in enumerate(data["tags"], start=1):
        if not isinstance(item, dict):
            problem(data.get("__line__", 1), f"tag {number} is not a mapping",
                    "write each tag as '- id: ...' with name, description and match")
            continue
        line = item.pop("__line__", 1)
        for name in item:
            if name not in TAG_FIELDS:
                problem(line, f"unknown key '{name}'", _did_you_mean(name, TAG_FIELDS))
        tag_id, name = item.get("id"), item.get("name")
        if not isinstance(tag_id, str) or not _TAG_ID.match(tag_id):
            problem(line, f"tag id {tag_id!r} is not lowercase words joined by hyphens",
                    "write it like 'diffusion-models'")
        elif tag_id in seen_ids:
            problem(line, f"duplicate tag id '{tag_id}' (first at line {seen_ids[tag_id]})",
                    "give every tag its own id")
        else:
            seen_ids[tag_id] = line
        if not isinstance(name, str) or not name.strip():
            problem(line, f"tag {tag_id!r} has no name", "add 'name: What readers see'")
        elif name.casefold() in seen_names:
            problem(line, f"duplicate tag name '{name}' (first at line "
                    f"{seen_names[name.casefold()]})", "give every tag its own name")
        else:
            seen_names[name.casefold()] = line
        phrases = {}
        for key in ("match", "exclude"):
            value = item.get(key, [] if key == "exclude" else None)
            if not isinstance(value, list) or (key == "match" and not value):
                problem(line, f"tag {tag_id!r}: '{key}' must be a non-empty list of phrases"
                        if key == "match" else f"tag {tag_id!r}: 'exclude' must be a list",
                        f"write it as {key}: [first phrase, second phrase]")
                value = []
            for phrase in value:
                if not isinstance(phrase, str) or not _WORD.search(phrase):
                    problem(line, f"tag {tag_id!r}: invalid phrase {phrase!r} in '{key}'",
                            "a phrase is text with at least one letter or digit")
            phrases[key] = tuple(p.strip() for p in value if isinstance(p, str)
                                 and _WORD.search(p))
        min_score = item.get("min_score", DEFAULT_MIN_SCORE)
        if not isinstance(min_score, int) or isinstance(min_score, bool) or min_score < 1:
            problem(line, f"tag {tag_id!r}: min_score must be a whole number from 1",
                    "remove it to use 2")
            min_score = DEFAULT_MIN_SCORE
        if isinstance(tag_id, str) and isinstance(name, str):
            tags.append(Tag(id=tag_id, name=name.strip(),
                            description=str(item.get("description") or "").strip(),
                            match=phrases["match"], exclude=phrases["exclude"],
                            min_score=min_score))
    raise_all(errors)
    return Taxonomy(tags=tuple(tags), origin=path)


# -- words ----------------------------------------------------------------------------------

_norm_cache: dict[str, tuple[str, str | None]] = {}


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _keys(word: str) -> tuple[str, str | None]:
    """(case-folded singular, acronym key or None) of one word of text."""
    cached = _norm_cache.get(word)
    if cached is None:
        stem = word[:-1] if word.endswith("s") and len(word) > 2 else word
        acronym = "=" + stem if stem.isupper() and len(stem) > 1 else None
        cached = (_singular(word.lower()), acronym)
        if len(_norm_cache) < 200_000:
            _norm_cache[word] = cached
    return cached


def _phrase_keys(phrase: str) -> list[tuple[str, ...]]:
    """The word-key sequences a phrase matches: as written, and with each hyphenated group
    joined into one word ("few-shot learner" -> fewshot learner); a two-word phrase also
    matches as one word ("few shot" -> fewshot)."""
    def key(word: str) -> str:
        return "=" + word if word.isupper() and len(word) > 1 else _singular(word.lower())

    options = []
    for group in phrase.split():
        words = _WORD.findall(group)
        if not words:
            continue
        choices = [tuple(key(w) for w in words)]
        if len(words) > 1 and not any(w.isupper() and len(w) > 1 for w in words):
            choices.append((_singular("".join(words).lower()),))
        options.append(choices)
    variants = {tuple(k for part in combo for k in part) for combo in itertools.product(*options)}
    words = _WORD.findall(phrase)
    if len(words) == 2 and not any(w.isupper() and len(w) > 1 for w in words):
        variants.add((_singular("".join(words).lower()),))
    return sorted(variants)


def _plurals(key: str) -> tuple[str, ...]:
    """Every word that :func:`_singular` turns into ``key``, and the key itself."""
    forms = (key, key + "s", key + "es")
    return forms + (key[:-1] + "ies",) if key.endswith("y") else forms


# -- matching -------------------------------------------------------------------------------

_END = ""  # trie key holding the phrases that end at a node (no word key is empty)
_NOTHING: frozenset[str] = frozenset()


class Tagger:
    """Tags papers with one taxonomy. Build once, then call :meth:`explain` or :meth:`tag`."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self._trie: dict = {}
        for index, tag in enumerate(taxonomy.tags):
            for kind, phrases in (("match", tag.match), ("exclude", tag.exclude)):
                for phrase in phrases:
                    for keys in _phrase_keys(phrase):
                        node = self._trie
                        for key in keys:
                            node = node.setdefault(key, {})
                        node.setdefault(_END, []).append((index, kind, phrase))
        # Which words of a text are worth walking the trie from, decided by set look-ups on
        # the lowercased words: a word that is a whole phrase, or a first word followed by a
        # possible second word. Every plural a key stands for is included; acronyms as written.
        self._single: set[str] = set()
        self._second: dict[str, set[str]] = {}
        self._acronym_starts: set[str] = set()
        for key, child in self._trie.items():
            if key.startswith("="):
                self._acronym_starts.update((key[1:], key[1:] + "s"))
                continue
            if _END in child:
                self._single.update(_plurals(key))
            seconds = {v for k in child if k != _END for v in _plurals(k.lstrip("=").lower())}
            for variant in _plurals(key):
                self._second.setdefault(variant, set()).update(seconds)
        self._firsts = frozenset(self._single | set(self._second))

    def _find(self, text: str) -> tuple[list[str], list[tuple[int, int, int, str, str]]]:
        """The text's words, and every phrase occurrence in them: (first word, end word, tag
        index, kind, phrase). Only words that can begin a phrase are walked from."""
        spaced = text.translate(_SPLIT)
        words = spaced.split()
        lowered = spaced.lower().split()
        if len(lowered) != len(words):  # lowercasing made or merged words (rare scripts)
            lowered = [w.lower() for w in words]
        # Where to walk the trie from: a word that is a whole phrase, or a first word whose
        # next word can follow it (set look-ups on lowercased words), or an acronym. One cheap
        # pass picks the words that can begin a phrase at all; few of them are left to check.
        single, second, empty = self._single, self._second, _NOTHING
        last = len(lowered) - 1
        starts = [i for i in [i for i, w in enumerate(lowered) if w in self._firsts]
                  if lowered[i] in single
                  or (i < last and lowered[i + 1] in second.get(lowered[i], empty))]
        acronyms = self._acronym_starts.intersection(words)
        if acronyms:
            starts = sorted({*starts, *(i for i, w in enumerate(words) if w in acronyms)})
        root, found, n = self._trie, [], len(words)
        cache = _norm_cache
        for i in starts:
            # Depth-first through the trie; a word offers its plain and its acronym key.
            stack = [(root, i)]
            while stack:
                node, j = stack.pop()
                if j > i and _END in node:
                    for index, kind, phrase in node[_END]:
                        found.append((i, j, index, kind, phrase))
                if j < n:
                    word = words[j]
                    lower, acronym = cache.get(word) or _keys(word)
                    child = node.get(lower)
                    if child is not None:
                        stack.append((child, j + 1))
                    if acronym is not None:
                        child = node.get(acronym)
                        if child is not None:
                            stack.append((child, j + 1))
        return words, found

    def _matches(self, text: str) -> tuple[list[str], dict[int, list[tuple[str, int, int]]]]:
        """The text's words, and (phrase, first word, end word) of each tag index, without
        the matches that the tag's excludes cover."""
        words, found = self._find(text)
        excluded = [(i, j, index) for i, j, index, kind, _ in found if kind == "exclude"]
        result: dict[int, list[tuple[str, int, int]]] = {}
        for i, j, index, kind, phrase in found:
            if kind != "match" or (excluded and any(
                    index == e and i < ej and ei < j for ei, ej, e in excluded)):
                continue
            result.setdefault(index, []).append((phrase, i, j))
        return words, result

    def _scored(self, paper: Paper):
        """(tag index, score) of every tag that applies, best first, and the matches."""
        matches = {"title": self._matches(paper.title),
                   "abstract": self._matches(paper.abstract)}
        for number, keyword in enumerate(paper.keywords):
            matches[f"keywords {number}"] = self._matches(keyword)
        title, abstract = matches["title"][1], matches["abstract"][1]
        keywords = {index for where, (_, found) in matches.items()
                    if where.startswith("keywords") for index in found}
        scored = []
        for index in set(title) | set(abstract) | keywords:
            tag = self.taxonomy.tags[index]
            score = (TITLE_SCORE if index in title else 0) \
                + min(len(abstract.get(index, ())), ABSTRACT_CAP) * ABSTRACT_SCORE \
                + (KEYWORD_SCORE if index in keywords else 0)
            if score >= tag.min_score and tag.id not in paper.tags:
                scored.append((index, score))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored, matches

    def explain(self, paper: Paper) -> tuple[Explanation, ...]:
        """Every tag of the paper with its score and matches: hand-set tags first, then by
        score (highest first), then in taxonomy order."""
        scored, matches = self._scored(paper)
        out = [Explanation(tag=t, score=0, by_hand=True) for t in paper.tags]
        for index, score in scored:
            found = tuple(Match(where.split()[0], phrase, " ".join(words[i:j]))
                          for where, (words, by_tag) in matches.items()
                          for phrase, i, j in by_tag.get(index, ()))
            out.append(Explanation(tag=self.taxonomy.tags[index].id, score=score,
                                   matches=found))
        return tuple(out)

    def tag(self, paper: Paper) -> Paper:
        """The paper with its tags: those set by hand, then the matched ones."""
        scored, _ = self._scored(paper)
        tags = paper.tags + tuple(self.taxonomy.tags[index].id for index, _ in scored)
        return replace(paper, tags=tags)

    def tag_all(self, papers: Iterable[Paper]) -> list[Paper]:
        return [self.tag(p) for p in papers]


def report(papers: list[Paper], taxonomy: Taxonomy) -> dict:
    """Figures for ``digest tags``: papers per tag, untagged papers, over-broad tags."""
    counts = {t.id: 0 for t in taxonomy.tags}
    for paper in papers:
        for tag in paper.tags:
            counts[tag] = counts.get(tag, 0) + 1
    total = len(papers)
    per_paper = sorted(len(p.tags) for p in papers)
    return {
        "papers": total,
        "tagged": sum(1 for p in papers if p.tags),
        "untagged": [p.key for p in papers if not p.tags],
        "median_tags": per_paper[len(per_paper) // 2] if per_paper else 0,
        "counts": counts,
        "broad": [t for t, n in counts.items() if total and n > total / 3],
        "largest_share": max(counts.values(), default=0) / total if total else 0.0,
    }
