"""Progress of long work (index builds, evaluations, benchmarks, large reloads): a bar on a terminal, a plain line
now and then elsewhere.

On a terminal (the stream is a TTY) tqdm draws the bar: count, rate, elapsed and estimated time left. Anywhere
else (CI, a log file, Docker's log) a bar's carriage returns are noise, so the reporter writes one plain line
at most every `interval` seconds, and a last line when the work ends, to a callable: `print` to stderr for the
CLI, a logger for the bot. Work that ends before `quiet_for` seconds says nothing at all (the seeds build in a
second; nobody needs a bar for that).

The engine stays free of any output: it takes an optional `Progress` and calls `advance`; whoever starts the
work decides where progress goes (`terminal_progress`, `log_progress`) or passes None.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """One piece of long work counted in `unit`s. `stages` may be started one after another (each with its own
    total); `advance(n)` counts work done; `close()` writes the last line (or closes the bar)."""

    def __init__(
        self,
        *,
        write: Callable[[str], None] | None = None,
        stream: TextIO | None = None,
        interval: float = 10.0,
        quiet_for: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._stream = stream  # a TTY: draw a tqdm bar on it
        self._interval = interval
        self._quiet_for = quiet_for
        self._clock = clock
        self._bar = None
        self._what = ""
        self._unit = ""
        self._total: int | None = None
        self._done = 0
        self._started = self._last = clock()
        self._spoke = False
        self._named = False

    def stage(self, what: str, total: int | None = None, unit: str = "items") -> None:
        """Start counting a new stage of the work (ends the one before)."""
        self._end_stage()
        self._what, self._total, self._unit, self._done = what, total, unit, 0
        self._named = False
        self._started = self._last = self._clock()
        if self._stream is not None:
            self._open_bar()

    def advance(self, n: int = 1) -> None:
        self._done += n
        now = self._clock()
        if self._bar is not None:
            self._bar.update(n)
            return
        if now - self._started >= self._quiet_for and now - self._last >= self._interval:
            self._last = now
            self._say(self.line(now))

    def step(self, text: str) -> None:
        """Work counted in named steps (a benchmark's): the step before `text` is done. On a terminal the bar
        shows the step's name; elsewhere every step is a line with the time elapsed (steps are far apart)."""
        if self._bar is not None:
            if self._named:
                self._bar.update(1)
            self._bar.set_description_str(f"{self._what}: {text}")
        elif self._write is not None:
            self._write(f"{self._what}: {text} ({_duration(self._clock() - self._started)} elapsed)")
            self._spoke = True
        if self._named:
            self._done += 1
        self._named = True

    def close(self) -> None:
        """End the current stage (its last line, or the bar closed); a later `stage` starts another."""
        self._end_stage()
        self._what = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def line(self, now: float | None = None, final: bool = False) -> str:
        """The plain line: "index: 4,000/14,000 documents (28%), 12 s elapsed, about 31 s left"."""
        now = self._clock() if now is None else now
        elapsed = now - self._started
        count = f"{self._done:,}/{self._total:,}" if self._total else f"{self._done:,}"
        share = f" ({100 * self._done / self._total:.0f}%)" if self._total else ""
        text = f"{self._what}: {count} {self._unit}{share}, {_duration(elapsed)} elapsed"
        if final:
            return f"{text}, stopped" if self._total and self._done < self._total else f"{text}, done"
        if self._total and self._done and self._done < self._total:
            left = elapsed * (self._total - self._done) / self._done
            text += f", about {_duration(left)} left"
        return text

    def _open_bar(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=self._total,
            desc=self._what,
            unit=f" {self._unit}",
            file=self._stream,
            dynamic_ncols=True,
            mininterval=0.25,
            delay=self._quiet_for,  # drawn only once the work has lasted this long
            leave=True,
        )

    def _end_stage(self) -> None:
        if self._named:  # the last named step is done too
            self._done += 1
            self._named = False
            if self._bar is not None:
                self._bar.update(1)
        if self._bar is not None:
            self._bar.close()  # a bar whose delay had not passed prints nothing
            self._bar = None
        elif self._spoke and self._what:
            self._say(self.line(final=True))
        self._spoke = False

    def _say(self, text: str) -> None:
        self._spoke = True
        if self._write is not None:
            self._write(text)


def terminal_progress(stream: TextIO | None = None, interval: float = 10.0, quiet_for: float = 2.0) -> Progress:
    """For the CLI: a bar when `stream` (stderr) is a terminal, plain lines on it otherwise."""
    stream = stream if stream is not None else sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()

    def write(text: str) -> None:
        print(text, file=stream, flush=True)

    return Progress(write=write, stream=stream if tty else None, interval=interval, quiet_for=quiet_for)


def log_progress(logger: logging.Logger, interval: float = 30.0) -> Progress:
    """For the bot: an INFO line now and then (its output is a log, never a terminal bar)."""
    return Progress(write=lambda text: logger.info("%s", text), interval=interval)
