"""Tags readers can trust, measured against labels that ML researchers gave 584 papers from
the title and abstract alone (tests/data/labels/: the 323 sample papers and 261 papers of
thirteen real API days in tests/data/api/)."""

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


@pytest.mark.parametrize("labels_file, papers", [("seeds.jsonl", 323), ("api.jsonl", 261)])
def test_tags_match_the_hand_labels(labelled, labels_file, papers):
    score = scored(labelled, labels_file)
    assert (score.papers, score.unmatched) == (papers, 0)
    assert score.total.precision >= 0.90 and score.total.recall >= 0.85, score.total
    assert score.untagged / score.papers <= 0.03
    # No junk topic hidden by the average: every topic the labellers gave ten papers or more.
    both = scored(labelled, labels_file)
    for topic, t in both.topics.items():
        if t.right + t.missed >= 10:
            assert t.precision >= 0.70, (topic, t)


def test_the_model_carries_over_to_papers_it_was_not_fitted_on(labelled, fitted):
    """Five-fold cross-validation: each paper tagged by a model fitted without it. These are
    the figures to expect on papers nobody labelled; they are lower than the ones above."""
    precision, recall, _ = fitted.cross_validated
    assert precision >= 0.82 and recall >= 0.67, fitted.cross_validated
    # The model in content/ is the one these labels and this taxonomy make.
    committed = labelled["taxonomy"].model
    assert committed.threshold == fitted.model.threshold
    assert committed.floor == fitted.model.floor
    assert set(committed.weights) == set(fitted.model.weights)
    for topic, weights in fitted.model.weights.items():
        assert set(weights) == set(committed.weights[topic]), topic
        assert all(abs(w - committed.weights[topic][t]) < 1e-3 for t, w in weights.items())
    assert committed.reference_frequency == fitted.model.reference_frequency


def test_phrases_alone_are_a_fair_fallback(labelled):
    """Topics the model does not know go by phrases: they must not be junk either."""
    for labels_file in ("seeds.jsonl", "api.jsonl"):
        score = scored(labelled, labels_file, use_model=False)
        assert score.total.precision >= 0.55 and score.total.recall >= 0.75, score.total


def test_score_prints_the_figures_and_the_worst_topics_first(labelled, capsys):
    code = main(["tags", "--score", str(LABELS / "api.jsonl"),
                 "--content", str(labelled["content"])])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "261 labelled papers (0 labels match no paper of the archive), 2 untagged"
    assert out[1].startswith("precision 0.9")
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
    assert model.threshold > 0 and json.loads((content / FILE).read_text())["format"] == 1


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
    assert re.fullmatch(r"  transformers-attention \(probability (0\.\d\d|1\.00)\):", out[1])
    assert out[2] == '    "attention head" x4: title, lead, abstract x2'
    assert out[3].startswith("    words: attention (title) +")
    code = main(["tags", "--why", "d"])
    err = capsys.readouterr().err
    assert code == 1 and "could be" in err and err.endswith(" - give more of the key\n")
