"""Help channels measured through the local Discord twin: the figures of docs/quality.md ("Help channels").

Two measurements, each re-runnable from a checkout with the test extras (`../shared` beside it):

    python -m tests.e2e.helpdesk_bench quality [--corpus DIR] [--questions FILE] [--min-confidence high|low]
    python -m tests.e2e.helpdesk_bench burst [--posts 100] [--channels 5] [--per-hour 8] [--seconds 20]

**quality** posts every question of a question set (by default ../shared/eval/foreign_dev/ask.jsonl over its
corpus) as a new post of a forum help channel, through the twin, to the real bot (FootnoteBot with the Ask and
Helpdesk cogs, in this process), one after the other, each by another member; the channel is set with
`/helpdesk set` in `answer` mode at the given confidence (default: the default, high) and an hourly cap that does
not bind (1,000). The title of a post is the question cut to Discord's 100 characters at a word; its message is the
whole question. Read back from the twin: whether the bot answered (a message in the post's thread), and for an
answer, which passage its first excerpt shows (its citation line and excerpt text, matched against the corpus'
passages); a hit is a passage containing one of the question's keys, as `footnote eval` counts. Reported: the share
of answerable posts answered, the share of answers whose first excerpt is a hit, answers posted to unanswerable
posts (target 0), by question tag, and whether every post was answered exactly when the engine alone says it is
sure enough (the bot loses nothing and adds nothing).

**burst** starts the bot in a process of its own (tests/e2e/bench_bot.py `serve`, composed as `footnote run`
composes it, the Message Content intent asked for because help channels are configured) over the seeds, with
`--channels` forum help channels capped at `--per-hour` answers each, and sends `--posts` posts spread evenly over
`--seconds` seconds across the channels, from as many members, cycling through ../shared/eval/dev_ask.jsonl's
questions; every other post's starter message arrives before its thread, and every fifth post is delivered twice
(THREAD_CREATE and MESSAGE_CREATE again). Reported: posts answered at most once (threads with more than one bot
message: target 0), the hourly cap (the most answers in one channel, at most --per-hour), every post's fate recorded
(none left unhandled), contract violations (target 0), time from post to answer, and the bot's event-loop lag and
loop steps over 50 ms, as `footnote bench` measures them for /ask (docs/benchmarks.md: no step over 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .bench_bot import PROJECT_DIR, _command, _event, _percentile, _stop_bot, start_bot_process

SHARED = PROJECT_DIR.parent / "shared"
FOREIGN_CORPUS = SHARED / "eval" / "foreign_dev" / "corpus"
FOREIGN_QUESTIONS = SHARED / "eval" / "foreign_dev" / "ask.jsonl"
SEED_QUESTIONS = SHARED / "eval" / "dev_ask.jsonl"
SEEDS = PROJECT_DIR / "seeds"
FINAL = ("answered", "silent", "reacted", "capped", "limited", "human", "skipped", "off", "gone", "failed")
TITLE_LIMIT = 100


def post_title(question: str) -> str:
    """The question as a forum post's title: Discord's 100 characters, cut at a word."""
    if len(question) <= TITLE_LIMIT:
        return question
    cut = question[: TITLE_LIMIT - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > TITLE_LIMIT // 2 else cut) + "…"


def _plain(rendered: str) -> str:
    """An excerpt as the embed shows it, back to the corpus' text: no ellipses at its ends, no bold markers, no
    markdown escapes."""
    text = rendered.strip().removeprefix("…").removesuffix("…").replace("**", "")
    return re.sub(r"\\(.)", r"\1", text)


class PassageFinder:
    """Which corpus passage an answer's first excerpt shows, from the embed alone: its citation line (as
    cogs/render.py writes it) and its excerpt text."""

    def __init__(self, engine: Any) -> None:
        from cogs.render import citation_line

        self.by_line: dict[str, list[Any]] = defaultdict(list)
        for passage in engine.passages:
            for location in (passage.location, *passage.duplicates):
                self.by_line[citation_line(engine.citation(location))].append(passage)

    def first(self, message: dict[str, Any]) -> Any | None:
        embeds = message.get("embeds") or []
        description = embeds[0].get("description", "") if embeds else ""
        # "**[1]** excerpt (which may span lines)" then its first citation line "— *title* — source, date, ¶ N"
        found = _FIRST_RESULT.search(description)
        if found is None:
            return None
        excerpt = _plain(found["excerpt"])
        candidates = self.by_line.get(found["citation"], [])
        return next((p for p in candidates if excerpt[:40] in p.text), None)


_FIRST_RESULT = re.compile(r"\*\*\[1\]\*\* (?P<excerpt>.*?)\n(?P<citation>— \*[^\n]*)", re.S)


async def _settled(desk: Any, post_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        post = await desk.post(int(post_id))
        if post is not None and post.status in FINAL:
            return post.status
        if time.monotonic() > deadline:
            return post.status if post is not None else "unseen"
        await asyncio.sleep(0.01)


# -- quality -------------------------------------------------------------------------------------------------------


async def _quality(corpus: Path, questions: Path, min_confidence: str, work: Path) -> dict[str, Any]:
    from client import FootnoteBot
    from config import Settings
    from index.engine import MAX_QUESTION_CHARS, Engine
    from index.helpdesk import post_question, sure_enough
    from store import Store
    from store.helpdesk import HelpdeskStore

    from .twin import DiscordTwin, make_forum_channel, make_guild, make_user

    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    engine = await asyncio.to_thread(Engine.open, corpus, work / "data")
    finder = PassageFinder(engine)
    owner = make_user("owner")
    guild = make_guild("Help desk", owner=owner)
    forum = make_forum_channel("help", guild_id=guild["id"])
    guild["channels"].append(forum)
    twin = DiscordTwin(guilds=[guild])
    await twin.start()
    store = await Store.open(work / "helpdesk.sqlite3")
    settings = Settings(
        corpus_dir=corpus,
        data_dir=work / "data",
        database_path=work / "helpdesk.sqlite3",
        log_level=None,
        tokenizer_mode="search",
        dev_guild_id=int(guild["id"]),
        cooldown_rate=1000,
    )
    bot = FootnoteBot(
        settings=settings, store=store, engine=engine, extensions=("cogs.ask", "cogs.helpdesk"), message_content=True
    )
    results: list[dict[str, Any]] = []
    try:
        async with twin.run_bot(bot):
            options = {"channel": forum["id"], "min_confidence": min_confidence, "per_hour": 1000}
            await twin.wait_for_responses(await twin.slash_command("helpdesk", options, subcommand="set"), 1)
            desk = HelpdeskStore(store)
            for number, row in enumerate(rows):
                thread = await twin.forum_post(forum["id"], make_user(f"asker{number}"), post_title(row["q"]), row["q"])
                status = await _settled(desk, thread, 30.0)
                posted = twin.bot_messages(thread)
                passage = finder.first(posted[0]) if posted else None
                keys = row.get("keys", [])
                asked = post_question(post_title(row["q"]), row["q"], MAX_QUESTION_CHARS).text
                alone = engine.ask(asked, 3)
                results.append(
                    {
                        "id": row.get("id", str(number)),
                        "tags": row.get("tags", []),
                        "unanswerable": bool(row.get("abstain")),
                        "status": status,
                        "answers": len(posted),
                        "first_hit": passage is not None and any(key in passage.text for key in keys),
                        "identified": passage is not None or not posted,
                        "engine_sure": sure_enough(alone.abstained, alone.confidence, min_confidence),
                    }
                )
    finally:
        await twin.close()
        await store.close()
    return _quality_report(results, twin.violations, corpus, questions, min_confidence)


def _quality_report(
    results: Sequence[dict[str, Any]], violations: Sequence[Any], corpus: Path, questions: Path, min_confidence: str
) -> dict[str, Any]:
    def slice_of(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        answerable = [r for r in rows if not r["unanswerable"]]
        answered = [r for r in answerable if r["answers"]]
        return {
            "posts": len(rows),
            "answerable": len(answerable),
            "answered": len(answered),
            "answered_share": round(len(answered) / len(answerable), 3) if answerable else None,
            "first_hit": sum(r["first_hit"] for r in answered),
            "first_hit_share": round(sum(r["first_hit"] for r in answered) / len(answered), 3) if answered else None,
            "unanswerable": len(rows) - len(answerable),
            "answers_to_unanswerable": sum(1 for r in rows if r["unanswerable"] and r["answers"]),
        }

    tags = sorted({tag for r in results for tag in r["tags"]})
    return {
        "corpus": str(corpus),
        "questions": str(questions),
        "mode": "answer",
        "min_confidence": min_confidence,
        "overall": slice_of(results),
        "by_tag": {tag: slice_of([r for r in results if tag in r["tags"]]) for tag in tags},
        "statuses": dict(Counter(r["status"] for r in results)),
        "answered_more_than_once": sum(1 for r in results if r["answers"] > 1),
        "bot_differs_from_engine": [r["id"] for r in results if bool(r["answers"]) != r["engine_sure"]],
        "first_excerpt_not_identified": [r["id"] for r in results if not r["identified"]],
        "violations": [str(v) for v in violations],
        "posts": list(results),
    }


def measure_quality(
    corpus: Path = FOREIGN_CORPUS,
    questions: Path = FOREIGN_QUESTIONS,
    min_confidence: str = "high",
    work: Path | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="footnote-helpdesk-") as temporary:
        return asyncio.run(_quality(corpus, questions, min_confidence, work or Path(temporary)))


# -- burst ---------------------------------------------------------------------------------------------------------


async def _burst(
    posts: int, channels: int, per_hour: int, seconds: float, questions: Path, work: Path, timeout: float
) -> dict[str, Any]:
    from store import Store
    from store.helpdesk import HelpChannel, HelpdeskStore

    from .twin import DiscordTwin, make_forum_channel, make_guild, make_user

    texts = [json.loads(line)["q"] for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    owner = make_user("owner")
    guild = make_guild("Help desk", owner=owner)
    forums = [make_forum_channel(f"help-{n + 1}", guild_id=guild["id"]) for n in range(channels)]
    guild["channels"].extend(forums)
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    database = work / f"helpdesk-burst-{time.monotonic_ns()}.sqlite3"
    store = await Store.open(database)
    desk = HelpdeskStore(store)
    for forum in forums:
        config = HelpChannel(int(forum["id"]), int(guild["id"]), "forum", per_hour=per_hour)
        await desk.set_channel(config, user_id=None, now=time.time())
    twin = DiscordTwin(guilds=[guild])
    await twin.start()
    sent: dict[str, tuple[str, float]] = {}
    try:
        with (work / "helpdesk-burst-bot.log").open("wb") as log:
            process = await start_bot_process(twin, SEEDS, data, log, database)
            try:
                await _event(process, "ready", timeout)
                await twin.wait_for_commands(None, timeout=60)
                await _command(process, "stats")  # count from here
                started = time.monotonic()

                async def post(number: int) -> None:
                    await asyncio.sleep(number * seconds / posts)
                    forum = forums[number % channels]
                    text = texts[number % len(texts)]
                    at = time.monotonic()
                    thread = await twin.forum_post(
                        forum["id"], make_user(f"member{number}"), post_title(text), text, starter_first=number % 2 == 1
                    )
                    sent[thread] = (forum["id"], at)
                    if number % 5 == 0:  # delivered twice
                        await asyncio.sleep(0.05)
                        await twin.dispatch("THREAD_CREATE", {**twin.channels[thread], "newly_created": True})
                        await twin.dispatch("MESSAGE_CREATE", twin.message(thread))

                await asyncio.gather(*(post(number) for number in range(posts)))
                arrived = time.monotonic() - started
                statuses = {thread: await _settled(desk, thread, timeout) for thread in sent}
                await asyncio.sleep(1.0)  # any late second answer would show now
                stats = await _command(process, "stats")
                await _stop_bot(process)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    finally:
        await twin.close()
        await store.close()
    assert stats is not None
    answers = {thread: twin.bot_messages(thread) for thread in sent}
    per_channel: Counter[str] = Counter(sent[t][0] for t, found in answers.items() if found)
    delays = []
    for thread, found in answers.items():
        if found:
            first = min(r.time for r in twin.requests("POST", f"/channels/{thread}/messages") if r.ok)
            delays.append((first - sent[thread][1]) * 1000)
    lags = [lag * 1000 for _, lag in stats["lags"]]
    slow = sorted(stats["slow"], key=lambda step: -step[0])
    return {
        "posts": posts,
        "channels": channels,
        "per_hour": per_hour,
        "seconds_to_send": round(arrived, 1),
        "duplicated_deliveries": len(range(0, posts, 5)),
        "answered": sum(1 for found in answers.values() if found),
        "answered_more_than_once": sum(1 for found in answers.values() if len(found) > 1),
        "most_answers_in_one_channel": max(per_channel.values(), default=0),
        "statuses": dict(Counter(statuses.values())),
        "unhandled": sum(1 for status in statuses.values() if status not in FINAL),
        "answer_ms_p50": round(_percentile(delays, 0.5), 1),
        "answer_ms_p99": round(_percentile(delays, 0.99), 1),
        "answer_ms_max": round(max(delays, default=0.0), 1),
        "loop_lag_max_ms": round(max(lags, default=0.0), 1),
        "loop_lag_p99_ms": round(_percentile(lags, 0.99), 1),
        "steps_over_50ms": len(slow),
        "worst_steps": [(round(ms, 1), round(cpu, 1), kind, where) for ms, cpu, kind, where in slow[:5]],
        "violations": [str(v) for v in twin.violations],
    }


def measure_burst(
    posts: int = 100,
    channels: int = 5,
    per_hour: int = 8,
    seconds: float = 20.0,
    questions: Path = SEED_QUESTIONS,
    work: Path | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="footnote-helpdesk-burst-") as temporary:
        return asyncio.run(_burst(posts, channels, per_hour, seconds, questions, work or Path(temporary), timeout))


# -- the command line ----------------------------------------------------------------------------------------------


def _print_quality(report: dict[str, Any]) -> None:
    print(f"{report['questions']} over {report['corpus']}: answer mode, min_confidence {report['min_confidence']}")
    print(f"{'':<16}{'posts':>6}{'answered':>16}{'1st excerpt hit':>20}{'to unanswerable':>17}")
    for name, row in [("overall", report["overall"]), *report["by_tag"].items()]:
        answered = f"{row['answered']}/{row['answerable']} ({_share(row['answered_share'])})"
        hit = f"{row['first_hit']}/{row['answered']} ({_share(row['first_hit_share'])})"
        unanswerable = f"{row['answers_to_unanswerable']}/{row['unanswerable']}"
        print(f"{name:<16}{row['posts']:>6}{answered:>16}{hit:>20}{unanswerable:>17}")
    print(f"statuses: {report['statuses']}; answered more than once: {report['answered_more_than_once']}")
    print(f"posts where the bot and the engine alone disagree: {report['bot_differs_from_engine'] or 'none'}")
    print(f"contract violations: {len(report['violations'])}")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _print_burst(report: dict[str, Any]) -> None:
    for key, value in report.items():
        print(f"{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.helpdesk_bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    quality = sub.add_parser("quality", help="a question set posted as forum posts: answered, first excerpt hits")
    quality.add_argument("--corpus", type=Path, default=FOREIGN_CORPUS)
    quality.add_argument("--questions", type=Path, default=FOREIGN_QUESTIONS)
    quality.add_argument("--min-confidence", choices=("high", "low"), default="high")
    quality.add_argument("--json", action="store_true")
    burst = sub.add_parser("burst", help="posts arriving together across channels: once each, caps, loop lag")
    burst.add_argument("--posts", type=int, default=100)
    burst.add_argument("--channels", type=int, default=5)
    burst.add_argument("--per-hour", type=int, default=8)
    burst.add_argument("--seconds", type=float, default=20.0)
    burst.add_argument("--questions", type=Path, default=SEED_QUESTIONS)
    burst.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import logging

    import jieba

    logging.basicConfig(level=logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    if args.command == "quality":
        report = measure_quality(args.corpus, args.questions, args.min_confidence)
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            _print_quality(report)
    else:
        report = measure_burst(args.posts, args.channels, args.per_hour, args.seconds, args.questions)
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            _print_burst(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
