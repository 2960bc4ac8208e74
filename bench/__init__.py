"""`footnote bench`: how Footnote's cost grows with the corpus, side by side with plain rank-bm25 and bm25s.

Corpora. For each size (about 1k, 10k and 100k passages by default) a corpus folder is written from real text:
the seed documents (with their catalog, glossary and jieba user dictionary, so Footnote runs as configured),
then whole Wikipedia articles of the CMRC 2018 and DRCD dev sets (../shared/bench, simplified and traditional
Chinese, interleaved; one paragraph a line). The engine's own splitter counts the passages. That real text
holds about 2,900 passages; larger sizes are reached with synthetic documents whose paragraphs are 2 to 9
real sentences drawn at random from those articles, with every digit redrawn. The report says how many
passages are real.

Systems, on the same tokens. Footnote builds its index from the corpus folder (tokenising with jieba, glossary
concept terms included). Its index terms are exported per passage and given, unchanged, to rank-bm25
(BM25Okapi; a query is `get_scores` + argsort) and to bm25s (method "robertson", the closest to BM25Okapi;
a query is `retrieve(k=10)`), both with Footnote's k1 and b (index/ranking.py). The queries are real questions
(CMRC 2018, DRCD, the seed question set), turned into terms by the same function as passages. Footnote's query is
`BM25Index.top_k` on those terms; its full `Engine.ask` (analysis, glossary and dictionary expansion, coverage,
merging, excerpts) is timed separately.

Fresh processes. Each system builds its index in one fresh process (`python -m bench --measure ...`) and
loads it and answers the queries in another, so each peak RSS (ru_maxrss) is that process's own. A build's
"cores" is its CPU time (its tokenising workers included) over its wall time. rank-bm25 has no file format;
it is saved the way its users do, with pickle (in the benchmark's temporary folder only). Top-10 agreement
compares each system's top 10 (positive scores, ties by passage number) with rank-bm25's for every query.

Responsiveness (`tests/e2e/bench_bot.py`, imported only when run from a source checkout): the real bot, in a
process of its own, loads the largest corpus and serves a burst of /ask interactions from the local Discord
twin across many guilds, while a ticker on its event loop measures how late it runs.

The package: results.py (what is measured), corpora.py, measure.py (the measurement processes), run.py
(orchestration and the command line), report.py (Markdown, plot, JSON).
"""

from __future__ import annotations

from bench.corpora import make_corpus, real_sources, seed_questions
from bench.measure import agreement, measure
from bench.report import format_text, markdown, targets, to_json, write_report
from bench.results import NOTES_END, NOTES_START, SYSTEMS, BenchError, BenchReport
from bench.run import add_arguments, main, parse_sizes, run_benchmark, run_from_args

__all__ = [
    "NOTES_END",
    "NOTES_START",
    "SYSTEMS",
    "BenchError",
    "BenchReport",
    "add_arguments",
    "agreement",
    "format_text",
    "main",
    "make_corpus",
    "markdown",
    "measure",
    "parse_sizes",
    "real_sources",
    "run_benchmark",
    "run_from_args",
    "seed_questions",
    "targets",
    "to_json",
    "write_report",
]
