"""The report: targets met or not, the Markdown file (docs/benchmarks.md, keeping its hand-written notes), the
plot (with matplotlib), JSON and the terminal summary."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.results import FASTEST_PEERS, LOADS, NOTES_END, NOTES_START, SYSTEMS, BenchReport

log = logging.getLogger(__name__)


# -- reporting -----------------------------------------------------------------------------------------------


def to_json(report: BenchReport) -> dict[str, Any]:
    return asdict(report)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if a and b else None


def targets(report: BenchReport) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for the issue's targets, from the largest size measured."""
    rows: list[tuple[str, str, bool | None]] = []
    for size in report.sizes:
        # the query targets, at every size from 100k passages (or the largest measured)
        if size.passages < 90_000 and size is not max(report.sizes, key=lambda s: s.passages):
            continue
        ours, plain = size.run("footnote"), size.run("rank-bm25")
        at = f"at {size.passages:,} passages"
        if ours is None:
            continue
        for peer in FASTEST_PEERS:
            other = size.run(peer)
            if other is not None and other.p50_ms:
                ratio = ours.p50_ms / other.p50_ms
                rows.append((f"query p50 ≤ {peer}'s, same run ({at})", f"{ratio:.2f}× {peer}'s", ratio <= 1.0))
        if plain is not None and ours.top10_identical is not None:
            same = ours.top10_identical
            rows.append(
                (f"top 10 identical to BM25Okapi (rank-bm25) ({at})", f"{same:.1%} of {plain.queries_timed} queries",
                 same >= 0.999)
            )  # fmt: skip
        if size.passages >= 900_000:
            build_gb, serve_gb = ours.build_rss_mb / 1024, ours.serve_rss_mb / 1024
            rows += [
                (f"query p50 ≤ 5 ms ({at})", f"{ours.p50_ms:.2f} ms", ours.p50_ms <= 5),
                (f"build ≤ 6 min ({at})", f"{ours.build_s / 60:.1f} min", ours.build_s <= 360),
                (f"build peak RSS ≤ 4 GB ({at})", f"{build_gb:.2f} GB", build_gb <= 4),
                (f"index load ≤ 3 s ({at})", f"{ours.load_s:.2f} s", ours.load_s <= 3),
                (f"serving RSS ≤ 2.5 GB ({at})", f"{serve_gb:.2f} GB", serve_gb <= 2.5),
            ]
        if 90_000 <= size.passages < 900_000:
            rows.append((f"build ≤ 30 s ({at})", f"{ours.build_s:.1f} s", ours.build_s <= 30))
    if report.sizes:
        size = max(report.sizes, key=lambda s: s.passages)
        ours = size.run("footnote")
        at = f"at {size.passages:,} passages"
        if ours:
            rows.append(
                (
                    f"index load < 2 s ({at})",
                    f"{ours.load_s:.2f} s (Engine.open, median of {LOADS})",
                    ours.load_s < 2,
                )
            )
            peak = max(ours.serve_rss_mb, ours.build_rss_mb)
            bot_peak = ""
            if report.bot is not None and report.bot.passages == size.passages:
                peak = max(peak, report.bot.peak_rss_mb)
                bot_peak = f"; the bot under the burst {report.bot.peak_rss_mb:.0f} MB"
            rows.append(
                (
                    f"peak RSS < 600 MB ({at})",
                    f"serve {ours.serve_rss_mb:.0f} MB; build {ours.build_rss_mb:.0f} MB (largest process of the "
                    f"build){bot_peak}",
                    peak < 600,
                )
            )
            share = size.phases.analyse_s / ours.build_s if ours.build_s else 0.0
            rows.append(
                (
                    f"build limited by tokenisation, both cores ({at})",
                    f"tokenising {share:.0%} of {ours.build_s:.1f} s, {ours.build_cores:.2f} cores",
                    share >= 0.75 and ours.build_cores >= 1.6,
                )
            )
        if size.rebuild_one_s is not None:
            rows.append(
                (
                    f"rebuild after adding one document takes seconds ({at})",
                    f"{size.rebuild_one_s:.1f} s",
                    size.rebuild_one_s < 10,
                )
            )
    if report.bot:
        bot = report.bot
        at = f"at {bot.passages:,} passages"
        rows.append(
            (
                f"no command blocks the event loop > 50 ms ({at})",
                f"longest command step {bot.worst_command_block_ms:.0f} ms ({bot.command_blocks_over_50ms} over "
                f"50 ms); worst loop lag {bot.loop_lag_max_ms:.0f} ms (p99 {bot.loop_lag_p99_ms:.0f} ms)",
                bot.command_blocks_over_50ms == 0,
            )
        )
        rows.append(
            (
                f"{bot.interactions} /ask across {bot.guilds} guilds acknowledged < 3 s, all answered",
                f"slowest ack {bot.ack_max_ms:.0f} ms; {bot.answered}/{bot.interactions} answered",
                bot.ack_max_ms < 3000 and bot.answered == bot.interactions and not bot.violations,
            )
        )
    if report.startup:
        start = report.startup
        if start.seeds_rss_mb is not None:
            rows.append(
                (
                    "start-up with the seeds corpus < 200 MB RSS",
                    f"{start.seeds_rss_mb:.0f} MB",
                    start.seeds_rss_mb < 200,
                )
            )
        if start.cold_ask_s is not None:
            rows.append(("cold `footnote ask` ≤ 0.4 s", f"{start.cold_ask_s:.2f} s (median)", start.cold_ask_s <= 0.4))
    return rows


def fit_growth(xs: list[float], ys: list[float]) -> float | None:
    """The exponent b of y ~ a * x^b, least squares in log-log; None with fewer than two positive points."""
    import math

    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else None


def growth_lines(report: BenchReport) -> list[str]:
    """Footnote's costs at each size and how each grows with the passages (fitted exponent)."""
    sizes = [s for s in report.sizes if s.run("footnote") is not None]
    if not sizes:
        return []
    runs = [s.run("footnote") for s in sizes]
    costs = {
        "build s": [r.build_s for r in runs],
        "build peak RSS MB": [r.build_rss_mb for r in runs],
        "load s": [r.load_s for r in runs],
        "serving RSS MB": [r.serve_rss_mb for r in runs],
        "index MB": [r.index_mb for r in runs],
        "query p50 ms": [r.p50_ms for r in runs],
        "query p99 ms": [r.p99_ms for r in runs],
        "ask p50 ms": [s.ask_p50_ms for s in sizes],
    }
    xs = [float(s.passages) for s in sizes]
    lines = [
        "",
        "## How Footnote's costs grow",
        "",
        "Each cost at each size, and the exponent b of a least-squares fit cost ≈ a · passages^b over the sizes "
        "measured (1 = linear; below 1, the fixed part still dominates).",
        "",
        "| cost | " + " | ".join(f"{s.passages:,}" for s in sizes) + " | growth |",
        "|---|" + "---|" * (len(sizes) + 1),
    ]
    for name, values in costs.items():
        exponent = fit_growth(xs, values)
        growth = "—" if exponent is None else f"n^{exponent:.2f}"
        lines.append(f"| {name} | " + " | ".join(f"{v:,.3g}" for v in values) + f" | {growth} |")
    return lines


def _mark(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def markdown(report: BenchReport, plot_name: str | None = "benchmarks.png", notes: str = "") -> str:
    machine = report.machine
    lines = [
        "# Benchmarks",
        "",
        "Measured by `footnote bench` (bench/) on one machine in one run: "
        f"{machine.get('cpus')} cores, Python {machine.get('python')}, numpy {machine.get('numpy')}, "
        f"rank-bm25 {machine.get('rank_bm25')}, bm25s {machine.get('bm25s')}, numba {machine.get('numba')}, "
        f"tantivy {machine.get('tantivy')}, rjieba {machine.get('rjieba')}; Footnote's query kernel: "
        f"{machine.get('kernel')}"
        + (f"; load average at the end {machine['load_average']}" if machine.get("load_average") else "")
        + ". Compare ratios, not absolute times.",
        "",
        "Reproduce (from the project folder, with `pip install -e '.[test,bench]'`):",
        "",
        "```",
        report.command,
        "```",
        "",
        "How: see the docstring of bench/__init__.py. In short: corpora of real text (the seeds, then CMRC 2018 and "
        "DRCD Wikipedia articles); sizes beyond the real text are reached with synthetic documents made of real "
        "sentences drawn at random (digits redrawn). Every system gets the same tokens (Footnote's index terms). "
        "Each builds and saves in a fresh process, and loads in another (load time, serving RSS); then one "
        "process loads them all and times the same real questions on each, interleaved (for each query the "
        "systems take turns, in an order rotated every query; several passes), so load on the machine hits "
        "every system alike. The ratios are what count.",
        "",
    ]
    if report.quick:
        lines += ["*Quick run (`--quick`): fewer queries and a smaller bot burst.*", ""]
    lines += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {_mark(met)} |" for name, value, met in targets(report)]
    lines += [
        "",
        "## Corpora",
        "",
        "| target | passages (after duplicates) | documents | real passages | synthetic documents | characters |",
        "|---|---|---|---|---|---|",
    ]
    for size in report.sizes:
        c = size.corpus
        lines.append(
            f"| {c.target:,} | {size.passages:,} | {c.documents:,} | {c.real_passages:,} | "
            f"{c.synthetic_documents:,} | {c.characters:,} |"
        )
    lines += [
        "",
        "## Side by side",
        "",
        "Query: the same tokens for every system, timed interleaved in one process; p50/p99 of single queries, q/s "
        "over all of them; × Footnote: the system's p50 over Footnote's, same run. Top-10: share of queries whose "
        "top 10 is identical (same passages, same order) to rank-bm25's, and mean overlap (on the queries rank-bm25 "
        "answered: all up to 10k passages, a sample beyond).",
        "",
        "| passages | system | build s | load s | index MB | peak RSS build / serve MB | query p50 ms | p99 ms | "
        "q/s | × Footnote | top-10 identical | overlap |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in report.sizes:
        for run in size.runs:
            same = "—" if run.top10_identical is None else f"{run.top10_identical:.1%}"
            overlap = "—" if run.top10_overlap is None else f"{run.top10_overlap:.1%}"
            index = f"{run.index_mb:,.1f}" + (f" (+{run.cache_mb:,.1f} token cache)" if run.cache_mb else "")
            ours = size.run("footnote")
            versus = f"{run.p50_ms / ours.p50_ms:,.2f}" if ours and ours.p50_ms else "—"
            lines.append(
                f"| {size.passages:,} | {run.system} | {run.build_s:,.2f} | {run.load_s:,.2f} | {index} | "
                f"{run.build_rss_mb:,.0f} / {run.serve_rss_mb:,.0f} | {run.p50_ms:,.3f} | {run.p99_ms:,.3f} | "
                f"{run.qps:,.0f} | {versus} | {same} | {overlap} |"
            )
    lines += [
        "",
        "Footnote's whole `Engine.ask` (analysis, expansions, coverage, merging, excerpts), p50 / p99 ms: "
        + ", ".join(f"{s.passages:,} passages {s.ask_p50_ms:,.1f} / {s.ask_p99_ms:,.1f}" for s in report.sizes)
        + ". Share of the query terms' postings the kernel read (max-score skips the rest): "
        + ", ".join(f"{s.passages:,} {s.postings_read:.0%}" for s in report.sizes)
        + ".",
    ]
    lines += growth_lines(report)
    if plot_name:
        lines += ["", f"![Query latency against corpus size]({plot_name})"]
    lines += [
        "",
        "## Footnote's build",
        "",
        "| passages | build s | cores | tokenise s | assemble s | duplicates s | postings s | CC-CEDICT links s "
        "| rebuild after adding one document s (documents analysed) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in report.sizes:
        ours = size.run("footnote")
        p = size.phases
        rebuild = (
            "—"
            if size.rebuild_one_s is None or size.rebuild_phases is None
            else f"{size.rebuild_one_s:,.2f} ({size.rebuild_phases.documents_analysed})"
        )
        lines.append(
            f"| {size.passages:,} | {ours.build_s if ours else 0:,.2f} | {ours.build_cores if ours else 0:.2f} | "
            f"{p.analyse_s:,.2f} | {p.assemble_s:,.2f} | {p.duplicates_s:,.2f} | {p.postings_s:,.2f} | "
            f"{p.links_s:,.2f} | {rebuild} |"
        )
    if report.bot:
        b = report.bot
        lines += [
            "",
            "## The bot under load",
            "",
            f"The bot (all cogs) in its own process over the {b.passages:,}-passage corpus; the local Discord twin "
            f"sends {b.interactions} /ask interactions at once from {b.interactions} users across {b.guilds} guilds. "
            "A ticker on the bot's event loop (every 5 ms) measures how late the loop runs.",
            "",
            "| acknowledged p50 / max ms | answered | answer p50 / p99 / max ms | loop lag max / p99 ms | "
            "steps > 50 ms: all / commands (longest) | bot RSS ready / after / peak MB | contract violations |",
            "|---|---|---|---|---|---|---|",
            f"| {b.ack_p50_ms:,.0f} / {b.ack_max_ms:,.0f} | {b.answered}/{b.interactions} | "
            f"{b.answer_p50_ms:,.0f} / {b.answer_p99_ms:,.0f} / {b.answer_max_ms:,.0f} | "
            f"{b.loop_lag_max_ms:,.1f} / {b.loop_lag_p99_ms:,.1f} | "
            f"{b.blocks_over_50ms} ({b.worst_block_ms:,.0f} ms) / {b.command_blocks_over_50ms} "
            f"({b.worst_command_block_ms:,.0f} ms) | "
            f"{b.ready_rss_mb:,.0f} / {b.rss_mb:,.0f} / {b.peak_rss_mb:,.0f} | {len(b.violations)} |",
            "",
            "Loop lag: how late a 5 ms ticker on the bot's loop woke during the burst (it adds up everything the "
            "loop had queued at once). Steps: every step the loop ran (a callback, or a task until its next await), "
            "timed in normal mode; those over 50 ms are listed with the loop thread's CPU time during the step (the "
            "rest of the wall time it waited for the GIL or a core) and what they were. Engine calls run on the "
            "bot's engine thread (cogs/engine_thread.py), so command steps are only parsing, rendering and I/O.",
        ]
        for ms, cpu, kind, where in b.worst_blocks:
            lines.append(f"- {ms:,.0f} ms ({cpu:,.0f} ms CPU), {kind}: `{where[:140]}`")
        if b.worst_lags:
            worst = ", ".join(f"{lag:.0f} ms at {at:+.2f} s" for at, lag in b.worst_lags)
            lines += ["", f"Worst loop lags (time from the start of the burst): {worst}."]
    if report.startup:
        s = report.startup
        lines += ["", "## Start-up", ""]
        if s.seeds_rss_mb is not None:
            lines.append(
                f"- The bot, ready, with the seeds corpus: {s.seeds_rss_mb:.0f} MB RSS "
                f"(peak {s.seeds_peak_rss_mb:.0f} MB)."
            )
        if s.cold_ask_s is not None:
            runs = ", ".join(f"{t:.2f}" for t in s.cold_ask_runs)
            lines.append(f"- A cold `footnote ask` (new process, index built): {s.cold_ask_s:.2f} s median ({runs} s).")
    if report.skipped:
        lines += ["", "Skipped: " + "; ".join(report.skipped) + "."]
    lines += ["", "## Notes", "", NOTES_START, notes.strip() or "(none yet)", NOTES_END, ""]
    return "\n".join(lines)


def plot(report: BenchReport, path: Path) -> bool:
    """Query latency (p50, and p99 dashed) against corpus size, log-log. False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed (pip install -e '.[bench]'); no plot")
        return False
    figure, axes = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    colours = {
        "footnote": "tab:blue",
        "rank-bm25": "tab:red",
        "bm25s-numpy": "tab:olive",
        "bm25s-numba": "tab:green",
        "tantivy": "tab:orange",
    }
    for system in SYSTEMS:
        points = [(s.passages, s.run(system)) for s in report.sizes if s.run(system) is not None]
        if not points:
            continue
        xs = [p for p, _ in points]
        axes.plot(xs, [r.p50_ms for _, r in points], "o-", color=colours[system], label=f"{system} p50")
        axes.plot(xs, [r.p99_ms for _, r in points], ":", color=colours[system], label=f"{system} p99")
    xs = [s.passages for s in report.sizes]
    if xs:
        axes.plot(xs, [s.ask_p50_ms for s in report.sizes], "s--", color="tab:purple", label="Footnote ask() p50")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("passages")
    axes.set_ylabel("query latency (ms)")
    axes.set_title("Query latency against corpus size (same tokens)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return True


def write_report(report: BenchReport, out: Path) -> Path | None:
    """Write the Markdown report to `out` and the plot beside it (same name, .png); hand-written notes already
    in `out` (between the notes markers) are kept. Returns the plot's path, or None without matplotlib."""
    notes = ""
    if out.exists():
        existing = out.read_text(encoding="utf-8")
        if NOTES_START in existing and NOTES_END in existing:
            notes = existing.split(NOTES_START, 1)[1].split(NOTES_END, 1)[0].strip()
            notes = "" if notes == "(none yet)" else notes
    png = out.with_suffix(".png")
    drawn = plot(report, png)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(report, png.name if drawn else None, notes), encoding="utf-8")
    return png if drawn else None


def format_text(report: BenchReport) -> str:
    """Plain terminal summary: the targets, then one line per size and system."""
    lines = []
    for name, value, met in targets(report):
        lines.append(f"[{'ok' if met else 'MISS' if met is False else '--'}] {name}: {value}")
    for size in report.sizes:
        lines.append(f"\n{size.passages:,} passages ({size.corpus.real_passages:,} real):")
        for run in size.runs:
            same = "" if run.top10_identical is None else f", top-10 identical {run.top10_identical:.1%}"
            lines.append(
                f"  {run.system:<12} build {run.build_s:8.2f} s  load {run.load_s:6.2f} s  {run.index_mb:8.1f} MB  "
                f"RSS {run.build_rss_mb:6.0f}/{run.serve_rss_mb:6.0f} MB  p50 {run.p50_ms:9.3f} ms  "
                f"p99 {run.p99_ms:9.3f} ms  {run.qps:9.0f} q/s{same}"
            )
    if report.skipped:
        lines.append("\nskipped: " + "; ".join(report.skipped))
    return "\n".join(lines)
