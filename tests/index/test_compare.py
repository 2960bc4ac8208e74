"""/compare in the engine: subjects by any alias or by their own words, "both" routing, aspects, one subject
across sources, missing subjects, JSON and text output. On the seeds and on small corpora made here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.compare import (
    compare,
    figure_spans,
    resolve_subject,
    split_versus,
    subject_catalog,
)
from index.compare_output import format_text, to_json
from index.engine import Engine
from index.errors import UserFacingError
from index.normalize import fold

ALL = 1000  # k large enough for every result of a section


def _names(engine: Engine, text: str) -> set[str]:
    return {m.entry.id for m in engine.glossary.find(text)}


def _pids(results) -> list[int]:
    return [r.passage.pid for r in results]


def _mentioning(engine: Engine, entry_id: str) -> set[int]:
    return {p.pid for p in engine.passages if entry_id in _names(engine, p.text)}


def make_corpus(root: Path, documents: dict[str, str], glossary: str = "", catalog: str = "") -> Engine:
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in documents.items():
        (corpus / name).write_text(text, encoding="utf-8")
    if glossary:
        (corpus / "glossary.toml").write_text(glossary, encoding="utf-8")
    if catalog:
        (corpus / "catalog.toml").write_text(catalog, encoding="utf-8")
    return Engine.open(corpus, root / "data")


# -- subjects ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Sam Altman", "altman", "奥特曼", "奧特曼", "阿尔特曼"])
def test_a_glossary_subject_is_the_same_whatever_alias_or_script_is_typed(engine, typed):
    subject = resolve_subject(engine, typed)
    assert subject.entity is not None and subject.entity.id == "sam-altman" and subject.name == "Sam Altman"
    comparison = compare(engine, typed, k=ALL)
    assert comparison.a.mentions == len(_mentioning(engine, "sam-altman"))


def test_a_side_gathers_passages_in_every_script_and_language(engine):
    comparison = compare(engine, "Altman", "Google", k=ALL)
    texts = [r.passage.text for r in comparison.a.results]
    # Passages naming Altman in English, simplified and traditional Chinese all reach the "Altman" side.
    assert any("Altman" in t for t in texts)
    assert any("奥特曼" in t for t in texts)
    assert any("奧特曼" in t or "奧爾特曼" in t for t in texts)
    for result in comparison.a.results:
        assert "sam-altman" in _names(engine, result.passage.text)


def test_every_excerpt_marks_the_subject_in_the_script_of_the_passage(engine):
    comparison = compare(engine, "谷歌", "OpenAI", k=ALL)
    for result in comparison.a.results:
        marked = [text for text, hit in result.excerpt.segments if hit]
        assert any(engine.glossary.lookup(text) and engine.glossary.lookup(text).id == "google" for text in marked)
        assert result.excerpt.plain.strip("…") in result.passage.text


def test_a_subject_outside_the_glossary_matches_its_own_words_only(tmp_path):
    engine = make_corpus(
        tmp_path,
        {
            "a.txt": "Zephyr Labs raised 40 million dollars in March.\n\nThe labs at Zephyr Point were closed.\n\n"
            "Zephyr Labs 在北京开设了新的星火计划办公室。\n\nNobody mentioned the weather.\n",
            "b.txt": "星火計劃 的預算為 3 億元。\n\nA zephyr blew through the labs.\n",
        },
    )
    phrase = compare(engine, "Zephyr Labs", k=ALL)
    texts = sorted(r.passage.text for r in phrase.a.results)
    assert texts == ["Zephyr Labs raised 40 million dollars in March.", "Zephyr Labs 在北京开设了新的星火计划办公室。"]
    # A Chinese name the glossary lacks, typed in simplified script, meets its traditional spelling too.
    han = compare(engine, "星火计划", k=ALL)
    assert sorted(r.passage.text for r in han.a.results) == sorted(
        ["Zephyr Labs 在北京开设了新的星火计划办公室。", "星火計劃 的預算為 3 億元。"]
    )


def test_a_name_next_to_a_glossary_name_must_be_written_next_to_it(engine):
    # Passages say "Gemini" and, elsewhere, "4"; none says "Gemini 4": the side stays empty, it is not filled
    # with passages about Gemini.
    assert any("Gemini" in p.text and re.search(r"(?<![\d.])4(?![\d.])", p.text) for p in engine.passages)
    comparison = compare(engine, "Gemini 4", "OpenAI")
    assert comparison.missing == ("a",) and comparison.a.results == () and comparison.both == ()


def test_a_phrase_may_write_its_glossary_part_in_another_language(tmp_path):
    glossary = '[[entry]]\nid = "acme"\ncanonical = "Acme"\nkind = "org"\naliases = ["Acme", "艾克米"]\n'
    engine = make_corpus(
        tmp_path,
        {"a.txt": "艾克米 Rocket 的销量翻了一倍。\n\nAcme Rocket sales doubled.\n\nAcme sold a rocket.\n"},
        glossary,
    )
    comparison = compare(engine, "Acme Rocket", k=ALL)
    assert sorted(r.passage.text for r in comparison.a.results) == [
        "Acme Rocket sales doubled.",
        "艾克米 Rocket 的销量翻了一倍。",
    ]


def test_version_names_do_not_match_longer_versions(engine):
    # GPT-5 is not mentioned by "GPT-5.2" (the glossary's rule, kept for phrase subjects too).
    comparison = compare(engine, "GPT-5", k=ALL)
    for result in comparison.a.results:
        assert re.search(r"GPT-?5(?![.\d])", result.passage.text, re.I)


# -- two sides and "both" ----------------------------------------------------------------------------------


def test_passages_naming_both_subjects_go_to_both_and_appear_once(engine):
    comparison = compare(engine, "OpenAI", "Google", k=ALL)
    a, b, both = _pids(comparison.a.results), _pids(comparison.b.results), _pids(comparison.both)
    assert a and b and both
    for pid in a:
        assert "openai" in _names(engine, engine.passages[pid].text)
        assert "google" not in _names(engine, engine.passages[pid].text)
    for pid in b:
        assert "google" in _names(engine, engine.passages[pid].text)
        assert "openai" not in _names(engine, engine.passages[pid].text)
    for pid in both:
        assert {"openai", "google"} <= _names(engine, engine.passages[pid].text)
    assert len(set(a) | set(b) | set(both)) == len(a) + len(b) + len(both)
    # Grouped results carry every location they stand for: every passage naming Google is cited once somewhere.
    cited = {(c.doc_id, c.paragraph) for r in (*comparison.b.results, *comparison.both) for c in r.citations}
    for pid in _mentioning(engine, "google"):
        passage = engine.passages[pid]
        assert (passage.doc_id, passage.paragraph) in cited


def test_a_name_written_only_inside_the_other_name_does_not_count(tmp_path):
    glossary = (
        '[[entry]]\nid = "gemini"\ncanonical = "Gemini"\nkind = "product"\naliases = ["Gemini"]\n\n'
        '[[entry]]\nid = "gemini-3"\ncanonical = "Gemini 3"\nkind = "product"\naliases = ["Gemini 3", "双子座 3"]\n'
    )
    engine = make_corpus(
        tmp_path,
        {
            "a.txt": "Gemini 3 launched on 18 November.\n\nGemini had 650 million users.\n\n"
            "Gemini grew fast, and Gemini 3 topped the charts.\n\n双子座 3 发布了。\n"
        },
        glossary,
    )
    comparison = compare(engine, "Gemini", "Gemini 3", k=ALL)
    assert [r.passage.text for r in comparison.a.results] == ["Gemini had 650 million users."]
    assert sorted(r.passage.text for r in comparison.b.results) == [
        "Gemini 3 launched on 18 November.",
        "双子座 3 发布了。",
    ]
    assert [r.passage.text for r in comparison.both] == ["Gemini grew fast, and Gemini 3 topped the charts."]


def test_the_same_subject_twice_is_refused(engine):
    with pytest.raises(UserFacingError, match="same subject"):
        compare(engine, "Google", "谷歌")


def test_versus_in_one_subject_is_split():
    assert split_versus("OpenAI vs Google", None) == ("OpenAI", "Google")
    assert split_versus("Sora VS. Nano Banana", "") == ("Sora", "Nano Banana")
    assert split_versus("OpenAI vs Google", "Sora") == ("OpenAI vs Google", "Sora")
    assert split_versus("Versus", None) == ("Versus", None)


# -- aspect ------------------------------------------------------------------------------------------------


def _on_compute(engine: Engine, text: str) -> bool:
    return "compute" in _names(engine, text) or "算力" in fold(text)


def test_aspect_keeps_only_passages_about_it(engine):
    plain = compare(engine, "OpenAI", "Google", k=ALL)
    focused = compare(engine, "OpenAI", "Google", "算力", k=ALL)
    sections = (focused.a.results, focused.b.results, focused.both)
    assert sum(len(s) for s in sections) > 0
    for results in sections:
        for result in results:
            assert _on_compute(engine, result.passage.text), result.passage.text
            assert result.coverage >= 0.5
    assert focused.a.total < plain.a.total
    # The subjects' own mention counts do not depend on the aspect.
    assert (focused.a.mentions, focused.b.mentions) == (plain.a.mentions, plain.b.mentions)


def test_aspect_in_english_reaches_chinese_passages(engine):
    comparison = compare(engine, "OpenAI", "Google", "compute", k=ALL)
    texts = [r.passage.text for r in (*comparison.a.results, *comparison.both)]
    assert any("算力" in fold(t) for t in texts)


def test_an_aspect_no_passage_covers_leaves_the_sides_empty_and_says_so(engine):
    comparison = compare(engine, "OpenAI", "Google", "sourdough bread")
    assert comparison.missing == () and comparison.empty
    assert (comparison.a.results, comparison.b.results, comparison.both) == ((), (), ())
    assert "sourdough bread" in comparison.message() and "OpenAI" in comparison.message()


def test_an_aspect_without_words_is_refused(engine):
    with pytest.raises(UserFacingError, match="aspect"):
        compare(engine, "OpenAI", "Google", "的")


# -- one subject across sources ----------------------------------------------------------------------------


def test_one_subject_shows_the_best_passage_of_each_document_oldest_first(engine):
    comparison = compare(engine, "Gemini")
    mentioning = _mentioning(engine, "gemini")
    docs_with = {engine.passages[pid].doc_id for pid in mentioning}
    rows = comparison.by_source
    assert {row.document.doc_id for row in rows} == docs_with and comparison.sources_total == len(docs_with)
    assert {d.doc_id for d in comparison.silent} == set(engine.documents) - docs_with
    dates = [row.document.date for row in rows]
    assert dates == sorted(dates)
    for rank, row in enumerate(rows, 1):
        assert row.result.rank == rank
        assert row.result.passage.doc_id == row.document.doc_id
        assert "gemini" in _names(engine, row.result.passage.text)
        assert row.mentions == sum(1 for pid in mentioning if engine.passages[pid].doc_id == row.document.doc_id)
        assert row.result.citation.date == row.document.date and row.result.citation.title == row.document.title


def test_one_subject_with_an_aspect_and_source_paging(engine):
    first = compare(engine, "OpenAI", None, "算力", source_k=2)
    second = compare(engine, "OpenAI", None, "算力", source_k=2, source_offset=2)
    assert len(first.by_source) == 2 and first.sources_total >= 3
    assert [r.result.rank for r in second.by_source][:1] == [3]
    seen = [r.document.doc_id for r in (*first.by_source, *second.by_source)]
    assert len(seen) == len(set(seen))
    for row in (*first.by_source, *second.by_source):
        assert _on_compute(engine, row.result.passage.text)


def test_sources_can_disagree_and_each_keeps_its_own_words(tmp_path):
    engine = make_corpus(
        tmp_path,
        {
            "one.txt": "Orbit Corp said revenue grew 20% in 2024.\n",
            "two.txt": "Analysts believe Orbit Corp revenue fell 5% in 2024.\n",
            "three.txt": "The weather was fine.\n",
        },
        catalog='["one.txt"]\ntitle = "First"\ndate = "2025-01-02"\n\n["two.txt"]\ntitle = "Second"\n'
        'date = "2025-01-01"\n\n["three.txt"]\ntitle = "Third"\ndate = "2025-01-03"\n',
    )
    comparison = compare(engine, "Orbit Corp", None, "revenue")
    assert [row.document.title for row in comparison.by_source] == ["Second", "First"]
    assert ["5%" in row.result.passage.text for row in comparison.by_source] == [True, False]
    assert [d.title for d in comparison.silent] == ["Third"]


# -- missing subjects --------------------------------------------------------------------------------------


def test_a_missing_subject_is_named_with_suggestions(engine):
    comparison = compare(engine, "OpenAI", "Claude Opus 5")
    assert comparison.missing == ("b",) and comparison.empty
    assert comparison.b.results == () and comparison.both == ()
    message = comparison.message()
    assert "“Claude Opus 5” (b)" in message and "not mentioned" in message
    assert "Claude Opus 4.5" in comparison.suggestions and "OpenAI" not in comparison.suggestions
    assert all(engine.glossary.lookup(s) for s in comparison.suggestions)


def test_a_misspelt_subject_suggests_the_right_spelling_first(engine):
    comparison = compare(engine, "Gemni")
    assert comparison.missing == ("a",)
    assert comparison.suggestions[0] == "Gemini"


def test_both_sides_missing_are_both_named(engine):
    comparison = compare(engine, "Tesla", "周杰伦")
    assert comparison.missing == ("a", "b")
    assert "“Tesla” and “周杰伦” (a and b) are not mentioned" in comparison.message()


def test_a_glossary_entry_the_corpus_never_mentions_is_missing(tmp_path):
    glossary = '[[entry]]\nid = "bard"\ncanonical = "Bard"\nkind = "product"\naliases = ["Bard"]\n'
    engine = make_corpus(tmp_path, {"a.txt": "Gemini is a chatbot.\n"}, glossary)
    comparison = compare(engine, "Bard")
    assert comparison.missing == ("a",) and comparison.by_source == ()


@pytest.mark.parametrize(
    ("a", "b", "match"), [("", None, "empty"), ("x" * 101, None, "characters"), ("的", None, "no words")]
)
def test_bad_subjects_get_clear_messages(engine, a, b, match):
    with pytest.raises(UserFacingError, match=match):
        compare(engine, a, b)


# -- output ------------------------------------------------------------------------------------------------


def test_json_results_have_the_shape_of_ask_results(engine):
    from cli.output import answer_to_json

    ask_keys = set(answer_to_json(engine.ask("Gemini 3", k=1))["results"][0])
    comparison = compare(engine, "GPT-5.2", "Gemini 3", k=2)
    data = json.loads(json.dumps(to_json(comparison), ensure_ascii=False))
    assert {"a", "b", "both", "by_source"} <= set(data)
    assert data["a"]["subject"] == "GPT-5.2" and data["b"]["subject"] == "Gemini 3"
    for result in (*data["a"]["results"], *data["b"]["results"], *data["both"]):
        assert set(result) == ask_keys
        assert result["text"] == engine.passages[result["passage"]].text
    assert data["by_source"] == [] and data["missing"] == []
    one = to_json(compare(engine, "Sora"))
    assert one["b"] is None and one["by_source"] and set(one["by_source"][0]) == ask_keys | {"mentions"}


def test_text_output_is_numbered_and_cited(engine):
    text = format_text(compare(engine, "Sora", "Nano Banana", k=2))
    assert "Sora vs Nano Banana" in text
    for label in ("[a1]", "[a2]", "[b1]", "[ab1]"):
        assert label in text
    assert text.count("    — ") >= 5 and "¶ " in text
    across = format_text(compare(engine, "Sora"))
    assert "How the sources cover Sora" in across and "[1]" in across and "No passage mentioning it in:" in across
    assert "not mentioned" in format_text(compare(engine, "Tesla"))


# -- figures -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        (
            "今年 3 月,Gemini 的月活用戶尚只有 3.5 億,10 月份已經躍升至 6.5 億。",
            ["3 月", "3.5 億", "10 月份", "6.5 億"],
        ),
        (
            "OpenAI committed $1.4 trillion; daily users fell 6% on December 9, 2025.",
            ["$1.4 trillion", "6%", "December 9, 2025"],
        ),
        ("GPT-5.2 beat GPT-4o and Gemini 3 and Claude Opus 4.5 in Q1 for Norris1.", []),
        (
            "In 2025 it had 800 million weekly users, 2025-12-02 and 12 月 1 日.",
            ["2025", "800 million", "2025-12-02", "12 月 1 日"],
        ),
        ("奥特曼的 8300 亿「空城计」,营收 130 亿美元。", ["8300 亿", "130 亿美元"]),
    ],
)
def test_figures_are_found_and_names_are_not(text, figures):
    assert [text[s:e] for s, e in figure_spans(text)] == figures


# -- autocomplete catalog ----------------------------------------------------------------------------------


def test_catalog_completes_in_any_script_from_precomputed_entities(engine):
    catalog = subject_catalog(engine)
    assert catalog.version == engine.version
    assert len(catalog.complete("")) == 25
    assert catalog.complete("")[0][1] == "OpenAI"  # most mentioned first
    assert catalog.complete("谷")[0] == ("Google · 谷歌", "Google")
    assert catalog.complete("奧特")[0][1] == "Sam Altman"  # traditional script, folded
    assert catalog.complete("altm")[0] == ("Sam Altman · Altman", "Sam Altman")
    assert catalog.complete("gemini 3")[0] == ("Gemini 3", "Gemini 3")
    terms = catalog.complete("算", kinds=("term",))
    assert ("Compute · 算力", "Compute") in terms
    for label, value in catalog.complete("a"):
        assert 1 <= len(label) <= 100 and 1 <= len(value) <= 100
        assert engine.glossary.lookup(value)
    assert catalog.complete("zzzz") == []
    # Only entities the corpus mentions are offered.
    assert all(engine.bm25.df(engine.glossary.lookup(v).term) for _, v in catalog.complete("", limit=500))


def test_a_passage_that_says_something_ranks_above_a_bare_mention(tmp_path):
    engine = make_corpus(
        tmp_path,
        {
            "a.txt": "Robots weekly.\n\nVela Robotics said little.\n\n"
            "Vela Robotics shipped 12,000 warehouse robots last year, twice as many as the year before, and its "
            "chief executive said the company would open two factories in Ohio and hire 800 engineers by spring.\n"
        },
    )
    results = compare(engine, "Vela Robotics", k=ALL).a.results
    assert [r.passage.text[:20] for r in results] == ["Vela Robotics shippe", "Vela Robotics said l"]


def test_text_output_says_why_a_column_is_empty(engine):
    text = format_text(compare(engine, "OpenAI", "Google", "算力", k=1))
    if not compare(engine, "OpenAI", "Google", "算力").b.total:
        assert "(no passage without OpenAI is about “算力”)" in text
    assert "== Both OpenAI and Google" in text
