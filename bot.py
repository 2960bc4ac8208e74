"""Footnote's composition root and the `footnote` command line.

`footnote ask`, `corpus`, `index` and `eval` run the engine in the terminal without Discord (discord.py is not
even imported for them); `footnote bench` runs the benchmark harness (index/bench.py, imported only for that
command). Configuration comes from the environment and a .env file (python-dotenv).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import re
import shlex
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from dotenv import load_dotenv

if TYPE_CHECKING:
    from index.engine import Answer, Engine

log = logging.getLogger("footnote")

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_CORPUS = PROJECT_DIR / "seeds"
DEFAULT_DATA = PROJECT_DIR / "data"


_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
TOKEN_HELP = (
    "Create an application at https://discord.com/developers/applications, open Bot, press Reset Token, "
    "and put the token in .env as DISCORD_TOKEN=... (see .env.example)."
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Configuration read once from the environment (and .env). The token is never logged or printed."""

    corpus_dir: Path
    data_dir: Path
    database_path: Path
    log_level: str | None
    tokenizer_mode: str
    discord_token: str = field(default="", repr=False)
    dev_guild_id: int | None = None
    cooldown_rate: int = 5
    cooldown_per: float = 30.0
    memory_window_minutes: float = 30.0
    retention_days: float = 90.0
    digest_tick_seconds: float = 60.0
    reload_poll_seconds: float = 30.0

    @classmethod
    def from_env(cls, corpus: str | None = None) -> Settings:
        data_dir = Path(os.environ.get("DATA_DIR") or DEFAULT_DATA).expanduser()
        return cls(
            corpus_dir=Path(corpus or os.environ.get("CORPUS_DIR") or DEFAULT_CORPUS).expanduser(),
            data_dir=data_dir,
            database_path=Path(os.environ.get("DATABASE_PATH") or data_dir / "footnote.sqlite3").expanduser(),
            log_level=(os.environ.get("LOG_LEVEL") or "").upper() or None,
            tokenizer_mode=os.environ.get("FOOTNOTE_TOKENIZER", "search"),
            discord_token=os.environ.get("DISCORD_TOKEN", "").strip(),
            dev_guild_id=_int_setting("DEV_GUILD_ID", None),
            cooldown_rate=_int_setting("COOLDOWN_RATE", 5) or 5,
            cooldown_per=float(_int_setting("COOLDOWN_SECONDS", 30) or 30),
            memory_window_minutes=float(_int_setting("MEMORY_WINDOW_MINUTES", 30) or 30),
            retention_days=float(_int_setting("RETENTION_DAYS", 90) or 0),
            digest_tick_seconds=float(_int_setting("DIGEST_TICK_SECONDS", 60) or 0),
            reload_poll_seconds=float(_int_setting("CORPUS_POLL_SECONDS", 30) or 0),
        )

    def require_token(self) -> str:
        if not self.discord_token:
            raise ConfigError(f"DISCORD_TOKEN is not set. {TOKEN_HELP}")
        if not _TOKEN_RE.match(self.discord_token):
            raise ConfigError(f"DISCORD_TOKEN does not look like a bot token (three dot-separated parts). {TOKEN_HELP}")
        return self.discord_token


def _int_setting(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.")
    return int(raw)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # jieba sets its logger to DEBUG with a handler of its own when imported; keep it to warnings.
    import jieba

    jieba.setLogLevel(logging.WARNING)


def open_engine(settings: Settings, rebuild: bool = False) -> Engine:
    from index.engine import Engine

    return Engine.open(settings.corpus_dir, settings.data_dir, mode=settings.tokenizer_mode, rebuild=rebuild)


# -- terminal rendering ----------------------------------------------------------------------------------


def answer_to_json(answer: Answer) -> dict:
    return {
        "query": answer.query,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "suggestions": list(answer.suggestions),
        "total": answer.total,
        "results": [
            {
                "rank": r.rank,
                "doc_id": r.citation.doc_id,
                "title": r.citation.title,
                "source": r.citation.source,
                "date": r.citation.date,
                "url": r.citation.url,
                "passage": r.passage.pid,
                "paragraph": r.passage.paragraph,
                "text": r.passage.text,
                "excerpt": r.excerpt.render("**"),
                "score": round(r.score, 6),
                "coverage": round(r.coverage, 3),
                "citations": [
                    {"doc_id": c.doc_id, "title": c.title, "source": c.source, "date": c.date, "paragraph": c.paragraph}
                    for c in r.citations
                ],
            }
            for r in answer.results
        ],
    }


def render_answer_text(answer: Answer, color: bool) -> str:
    bold, reset = ("\033[1m", "\033[0m") if color else ("**", "**")
    if answer.abstained:
        lines = ["The corpus does not cover this question."]
        if answer.suggestions:
            lines.append("It does cover: " + ", ".join(answer.suggestions) + ".")
        return "\n".join(lines)
    lines = []
    if answer.confidence == "low":
        lines.append("Low confidence: these passages match only part of the question.\n")
    for result in answer.results:
        excerpt = "".join(f"{bold}{t}{reset}" if hit else t for t, hit in result.excerpt.segments)
        excerpt = ("…" if result.excerpt.clipped_start else "") + excerpt + ("…" if result.excerpt.clipped_end else "")
        lines.append(f"[{result.rank}] {excerpt}")
        for citation in result.citations:
            lines.append(f"    — {citation.label()}")
        lines.append("")
    return "\n".join(lines).rstrip()


# -- commands --------------------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from index.errors import QuestionError

    engine = open_engine(settings)
    try:
        answer = engine.ask(args.question, k=args.k)
    except QuestionError as exc:
        print(f"footnote: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer_to_json(answer), ensure_ascii=False, indent=2))
    else:
        print(render_answer_text(answer, color=sys.stdout.isatty()))
    return 0


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    from index.corpus import FIELDS, load_corpus

    loaded = load_corpus(settings.corpus_dir.resolve())
    if args.json:
        rows = [
            {**{f: getattr(d.info, f) for f in FIELDS}, "doc_id": d.doc_id, "origins": d.info.origins}
            for d in loaded.documents
        ]
        print(
            json.dumps(
                {"documents": rows, "skipped": [[str(p), why] for p, why in loaded.skipped]},
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{len(loaded.documents)} documents in {settings.corpus_dir}")
    for doc in loaded.documents:
        info = doc.info
        print(f"\n{info.doc_id}")
        for name in FIELDS:
            value = getattr(info, name)
            value = ", ".join(value) if isinstance(value, tuple) else value
            print(f"  {name:<10} {value or '—'}  ({info.origins.get(name, 'unknown')})")
    for path, why in loaded.skipped:
        print(f"\nskipped {path}: {why}")
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from index.engine import index_path

    engine = open_engine(settings, rebuild=args.rebuild)
    print(
        f"index {index_path(engine.corpus_dir, settings.data_dir)}: {len(engine.documents)} documents, "
        f"{len(engine.passages)} passages, {len(engine.bm25.vocab)} terms, version {engine.version}"
    )
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from index.errors import UserFacingError
    from index.evaluate import (
        FLOORS,
        check_floors,
        evaluate_abstention,
        evaluate_questions,
        evaluate_squad,
        format_report,
    )

    if args.quotes:
        from index.quotes import evaluate as evaluate_quotes
        from index.quotes import format_evaluation

        quote_report = evaluate_quotes(open_engine(settings), Path(args.file))
        print(json.dumps(quote_report, ensure_ascii=False, indent=2) if args.json else format_evaluation(quote_report))
        return 0
    if args.abstention and not args.squad:
        raise UserFacingError("--abstention builds its split from a SQuAD-format file: add --squad")
    if args.squad and args.abstention:
        report = evaluate_abstention(
            Path(args.file), args.corpus_share, args.half, mode=settings.tokenizer_mode, limit=args.limit
        )
    elif args.squad:
        report = evaluate_squad(Path(args.file), mode=settings.tokenizer_mode, limit=args.limit, half=args.half)
    else:
        report = evaluate_questions(open_engine(settings), Path(args.file))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    floors = {name: getattr(args, name) for name in FLOORS if getattr(args, name) is not None}
    failures = check_floors(report, floors, tag=args.tag)
    for failure in failures:
        print(f"footnote eval: below the floor: {failure}", file=sys.stderr)
    return 1 if failures else 0


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    from index.dates import parse_range
    from index.timeline import format_text, timeline, to_json

    start, end = parse_range(args.start, args.end, names=("--from", "--to"))  # bad dates: UserFacingError, exit 2
    result = timeline(open_engine(settings), args.topic, start, end)
    if args.json:
        print(json.dumps(to_json(result), ensure_ascii=False, indent=2))
        if result.empty:
            print(format_text(result), file=sys.stderr)
    else:
        print(format_text(result))
    return 0


def cmd_quote(args: argparse.Namespace, settings: Settings) -> int:
    from index.quotes import QuoteIndex, format_text, to_json

    result = QuoteIndex.build(open_engine(settings)).search(topic=args.topic, speaker=args.speaker)
    print(json.dumps(to_json(result), ensure_ascii=False, indent=2) if args.json else format_text(result))
    return 0


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from index.compare import compare, format_text, to_json

    engine = open_engine(settings)
    comparison = compare(engine, args.a, args.b, args.aspect, k=args.k)
    if args.json:
        print(json.dumps(to_json(comparison), ensure_ascii=False, indent=2))
    else:
        print(format_text(comparison))
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """The digest of a date in the terminal. Without a server's history, "new documents" are those published in
    the seven days up to the date, and nothing counts as already posted."""
    from datetime import date, timedelta

    from index.digest import build_digest, digest_to_json, format_digest_text
    from index.timeline import build_index, events_on

    try:
        day = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError as exc:
        raise ConfigError(f"--date must be YYYY-MM-DD, not {args.date!r}.") from exc
    engine = open_engine(settings)
    week = {(day - timedelta(days=n)).isoformat() for n in range(7)}
    new = [doc_id for doc_id, info in engine.documents.items() if info.date in week]
    topics = [t.strip() for t in (args.topics or "").replace("，", ",").split(",") if t.strip()]
    events = build_index(engine)
    digest = build_digest(engine, day=day, topics=topics, new_documents=new, events_on=lambda d: events_on(events, d))
    print(json.dumps(digest_to_json(digest), ensure_ascii=False, indent=2) if args.json else format_digest_text(digest))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """An interactive conversation in the terminal (line editing on a terminal; piped input works too)."""
    return asyncio.run(chat(settings, sys.stdin, sys.stdout))


async def chat(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    import getpass

    from index.errors import UserFacingError
    from store import Store
    from store.conversation import Conversation

    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        import readline  # noqa: F401  (importing it gives input() line editing and history)
    engine = await asyncio.to_thread(open_engine, settings)
    store = await Store.open(settings.database_path)
    conversation = Conversation(engine, store, window_minutes=settings.memory_window_minutes)
    scope = f"cli:{getpass.getuser()}"
    if interactive:
        print(f"Footnote chat over {len(engine.documents)} documents. Ask a question; 'more' continues; Ctrl-D quits.")
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, "? " if interactive else "")
            except EOFError:
                break
            if not line.strip():
                continue
            if not interactive:
                print(f"? {line.strip()}", file=stdout)
            try:
                reply = await conversation.ask(
                    scope=scope, user_id=0, guild_id=None, channel_id=None, question=line, k=3
                )
            except UserFacingError as exc:
                print(f"footnote: {exc}", file=stdout)
                continue
            if reply.understood:
                print(f"(Understood as: {reply.understood})", file=stdout)
            print(render_answer_text(reply.answer, color=interactive), file=stdout)
            print(file=stdout)
            stdout.flush()
    finally:
        await store.close()
    return 0


async def start_bot(settings: Settings, token: str, sync_only: bool = False) -> None:
    """Compose the bot: engine (loaded off the event loop, before any command is accepted), store, client."""
    import discord

    from client import FootnoteBot
    from doctor import heartbeat_path
    from lifecycle import tune_for_serving
    from store import Store

    engine = await asyncio.to_thread(open_engine, settings)
    tune_for_serving()
    store = await Store.open(settings.database_path)
    try:
        bot = FootnoteBot(settings=settings, store=store, engine=engine)
        async with bot:
            if sync_only:
                await bot.login(token)  # runs setup_hook, which syncs when the command set changed
                print(await bot.sync_commands(force=True))
                return
            # SIGTERM / Ctrl-C: stop taking commands, finish answers in progress (bounded), close; see lifecycle.py
            async with bot.lifecycle.running(bot, heartbeat=heartbeat_path(settings.data_dir)):
                await bot.start(token)
    except discord.LoginFailure as exc:
        raise ConfigError(f"Discord refused the token ({exc}). {TOKEN_HELP}") from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise ConfigError(f"Discord refused an intent: {exc}") from exc
    finally:
        await store.close()


# pyproject.toml's `bench` extra (rank-bm25, the other baseline, is a core dependency), and what each adds.
BENCH_EXTRAS = {"bm25s": "the bm25s comparison", "matplotlib": "the plot"}


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Benchmark build, load, query and memory against rank-bm25 and bm25s; write the Markdown report."""
    from index.bench import BenchError, run_from_args

    missing = [name for name in BENCH_EXTRAS if importlib.util.find_spec(name) is None]
    if missing:
        one = len(missing) == 1
        print(
            f"footnote bench: {' and '.join(missing)} {'is' if one else 'are'} not installed, so "
            f"{' and '.join(BENCH_EXTRAS[name] for name in missing)} {'is' if one else 'are'} skipped; "
            f'pip install -e ".[bench]" adds {"it" if one else "them"}',
            file=sys.stderr,
            flush=True,
        )
    command = shlex.join(["footnote", "bench", *args.command_argv])
    try:
        return run_from_args(args, command)
    except BenchError as exc:
        # One line; a failed measurement process adds the tail of its own error output, indented, below it.
        summary, _, detail = str(exc).partition("\n")
        print(f"footnote bench: {summary}", file=sys.stderr)
        if detail.strip():
            print(textwrap.indent(detail, "    "), file=sys.stderr)
        return 1


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    token = settings.require_token()
    asyncio.run(start_bot(settings, token))
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    token = settings.require_token()
    asyncio.run(start_bot(settings, token, sync_only=True))
    return 0


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    from index.bench import add_arguments

    add_arguments(parser)


class _SubcommandParser(argparse.ArgumentParser):
    """A subcommand's parser. With `lazy_arguments`, its options are added only when the subcommand is parsed, so
    `footnote ask` does not import the module that defines `footnote bench`'s options. It also keeps the words
    given after the subcommand's name (`command_argv`), to print the command that reproduces a run."""

    def __init__(self, *args, lazy_arguments: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._lazy_arguments = lazy_arguments

    def parse_known_args(self, args=None, namespace=None):  # argparse calls it with the subcommand's words
        if self._lazy_arguments is not None:
            add_arguments, self._lazy_arguments = self._lazy_arguments, None
            add_arguments(self)
        parsed, extras = super().parse_known_args(args, namespace)
        parsed.command_argv = list(args or ())
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="footnote", description="Verbatim, cited answers from a document corpus.")
    parser.add_argument("--corpus", help="corpus folder (default: CORPUS_DIR or the bundled seeds)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_SubcommandParser)

    ask = sub.add_parser("ask", help="answer a question with cited excerpts")
    ask.add_argument("question")
    ask.add_argument("--k", type=int, default=5, choices=range(1, 26), metavar="N", help="excerpts to show (1-25)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(func=cmd_ask)

    corpus = sub.add_parser("corpus", help="list documents, their fields and where each came from")
    corpus.add_argument("--json", action="store_true")
    corpus.set_defaults(func=cmd_corpus)

    index = sub.add_parser("index", help="build the index file (rebuilt automatically when documents change)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even when the index is current")
    index.set_defaults(func=cmd_index)

    evaluate = sub.add_parser("eval", help="measure answer quality on a question set")
    evaluate.add_argument("file", help="a .jsonl question set, or a SQuAD .json file with --squad")
    evaluate.add_argument("--squad", action="store_true", help="run a SQuAD-format file as passage retrieval")
    evaluate.add_argument(
        "--quotes", action="store_true", help="score quotation extraction + attribution against an annotated .jsonl"
    )
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N questions (SQuAD)")
    evaluate.add_argument(
        "--abstention",
        action="store_true",
        help="with --squad: a share of the articles is the corpus; their questions must be answered, the others' "
        "must abstain",
    )
    evaluate.add_argument("--corpus-share", type=float, default=0.67, help="with --abstention (default 0.67)")
    evaluate.add_argument(
        "--half", choices=("all", "fit", "test"), default="all", help="with --squad: the questions of these articles"
    )
    for name, what in (("hit1", "hit@1"), ("hit3", "hit@3"), ("hit5", "hit@5"), ("mrr", "MRR@10")):
        evaluate.add_argument(f"--min-{name}", type=float, metavar="X", help=f"exit 1 if {what} is below X")
    evaluate.add_argument("--max-false-abstain", type=float, metavar="X", help="exit 1 if answerable questions "
                          "abstain more often than X (a share, 0..1)")  # fmt: skip
    evaluate.add_argument("--max-false-answer", type=float, metavar="X", help="exit 1 if unanswerable questions "
                          "are answered more often than X (a share, 0..1)")  # fmt: skip
    evaluate.add_argument("--tag", help="apply the floors to the questions with this tag (question sets)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=cmd_eval)

    timeline_parser = sub.add_parser("timeline", help="dated events from the corpus, oldest first, with citations")
    timeline_parser.add_argument("topic", nargs="?", help="only events about this (a name or words, any language)")
    timeline_parser.add_argument("--from", dest="start", metavar="YYYY[-MM[-DD]]", help="earliest date")
    timeline_parser.add_argument("--to", dest="end", metavar="YYYY[-MM[-DD]]", help="latest date")
    timeline_parser.add_argument("--json", action="store_true", help="print one JSON object")
    timeline_parser.set_defaults(func=cmd_timeline)

    quote = sub.add_parser("quote", help="verbatim quotations: who said what, with citations")
    quote.add_argument("topic", nargs="?", help="what the quotations are about (ranked by relevance)")
    quote.add_argument("--speaker", help="who said them: any alias, in any script (Altman, 奥特曼)")
    quote.add_argument("--json", action="store_true", help="print one JSON object")
    quote.set_defaults(func=cmd_quote)

    compare_parser = sub.add_parser("compare", help="two subjects side by side, or one subject across the sources")
    compare_parser.add_argument("a", help="a company, product, person or term (any alias, any language)")
    compare_parser.add_argument("b", nargs="?", default=None, help="another subject; omit it to see each source on A")
    compare_parser.add_argument("--aspect", default=None, help="only passages about this, e.g. 算力 or revenue")
    compare_parser.add_argument(
        "--k", type=int, default=5, choices=range(1, 26), metavar="N", help="passages per section (1-25)"
    )
    compare_parser.add_argument("--json", action="store_true", help="print one JSON object")
    compare_parser.set_defaults(func=cmd_compare)

    digest = sub.add_parser("digest", help="render the daily digest of a date in the terminal")
    digest.add_argument("--date", help="YYYY-MM-DD (default: today)")
    digest.add_argument("--topics", help="comma-separated topics (default: the corpus' main topics)")
    digest.add_argument("--json", action="store_true")
    digest.set_defaults(func=cmd_digest)

    chat_parser = sub.add_parser("chat", help="hold a conversation with the corpus in the terminal")
    chat_parser.set_defaults(func=cmd_chat)

    bench = sub.add_parser(
        "bench",
        help="measure index build, load, query speed and memory against rank-bm25 and bm25s (docs/benchmarks.md)",
        description="Build corpora of about 1k, 10k and 100k passages (the seeds, then CMRC 2018 and DRCD "
        "articles from shared/bench beside the project folder, then synthetic documents of their sentences), "
        "measure Footnote, rank-bm25 and bm25s on the same tokens in fresh processes, and write a Markdown report "
        '(and a plot, with matplotlib). The bm25s comparison and the plot need pip install -e ".[bench]". '
        "It builds its own corpora: --corpus does not apply.",
        lazy_arguments=_bench_arguments,
    )
    bench.set_defaults(func=cmd_bench)

    run = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    run.set_defaults(func=cmd_run, default_log_level="INFO")

    sync = sub.add_parser("sync", help="sync the slash commands with Discord now, then exit")
    sync.set_defaults(func=cmd_sync, default_log_level="INFO")

    from doctor import add_arguments as add_doctor_arguments

    doctor = sub.add_parser("doctor", help="check configuration, token, corpus, index, database and Discord")
    add_doctor_arguments(doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv()
    args = build_parser().parse_args(argv)
    if args.command == "doctor":  # before the settings are parsed: a setting that does not parse is a finding
        from doctor import cli

        return cli(args.corpus, offline=args.offline, quiet=args.quiet)
    from index.errors import UserFacingError

    try:
        settings = Settings.from_env(getattr(args, "corpus", None))
        setup_logging(settings.log_level or getattr(args, "default_log_level", "WARNING"))
        return args.func(args, settings)
    except (UserFacingError, ConfigError) as exc:
        print(f"footnote: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `footnote ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["run"]))
