"""The timeline: events from the seeds and from small corpora written here — order, merging, conflicts, topic
filtering through glossary aliases, date ranges, empty results, autocomplete, and the JSON / text renderings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from index.dates import PRECISION_RANK, DateBoundError
from index.engine import Engine
from index.errors import QuestionError
from index.timeline import (
    CHOICE_NAME_LIMIT,
    Timeline,
    TimelineIndex,
    build_index,
    events_on,
    format_text,
    timeline,
    timeline_from_text,
    to_json,
)

ALTMAN = ("Altman", "奥特曼", "奧特曼", "奥尔特曼", "奧爾特曼", "阿尔特曼")
GLOSSARY = """
[[entry]]
id = "acme"
canonical = "Acme"
kind = "org"
aliases = ["Acme", "艾克米"]

[[entry]]
id = "rocket-9"
canonical = "Rocket 9"
kind = "product"
aliases = ["Rocket 9", "火箭9号", "火箭9號"]

[[entry]]
id = "rocket-10"
canonical = "Rocket 10"
kind = "product"
aliases = ["Rocket 10", "火箭10号"]

[[entry]]
id = "widget"
canonical = "Widget"
kind = "product"
aliases = ["Widget"]

[[entry]]
id = "jane-roe"
canonical = "Jane Roe"
kind = "person"
aliases = ["Jane Roe", "罗简"]
"""


def corpus(tmp_path: Path, documents: dict[str, tuple[str, str]], glossary: str = GLOSSARY) -> Engine:
    """An engine over documents {file name: (publication date, text)} with the glossary above."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    catalog = []
    for number, (name, (published, text)) in enumerate(documents.items(), 1):
        (folder / name).write_text(text, encoding="utf-8")
        catalog.append(f'["{name}"]\ntitle = "Story {number}"\nsource = "Agency {number}"\ndate = "{published}"\n')
    (folder / "catalog.toml").write_text("\n".join(catalog), encoding="utf-8")
    if glossary:
        (folder / "glossary.toml").write_text(glossary, encoding="utf-8")
    return Engine.open(folder)


@pytest.fixture(scope="module")
def index(engine: Engine) -> TimelineIndex:
    return build_index(engine)


# -- the seeds ---------------------------------------------------------------------------------------------


def test_events_are_chronological_ties_by_precision_then_source(engine: Engine, index: TimelineIndex) -> None:
    events = timeline(engine, index=index).events
    assert len(events) >= 30
    keys = [(e.date.start, PRECISION_RANK[e.precision], e.reports[0].citation.date, e.doc_id) for e in events]
    assert keys == sorted(keys)
    assert events[0].date.start.year < 2020 and events[-1].date.start.year >= 2030


def test_every_event_quotes_its_passage_verbatim(engine: Engine, index: TimelineIndex) -> None:
    for event in index.events:
        for report in event.reports:
            passage = engine.passages[report.passage]
            assert report.text in passage.text
            assert report.expression in report.text
            assert report.citation.doc_id == passage.doc_id and report.citation.paragraph == passage.paragraph
        assert (event.text, event.doc_id, event.passage) == (
            event.reports[0].text,
            event.reports[0].doc_id,
            event.reports[0].passage,
        )


def test_anchors_and_reference_metadata_are_not_events(index: TimelineIndex) -> None:
    expressions = {report.expression for event in index.events for report in event.reports}
    texts = {event.text for event in index.events}
    assert "December 9, 2025" not in expressions  # The Atlantic's dateline
    assert "12月16日" not in expressions  # 今天是12月16日: the podcast's "today"
    assert not any(text.startswith("2025-12-15") for text in texts)  # a header line that is only a date
    assert not any(e.text.startswith("今天") or "别忘了明天" in e.text for e in index.events)  # generic "today"


def test_relative_dates_use_the_dateline_of_their_part_of_the_document(index: TimelineIndex) -> None:
    # Goose Pod (published 2025-12-16) reproduces The Atlantic of December 9: "last week" is the week of Dec 1.
    reports = [r for e in index.events for r in e.reports if r.expression == "Last week"]
    assert [r.date.iso for r in reports] == ["2025-12-01/2025-12-07"]


def test_the_same_event_in_two_languages_is_one_event_with_both_citations(index: TimelineIndex) -> None:
    gemini = next(e for e in index.events if e.date.iso == "2025-11-18")
    assert {r.expression for r in gemini.reports} >= {"11 月 18 日", "mid-November"}
    assert len({c.doc_id for c in gemini.citations}) == 2
    assert not gemini.conflict and gemini.precision == "day"  # the most precise report gives the date
    memo = next(e for e in index.events if e.date.iso == "2025-12-01")
    assert {r.expression for r in memo.reports} >= {"12 月 1 日", "Last week"}


def test_different_events_of_one_sentence_stay_apart(index: TimelineIndex) -> None:
    sentence = next(e.text for e in index.events if "10 月份" in e.text)
    same = [e for e in index.events if e.text == sentence]
    assert sorted(e.date.iso for e in same) == ["2025-03", "2025-10"]
    assert not any(e.conflict for e in index.events)  # the seeds agree with each other


def test_topic_in_english_finds_events_written_only_in_chinese(engine: Engine, index: TimelineIndex) -> None:
    english = timeline(engine, "Altman", index=index)
    chinese = timeline(engine, "奧爾特曼", index=index)
    assert english.events and [e.text for e in english.events] == [e.text for e in chinese.events]
    for event in english.events:
        assert any(any(alias in r.text for alias in ALTMAN) for r in event.reports)
    assert any(not any(alias in r.text for alias in ("Altman",)) for r in english.events[0].reports)
    assert len(english.events) < len(index.events)


def test_topic_of_several_words_uses_bm25_coverage(engine: Engine, index: TimelineIndex) -> None:
    users = timeline(engine, "Gemini users", index=index)
    assert users.events
    assert all("Gemini" in r.text for e in users.events for r in e.reports[:1])
    assert not timeline(engine, "Zorblax quantum toaster", index=index).events


def test_date_range_keeps_events_inside_it(engine: Engine, index: TimelineIndex) -> None:
    december = timeline(engine, start=date(2025, 12, 1), end=date(2025, 12, 31), index=index)
    assert december.events
    for event in december.events:
        assert any(date(2025, 12, 1) <= r.date.start and r.date.end <= date(2025, 12, 31) for r in event.reports)
    everything = timeline(engine, index=index)
    assert len(december.events) < len(everything.events)
    text = timeline_from_text(engine, "Gemini", "2025-11", "2025-11", index=index)
    assert [e.date.iso[:7] for e in text.events] and all(e.date.iso.startswith("2025-11") for e in text.events)


@pytest.mark.parametrize(("start", "end"), [("2025-13-45", None), (None, "soon"), ("2025-12", "2025-01")])
def test_bad_range_values_are_refused_clearly(engine: Engine, index: TimelineIndex, start, end) -> None:
    with pytest.raises(DateBoundError) as caught:
        timeline_from_text(engine, None, start, end, index=index)
    assert "YYYY" in str(caught.value) or "month 13" in str(caught.value) or "after" in str(caught.value)


def test_empty_results_say_why_and_suggest_topics(engine: Engine, index: TimelineIndex) -> None:
    unknown = timeline(engine, "Zorblax", index=index)
    assert unknown.empty and "No dated events about “Zorblax”" in unknown.message
    assert unknown.suggestions and all(timeline(engine, s, index=index).events for s in unknown.suggestions)
    too_late = timeline(engine, "Altman", start=date(2040, 1, 1), index=index)
    assert too_late.empty and "at other dates" in too_late.message and "run from" in too_late.message
    nothing = timeline(engine, start=date(1990, 1, 1), end=date(1990, 12, 31), index=index)
    assert "between 1990-01-01 and 1990-12-31" in nothing.message
    text = format_text(unknown)
    assert "0 events" in text and "Try: " in text
    with pytest.raises(QuestionError):
        timeline(engine, "the", index=index)


def test_json_has_the_documented_shape(engine: Engine, index: TimelineIndex) -> None:
    result = timeline(engine, "Gemini 3", index=index)
    data = json.loads(json.dumps(to_json(result), ensure_ascii=False))
    assert set(data) == {"topic", "events"} and data["topic"] == "Gemini 3"
    assert data["events"]
    for item, event in zip(data["events"], result.events, strict=True):
        assert set(item) == {"date", "precision", "text", "doc_id", "passage", "citations", "conflict"}
        assert (
            item["date"] == event.date.iso
            and item["text"]
            == engine.passages[item["passage"]].text[engine.passages[item["passage"]].text.index(item["text"]) :][
                : len(item["text"])
            ]
        )
        assert item["citations"] and all(c["event_date"] and c["paragraph"] >= 1 for c in item["citations"])
        assert item["citations"][0]["text"] == item["text"]
    assert to_json(timeline(engine, index=index))["topic"] is None


def test_text_is_numbered_with_a_citation_per_event(engine: Engine, index: TimelineIndex) -> None:
    result = timeline(engine, "Altman", index=index)
    text = format_text(result)
    assert text.startswith(f"Timeline: Altman — {len(result.events)} events")
    for number, event in enumerate(result.events, 1):
        assert f"[{number}] " in text and event.text in text
        assert event.reports[0].citation.label() in text


def test_autocomplete_choices(index: TimelineIndex) -> None:
    everything = index.complete("")
    assert len(everything) == 25
    assert all(len(label) <= CHOICE_NAME_LIMIT and len(value) <= CHOICE_NAME_LIMIT for label, value in everything)
    counts = [c.events for c in index.choices]
    assert counts[: len(everything)] == sorted(counts[: len(everything)], reverse=True)
    assert index.complete("奥特")[0][1] == "Sam Altman"
    assert index.complete("gem")[0][1] == "Gemini"
    assert index.complete("谷")[0][1] == "Google"
    assert index.complete("no such topic at all") == []


def test_events_on_a_day_for_the_digest(index: TimelineIndex) -> None:
    on_this_day = events_on(index, date(2026, 11, 30))
    assert ("2022-11-30", next(e.text for e in index.events if e.date.iso == "2022-11-30")) in [
        (when, text) for when, text, _ in on_this_day
    ]
    assert all(citation.paragraph >= 1 for _, _, citation in on_this_day)


def test_index_is_rebuilt_for_another_corpus_version(engine: Engine, index: TimelineIndex, tmp_path: Path) -> None:
    other = corpus(tmp_path, {"a.txt": ("2025-06-01", "Acme news\n\nAcme released Rocket 9 on May 20, 2025.\n")})
    result = timeline(other, index=index)  # the seeds' index is stale for this engine: built anew
    assert [e.date.iso for e in result.events] == ["2025-05-20"]


# -- small corpora -----------------------------------------------------------------------------------------


def test_reports_of_one_event_merge_across_languages_and_precisions(tmp_path: Path) -> None:
    engine = corpus(
        tmp_path,
        {
            "a.txt": ("2025-12-12", "Acme news\n\nAcme launched Rocket 9 on December 9, 2025, after delays.\n"),
            "b.txt": ("2025-12-13", "艾克米新闻\n\n艾克米于 12 月 9 日发布了火箭9号。\n"),
            "c.txt": ("2025-12-20", "Monthly review\n\nIn December, Acme released Rocket 9 to the public.\n"),
        },
    )
    [event] = timeline(engine).events
    assert event.date.iso == "2025-12-09" and event.precision == "day" and not event.conflict
    assert {c.source for c in event.citations} == {"Agency 1", "Agency 2", "Agency 3"}
    assert {r.date.iso for r in event.reports} == {"2025-12-09", "2025-12"}
    data = to_json(timeline(engine, "火箭9号"))
    assert len(data["events"]) == 1 and len(data["events"][0]["citations"]) == 3


def test_disagreeing_sources_are_one_event_marked_as_a_conflict(tmp_path: Path) -> None:
    engine = corpus(
        tmp_path,
        {
            "a.txt": ("2025-12-12", "Acme news\n\nAcme released Rocket 9 on December 9, 2025.\n"),
            "b.txt": ("2025-12-13", "艾克米新闻\n\n艾克米于 2025 年 12 月 11 日发布了火箭9号。\n"),
        },
    )
    result = timeline(engine, "Rocket 9")
    [event] = result.events
    assert event.conflict
    assert [d.iso for d in event.dates] == ["2025-12-09", "2025-12-11"]
    assert {c.source for c in event.citations} == {"Agency 1", "Agency 2"}
    text = format_text(result)
    assert "sources disagree on the date: 2025-12-09 vs 2025-12-11" in text
    assert "Story 1" in text and "Story 2" in text
    data = to_json(result)["events"][0]
    assert data["conflict"] is True and [c["event_date"] for c in data["citations"]] == ["2025-12-09", "2025-12-11"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """One corpus for several cases, each in its own years so that they cannot interact."""
    products = "Acme released Rocket 9 on December 9, 2025. Revenue reached $2 billion in March 2025."
    others = "Acme released Rocket 10 on December 11, 2025. Revenue reached $3 billion in March 2025."
    return corpus(
        tmp_path_factory.mktemp("mixed"),
        {
            "products.txt": ("2025-12-12", f"Acme news\n\n{products}\n"),
            "others.txt": ("2025-12-13", f"Acme digest\n\n{others}\n"),
            "itself.txt": (
                "2027-07-01",
                "Acme history\n\nAcme released Widget on June 9, 2027.\n\n"
                "A year earlier, Acme released Widget in beta on June 9, 2026.\n",
            ),
            "ties-a.txt": ("2031-12-20", "People\n\nIn December 2031, Jane Roe joined Acme.\n"),
            "ties-b.txt": ("2031-12-20", "Weather\n\nOn December 1, 2031, a storm hit the coast.\n"),
            "ties-c.txt": ("2031-12-20", "Year review\n\nIn 2031 the market doubled.\n"),
        },
    )


def test_different_products_or_figures_are_different_events(mixed: Engine) -> None:
    events = timeline(mixed, start=date(2025, 1, 1), end=date(2025, 12, 31)).events
    assert [e.date.iso for e in events] == ["2025-03", "2025-03", "2025-12-09", "2025-12-11"]
    assert not any(e.conflict for e in events) and all(len(e.reports) == 1 for e in events)


def test_one_document_never_conflicts_with_itself(mixed: Engine) -> None:
    events = timeline(mixed, start=date(2026, 1, 1), end=date(2027, 12, 31)).events
    assert [e.date.iso for e in events] == ["2026-06-09", "2027-06-09"] and not any(e.conflict for e in events)


def test_same_start_day_sorts_the_more_precise_first(mixed: Engine) -> None:
    assert [(e.date.iso, e.precision) for e in timeline(mixed, start=date(2031, 1, 1)).events] == [
        ("2031", "year"),
        ("2031-12-01", "day"),
        ("2031-12", "month"),
    ]


def test_documents_without_a_date_keep_only_absolute_dates(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Undated note\n\nLast week Acme hired Jane Roe. Acme was founded in 2019.\n", encoding="utf-8"
    )
    engine = Engine.open(folder)
    assert engine.documents["a"].date == ""
    assert [e.date.iso for e in timeline(engine).events] == ["2019"]


def test_a_corpus_without_glossary_offers_its_frequent_words(tmp_path: Path) -> None:
    engine = corpus(
        tmp_path,
        {
            "a.txt": ("2025-12-12", "Notes\n\nOn December 1, 2025, Zeta Corp opened a lab. Zeta Corp hired in May.\n"),
            "b.txt": ("2025-12-13", "More notes\n\nZeta Corp closed the lab on December 10, 2025.\n"),
        },
        glossary="",
    )
    index = build_index(engine)
    assert index.choices and index.choices[0].name in ("Zeta", "Corp")
    assert len(timeline(engine, "Zeta", index=index).events) == 3


def test_result_is_a_frozen_dataclass(engine: Engine, index: TimelineIndex) -> None:
    result = timeline(engine, "Sora", index=index)
    assert isinstance(result, Timeline)
    with pytest.raises(AttributeError):
        result.topic = "x"  # type: ignore[misc]
    assert result.elapsed_ms < 500
