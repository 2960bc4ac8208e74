"""Calibrated abstention (index/abstention.py): language-level word weights, the fitted model, suggestions."""

from __future__ import annotations

import numpy as np
import pytest

from index.abstention import FEATURES, Decision, english_zipf, expand, latin_informativeness, model
from index.signals import answer_type_missing


def test_english_frequencies_come_from_wordfreq():
    table = english_zipf()
    assert len(table) > 20_000
    assert table["the"] > table["keyboard"] > 3.0


@pytest.mark.parametrize(
    ("everyday", "telling"),
    [("lol", "transistor"), ("starting", "displacement"), ("price", "huguenots"), ("guys", "Qualcomm")],
)
def test_an_everyday_word_weighs_less_than_a_rare_one(everyday, telling):
    assert latin_informativeness(everyday) < 0.6 <= latin_informativeness(telling)


def test_inflected_forms_weigh_like_their_base_word_and_numbers_fully():
    assert latin_informativeness("elects") == pytest.approx(latin_informativeness("elect"), abs=0.15)
    assert latin_informativeness("keyboards") < 0.9
    assert latin_informativeness("2019") == latin_informativeness("a13") == 1.0


def test_the_fitted_model_matches_the_signals_and_is_calibrated_sensibly():
    fitted = model()
    assert fitted.features == FEATURES
    assert len(fitted.weights) == len(expand(np.zeros((1, len(FEATURES))))[0])
    assert 0 < fitted.abstain_p < fitted.confident_p < 1
    assert "fit halves" in fitted.fitted_on


def test_a_decision_follows_the_probability():
    fitted = model()
    index = {name: i for i, name in enumerate(FEATURES)}
    strong = np.zeros(len(FEATURES))
    strong[index["coverage"]] = strong[index["relative"]] = strong[index["phrases"]] = 1.0
    strong[index["matched"]], strong[index["rarest"]], strong[index["units"]] = 3.0, 1.0, np.log1p(4)
    weak = strong.copy()
    weak[index["missing"]] = weak[index["worst"]] = weak[index["absent"]] = 1.0
    weak[index["coverage"]] = weak[index["relative"]] = weak[index["phrases"]] = 0.0
    weak[index["matched"]] = weak[index["rarest"]] = 0.0
    assert fitted.probability(strong) > fitted.confident_p
    assert fitted.probability(weak) < fitted.abstain_p
    assert Decision.of(strong).confidence == "high" and not Decision.of(strong).abstain
    assert Decision.of(weak).abstain and Decision.of(weak).confidence == "none"
    # Between the two cut-offs lies the weak match: answered, labelled low.
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        p = fitted.probability(weak + middle * (strong - weak))
        if p < (fitted.abstain_p + fitted.confident_p) / 2:
            low = middle
        else:
            high = middle
    between = Decision.of(weak + high * (strong - weak))
    assert not between.abstain and between.confidence == "low"


@pytest.mark.parametrize(
    ("question", "text", "missing"),
    [
        ("How many stores does it have?", "It opened stores in Paris and Rome.", 1.0),
        ("How many stores does it have?", "It has 40 stores.", 0.0),
        ("When did it open?", "It opened in spring of two thousand.", 0.0),
        ("它有多少家店？", "它在巴黎和罗马开了店。", 1.0),
        ("它有多少家店？", "它有四十家店。", 0.0),
        ("佢幾時開張？", "佢喺巴黎開張。", 1.0),
        ("Why did it close?", "It closed for lack of money.", 0.0),
    ],
)
def test_a_question_asking_for_a_figure_notes_a_passage_without_any(question, text, missing):
    assert answer_type_missing(question, text) == missing


def test_everyday_words_the_corpus_lacks_do_not_sink_a_casual_question(engine):
    plain = engine.ask("Sora 首日留存率")
    casual = engine.ask("lol so whats the deal with sora 首日留存率 guys")
    assert not plain.abstained and not casual.abstained
    assert casual.results[0].passage.pid == plain.results[0].passage.pid


def test_a_question_about_a_name_the_corpus_lacks_abstains(engine):
    assert engine.ask("What did Zorblax Quantum announce about its fusion reactor?").abstained


def test_suggestions_never_offer_the_subjects_the_question_asked_about(engine):
    query = engine.analyze("Did Nano Banana win a Grammy for Gemini?")
    ranked, _ranking, _coverage, _raw = engine._rank(query, ())
    suggestions = engine.suggest(ranked[:10], avoid=query)
    assert suggestions and not {"Nano Banana", "Gemini"} & set(suggestions)
    assert all(engine.glossary.lookup(s) for s in suggestions)
