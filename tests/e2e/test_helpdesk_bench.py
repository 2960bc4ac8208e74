"""The help-channel harness (tests/e2e/helpdesk_bench.py) at a tiny size, so the figures of docs/quality.md stay
re-runnable: its reading of the posted answers, and its invariants (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from .helpdesk_bench import _burst, _quality, post_title


def test_post_titles_fit_discord():
    assert post_title("short?") == "short?"
    long = "how many laptops did the vendor end up repairing for free under the programme it announced last spring?"
    title = post_title(long)
    assert len(title) <= 100 and title.endswith("…") and long.startswith(title[:-1])


@pytest.mark.asyncio
async def test_quality_reads_answers_and_first_excerpts_back_from_the_twin(engine, data_dir, tmp_path):
    from ..conftest import SEEDS

    questions = tmp_path / "questions.jsonl"
    rows = [
        {"id": "a", "q": "How many monthly active users does Gemini have?", "keys": ["6.5 億"], "tags": ["en"]},
        {"id": "b", "q": "OpenAI 为什么要暂停 Sora?", "keys": ["no such words anywhere"], "tags": ["zh-hans"]},
        {"id": "c", "q": "What is the boiling point of mercury?", "keys": [], "abstain": True, "tags": ["en"]},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = await _quality(SEEDS, questions, "high", tmp_path)
    posts = {p["id"]: p for p in report["posts"]}
    assert posts["a"]["answers"] == 1 and posts["a"]["first_hit"] and posts["a"]["identified"]
    assert posts["b"]["answers"] == 1 and not posts["b"]["first_hit"] and posts["b"]["identified"]
    assert posts["c"]["answers"] == 0 and posts["c"]["status"] == "silent"
    overall = report["overall"]
    assert (overall["answered"], overall["first_hit"], overall["answers_to_unanswerable"]) == (2, 1, 0)
    assert report["bot_differs_from_engine"] == [] and report["violations"] == []


@pytest.mark.asyncio
async def test_burst_answers_once_within_the_cap_and_records_every_post(engine, data_dir, tmp_path):
    from ..conftest import SHARED

    report = await _burst(12, 2, 2, 2.0, SHARED / "eval" / "dev_ask.jsonl", tmp_path, timeout=120.0)
    assert report["answered_more_than_once"] == 0
    assert report["most_answers_in_one_channel"] <= 2 and report["answered"] <= 4
    assert report["unhandled"] == 0 and sum(report["statuses"].values()) == 12
    assert report["violations"] == []
    assert report["duplicated_deliveries"] == 3
