"""One index, many readers: processes that open a corpus at the same moment build its index once."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
import time

from index.buildlock import build_lock

from ..conftest import ROOT, SEEDS


def test_a_second_holder_waits_and_is_told_it_waited(tmp_path):
    index_file = tmp_path / "index.bin"
    events: list[str] = []
    held = threading.Event()

    def first() -> None:
        with build_lock(index_file) as waited:
            events.append(f"first waited={waited}")
            held.set()
            time.sleep(0.6)
            events.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(5)
    with build_lock(index_file) as waited:
        events.append(f"second waited={waited}")
    thread.join()
    assert events == ["first waited=False", "first done", "second waited=True"]


def test_a_read_only_data_folder_locks_nothing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with build_lock(blocker / "index" / "index.bin") as waited:
        assert waited is False


def test_processes_starting_together_build_the_index_once(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    data = tmp_path / "data"
    script = textwrap.dedent(
        f"""
        import logging, sys
        sys.path.insert(0, {str(ROOT)!r})
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        from pathlib import Path
        from index.engine import Engine
        engine = Engine.open(Path({str(corpus)!r}), Path({str(data)!r}))
        print("VERSION", engine.version, len(engine.passages), flush=True)
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=240)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    built = sum(line.startswith("built index:") for out in outputs for line in out.splitlines())
    loaded = sum("index built by another process meanwhile" in out for out in outputs)
    versions = {line for out in outputs for line in out.splitlines() if line.startswith("VERSION")}
    assert built == 1, outputs
    assert loaded == 1 and len(versions) == 1
