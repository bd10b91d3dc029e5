"""Tags readers can trust, measured against labels that annotators following the written rules
of tests/data/labels/README.md gave 2,205 papers from the title and abstract alone: the 323
sample papers, 261 papers of thirteen real API days (tests/data/api/) and 1,621 of 104 real
API days (tests/data/corpus/)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import DATA
from generator.cli import main
from generator.evaluation import read_labels, score_tags
from generator.tagging import Tagger
from generator.topicmodel import FILE, load_model

LABELS = DATA / "labels"


def scored(labelled, labels_file, use_model=True):
    tagger = Tagger(labelled["taxonomy"], use_model=use_model)
    labels = read_labels(LABELS / labels_file)
    return score_tags(tagger.tag_all(labelled["papers"]), labels,
                      known={t.id for t in labelled["taxonomy"].tags})


@pytest.mark.parametrize("labels_file, papers", [("seeds.jsonl", 323), ("api.jsonl", 261),
                                                 ("recent.jsonl", 1621)])
def test_tags_of_the_papers_it_was_fitted_on(labelled, labels_file, papers):
    """What `digest tags --score` prints for the labelled papers: the model saw them, so
    these figures are above what to expect on new papers (the cross-validation below)."""
    score = scored(labelled, labels_file)
    assert (score.papers, score.unmatched) == (papers, 0)
    assert score.total.precision >= 0.85 and score.total.recall >= 0.85, score.total
    assert score.untagged / score.papers <= 0.03


def test_the_model_carries_over_to_papers_it_was_not_fitted_on(labelled, fitted):
    """Five-fold cross-validation: each paper tagged by a model fitted without it, with
    thresholds chosen without it. These are the figures to expect on papers nobody labelled,
    and the ones README states."""
    precision, recall, _ = fitted.cross_validated
    assert precision >= 0.83 and recall >= 0.71, fitted.cross_validated
    # No junk topic hidden by the average among the topics a reader follows most (100
    # labelled papers or more). Four smaller ones stay below 0.70 (README lists them).
    precise = {t: right / (right + wrong) for t, (right, wrong, missed) in fitted.per_topic.items()
               if right + missed >= 100}
    assert len(precise) >= 15 and min(precise.values()) >= 0.75, precise
    below = sorted(t for t, (right, wrong, missed) in fitted.per_topic.items()
                   if right + missed >= 10 and right + wrong and right / (right + wrong) < 0.70)
    assert len(below) <= 6, below
    # The model in content/ is the one these labels and this taxonomy make.
    committed = labelled["taxonomy"].model
    assert committed.thresholds == fitted.model.thresholds
    assert committed.floor == fitted.model.floor
    assert committed.terms == fitted.model.terms and committed.idf == fitted.model.idf
    for topic in fitted.model.topics:
        assert committed.evidence[topic] == fitted.model.evidence[topic], topic
        assert abs(committed.bias[topic] - fitted.model.bias[topic]) < 1e-3, topic
        difference = max(abs(a - b) for a, b in zip(committed.weights[topic],
                                                   fitted.model.weights[topic], strict=True))
        assert difference < 0.05, topic
    assert committed.reference_frequency == fitted.model.reference_frequency
    assert committed.cross_validated["total"] == [round(v, 4) for v in fitted.cross_validated]


def test_the_committed_model_file_is_what_a_fit_writes(labelled, fitted):
    """Byte for byte, where this machine's arithmetic is the one it was fitted with."""
    committed = (DATA.parent.parent / "content" / FILE).read_text(encoding="utf-8")
    fresh = fitted.model.to_json()
    same = committed == fresh
    if not same:  # a last-bit difference of another BLAS moves a weight by one step at most
        a, b = json.loads(committed), json.loads(fresh)
        assert {k: v for k, v in a.items() if k != "weights"} == \
            {k: v for k, v in b.items() if k != "weights"}


def test_phrases_alone_are_a_fair_fallback(labelled):
    """Topics the model does not know go by phrases: they must not be junk either."""
    for labels_file in ("seeds.jsonl", "api.jsonl", "recent.jsonl"):
        score = scored(labelled, labels_file, use_model=False)
        assert score.total.precision >= 0.55 and score.total.recall >= 0.70, score.total


def test_score_prints_the_figures_and_the_worst_topics_first(labelled, capsys):
    code = main(["tags", "--score", str(LABELS / "api.jsonl"),
                 "--content", str(labelled["content"])])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert re.fullmatch(r"261 labelled papers \(0 labels match no paper of the archive\), "
                        r"\d untagged", out[0])
    # The model was fitted on these papers: near all right (cross-validation says what to
    # expect on others).
    assert re.fullmatch(r"precision 0\.9\d\d  recall (0\.9\d\d|1\.000)  F1 .*", out[1])
    assert out[3] == "Per topic, worst first:  right  wrong  missed  precision  recall"
    rows = [line.split() for line in out[4:]]
    errors = [int(r[2]) + int(r[3]) for r in rows]
    assert errors == sorted(errors, reverse=True)


def test_train_writes_a_model_that_tags(labelled, tmp_path, capsys):
    content = tmp_path / "content"
    shutil.copytree(labelled["content"], content)
    (content / FILE).unlink()
    code = main(["tags", "--train", str(LABELS / "seeds.jsonl"), "--content", str(content)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"Fitted the topic model on 323 labelled papers -> {content / FILE}")
    assert "5-fold cross-validation" in out
    model = load_model(content / FILE)
    assert all(0 < t < 1 for t in model.thresholds.values())
    assert json.loads((content / FILE).read_text())["format"] == 2
    assert "Per topic (cross-validated), worst first" in out


def test_a_broken_model_file_is_one_clear_error(labelled, tmp_path, capsys):
    content = tmp_path / "content"
    shutil.copytree(labelled["content"], content)
    (content / FILE).write_text("{", encoding="utf-8")
    code = main(["tags", "--content", str(content)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"{content / FILE}:1: not a topic model this version can read")
    assert err.endswith("fit it again with 'digest tags --train LABELS.jsonl', or delete it to "
                        "tag by phrases alone\n")


def test_why_takes_a_key_prefix_or_a_title_and_counts_each_phrase_once(project, capsys):
    title = ("Efficient LLM Training and Serving with Heterogeneous Context Sharding among "
             "Attention Heads")
    key = "efficient-llm-training-and-serving-with-heterogeneous-context-sharding-among-" \
          "attention-heads"
    code = main(["tags", "--why", "efficient-llm-training-and-serving"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and out[0] == f"{title}  [{key}]"
    code = main(["tags", "--why", title.upper() + "!"])
    assert code == 0 and capsys.readouterr().out.splitlines() == out
    at = out.index(next(line for line in out if line.startswith("  transformers-attention")))
    assert re.fullmatch(r"  transformers-attention \(probability (0\.\d\d|1\.00)\):", out[at])
    assert out[at + 1] == '    "attention head" x4: title, lead, abstract x2'
    assert out[at + 2].startswith("    words: attention (title) +")
    code = main(["tags", "--why", "d"])
    err = capsys.readouterr().err
    assert code == 1 and "could be" in err and err.endswith(" - give more of the key\n")
