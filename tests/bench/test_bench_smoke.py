"""`footnote bench` at a tiny size: the report's structure and top-10 agreement (no timing assertions)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from bench import (
    NOTES_END,
    NOTES_START,
    SYSTEMS,
    agreement,
    make_corpus,
    parse_sizes,
    run_benchmark,
    targets,
    to_json,
    write_report,
)
from bench.peers import all_peers, available

from ..conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    return run_benchmark((120,), quick=True, work_dir=work, queries=12, bot=False, startup=False)


def test_report_structure_and_top10_agreement(report):
    (size,) = report.sizes
    assert size.passages > 0 and size.corpus.documents >= 1 and size.queries == 12
    systems = [run.system for run in size.runs]
    expected = ["footnote"] + [p.name for p in all_peers() if available(p) is None]
    assert systems == [s for s in SYSTEMS if s in expected]
    footnote = size.run("footnote")
    if size.run("rank-bm25") is not None:
        assert footnote.top10_identical == 1.0, "Footnote's top 10 is rank-bm25's for every query"
        assert size.run("rank-bm25").top10_identical == 1.0
    for run in size.runs:
        assert run.build_s >= 0 and run.load_s >= 0 and run.index_mb > 0
        assert run.p50_ms <= run.p99_ms and run.qps > 0 and run.serve_rss_mb > 0
        assert run.top10_overlap is None or 0.0 <= run.top10_overlap <= 1.0
    assert size.rebuild_phases is not None and size.rebuild_phases.documents_analysed == 1
    names = [name for name, _, _ in targets(report)]
    assert any("rebuild" in name for name in names)
    assert any("top 10 identical to BM25Okapi" in name for name in names) == (size.run("rank-bm25") is not None)
    for peer in ("bm25s-numba", "tantivy"):  # the fastest peers: Footnote's p50 against theirs, same run
        assert any(f"≤ {peer}'s" in name for name in names) == (size.run(peer) is not None)
    json.dumps(to_json(report), ensure_ascii=False)


def test_written_report_keeps_hand_written_notes(report, tmp_path):
    out = tmp_path / "docs" / "benchmarks.md"
    plot = write_report(report, out)
    text = out.read_text(encoding="utf-8")
    assert "## Targets" in text and "## Side by side" in text and "| footnote |" in text
    assert report.command in text
    if importlib.util.find_spec("matplotlib"):
        assert plot is not None and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({plot.name})" in text
    out.write_text(text.replace(f"{NOTES_START}\n(none yet)", f"{NOTES_START}\nWhy a target was missed."), "utf-8")
    write_report(report, out)
    assert "Why a target was missed." in out.read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8").count(NOTES_END) == 1


def test_synthetic_documents_reach_the_size_from_real_sentences(tmp_path):
    articles = [("wiki-1", ["第一句话讲的是芯片。第二句话讲的是算力，共有12个数据中心。第三句话讲的是模型。"])]
    stats = make_corpus(tmp_path / "c", 40, seeds_dir=tmp_path / "no-seeds", articles=articles, seed=3)
    assert stats.passages >= 40 and stats.real_passages == 1 and stats.synthetic_documents > 0
    again = make_corpus(tmp_path / "d", 40, seeds_dir=tmp_path / "no-seeds", articles=articles, seed=3)
    first = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert first == sorted(p.name for p in (tmp_path / "d").iterdir()) and again == stats
    synthetic = (tmp_path / "c" / "mix-000000.txt").read_text(encoding="utf-8")
    assert "讲的是" in synthetic, "made of the real sentences"


def test_corpus_starts_with_the_seeds_and_their_data(tmp_path):
    stats = make_corpus(tmp_path / "c", 10, seeds_dir=SEEDS, articles=[])
    assert stats.synthetic_documents == 0 and stats.passages >= 10
    assert (tmp_path / "c" / "glossary.toml").exists() and (tmp_path / "c" / "userdict.txt").exists()


def test_agreement_and_sizes():
    assert agreement({"0": [1, 2, 3], "1": [4, 5]}, {"0": [1, 2, 3], "1": [5, 4]}) == (0.5, 1.0)
    assert agreement({"0": [1, 9]}, {"0": [1, 2]}) == (0.0, 0.5)
    assert agreement({"0": [1], "3": [2]}, {"3": [2]}) == (1.0, 1.0)  # only the queries both answered
    assert agreement({"0": [1]}, {"1": [1]}) is None
    assert parse_sizes("100000,1k, 10000") == (1000, 10000, 100000)
    assert parse_sizes("100k,1m") == (100_000, 1_000_000)
    with pytest.raises(Exception, match="positive passage counts"):
        parse_sizes("ten")


def test_bench_module_does_not_import_discord():
    code = "import sys, bench; assert 'discord' not in sys.modules, 'discord imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
