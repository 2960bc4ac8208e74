"""/timeline end to end: the real FootnoteBot with cogs.timeline against the Discord twin, a real SQLite store, the
seeds engine (and a small corpus written for conflicts). Every twin test ends with twin.violations == []."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from client import FootnoteBot
from cogs.render import EMBEDS_TOTAL_LIMIT
from cogs.timeline import PAGE_SIZE, pages_of, timeline_embed
from index.dates import ResolvedDate
from index.engine import Citation, Engine
from index.timeline import EventReport, Timeline, TimelineEvent, timeline
from store import Store

from .footnote_helpers import assert_no_pings, custom_ids, settings_for, start
from .twin import MESSAGE_FLAG_EPHEMERAL, embed_total_length, make_user

EXTENSIONS = ("cogs.timeline",)
PAGE_ID = re.compile(r"^fn:pg:timeline:\d+:(prev|next):\d+$")
EVENT_HEAD = re.compile(r"^\*\*(\d+)\. (?:\\?~)?([0-9/\- Q]+)\*\* · (day|month|quarter|year|approximate)", re.M)


async def run_timeline(twin, options: dict[str, Any] | None = None, **who: Any) -> tuple[str, dict[str, Any]]:
    interaction_id = await twin.slash_command("timeline", options or {}, **who)
    responses = await twin.wait_for_responses(interaction_id, 2)
    assert responses[0].callback_type == 5, "the bot must defer first"
    assert twin.ack_latency(interaction_id) < 3
    return interaction_id, twin.message(twin.interaction(interaction_id).original_message_id or "")


def assert_within_limits(embed: dict[str, Any]) -> None:
    assert len(embed.get("title", "")) <= 256 and len(embed.get("description", "")) <= 4096
    assert len(embed.get("footer", {}).get("text", "")) <= 2048
    assert embed_total_length([embed]) <= EMBEDS_TOTAL_LIMIT


def heads(embed: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(int(n), when, precision) for n, when, precision in EVENT_HEAD.findall(embed["description"])]


@pytest.mark.asyncio
async def test_whole_timeline_pages_in_order_with_citations(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    assert {c["name"] for c in twin.commands(twin.guild["id"])} >= {"timeline"}
    expected = timeline(engine)

    _, message = await run_timeline(twin)

    [embed] = message["embeds"]
    assert embed["title"] == "Timeline of the corpus"
    assert f"{len(expected.events)} dated events" in embed["description"]
    first = heads(embed)
    assert [n for n, _, _ in first] == list(range(1, PAGE_SIZE + 1))
    assert first[0][1].startswith(expected.events[0].date.iso[:4])
    assert embed["description"].count("¶ ") >= PAGE_SIZE  # every event is cited
    assert "page 1/" in embed["footer"]["text"] and engine.version in embed["footer"]["text"]
    ids = custom_ids(message)
    assert len(ids) == 2 and all(PAGE_ID.match(i) for i in ids)
    assert_within_limits(embed)

    turn = await twin.click(message["id"], next(i for i in ids if ":next:" in i))
    await twin.wait_for_responses(turn, 2)
    second = twin.message(message["id"])
    numbers = [n for n, _, _ in heads(second["embeds"][0])]
    assert numbers == list(range(PAGE_SIZE + 1, 2 * PAGE_SIZE + 1))
    assert "page 2/" in second["embeds"][0]["footer"]["text"]
    starts = [e.date.start for e in expected.events]
    assert starts == sorted(starts)  # chronological, as shown page after page
    assert_within_limits(second["embeds"][0])

    back = await twin.click(message["id"], next(i for i in custom_ids(second) if ":prev:" in i))
    await twin.wait_for_responses(back, 2)
    assert heads(twin.message(message["id"])["embeds"][0]) == first
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_topic_in_english_finds_events_written_in_chinese(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_timeline(twin, {"topic": "Altman"})
    [embed] = message["embeds"]
    assert embed["title"] == "Timeline: Altman"
    expected = timeline(engine, "Altman")
    assert expected.events and f"{len(expected.events)} dated event" in embed["description"]
    blocks = embed["description"].split("\n\n")[1:]
    assert len(blocks) == min(PAGE_SIZE, len(expected.events))
    assert all(re.search(r"奥特曼|奧特曼|奧爾特曼|奥尔特曼|Altman", block) for block in blocks)
    assert any(re.search(r"奥特曼|奧爾特曼", block) for block in blocks)  # reached through the glossary
    assert twin.violations == []


@pytest.mark.asyncio
async def test_from_and_to_keep_only_that_period(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_timeline(twin, {"from": "2025-12", "to": "2025-12-31"})
    [embed] = message["embeds"]
    assert "between 2025-12-01 and 2025-12-31" in embed["title"]
    dates = [when for _, when, _ in heads(embed)]
    assert dates and all(d.startswith("2025-12") for d in dates)
    assert twin.violations == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("options", "wanted"),
    [
        ({"from": "2025-13-45"}, "no month 13"),
        ({"to": "soon"}, "YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"from": "2025-02-30"}, "has 28 days"),
        ({"from": "2025-12", "to": "2025-01"}, "after `to`"),
    ],
)
async def test_bad_dates_get_a_clear_private_message(twin, run_bot, engine, store, tmp_path, options, wanted):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    interaction_id = await twin.slash_command("timeline", options)
    [callback] = await twin.wait_for_responses(interaction_id, 1)
    assert callback.callback_type == 4  # answered at once, not deferred
    assert wanted in callback.message["content"]
    assert callback.message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert "Traceback" not in callback.message["content"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_empty_result_says_so_and_suggests_topics(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_timeline(twin, {"topic": "Zorblax quantum toaster"})
    [embed] = message["embeds"]
    assert "No events." in embed["description"] and "Try a topic:" in embed["description"]
    suggested = re.findall(r"`([^`]+)`", embed["description"])
    assert suggested and all(timeline(engine, name).events for name in suggested)
    assert custom_ids(message) == []
    assert twin.violations == []


@pytest.mark.asyncio
async def test_autocomplete_offers_frequent_topics_in_any_script(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    for typed, wanted in (("奥特", "Sam Altman"), ("gem", "Gemini"), ("谷", "Google")):
        interaction_id = await twin.autocomplete("timeline", "topic", typed)
        await twin.wait_for_responses(interaction_id, 1)
        choices = twin.interaction(interaction_id).choices
        assert choices and choices[0]["value"] == wanted, choices
        assert twin.ack_latency(interaction_id) < 3
    interaction_id = await twin.autocomplete("timeline", "topic", "")
    await twin.wait_for_responses(interaction_id, 1)
    choices = twin.interaction(interaction_id).choices
    assert len(choices) == 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert all(timeline(engine, c["value"]).events for c in choices[:5])  # each choice leads somewhere
    assert twin.violations == []


@pytest.mark.asyncio
async def test_private_timeline_buttons_answer_only_the_asker(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_timeline(twin, {"private": True})
    assert message["flags"] & MESSAGE_FLAG_EPHEMERAL
    stranger = make_user(username="stranger")
    turn = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i), user=stranger)
    [refusal] = await twin.wait_for_responses(turn, 1)
    assert "Only the person who asked" in refusal.message["content"]
    assert twin.violations == []


@pytest.mark.asyncio
async def test_conflicting_sources_are_marked_with_both_dates(twin, run_bot, store, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "catalog.toml").write_text(
        '["a.txt"]\ntitle = "Wire A"\nsource = "Agency A"\ndate = "2025-12-12"\n\n'
        '["b.txt"]\ntitle = "Wire B"\nsource = "Agency B"\ndate = "2025-12-13"\n',
        encoding="utf-8",
    )
    (corpus / "glossary.toml").write_text(
        '[[entry]]\nid = "acme"\ncanonical = "Acme"\nkind = "org"\naliases = ["Acme", "艾克米"]\n\n'
        '[[entry]]\nid = "rocket-9"\ncanonical = "Rocket 9"\nkind = "product"\naliases = ["Rocket 9", "火箭9号"]\n',
        encoding="utf-8",
    )
    (corpus / "a.txt").write_text(
        "Acme news\n\nAcme released Rocket 9 on December 9, 2025, after months of delays.\n", encoding="utf-8"
    )
    (corpus / "b.txt").write_text("艾克米新闻\n\n艾克米于 2025 年 12 月 11 日发布了火箭9号。\n", encoding="utf-8")
    engine = Engine.open(corpus, tmp_path / "data")
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS, corpus_dir=corpus)

    _, message = await run_timeline(twin, {"topic": "Rocket 9"})

    [embed] = message["embeds"]
    description = embed["description"]
    assert "1 dated event" in description and "⚠️ **sources disagree**: 2025-12-09 vs 2025-12-11" in description
    assert "Wire A" in description and "Wire B" in description
    assert "**December 9, 2025**" in description and "**2025 年 12 月 11 日**" in description
    assert twin.violations == []


@pytest.mark.asyncio
async def test_buttons_work_after_a_restart(twin, engine, tmp_path):
    database = tmp_path / "footnote.sqlite3"
    store = await Store.open(database)
    bot = FootnoteBot(settings=settings_for(twin, tmp_path), store=store, engine=engine, extensions=EXTENSIONS)
    async with twin.run_bot(bot):
        _, message = await run_timeline(twin)
    await store.close()

    store = await Store.open(Path(database))
    bot = FootnoteBot(settings=settings_for(twin, tmp_path), store=store, engine=engine, extensions=EXTENSIONS)
    try:
        async with twin.run_bot(bot):
            turn = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
            await twin.wait_for_responses(turn, 2)
            assert "page 2/" in twin.message(message["id"])["embeds"][0]["footer"]["text"]
    finally:
        await store.close()
    assert twin.violations == []


def test_pages_stay_within_discord_limits_whatever_the_corpus_holds() -> None:
    """Very long sentences, titles and citation lists, conflicts with many reports, markdown in the text: every
    page still shows all of its events, within Discord's limits, with the date expressions bold."""
    day = ResolvedDate("2025-12-09", "day", date(2025, 12, 9), date(2025, 12, 9))
    other = ResolvedDate("2025-12-11", "day", date(2025, 12, 11), date(2025, 12, 11))
    sentence = "**Acme** _released_ `Rocket` ~~9~~ on December 9, 2025 " + "and then it said more things " * 80

    def report(n: int, when: ResolvedDate, expression: str) -> EventReport:
        citation = Citation(f"doc-{n}", "A very long title " * 20, "Some agency " * 10, "2025-12-12", n, "")
        return EventReport(when, expression, sentence.replace("December 9, 2025", expression), f"doc-{n}", n, citation)

    events = []
    for number in range(23):
        conflict = number % 3 == 0
        reports = [
            report(
                n,
                other if conflict and n % 2 else day,
                "December 11, 2025" if conflict and n % 2 else "December 9, 2025",
            )
            for n in range(1, 9)
        ]
        events.append(TimelineEvent(day, reports[0].text, "doc-1", 1, tuple(reports), conflict))
    result = Timeline("Rocket", None, None, tuple(events), len(events))
    pages = pages_of(result)
    assert pages == 5
    for page in range(pages):
        embed = timeline_embed(result, version="v1", page=page).to_dict()
        assert_within_limits(embed)
        numbers = [n for n, _, _ in heads(embed)]
        assert numbers == list(range(page * PAGE_SIZE + 1, min(len(events), (page + 1) * PAGE_SIZE) + 1))
        assert "**December 9, 2025**" in embed["description"]
        assert "\\~\\~9\\~\\~" in embed["description"] and "**Acme**" not in embed["description"]  # escaped
        assert "sources disagree" in embed["description"]
