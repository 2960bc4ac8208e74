"""`footnote bench` as a command: its options, its errors and one tiny run (no timing assertions).

The harness itself (corpora, agreement, the report's notes) is tested in tests/bench/test_bench_smoke.py.
"""

import shlex
import subprocess
import sys

import pytest

from ..conftest import ROOT

# Run bot.main in a fresh interpreter after `prelude`: hides packages or replaces a function the way a machine
# without them, or without ../shared/bench, would behave.
RUN_MAIN = "import sys; {prelude}; import bot; sys.exit(bot.main(sys.argv[1:]))"
# find_spec -> None, import fails: as in CI, which installs the test extra only
WITHOUT_EXTRAS = (
    "sys.modules['bm25s'] = sys.modules['numba'] = sys.modules['tantivy'] = sys.modules['matplotlib'] = None"
)
WITHOUT_SHARED_BENCH = "import bench.run; bench.run.real_sources = lambda bench_dir: ([], [])"


def footnote(env, *args, prelude=None, timeout=600):
    program = [str(ROOT / "bot.py")] if prelude is None else ["-c", RUN_MAIN.format(prelude=prelude)]
    return subprocess.run(
        [sys.executable, *program, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_bench_help_lists_its_options(env):
    out = footnote(env, "bench", "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: footnote bench")
    for option in ("--sizes", "--quick", "--out", "--work", "--no-bot", "--json"):
        assert option in out.stdout
    assert "bench" in footnote(env, "--help").stdout


def test_other_commands_do_not_import_the_harness():
    code = (
        "import sys, cli; args = cli.build_parser().parse_args(['ask', 'hello']); "
        "assert 'bench' not in sys.modules, 'bench imported'; "
        "cli.build_parser().parse_args(['bench', '--quick']); assert 'bench' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("sizes", ["abc", "0", "10,-5"])
def test_bad_sizes_exit_2_with_one_clear_line(env, sizes):
    out = footnote(env, "bench", f"--sizes={sizes}", "--no-bot")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, out.stderr
    assert errors[0].startswith("footnote bench: error: argument --sizes: sizes are positive passage counts")


def test_tiny_run_without_the_extras_writes_the_report(env, tmp_path):
    out_file, work = tmp_path / "bench.md", tmp_path / "work"
    args = ["--sizes", "120", "--quick", "--no-bot", "--out", str(out_file), "--work", str(work)]
    out = footnote(env, "bench", *args, prelude=WITHOUT_EXTRAS)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    notices = [line for line in out.stderr.splitlines() if line.startswith("footnote bench: ")]
    assert len(notices) == 1, out.stderr
    assert "bm25s, numba, tantivy and matplotlib are not installed" in notices[0]
    assert 'pip install -e ".[bench]"' in notices[0]
    assert f"report: {out_file}" in out.stdout
    report = out_file.read_text(encoding="utf-8")
    assert "## Targets" in report and "## Side by side" in report
    assert "| footnote |" in report and "| rank-bm25 |" in report
    assert "| bm25s-numba |" not in report and "| tantivy |" not in report
    assert shlex.join(["footnote", "bench", *args]) in report, "the command that reproduces the run"
    assert not out_file.with_suffix(".png").exists()
    assert (work / "corpus-120").is_dir()


def test_sizes_beyond_the_seeds_without_shared_bench_fail_clearly(env, tmp_path):
    args = ["--sizes", "1000", "--no-bot", "--out", str(tmp_path / "bench.md"), "--work", str(tmp_path / "work")]
    out = footnote(env, "bench", *args, prelude=WITHOUT_SHARED_BENCH, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("footnote bench: cannot reach 1,000 passages: the seeds give ")
    assert "shared/bench" in last
    assert not (tmp_path / "bench.md").exists()
