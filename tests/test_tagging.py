"""Topic tags a reader can trust: the matching rules, explanations, the taxonomy checks, and
the quality bar on the sample archive."""

from __future__ import annotations

import statistics

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from generator import archive as archive_store
from generator.errors import DigestError
from generator.records import Paper
from generator.tagging import (
    Tag,
    Tagger,
    Taxonomy,
    abstract_pieces,
    load_taxonomy,
    parse_taxonomy,
)

TAXONOMY = load_taxonomy(ROOT / "content" / "taxonomy.yaml")
TAGGER = Tagger(TAXONOMY)


def tags_of(title: str, abstract: str = "", keywords=(), tagger=TAGGER) -> tuple[str, ...]:
    return tagger.tag(Paper(key="k", title=title, abstract=abstract, keywords=keywords)).tags


def one_tag(*, match, exclude=(), min_score=2):
    """A tagger of one topic by phrases alone (no model knows it)."""
    return Tagger(Taxonomy(tags=(Tag(id="t", name="T", match=tuple(match),
                                     exclude=tuple(exclude), min_score=min_score),)))


def test_acronyms_match_only_in_capitals():
    tagger = one_tag(match=["LLM"])
    assert tags_of("Scaling LLMs to new heights", tagger=tagger) == ("t",)
    assert tags_of("An LLM for code", tagger=tagger) == ("t",)
    assert tags_of("The llm baseline", tagger=tagger) == ()
    assert tags_of("SmallLLMnet is fast", tagger=tagger) == ()


def test_plural_hyphen_and_space_variants_match():
    tagger = one_tag(match=["few-shot learner", "diffusion model"])
    for title in ("Few-Shot Learners", "few shot learner", "Fewshot learners",
                  "Diffusion Models Beat GANs"):
        assert tags_of(title, tagger=tagger) == ("t",), title


def test_phrases_match_whole_words_only():
    tagger = one_tag(match=["NAS", "agent"])
    assert tags_of("ShiftNAS: dynamic search", tagger=tagger) == ()
    assert tags_of("Reagents in chemistry", tagger=tagger) == ()
    assert tags_of("One-shot NAS, revisited", tagger=tagger) == ("t",)


def test_title_match_weighs_more_than_a_passing_mention():
    tagger = one_tag(match=["video"])
    assert tags_of("Video models", tagger=tagger) == ("t",)
    assert tags_of("Image models", "We also try one video.", tagger=tagger) == ()
    assert tags_of("Image models", "A video here. Another video there.", tagger=tagger) == ("t",)


def test_keywords_from_the_api_count():
    tagger = one_tag(match=["quantization"])
    assert tags_of("Compressing models", "", keywords=("quantization",), tagger=tagger) == ("t",)


def test_attention_as_in_draws_attention_is_not_the_mechanism():
    assert "transformers-attention" not in tags_of(
        "A survey of benchmark leakage",
        "This problem draws attention to the data. It has received attention in the field. "
        "We pay attention to leakage.")
    assert "transformers-attention" in tags_of("Sparse Attention for Long Inputs")


def test_slam_the_linguistic_method_is_not_robotics():
    assert "robotics" not in tags_of("SLAM: Structural Linguistic Activation Marking",
                                     "We mark activations by linguistic structure.")
    assert "robotics" in tags_of("Visual SLAM for Drones",
                                 "Simultaneous localization and mapping on small robots.")


def test_catastrophic_forgetting_is_continual_learning_not_unlearning():
    tags = tags_of("Mitigating Catastrophic Forgetting in Class-Incremental Learning")
    assert "continual-learning" in tags and "unlearning" not in tags


def test_explanations_name_the_phrase_the_words_and_where_they_stand():
    paper = Paper(key="k", title="Federated Learning with LoRA",
                  abstract="Clients share LoRA adapters.")
    explained = {e.tag: e for e in TAGGER.explain(paper)}
    fed = explained["federated-learning"]
    assert fed.by_model and fed.score >= TAXONOMY.model.thresholds["federated-learning"]
    assert any(m.where == "title" and m.phrase == "federated learning" for m in fed.matches)
    assert [t for t, _ in fed.terms[:2]] == ["federated (title)", "federated learning (title)"]
    peft = explained["parameter-efficient-fine-tuning"]
    assert {(m.where, m.found) for m in peft.matches} >= {("title", "LoRA"),
                                                          ("abstract", "LoRA")}


def test_one_span_of_text_is_one_mention():
    tagger = one_tag(match=["information retrieval", "retrieval", "demonstration",
                            "demonstrations"])
    # Each is one mention of the topic in the abstract: one point, below the threshold of 2.
    assert tags_of("A new index", "It is about information retrieval.", tagger=tagger) == ()
    assert tags_of("A new index", "Many demonstrations.", tagger=tagger) == ()
    assert tags_of("A new index", "Retrieval helps. Demonstrations help.",
                   tagger=tagger) == ("t",)


def test_where_a_phrase_stands_decides_what_it_counts():
    tagger = one_tag(match=["knowledge distillation"])
    body = "It is fast. It is small."
    # The sentence that states the contribution counts 2 points.
    assert tags_of("A method", f"In this paper we propose knowledge distillation. {body}",
                   tagger=tagger) == ("t",)
    # A mention in passing counts nothing, however often.
    for passing in ("Unlike previous methods that focus on knowledge distillation, we prune.",
                    "We compare with baselines such as knowledge distillation and knowledge "
                    "distillation.",
                    "Our pruning outperforms knowledge distillation; knowledge distillation "
                    "fails. Existing knowledge distillation, we show, is slow."):
        assert tags_of("A method", passing, tagger=tagger) == (), passing


def test_abstract_pieces_mark_the_contribution_and_the_passing_mentions():
    pieces = abstract_pieces(
        "Unlike previous methods that focus on distillation, we propose a pruning method. "
        "We evaluate on benchmarks such as ImageNet, COCO; it works. Ours outperforms LoRA.")
    assert pieces == [
        ("passing", "Unlike previous methods that focus on distillation"),
        ("lead", ", we propose a pruning method."),
        ("abstract", "We evaluate on benchmarks "), ("passing", "such as ImageNet, COCO"),
        ("abstract", "; it works."), ("abstract", "Ours "), ("passing", "outperforms LoRA.")]


@pytest.mark.parametrize("title, abstract, not_tag", [
    ("SpecDec++: Boosting Speculative Decoding via Adaptive Candidate Lengths",
     "Speculative decoding reduces the inference latency of a target large language model.",
     "ensembles-boosting"),
    ("Mitigating Catastrophic Forgetting in Class-Incremental Learning", "", "unlearning"),
    ("Memory-efficient Training of LLMs", "We cut the memory of training.",
     "efficient-inference"),
    ("Graph Diffusion for Link Prediction", "Heat spreads over graph edges.",
     "diffusion-models"),
])
def test_generic_words_do_not_tag(title, abstract, not_tag):
    assert not_tag not in tags_of(title, abstract)


def test_tags_set_by_hand_are_kept_and_come_first():
    paper = Paper(key="k", title="Video diffusion models for text-to-video generation",
                  abstract="We propose a video diffusion model that generates videos.",
                  tags=("robotics",))
    tags = TAGGER.tag(paper).tags
    assert tags[0] == "robotics" and "video" in tags


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.text(max_size=600))
def test_tagging_is_deterministic(title, abstract):
    paper = Paper(key="k", title=title, abstract=abstract)
    assert TAGGER.tag(paper) == Tagger(TAXONOMY).tag(paper)


def test_tagging_in_blocks_tags_every_paper_as_one_at_a_time(monkeypatch):
    """A large archive is weighed a block at a time (to bound memory): every paper of every
    block, the last short one too, gets the tags it gets alone, in the archive's order."""
    import generator.tagging as tagging

    papers = list(archive_store.load(ROOT / "content").papers)[:23]
    alone = [Tagger(TAXONOMY).tag(p) for p in papers]
    monkeypatch.setattr(tagging, "TAG_BLOCK", 5)
    assert Tagger(TAXONOMY).tag_all(papers) == alone
    assert sum(1 for p in alone if p.tags) >= 20


def test_papers_known_by_the_print_of_their_files_get_their_own_tags():
    """A build knows a paper it tagged before by the print of the files it was read from (all
    the papers of one day share that file's print) and its key: each paper gets the tags it
    gets alone, and a second build reuses them all."""
    archive = archive_store.load(ROOT / "content")
    assert len(set(archive.prints.values())) < len(archive.papers) / 10  # a print a file
    alone = Tagger(TAXONOMY).tag_all(archive.papers)
    known: dict[str, tuple[str, ...]] = {}
    assert Tagger(TAXONOMY, known=known).tag_all(archive.papers, archive.prints) == alone
    assert len(known) == len(archive.papers)
    assert len({p.tags for p in alone}) > 50
    again = Tagger(TAXONOMY, known=dict(known))
    again._scored_all = None  # nothing is weighed again
    assert again.tag_all(archive.papers, archive.prints) == alone


def test_many_papers_weighed_in_two_processes_get_the_tags_one_gives(monkeypatch):
    """From TWO_PROCESSES_FROM papers to weigh, half are weighed in a second process: every
    paper still gets the tags it gets when one process weighs them all, in its own place."""
    from generator import tagging
    papers = archive_store.load(ROOT / "content").papers
    alone = Tagger(TAXONOMY).tag_all(papers)
    assert len({p.tags for p in alone}) > 50
    monkeypatch.setattr(tagging, "TWO_PROCESSES_FROM", 2)
    forked = []
    real = tagging.Tagger._tag_ids

    def counted(self, some):
        forked.append(len(some))
        return real(self, some)

    monkeypatch.setattr(tagging.Tagger, "_tag_ids", counted)
    assert Tagger(TAXONOMY).tag_all(papers) == alone
    assert forked == [len(papers) // 2]  # this process weighed half: the rest was forked


def test_default_taxonomy_is_broad():
    ids = {t.id for t in TAXONOMY.tags}
    assert len(ids) >= 30
    for needed in ("large-language-models", "diffusion-models", "few-shot-learning",
                   "federated-learning", "continual-learning", "compression", "distillation",
                   "neural-architecture-search", "ensembles-boosting", "optimization",
                   "reinforcement-learning", "graph-learning", "video", "3d-vision",
                   "speech-audio", "retrieval-rag", "agents-tool-use", "unlearning",
                   "efficient-inference", "learning-theory", "multimodal"):
        assert needed in ids


def test_quality_bar_on_the_sample_archive():
    papers = TAGGER.tag_all(archive_store.load(ROOT / "content").papers)
    tagged = sum(1 for p in papers if p.tags)
    assert tagged / len(papers) >= 0.97
    counts: dict[str, int] = {}
    for p in papers:
        for t in p.tags:
            counts[t] = counts.get(t, 0) + 1
    assert max(counts.values()) / len(papers) <= 0.30
    assert 2 <= statistics.median(len(p.tags) for p in papers) <= 4


def test_a_bad_taxonomy_is_reported_all_at_once(tmp_path):
    path = tmp_path / "taxonomy.yaml"
    path.write_text(
        "tags:\n"
        "  - id: video\n"
        "    name: Video\n"
        "    match: [video]\n"
        "  - id: video\n"
        "    name: Moving pictures\n"
        "    match: []\n"
        "  - id: Bad Id\n"
        "    name: Video\n"
        "    mach: [x]\n"
        "    match: ['---', 7]\n", encoding="utf-8")
    with pytest.raises(DigestError) as error:
        load_taxonomy(path)
    assert str(error.value).splitlines() == [
        f"{path}:5: duplicate tag id 'video' (first at line 2) - give every tag its own id",
        f"{path}:5: tag 'video': 'match' must be a non-empty list of phrases"
        " - write it as match: [first phrase, second phrase]",
        f"{path}:8: unknown key 'mach' - did you mean 'match'?",
        f"{path}:8: tag id 'Bad Id' is not lowercase words joined by hyphens"
        " - write it like 'diffusion-models'",
        f"{path}:8: duplicate tag name 'Video' (first at line 2) - give every tag its own name",
        f"{path}:8: tag 'Bad Id': invalid phrase '---' in 'match'"
        " - a phrase is text with at least one letter or digit",
        f"{path}:8: tag 'Bad Id': invalid phrase 7 in 'match'"
        " - a phrase is text with at least one letter or digit",
    ]


def test_taxonomy_yaml_is_plain_data():
    data = yaml.safe_load((ROOT / "content" / "taxonomy.yaml").read_text(encoding="utf-8"))
    assert parse_taxonomy(data, "taxonomy.yaml") == TAXONOMY
