"""The `footnote` subcommands, one function each: `cmd_NAME(args, settings) -> exit code`.

Each imports what it needs when it runs, so `footnote ask` loads the engine but not discord.py, and only
`footnote bench` imports the benchmark harness. `run` and `sync` start the Discord bot through the `serve`
function that the composition root (bot.py) handed to `cli.main`: the CLI never imports bot.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import sys
import textwrap
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cli.output import answer_to_json, render_answer_text
from config import ConfigError, Settings

if TYPE_CHECKING:
    from index.engine import Engine
    from index.progress import Progress

# What `run` and `sync` call: bot.start_bot(settings, token, sync_only), handed to cli.main by bot.main.
Serve = Callable[[Settings, str, bool], Coroutine[Any, Any, None]]


def open_engine(settings: Settings, rebuild: bool = False, progress: Progress | None = None) -> Engine:
    from index.engine import Engine

    return Engine.open(
        settings.corpus_dir, settings.data_dir, mode=settings.tokenizer_mode, rebuild=rebuild, progress=progress
    )


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
    from index.formats import describe

    if args.aliases:
        return _print_aliases(args, settings)
    loaded = load_corpus(settings.corpus_dir.resolve())
    if args.json:
        rows = [
            {
                **{f: getattr(d.info, f) for f in FIELDS},
                "doc_id": d.doc_id,
                "origins": d.info.origins,
                "format": d.info.format,
                "divisions": [{"start": start, "label": label} for start, label, _first in d.info.divisions],
                "division_kind": d.info.division_kind,
            }
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
        parts = f", {len(info.divisions)} {info.division_kind}s" if info.divisions else ""
        print(f"\n{info.doc_id}  ({describe(info.format)}{parts})")
        for name in FIELDS:
            value = getattr(info, name)
            value = ", ".join(value) if isinstance(value, tuple) else value
            print(f"  {name:<10} {value or '—'}  ({info.origins.get(name, 'unknown')})")
    for path, why in loaded.skipped:
        print(f"\nskipped {path}: {why}")
    return 0


def _print_aliases(args: argparse.Namespace, settings: Settings) -> int:
    """`footnote corpus --aliases`: what cross-language matching pairs in this corpus (built with the index)."""
    rows = open_engine(settings).aliases()
    if args.json:
        listed = [{"source": source, "name": name, "forms": list(forms)} for source, name, forms in rows]
        print(json.dumps(listed, ensure_ascii=False, indent=2))
        return 0
    for source, name, forms in rows:
        print(f"{source:<10} {name} ↔ {', '.join(forms) or '—'}")
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from index.progress import terminal_progress
    from index.sources import index_path

    with terminal_progress() as progress:  # documents read and tokenised: a bar on a terminal, else a line now and then
        engine = open_engine(settings, rebuild=args.rebuild, progress=progress)
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

    if args.quotes or args.timeline:
        from index import evaluate_extraction as extraction

        minimums, maximums = extraction.parse_bounds(args.min, "--min"), extraction.parse_bounds(args.max, "--max")
        evaluate, form = (
            (extraction.evaluate_quotes, extraction.format_quotes)
            if args.quotes
            else (extraction.evaluate_timeline, extraction.format_timeline)
        )
        found = evaluate(open_engine(settings), Path(args.file))
        print(json.dumps(found, ensure_ascii=False, indent=2) if args.json else form(found))
        failures = extraction.check_floors(found, minimums, maximums)
        for failure in failures:
            print(f"below the floor: {failure}", file=sys.stderr)
        return 1 if failures else 0
    if args.abstention and not args.squad:
        raise UserFacingError("--abstention builds its split from a SQuAD-format file: add --squad")
    if args.min or args.max:
        raise UserFacingError("--min/--max NAME=N go with --quotes or --timeline (question sets: --min-hit3 and such)")
    from index.progress import terminal_progress

    with terminal_progress() as progress:  # a bar on a terminal, a line now and then in a log
        if args.squad and args.abstention:
            report = evaluate_abstention(
                Path(args.file), args.corpus_share, args.half, mode=settings.tokenizer_mode, limit=args.limit
            )
        elif args.squad:
            report = evaluate_squad(
                Path(args.file), mode=settings.tokenizer_mode, limit=args.limit, progress=progress, half=args.half
            )
        else:
            report = evaluate_questions(open_engine(settings, progress=progress), Path(args.file), progress=progress)
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
    from index.compare import compare
    from index.compare_output import format_text, to_json

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
    if not date(1900, 1, 1) <= day <= date(9999, 12, 24):  # the digest looks a week back and ahead
        raise ConfigError(f"--date must be between 1900-01-01 and 9999-12-24, not {args.date!r}.")
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
    import asyncio  # here, not at the top: `footnote ask` has no event loop, and a cold start pays for imports

    return asyncio.run(chat(settings, sys.stdin, sys.stdout))


async def chat(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    import asyncio
    import getpass

    from index.errors import UserFacingError
    from store.conversation import Conversation

    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        import readline  # noqa: F401  (importing it gives input() line editing and history)
    engine = await asyncio.to_thread(open_engine, settings)
    store = await _open_store(settings)
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
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8 in the input: say so, answer the rest
                line = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                print(f"footnote: warning: this line is not valid UTF-8; read as {line.strip()!r}", file=stdout)
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


async def _open_store(settings: Settings, target: str | Path | None = None, **options: Any) -> Any:
    """The configured store (or `target`); a PostgreSQL URL that cannot be used is a ConfigError (one line)."""
    from store import Store, StoreError

    where = settings.database if target is None else target
    try:
        return await Store.open(where, **options)
    except StoreError as exc:
        raise ConfigError(str(exc)) from exc


def cmd_db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the store's migrations (what the bot does at start) and say which version the database is at."""
    import asyncio

    async def migrate() -> str:
        store = await _open_store(settings)
        try:
            return f"{store.describe()}: schema version {await store.schema_version()}"
        finally:
            await store.close()

    print(asyncio.run(migrate()))
    return 0


def cmd_db_migrate_to(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the configured database into TARGET (a postgresql:// URL, or a new SQLite file) and prove the copy."""
    import asyncio

    from store.transfer import TransferError, copy_store

    target = args.target if args.target.startswith(("postgresql://", "postgres://")) else Path(args.target)
    if isinstance(target, Path) and target.exists():
        raise ConfigError(f"{target} exists already: migrate into a new file")

    async def migrate() -> int:
        source = await _open_store(settings)
        try:
            if not source.persistent:
                raise ConfigError(f"the configured database ({settings.database}) could not be opened")
            destination = await _open_store(settings, target)
            if not destination.persistent:
                await destination.close()
                raise ConfigError(f"{target} cannot be created (see the log line above)")
            try:
                report = await copy_store(source, destination, sample=args.sample, progress=print)
            except TransferError as exc:
                raise ConfigError(str(exc)) from exc
            finally:
                await destination.close()
        finally:
            await source.close()
        print("\n".join(report.lines()))
        if not report.ok:
            print("footnote: the copy differs from the original (above); keep using the original", file=sys.stderr)
            return 1
        if isinstance(target, str):
            print("ok: every row copied and checked; set DATABASE_URL to the target and restart the bot")
        else:
            print(f"ok: every row copied and checked into {target}")
        return 0

    return asyncio.run(migrate())


# pyproject.toml's `bench` extra (rank-bm25, the other baseline, is a core dependency), and what each adds.
BENCH_EXTRAS = {
    "bm25s": "the bm25s comparisons",
    "numba": "bm25s's numba backend",
    "tantivy": "the tantivy comparison",
    "matplotlib": "the plot",
}


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Benchmark build, load, query and memory against rank-bm25, bm25s and tantivy; write the Markdown report."""
    from bench import BenchError, run_from_args

    missing = [name for name in BENCH_EXTRAS if importlib.util.find_spec(name) is None]
    if missing:
        one = len(missing) == 1
        print(
            f"footnote bench: {_and(missing)} {'is' if one else 'are'} not installed, so "
            f"{_and([BENCH_EXTRAS[name] for name in missing])} {'is' if one else 'are'} skipped; "
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
    import asyncio

    asyncio.run(_serve(args)(settings, settings.require_token(), False))
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    asyncio.run(_serve(args)(settings, settings.require_token(), True))
    return 0


def _serve(args: argparse.Namespace) -> Serve:
    serve = getattr(args, "serve", None)
    if serve is None:  # cli.main called without a composition root (only bot.main passes one)
        raise ConfigError(f"`{args.command}` needs the bot: run `footnote {args.command}` or `python bot.py`.")
    return serve


def cmd_doctor(args: argparse.Namespace) -> int:
    """Runs before the settings are parsed (a setting that does not parse is one of its findings)."""
    from doctor import cli

    return cli(args.corpus, offline=args.offline, quiet=args.quiet)
