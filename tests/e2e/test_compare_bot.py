"""/compare end to end: the real FootnoteBot with cogs.compare against the Discord twin, the seeds engine and a real
SQLite store; plus the renderer's limits on corpora built to overflow them. Every twin test ends by checking that
the bot broke no rule of Discord's API (twin.violations == [])."""

from __future__ import annotations

import random
import re
import sqlite3
import string
from pathlib import Path
from typing import Any

import pytest

from client import FootnoteBot
from cogs.compare import SIDE_PAGE, compare_embed, emphasise, pages_of, result_value
from cogs.render import EMBEDS_TOTAL_LIMIT, FIELD_VALUE_LIMIT, FIELDS_LIMIT
from index.compare import compare
from index.engine import Engine
from store import Store

from .footnote_helpers import assert_no_pings, custom_ids, settings_for, start
from .twin import MESSAGE_FLAG_EPHEMERAL, embed_total_length

EXTENSIONS = ("cogs.compare",)
PAGE_ID = re.compile(r"^fn:pg:compare:\d+:(prev|next):\d+$")


async def run_compare(twin, options: dict[str, Any], **who: Any) -> tuple[str, dict[str, Any]]:
    interaction_id = await twin.slash_command("compare", options, **who)
    responses = await twin.wait_for_responses(interaction_id, 2)
    assert responses[0].callback_type == 5, "the bot must defer first"
    return interaction_id, twin.message(twin.interaction(interaction_id).original_message_id or "")


def assert_within_limits(embed: dict[str, Any]) -> None:
    assert len(embed.get("title", "")) <= 256 and len(embed.get("description", "")) <= 4096
    fields = embed.get("fields", [])
    assert len(fields) <= FIELDS_LIMIT
    for field in fields:
        assert 1 <= len(field["name"]) <= 256 and 1 <= len(field["value"]) <= FIELD_VALUE_LIMIT
    assert embed_total_length([embed]) <= EMBEDS_TOTAL_LIMIT


def columns(embed: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The rows of inline fields (runs of inline fields between full-width ones)."""
    rows: list[list[dict[str, Any]]] = [[]]
    for field in embed.get("fields", []):
        if field.get("inline"):
            rows[-1].append(field)
        elif rows[-1]:
            rows.append([])
    return [row for row in rows if row]


@pytest.mark.asyncio
async def test_two_subjects_side_by_side_with_figures_emphasised(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    assert {c["name"] for c in twin.commands(twin.guild["id"])} >= {"compare"}

    interaction_id, message = await run_compare(twin, {"a": "GPT-5.2", "b": "Gemini 3"})

    [embed] = message["embeds"]
    assert embed["title"] == "GPT-5.2 vs Gemini 3"
    assert_within_limits(embed)
    rows = columns(embed)
    assert rows and all(len(row) == 2 for row in rows)  # two columns: a then b in every row
    assert [row[0]["name"].split(" · ")[0] for row in rows] == ["GPT-5.2"] * len(rows)
    assert [row[1]["name"].split(" · ")[0] for row in rows] == ["Gemini 3"] * len(rows)
    both = [f for f in embed["fields"] if f["name"].startswith("Both ")]
    assert both and not any(f["inline"] for f in both)
    cells = [f for row in rows for f in row] + both
    for field in cells:
        assert "¶ " in field["value"]  # every excerpt is cited
    assert any("__**" in f["value"] for f in cells)  # a figure stands out
    expected = compare(engine, "GPT-5.2", "Gemini 3", k=SIDE_PAGE)
    assert f"**GPT-5.2**: {expected.a.total} passages" in embed["description"]
    ids = custom_ids(message)
    assert len(ids) == 2 and all(PAGE_ID.match(i) for i in ids)
    assert f"page 1/{pages_of(expected)}" in embed["footer"]["text"] and engine.version in embed["footer"]["text"]
    assert not message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert twin.ack_latency(interaction_id) < 3
    assert_no_pings(twin)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_sides_match_any_alias_and_paging_moves_every_section(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_compare(twin, {"a": "奧特曼", "b": "谷歌"})  # traditional and simplified names
    [embed] = message["embeds"]
    assert embed["title"] == "Sam Altman vs Google"
    first = [f["name"] for f in embed["fields"]]

    click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
    responses = await twin.wait_for_responses(click, 2)
    assert responses[0].callback_type == 6
    second = twin.message(message["id"])
    assert "page 2/" in second["embeds"][0]["footer"]["text"]
    assert [f["name"] for f in second["embeds"][0]["fields"]] != first
    assert any(f["name"] == f"Sam Altman · {SIDE_PAGE + 1}" for f in second["embeds"][0]["fields"])
    assert_within_limits(second["embeds"][0])

    back = await twin.click(message["id"], next(i for i in custom_ids(second) if ":prev:" in i))
    await twin.wait_for_responses(back, 2)
    assert [f["name"] for f in twin.message(message["id"])["embeds"][0]["fields"]] == first
    assert twin.violations == []


@pytest.mark.asyncio
async def test_aspect_filters_both_columns(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_compare(twin, {"a": "OpenAI", "b": "Google", "aspect": "算力"})
    [embed] = message["embeds"]
    assert embed["title"] == "OpenAI vs Google · 算力" and "about “算力”" in embed["description"]
    expected = compare(engine, "OpenAI", "Google", "算力", k=SIDE_PAGE)
    excerpts = [f["value"] for f in embed["fields"] if "¶ " in f["value"]]
    assert len(excerpts) == len(expected.a.results) + len(expected.b.results) + len(expected.both)
    if not expected.b.total:  # an empty column says why instead of showing something else
        assert any("is about “算力”" in f["value"] for f in embed["fields"] if f["name"] == "Google")
    assert twin.violations == []


@pytest.mark.asyncio
async def test_one_subject_shows_each_source_with_title_and_date(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_compare(twin, {"a": "Gemini", "private": True})
    assert message["flags"] & MESSAGE_FLAG_EPHEMERAL
    [embed] = message["embeds"]
    expected = compare(engine, "Gemini")
    assert embed["title"] == "Gemini across the sources"
    assert f"in {expected.sources_total} of {len(engine.documents)} documents" in embed["description"]
    fields = embed["fields"]
    assert len(fields) == len(expected.by_source)
    for field, row in zip(fields, expected.by_source, strict=True):
        assert not field["inline"]
        assert row.document.date in field["name"] and row.document.title[:20] in field["name"]
        assert "¶ " in field["value"] and "in this document" in field["value"]
    if expected.silent:
        assert "Not mentioned in:" in embed["description"]
    assert custom_ids(message) == []  # one page: no buttons
    assert_within_limits(embed)
    assert twin.violations == []


@pytest.mark.asyncio
async def test_missing_subject_names_the_side_and_suggests(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_compare(twin, {"a": "OpenAI", "b": "Claude Opus 5"})
    [embed] = message["embeds"]
    assert "“Claude Opus 5” (b) is not mentioned" in embed["description"]
    assert "Claude Opus 4.5" in embed["description"]
    assert not embed.get("fields") and custom_ids(message) == []
    assert twin.violations == []


@pytest.mark.asyncio
async def test_bad_input_gets_a_clear_message(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    _, message = await run_compare(twin, {"a": "Google", "b": "谷歌"})
    assert "same subject" in message["content"] and not message.get("embeds")
    assert twin.violations == []


@pytest.mark.asyncio
async def test_autocomplete_offers_corpus_entities_in_any_script(twin, run_bot, engine, store, tmp_path):
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    for option, typed, wanted in (("a", "谷", "Google"), ("b", "奧特", "Sam Altman"), ("aspect", "算", "Compute")):
        interaction_id = await twin.autocomplete("compare", option, typed, {"a": "OpenAI"} if option != "a" else None)
        await twin.wait_for_responses(interaction_id, 1)
        choices = twin.interaction(interaction_id).choices
        assert 1 <= len(choices) <= 25 and choices[0]["value"] == wanted, choices
        assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
        assert twin.ack_latency(interaction_id) < 3
    interaction_id = await twin.autocomplete("compare", "a", "")
    await twin.wait_for_responses(interaction_id, 1)
    assert len(twin.interaction(interaction_id).choices) == 25
    assert twin.violations == []


@pytest.mark.asyncio
async def test_buttons_work_after_a_restart(twin, engine, tmp_path):
    database = tmp_path / "footnote.sqlite3"
    store = await Store.open(database)
    bot = FootnoteBot(settings=settings_for(twin, tmp_path), store=store, engine=engine, extensions=EXTENSIONS)
    async with twin.run_bot(bot):
        _, message = await run_compare(twin, {"a": "OpenAI", "b": "ChatGPT"})
    await store.close()

    store = await Store.open(database)
    try:
        bot = FootnoteBot(settings=settings_for(twin, tmp_path), store=store, engine=engine, extensions=EXTENSIONS)
        async with twin.run_bot(bot):
            click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
            await twin.wait_for_responses(click, 2)
            assert "page 2/" in twin.message(message["id"])["embeds"][0]["footer"]["text"]
            record_id = int(custom_ids(message)[0].split(":")[3])
            with sqlite3.connect(database) as raw:
                assert raw.execute("SELECT kind FROM answers WHERE id = ?", (record_id,)).fetchone() == ("compare",)
    finally:
        await store.close()
    assert twin.violations == []


# -- limits on a corpus built to overflow them -------------------------------------------------------------


def long_sentence(number: int) -> str:
    """Corpus markdown and mention syntax, and figures that differ per paragraph (same figures would merge)."""
    return (
        f"said revenue reached ${number}.5 trillion, up {number + 10}% in {1000 + number}, with "
        "markdown **stars** and __underscores__ and `ticks` and ||spoilers|| @everyone <@&123456789012345678> "
        + "*_`|~>" * 25
        + ". "
    )


NAMES = ("Acme", "Globex", "Acme and Globex")


def _filler(seed: int) -> str:
    """Made-up words, different for every paragraph, so that no two paragraphs are near-duplicates (merged)."""
    pick = random.Random(seed)
    return " ".join("".join(pick.choice(string.ascii_lowercase) for _ in range(7)) for _ in range(12)) + "."


def long_corpus(root: Path) -> Engine:
    """Documents 1-7 each with their own long, markdown-laden paragraphs; documents 8-10 the same syndicated
    text, so its passages are cited three times (and rank first: they name their subject twice)."""
    corpus = root / "corpus"
    corpus.mkdir()
    long_title = "A *title* that goes_on " * 20
    (corpus / "catalog.toml").write_text(
        "".join(
            f'["d{i}.txt"]\ntitle = "{long_title}{i}"\nsource = "{"S" * 300}"\ndate = "2025-01-{i:02d}"\n\n'
            for i in range(1, 11)
        ),
        encoding="utf-8",
    )
    (corpus / "glossary.toml").write_text(
        '[[entry]]\nid = "acme"\ncanonical = "Acme"\nkind = "org"\naliases = ["Acme", "艾克米"]\n\n'
        '[[entry]]\nid = "globex"\ncanonical = "Globex"\nkind = "org"\naliases = ["Globex", "环球"]\n',
        encoding="utf-8",
    )
    for i in range(1, 8):
        paragraphs = [
            f"{name} {long_sentence(i * 100 + n * 3 + k)}{_filler(i * 100 + n * 3 + k)}"
            for k, name in enumerate(NAMES)
            for n in range(6)
        ]
        (corpus / f"d{i}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    syndicated = [
        f"{name} {long_sentence(5000 + n * 3 + k)}{name}: {_filler(5000 + n * 3 + k)}"
        for k, name in enumerate(NAMES)
        for n in range(3)
    ]
    for i in range(8, 11):
        (corpus / f"d{i}.txt").write_text("\n\n".join(syndicated) + "\n", encoding="utf-8")
    return Engine.open(corpus, None)


def test_long_sides_stay_within_every_limit_and_escape_corpus_markdown(tmp_path):
    engine = long_corpus(tmp_path)
    overflowing = 0
    for args in (("Acme", "Globex", None), ("Acme", "Globex", "revenue"), ("Acme", None, None)):
        pages = pages_of(compare(engine, *args, k=SIDE_PAGE, source_k=5))
        assert pages > 1
        for page in range(pages):
            comparison = compare(
                engine,
                *args,
                k=SIDE_PAGE,
                offset=page * SIDE_PAGE,
                source_k=5,
                source_offset=page * 5,
                excerpt_chars=240,
            )
            embed = compare_embed(comparison, version=engine.version, page=page)
            cells = (*comparison.a.results, *(comparison.b.results if comparison.b else ()), *comparison.both)
            cells += tuple(row.result for row in comparison.by_source)
            # Unshrunk, such a page would overflow: the excerpts were cut to fit.
            overflowing += sum(len(result_value(r, 240)) + 40 for r in cells) > EMBEDS_TOTAL_LIMIT
            assert_within_limits(embed.to_dict())
            assert len(embed) <= EMBEDS_TOTAL_LIMIT
        values = " ".join(f.value for f in embed.fields)
        assert "\\*\\*stars\\*\\*" in values and "\\_\\_underscores\\_\\_" in values and "\\`ticks\\`" in values
        assert re.search(r"__\*\*\$\d+\.5 trillion\*\*__", values) and re.search(r"__\*\*\d+%\*\*__", values)
    assert overflowing


def test_emphasis_escapes_first_then_marks_names_and_figures(engine):
    comparison = compare(engine, "Gemini", "OpenAI", k=5)
    rendered = [emphasise(r.excerpt) for r in comparison.a.results]
    assert any("**Gemini**" in text for text in rendered)
    text = next(t for t in rendered if "__**" in t)
    assert re.search(r"__\*\*[^_*]*\d[^_*]*\*\*__", text)
    clipped = emphasise(comparison.a.results[0].excerpt, 40)
    assert clipped.endswith("…") and len(clipped.replace("**", "").replace("__", "").replace("\\", "")) <= 42


@pytest.mark.asyncio
async def test_long_sides_through_the_twin_never_ping_or_overflow(twin, run_bot, store, tmp_path):
    engine = long_corpus(tmp_path)
    await start(twin, run_bot, engine, store, tmp_path, extensions=EXTENSIONS)
    for options in ({"a": "艾克米", "b": "Globex"}, {"a": "Acme"}):
        _, message = await run_compare(twin, options)
        assert_within_limits(message["embeds"][0])
        click = await twin.click(message["id"], next(i for i in custom_ids(message) if ":next:" in i))
        await twin.wait_for_responses(click, 2)
        assert_within_limits(twin.message(message["id"])["embeds"][0])
    assert_no_pings(twin)
    assert twin.violations == []
