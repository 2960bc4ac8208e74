"""Progress: plain lines now and then off a terminal, a tqdm bar on one, nothing for short work."""

from __future__ import annotations

import io

from index.progress import Progress, terminal_progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_at_most_every_interval_with_elapsed_and_estimate():
    clock, lines = Clock(), []
    progress = Progress(write=lines.append, interval=10.0, quiet_for=2.0, clock=clock)
    progress.stage("index", total=1000, unit="documents")
    for _ in range(100):
        clock.now += 0.3  # 100 documents over 30 s
        progress.advance(4)
    progress.close()
    assert lines == [
        "index: 136/1,000 documents (14%), 10 s elapsed, about 1 min 05 s left",
        "index: 272/1,000 documents (27%), 20 s elapsed, about 55 s left",
        "index: 400/1,000 documents (40%), 30 s elapsed, stopped",  # closed before the total was reached
    ]


def test_short_work_says_nothing_and_stages_report_separately():
    clock, lines = Clock(), []
    progress = Progress(write=lines.append, interval=5.0, quiet_for=2.0, clock=clock)
    progress.stage("read", total=10, unit="documents")
    clock.now += 1.0
    progress.advance(10)
    progress.stage("tokenise", unit="passages")  # no total: counts only
    clock.now += 6.0
    progress.advance(5000)
    progress.close()
    assert lines == ["tokenise: 5,000 passages, 6 s elapsed", "tokenise: 5,000 passages, 6 s elapsed, done"]


def test_a_terminal_gets_a_tqdm_bar_and_a_pipe_gets_lines():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with terminal_progress(terminal) as progress:
        progress._quiet_for = 0.0  # no delay before the bar
        progress.stage("eval", total=3, unit="questions")
        progress.advance(3)
    assert "eval: 100%" in terminal.getvalue() and "3/3" in terminal.getvalue() and "\r" in terminal.getvalue()
    quick = Terminal()
    with terminal_progress(quick) as progress:  # done before the 2 s delay: no bar at all
        progress.stage("eval", total=3, unit="questions")
        progress.advance(3)
    assert quick.getvalue() == ""
    pipe = io.StringIO()
    with terminal_progress(pipe, interval=0.0) as progress:
        progress._quiet_for = 0.0
        progress.stage("eval", total=3, unit="questions")
        progress.advance(3)
    assert pipe.getvalue().splitlines()[-1].startswith("eval: 3/3 questions (100%)") and "\r" not in pipe.getvalue()


def test_named_steps_are_a_line_each_off_a_terminal_and_a_bar_on_one():
    clock, lines = Clock(), []
    progress = Progress(write=lines.append, clock=clock)
    progress.stage("bench", total=3, unit="steps")
    for name in ("1,000 passages: writing the corpus", "1,000 passages: building Footnote's index"):
        progress.step(name)
        clock.now += 65
    progress.close()
    assert lines == [
        "bench: 1,000 passages: writing the corpus (0 s elapsed)",
        "bench: 1,000 passages: building Footnote's index (1 min 05 s elapsed)",
        "bench: 2/3 steps (67%), 2 min 10 s elapsed, stopped",
    ]

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with terminal_progress(terminal, quiet_for=0.0) as progress:
        progress.stage("bench", total=2, unit="steps")
        progress.step("120 passages: writing the corpus")
        progress.step("120 passages: loading it and querying")
    assert "bench: 120 passages: loading it and querying:  50%" in terminal.getvalue()
    assert "bench: 120 passages: loading it and querying: 100%" in terminal.getvalue()
