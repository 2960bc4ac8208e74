"""The `footnote` command line: the parser and `main`, which dispatches to one function per subcommand
(cli/commands.py; terminal rendering in cli/output.py).

`main(argv, serve=...)` is called by bot.main, the console script's entry point, which passes its own
`start_bot` as `serve`: that is how `footnote run` and `footnote sync` reach the composition root without this
package importing bot.py (docs/architecture.md). Logging is set up here, once.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence

from cli import commands
from cli.commands import Serve
from config import ConfigError, Settings, load_env


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # (jieba, a segmenter one may choose, is imported only when chosen; index/tokenize.py quiets its logger.)


def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    from doctor import add_arguments

    add_arguments(parser)


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    from bench import add_arguments

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
    ask.set_defaults(func=commands.cmd_ask)

    corpus = sub.add_parser("corpus", help="list documents, their fields and where each came from")
    corpus.add_argument("--json", action="store_true")
    corpus.add_argument(
        "--aliases", action="store_true", help="the names cross-language matching pairs (built with the index)"
    )
    corpus.set_defaults(func=commands.cmd_corpus)

    index = sub.add_parser("index", help="build the index file (rebuilt automatically when documents change)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even when the index is current")
    index.set_defaults(func=commands.cmd_index)

    evaluate = sub.add_parser("eval", help="measure answer quality on a question set")
    evaluate.add_argument("file", help="a .jsonl question set, or a SQuAD .json file with --squad")
    evaluate.add_argument("--squad", action="store_true", help="run a SQuAD-format file as passage retrieval")
    evaluate.add_argument(
        "--quotes", action="store_true", help="score quotation extraction + attribution against an annotated .jsonl"
    )
    evaluate.add_argument(
        "--timeline", action="store_true", help="score timeline dates against annotated events (doc, date, key)"
    )
    evaluate.add_argument("--min", action="append", metavar="NAME=N", help="exit 1 when a figure is below N")
    evaluate.add_argument("--max", action="append", metavar="NAME=N", help="exit 1 when a figure is above N")
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
    evaluate.add_argument(
        "--max-false-abstain", type=float, metavar="X", help="exit 1 if more answerable questions abstain (a share)"
    )
    evaluate.add_argument(
        "--max-false-answer", type=float, metavar="X", help="exit 1 if more unanswerable ones are answered (a share)"
    )
    evaluate.add_argument("--tag", help="apply the floors to the questions with this tag (question sets)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=commands.cmd_eval)

    timeline_parser = sub.add_parser("timeline", help="dated events from the corpus, oldest first, with citations")
    timeline_parser.add_argument("topic", nargs="?", help="only events about this (a name or words, any language)")
    timeline_parser.add_argument("--from", dest="start", metavar="YYYY[-MM[-DD]]", help="earliest date")
    timeline_parser.add_argument("--to", dest="end", metavar="YYYY[-MM[-DD]]", help="latest date")
    timeline_parser.add_argument("--json", action="store_true", help="print one JSON object")
    timeline_parser.set_defaults(func=commands.cmd_timeline)

    quote = sub.add_parser("quote", help="verbatim quotations: who said what, with citations")
    quote.add_argument("topic", nargs="?", help="what the quotations are about (ranked by relevance)")
    quote.add_argument("--speaker", help="who said them: any alias, in any script (Altman, 奥特曼)")
    quote.add_argument("--json", action="store_true", help="print one JSON object")
    quote.set_defaults(func=commands.cmd_quote)

    compare_parser = sub.add_parser("compare", help="two subjects side by side, or one subject across the sources")
    compare_parser.add_argument("a", help="a company, product, person or term (any alias, any language)")
    compare_parser.add_argument("b", nargs="?", default=None, help="another subject; omit it to see each source on A")
    compare_parser.add_argument("--aspect", default=None, help="only passages about this, e.g. 算力 or revenue")
    compare_parser.add_argument(
        "--k", type=int, default=5, choices=range(1, 26), metavar="N", help="passages per section (1-25)"
    )
    compare_parser.add_argument("--json", action="store_true", help="print one JSON object")
    compare_parser.set_defaults(func=commands.cmd_compare)

    digest = sub.add_parser("digest", help="render the daily digest of a date in the terminal")
    digest.add_argument("--date", help="YYYY-MM-DD (default: today)")
    digest.add_argument("--topics", help="comma-separated topics (default: the corpus' main topics)")
    digest.add_argument("--json", action="store_true")
    digest.set_defaults(func=commands.cmd_digest)

    chat_parser = sub.add_parser("chat", help="hold a conversation with the corpus in the terminal")
    chat_parser.set_defaults(func=commands.cmd_chat)

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
    bench.set_defaults(func=commands.cmd_bench)

    run = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    run.set_defaults(func=commands.cmd_run, default_log_level="INFO")

    sync = sub.add_parser("sync", help="sync the slash commands with Discord now, then exit")
    sync.set_defaults(func=commands.cmd_sync, default_log_level="INFO")

    db = sub.add_parser("db", help="the database: migrate it, or move it to PostgreSQL")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    migrate = db_sub.add_parser("migrate", help="apply the schema migrations (the bot does it at start)")
    migrate.set_defaults(func=commands.cmd_db_migrate)
    migrate_to = db_sub.add_parser(
        "migrate-to",
        help="copy the configured database into an empty one (a postgresql:// URL or a new SQLite file), then "
        "check counts and sampled rows",
    )
    migrate_to.add_argument("target", help="postgresql://user:password@host/database, or a new .sqlite3 file")
    migrate_to.add_argument("--sample", type=int, default=200, help="rows compared per table (default 200)")
    migrate_to.set_defaults(func=commands.cmd_db_migrate_to)

    doctor = sub.add_parser(
        "doctor",
        help="check configuration, token, corpus, index, database and Discord",
        lazy_arguments=_doctor_arguments,  # doctor imports urllib and lifecycle: not for `footnote ask`
    )
    doctor.set_defaults(func=commands.cmd_doctor, before_settings=True)
    return parser


def main(argv: Sequence[str] | None = None, *, serve: Serve | None = None) -> int:
    """Parse `argv` and run the subcommand; its exit code. `serve` starts the bot (`run`, `sync`)."""
    load_env()
    args = build_parser().parse_args(argv)
    if getattr(args, "before_settings", False):
        return args.func(args)
    from index.errors import UserFacingError

    args.serve = serve
    _readable_text_arguments(args)
    try:
        settings = Settings.from_env(getattr(args, "corpus", None))
        setup_logging(settings.log_level or getattr(args, "default_log_level", "WARNING"))
        return args.func(args, settings)
    except (UserFacingError, ConfigError) as exc:
        return _fail(args, str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `footnote ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # never a traceback: one line (the traceback is in the log at DEBUG)
        logging.getLogger(__name__).debug("footnote %s failed", args.command, exc_info=True)
        return _fail(args, f"unexpected error: {type(exc).__name__}: {exc} (LOG_LEVEL=DEBUG shows where)", code=1)


def _fail(args: argparse.Namespace, message: str, code: int = 2) -> int:
    """An error as one line on stderr, or, with --json, as one JSON object on stdout (where the caller parses)."""
    if getattr(args, "json", False):
        print(json.dumps({"error": message}, ensure_ascii=False))
    else:
        print(f"footnote: {message}", file=sys.stderr)
    return code


# Arguments that are text (a question, a topic, a name), not a path: undecodable bytes in them are replaced.
_PATH_ARGUMENTS = frozenset({"file", "corpus", "out", "output", "data"})


def _readable_text_arguments(args: argparse.Namespace) -> None:
    """A question given with bytes that are not UTF-8 (Python keeps them as lone surrogates, which nothing can
    encode again) is answered with those bytes replaced by U+FFFD, after one warning naming the argument."""
    for name, value in vars(args).items():
        if isinstance(value, str) and name not in _PATH_ARGUMENTS and not _encodable(value):
            fixed = readable(value)
            print(f"footnote: warning: {name} is not valid UTF-8; read as {fixed!r}", file=sys.stderr)
            setattr(args, name, fixed)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def readable(text: str) -> str:
    """`text` with undecodable bytes (lone surrogates from the command line or a pipe) replaced by U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
