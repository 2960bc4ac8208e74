"""Evaluation anyone can run (index/evaluate.py): fit / held-out halves, the abstention split, floors."""

from __future__ import annotations

import json

import pytest

from index.evaluate import (
    EvaluationError,
    abstention_split,
    article_halves,
    check_floors,
    evaluate_abstention,
    evaluate_squad,
    squad_documents,
)

ARTICLES = [
    (
        "Emperor_penguin",
        [
            (
                "The emperor penguin is the tallest and heaviest of all living penguin species and is endemic to "
                "Antarctica. Adults reach 100 cm in height and weigh from 22 to 45 kg.",
                ["How tall do adult emperor penguins grow?", "Where do emperor penguins live?"],
            ),
            (
                "Emperor penguins breed in the winter. The female lays a single egg, which the male incubates on "
                "his feet for about 65 days while the female hunts at sea.",
                ["Which emperor penguin parent incubates the egg?", "How long is the egg incubated?"],
            ),
        ],
    ),
    (
        "Chess",
        [
            (
                "Chess is a board game for two players played on a checkered board with 64 squares arranged in an "
                "eight-by-eight grid. Each player begins with sixteen pieces.",
                ["How many squares does a chessboard have?", "How many pieces does each chess player start with?"],
            ),
        ],
    ),
    (
        "Volcano",
        [
            (
                "A volcano is a rupture in the crust of a planet that allows hot lava, volcanic ash and gases to "
                "escape from a magma chamber below the surface. Iceland has about thirty active volcanic systems.",
                ["How many active volcanic systems does Iceland have?", "What escapes from a magma chamber?"],
            ),
        ],
    ),
    (
        "Sourdough",
        [
            (
                "Sourdough bread is made by the fermentation of dough using naturally occurring lactobacilli and "
                "yeast. The starter culture gives the loaf its sour taste and improves its keeping qualities.",
                ["What microbes ferment sourdough?", "What gives sourdough bread its sour taste?"],
            ),
        ],
    ),
]


@pytest.fixture()
def squad_file(tmp_path):
    data = {
        "data": [
            {
                "title": title,
                "paragraphs": [
                    {"context": context, "qas": [{"id": f"{title}{i}", "question": q} for i, q in enumerate(qs)]}
                    for context, qs in paragraphs
                ],
            }
            for title, paragraphs in ARTICLES
        ]
    }
    path = tmp_path / "mini_squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_article_halves_are_disjoint_complete_and_fixed():
    fit, test = article_halves(25)
    assert not fit & test and fit | test == set(range(25)) and len(fit) == 12
    assert article_halves(25) == (fit, test)
    assert article_halves(25, seed=1) != (fit, test)


def test_the_halves_select_questions_by_article(squad_file):
    documents, every = squad_documents(squad_file)
    _, fit = squad_documents(squad_file, "fit")
    _, test = squad_documents(squad_file, "test")
    assert len(documents) == 5 and len(every) == 10
    assert sorted(fit + test) == sorted(every) and not set(fit) & set(test)
    with pytest.raises(EvaluationError, match="--half"):
        squad_documents(squad_file, "train")


def test_abstention_split_labels_questions_by_whether_their_article_is_in_the_corpus(squad_file):
    documents, questions = abstention_split(squad_file, share=0.5, half="all")
    assert len(documents) == 2
    titles = {doc.info.title for doc in documents}
    for item in questions:
        assert item.answerable == bool(item.doc_id)
    answerable = [q for q in questions if q.answerable]
    assert 0 < len(answerable) < len(questions)
    by_id = {doc.info.doc_id: doc for doc in documents}
    for item in answerable:
        text = by_id[item.doc_id].text
        assert text.splitlines()[0] in titles  # the title is the document's first line
        paragraph = text[item.start : item.end]
        assert any(paragraph == " ".join(context.split()) for _, ps in ARTICLES for context, _ in ps)
    again = abstention_split(squad_file, share=0.5, half="all")
    assert [d.info.doc_id for d in again[0]] == [d.info.doc_id for d in documents]


def test_abstention_split_rejects_a_share_outside_zero_one(squad_file):
    with pytest.raises(EvaluationError, match="corpus-share"):
        abstention_split(squad_file, share=1.0)


def test_a_file_that_is_not_squad_gets_a_clear_message(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(EvaluationError, match="not a SQuAD file"):
        squad_documents(path)


def test_abstention_evaluation_reports_both_kinds_of_error(squad_file):
    report = evaluate_abstention(squad_file, share=0.5, half="all")
    assert report["answerable"] + report["unanswerable"] == report["questions"] == 10
    assert report["answerable_abstained"] <= 1 and report["unanswerable_answered"] <= 1
    assert report["hit@1"] >= 0.75
    assert report["false_abstain_rate"] == pytest.approx(
        report["answerable_abstained"] / report["answerable"], abs=1e-4
    )


def test_squad_retrieval_reports_hit_at_3(squad_file):
    report = evaluate_squad(squad_file)
    assert report["hit@1"] <= report["hit@3"] <= report["hit@5"] and report["hit@1"] >= 0.9


def test_floors_name_every_figure_on_the_wrong_side():
    report = {"overall": {"hit@3": 0.84, "false_abstain_rate": 0.05, "false_answer_rate": 0.0}, "by_tag": {}}
    assert check_floors(report, {"min_hit3": 0.8, "max_false_abstain": 0.05}) == []
    failures = check_floors(report, {"min_hit3": 0.9, "max_false_abstain": 0.02, "max_false_answer": 0.1})
    assert failures == ["hit@3 0.840 < 0.900", "false_abstain_rate 0.050 > 0.020"]
    assert check_floors(report, {"min_hit5": 0.5}) == ["hit@5 is not measured by this evaluation (--min-hit5)"]
    tagged = {"overall": {}, "by_tag": {"cross-lingual": {"hit@3": 0.5}}}
    assert check_floors(tagged, {"min_hit3": 0.7}, tag="cross-lingual") == ["hit@3 0.500 < 0.700 (cross-lingual)"]
    assert "no questions tagged" in check_floors(tagged, {"min_hit3": 0.7}, tag="en")[0]
