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

import bisect
import hashlib
import itertools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from generator import yamlfile
from generator.errors import ConfigError, raise_all
from generator.ingest.clean import decode
from generator.records import Paper, printed_from

if TYPE_CHECKING:
    from generator.topicmodel import TopicModel

DEFAULT_MIN_SCORE = 2
TAG_FIELDS = ("id", "name", "description", "match", "exclude", "min_score")
_TAG_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
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
    #: The topic model fitted for these topics (``topic-model.json`` beside the file), if any.
    model: TopicModel | None = field(default=None, compare=False)
    #: Read without its model, which is to be read if a paper needs weighing (a Tagger then
    #: raises ModelNeeded): when every paper's tags are cached the model is not needed.
    model_later: bool = field(default=False, compare=False)

    def get(self, tag_id: str) -> Tag | None:
        return next((t for t in self.tags if t.id == tag_id), None)


#: Where a phrase can stand: the title, the sentence of the abstract that states the
#: contribution, the rest of the abstract, a mention in passing (an example, a comparison,
#: prior work, the benchmarks), a keyword given by the source.
WHERE = ("title", "lead", "abstract", "passing", "keywords")
#: Points for a phrase where no model decides (see ``Evidence.rule_score``).
RULE_POINTS = {"title": 3, "lead": 2, "abstract": 1, "passing": 0, "keywords": 2}
#: Mentions in the rest of the abstract count up to this many.
ABSTRACT_CAP = 3


@dataclass(frozen=True)
class Match:
    #: One of ``WHERE``.
    where: str
    #: The taxonomy phrase.
    phrase: str
    #: The words as they stand in the text.
    found: str


@dataclass(frozen=True)
class Evidence:
    """What the phrases of one tag found in one paper: mentions by where they stand (a span
    of text is one mention however many phrases it holds)."""

    title: int = 0
    lead: int = 0
    abstract: int = 0
    passing: int = 0
    keywords: int = 0
    matches: tuple[Match, ...] = ()

    def rule_score(self) -> int:
        """The score by phrases alone: 3 for the title, 2 for the contribution sentence, 1 for
        each other mention in the abstract (up to 3), 2 for a keyword, nothing in passing."""
        return (RULE_POINTS["title"] * bool(self.title) + RULE_POINTS["lead"] * bool(self.lead)
                + RULE_POINTS["abstract"] * min(self.abstract, ABSTRACT_CAP)
                + RULE_POINTS["keywords"] * bool(self.keywords))


NO_EVIDENCE = Evidence()


@dataclass(frozen=True)
class Explanation:
    tag: str
    #: The model's probability, or the score by phrases alone (see ``Evidence.rule_score``).
    score: float
    matches: tuple[Match, ...] = ()
    #: The words of the paper that weigh most for the tag in the model, with their weight.
    terms: tuple[tuple[str, float], ...] = ()
    #: Decided by the topic model (else by phrases alone).
    by_model: bool = False
    #: Set by hand in the archive.
    by_hand: bool = False


# -- the taxonomy file -------------------------------------------------------------------------

class ModelNeeded(Exception):
    """A paper needs weighing, and the taxonomy was read with ``model_later``."""


def load_taxonomy(path: Path, with_model: bool = True, model_later: bool = False) -> Taxonomy:
    """Read and check a taxonomy file; every problem is reported at once, with its line. The
    topic model beside it comes too, unless ``with_model`` is False (to fit a new one) or
    ``model_later`` (see ``Taxonomy.model_later``)."""
    text, _ = decode(Path(path).read_bytes(), str(path))
    data = yamlfile.load(text, str(path), error=ConfigError,
                         fix="correct the YAML syntax (quote phrases that hold ': ')")
    taxonomy = parse_taxonomy(data, str(path))
    if model_later:
        return replace(taxonomy, model_later=True)
    if not with_model:
        return taxonomy
    from generator.topicmodel import load_model, model_path
    return replace(taxonomy, model=load_model(model_path(path)))


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
            problem(data.get(yamlfile.LINE, 1), f"tag {number} is not a mapping",
                    "write each tag as '- id: ...' with name, description and match")
            continue
        line = item.pop(yamlfile.LINE, 1)
        for name in item:
            if name not in TAG_FIELDS:
                problem(line, f"unknown key '{name}'", yamlfile.did_you_mean(name, TAG_FIELDS))
        tag_id, name = item.get("id"), item.get("name")
        if not isinstance(tag_id, str) or not _TAG_ID.fullmatch(tag_id):
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

# Between the pieces of a paper's text; no phrase holds it. ASCII, so that str.translate
# keeps its fast path.
_PIECE_BREAK = "xxpiecebreakxx"
_END = ""  # trie key holding the phrases that end at a node (no word key is empty)
_NOTHING: frozenset[str] = frozenset()


class Tagger:
    """Tags papers with one taxonomy. Build once, then call :meth:`explain` or :meth:`tag`."""

    def __init__(self, taxonomy: Taxonomy, use_model: bool = True,
                 known: dict[str, tuple[str, ...]] | None = None):
        self.taxonomy = taxonomy
        #: Tags already worked out, by ``fingerprint`` of the paper (a build keeps them from
        #: the last, for this taxonomy and model only); added to by ``tag``.
        self.known = known if known is not None else {}
        #: The keys of ``known`` that ``tag_all`` asked for.
        self.used: set[str] = set()
        #: Decides the topics it knows with the phrases' evidence; the others go by phrases.
        self.model = taxonomy.model if use_model else None
        self._model_later = use_model and taxonomy.model_later
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
        the matches that the tag's excludes cover. Overlapping matches of one tag are one
        mention ("information retrieval" also holds "retrieval"): the longest is kept."""
        words, found = self._find(text)
        excluded = [(i, j, index) for i, j, index, kind, _ in found if kind == "exclude"]
        result: dict[int, list[tuple[str, int, int]]] = {}
        # Longest first, then leftmost: a shorter phrase inside a kept one is the same mention.
        for i, j, index, kind, phrase in sorted(found, key=lambda m: (m[0] - m[1], m[0], m[4])):
            if kind != "match" or (excluded and any(
                    index == e and i < ej and ei < j for ei, ej, e in excluded)):
                continue
            kept = result.setdefault(index, [])
            if not any(i < kj and ki < j for _, ki, kj in kept):
                kept.append((phrase, i, j))
        for kept in result.values():
            kept.sort(key=lambda m: m[1])
        return words, result

    def evidence(self, paper: Paper) -> dict[int, Evidence]:
        """What the phrases of each tag (by taxonomy index) found in the paper, and where."""
        pieces = [("title", paper.title), *abstract_pieces(paper.abstract),
                  *(("keywords", k) for k in paper.keywords)]
        # One pass over all the pieces, a word that no phrase holds between them.
        words, by_tag = self._matches(f" {_PIECE_BREAK} ".join(text for _, text in pieces))
        breaks = [i for i, w in enumerate(words) if w == _PIECE_BREAK]
        counts: dict[int, dict[str, int]] = {}
        matches: dict[int, list[Match]] = {}
        for index, found in by_tag.items():
            tally = counts[index] = dict.fromkeys(WHERE, 0)
            kept = matches[index] = []
            for phrase, i, j in found:
                where = pieces[bisect.bisect(breaks, i)][0]
                tally[where] += 1
                kept.append(Match(where, phrase, " ".join(words[i:j])))
        return {index: Evidence(**tally, matches=tuple(matches[index]))
                for index, tally in counts.items()}

    def _scored(self, paper: Paper) -> tuple[list[tuple[int, float]], dict[int, Evidence]]:
        """(tag index, score) of every tag that applies, best first, and the evidence."""
        return self._scored_all([paper])[0]

    def _scored_all(self, papers: list[Paper]
                    ) -> list[tuple[list[tuple[int, float]], dict[int, Evidence]]]:
        """``_scored`` of many papers: the topic model weighs them all at once."""
        if not papers:
            return []
        if self._model_later:
            raise ModelNeeded
        tags = self.taxonomy.tags
        found_all = [self.evidence(p) for p in papers]
        model = self.model
        weighed = model.probabilities_of(papers, [
            {tags[index].id: e for index, e in found.items()} for found in found_all]) \
            if model else [{} for _ in papers]
        out = []
        for paper, found, probabilities in zip(papers, found_all, weighed, strict=True):
            chosen: list[tuple[int, float]] = []
            best: tuple[float, int] | None = None
            for index, tag in enumerate(tags):
                if tag.id in paper.tags:
                    continue
                evidence = found.get(index, NO_EVIDENCE)
                if tag.id in probabilities:
                    score = probabilities[tag.id]
                    if score >= model.thresholds[tag.id]:
                        chosen.append((index, score))
                    elif score >= model.floor and (best is None or score > best[0]):
                        best = (score, index)
                elif evidence is not NO_EVIDENCE:
                    score = float(evidence.rule_score())
                    if score >= tag.min_score:
                        chosen.append((index, score))
            # Every paper is about something: with no tag sure enough, the likeliest one, if
            # it is likely enough at all.
            if not chosen and not paper.tags and best is not None:
                chosen.append((best[1], best[0]))
            chosen.sort(key=lambda item: (-item[1], item[0]))
            out.append((chosen, found))
        return out

    def explain(self, paper: Paper) -> tuple[Explanation, ...]:
        """Every tag of the paper with its score and evidence: hand-set tags first, then by
        score (highest first), then in taxonomy order."""
        scored, found = self._scored(paper)
        out = [Explanation(tag=t, score=0.0, by_hand=True) for t in paper.tags]
        for index, score in scored:
            tag_id = self.taxonomy.tags[index].id
            evidence = found.get(index, NO_EVIDENCE)
            terms = self.model.contributions(paper, tag_id) if self.model else ()
            out.append(Explanation(tag=tag_id, score=score, matches=evidence.matches,
                                   terms=terms, by_model=self.model is not None
                                   and self.model.knows(tag_id)))
        return tuple(out)

    def tag(self, paper: Paper) -> Paper:
        """The paper with its tags: those set by hand, then the matched ones."""
        return self.tag_all([paper])[0]

    def tag_all(self, papers: Iterable[Paper],
                sources: Mapping[str, str] | None = None) -> list[Paper]:
        """``tag`` of many papers; those tagged before (``known``) are not weighed again. A
        paper is known by the print of the files it was read from (``sources``, see
        ``records.source_prints``) and its tags set by hand, else by ``fingerprint``."""
        papers = list(papers)
        keys = [printed_from(sources, p, p.tags) or fingerprint(p) for p in papers]
        self.used.update(keys)
        todo = {key: paper for key, paper in zip(keys, papers, strict=True)
                if key not in self.known}
        # A paper's tags do not depend on the others': many papers are weighed half here and
        # half in a second process (the machine's other core).
        pending = list(todo.values())
        if pending and self._model_later:
            raise ModelNeeded
        helper = None
        if len(pending) >= TWO_PROCESSES_FROM:
            from generator.background import Background
            helper = Background(self._tag_ids, pending[len(pending) // 2:])
            pending = pending[:len(pending) // 2]
        try:
            found = self._tag_ids(pending)
            if helper is not None:
                found += helper.result()
        finally:
            if helper is not None:
                helper.stop()
        self.known.update(zip(todo, found, strict=True))
        return [p.with_tags((*p.tags, *self.known[key]))
                for p, key in zip(papers, keys, strict=True)]

    def _tag_ids(self, papers: list[Paper]) -> list[tuple[str, ...]]:
        """The tags the taxonomy gives each paper (not those set by hand). A block at a time:
        the evidence and the probabilities of a block are dropped before the next is
        weighed."""
        out = []
        for start in range(0, len(papers), TAG_BLOCK):
            out += [tuple(self.taxonomy.tags[index].id for index, _ in scored)
                    for scored, _ in self._scored_all(papers[start:start + TAG_BLOCK])]
        return out


#: Papers weighed at once by ``Tagger.tag_all``: a block's evidence and probabilities take
#: a few dozen MB; all 100,000 papers of a large archive at once took 1.6 GB more.
TAG_BLOCK = 2000
#: Papers to weigh from which ``Tagger.tag_all`` weighs half of them in a second process
#: (forking it costs about what weighing a few hundred papers does).
TWO_PROCESSES_FROM = 4000


def fingerprint(paper: Paper) -> str:
    """What a paper's tags depend on besides the taxonomy: its text, keywords and hand tags."""
    return hashlib.sha1(repr((paper.title, paper.abstract, paper.keywords,
                              paper.tags)).encode()).hexdigest()[:16]


# -- where a phrase stands ------------------------------------------------------------------

_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])")
_TOKEN = re.compile(r"[a-z0-9]+")


def _cues(stop: str, *phrases: str) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """Cue phrases by first word, each with the character its scope runs to: a phrase is
    words, where a word may be "a|b" (either) and "stem*" (any word that starts so)."""
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for phrase in phrases:
        first, *rest = phrase.split()
        for word in first.split("|"):
            table.setdefault(word, []).append((tuple(rest), stop))
    return table


def _word_matches(pattern: str, word: str) -> bool:
    return any(word.startswith(p[:-1]) if p.endswith("*") else word == p
               for p in pattern.split("|"))


#: The sentence that states the contribution: the first one in which "we", "this paper" or
#: "this work" propose, present, introduce... something.
_LEAD_SUBJECTS = frozenset({"we", "here", "paper", "work", "study", "report"})
_LEAD_VERBS = ("propos", "present", "introduc", "develop", "stud", "investigat", "explor",
               "design", "build", "buil", "releas", "describ", "construct", "formulat",
               "curat", "creat", "train", "tackl", "address", "analy", "examin", "focus")
#: Where a mention is in passing: a comparison, an example, prior work, or the benchmarks and
#: baselines of the experiments. A cue of prior work or contrast runs to the end of its clause
#: (a comma); one of examples, comparisons and experiments to the end of its sentence (or a
#: semicolon).
_CUES = _cues(
    ",", "unlike", "in contrast to", "contrary to", "instead of", "rather than",
    "as opposed to", "apart from", "besides", "beyond", "prior", "previous", "previously",
    "existing", "traditional", "conventional", "earlier", "standard", "classical", "popular",
    "widely used", "mainstream", "typical", "typically", "commonly",
    "has|have been|shown|achieved|emerged|become|gained|made|demonstrated")
for _word, _options in _cues(
        ";", "such as", "e g", "eg", "including", "for example", "for instance", "like",
        "compared to|with", "comparison to|with", "than", "outperform*", "surpass*", "beat*",
        "experiments|evaluation|evaluations|results|test|tests|benchmark|benchmarks|dataset|"
        "datasets on|across|over|in|with|spanning|covering",
        "evaluated|tested|validated|benchmarked|applied on|across|to|in", "downstream",
        "baseline|baselines", "can|could be|also applied|used|extended").items():
    _CUES.setdefault(_word, []).extend(_options)
_STEMS = tuple(w[:-1] for w in _CUES if w.endswith("*"))
_STEM_CUE = re.compile(r"\b(?:" + "|".join(_STEMS) + ")")


def _cue_at(words: list[str], i: int) -> str | None:
    """The character the scope of a cue that starts at word ``i`` runs to, if one does."""
    word = words[i]
    options = _CUES.get(word)
    if options is None:
        if not word.startswith(_STEMS):
            return None
        options = next(_CUES[s + "*"] for s in _STEMS if word.startswith(s))
    for rest, stop in options:
        if len(words) > i + len(rest) and all(
                _word_matches(pattern, words[i + 1 + k]) for k, pattern in enumerate(rest)):
            return stop
    return None


def _is_lead(words: list[str]) -> bool:
    for i, word in enumerate(words):
        if word in _LEAD_SUBJECTS and any(w.startswith(_LEAD_VERBS) for w in words[i + 1:i + 9]):
            return True
    return False


def abstract_pieces(abstract: str) -> list[tuple[str, str]]:
    """The abstract as (where, text) pieces: the sentence that states the contribution is
    ``lead``, mentions in passing (see ``_CUES``) are
    ``passing``, the rest ``abstract``. Pure."""
    pieces: list[tuple[str, str]] = []
    lead_found = False
    for sentence in _SENTENCES.split(abstract):
        lowered = sentence.lower()
        words = _TOKEN.findall(lowered)
        role = "abstract"
        if not lead_found and _is_lead(words):
            role, lead_found = "lead", True
        passing: list[tuple[int, int]] = []
        cues, stems = _CUES, _STEMS
        if not cues.keys().isdisjoint(words) or _STEM_CUE.search(lowered):
            for i, token in enumerate(_TOKEN.finditer(lowered)):
                word = words[i]
                if word not in cues and not word.startswith(stems):
                    continue
                stop = _cue_at(words, i)
                if stop is not None:
                    end = sentence.find(stop, token.end())
                    passing.append((token.start(), end if end >= 0 else len(sentence)))
        position = 0
        for start, end in passing:
            if end <= position:
                continue
            start = max(start, position)
            if start > position:
                pieces.append((role, sentence[position:start]))
            pieces.append(("passing", sentence[start:end]))
            position = end
        if position < len(sentence):
            pieces.append((role, sentence[position:]))
    return pieces


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
