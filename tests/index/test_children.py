"""Killing `footnote index --rebuild` leaves no orphan processes (issue 14, point 6).

The build runs in a separate process with worker processes of its own, and multiprocessing adds a resource
tracker; killed with SIGKILL (no chance to clean up), the command used to leave a worker blocked on a pipe and
the tracker behind. Every child now ends with its parent (index/children.py)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..conftest import ROOT


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killing_an_index_build_leaves_no_process_behind(tmp_path):
    rng = random.Random(3)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 8))) for _ in range(5000)]
    for n in range(12):  # ~2.4 MB: a separate build process and a pool of workers
        sentences = (" ".join(rng.choice(words) for _ in range(20)) + "." for _ in range(1600))
        (corpus / f"doc-{n:02d}.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "CORPUS_DIR": str(corpus), "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "index", "--rebuild"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < 3:  # the build process, its workers, the tracker
            assert process.poll() is None, "the build ended before the test could kill it"
            children |= _descendants(process.pid)
            time.sleep(0.2)
        assert len(children) >= 3, children
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)], "orphans left behind"
    finally:
        if process.poll() is None:
            process.kill()
        for pid in _descendants(process.pid) | children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
