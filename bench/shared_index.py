"""One index, many readers: the memory of a first and a second process serving the same index file.

The index is built once (the first `Engine.open` builds it under the build lock; here it is built before the
readers start, so neither pays for the build), then two processes open it one after the other and stay up. For
each, /proc/PID/smaps_rollup gives:

- RSS: every page the process touches, shared or not (what `ps` and `top` show);
- private (USS): pages only this process holds, what it alone adds to the machine;
- shared: pages also mapped by another process: the memory-mapped index arrays in the page cache, the
  interpreter's and libraries' code;
- PSS: RSS with each shared page divided among the processes sharing it.

The second process's private memory is what a second shard process costs; its shared pages are the index the
first one already brought in. Linux only (smaps_rollup).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

READY = "footnote-reader-ready"

_READER = """
import json, os, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from index.engine import Engine
started = time.perf_counter()
engine = Engine.open(Path({corpus!r}), Path({data!r}))
print({ready!r} + json.dumps({{"passages": len(engine.passages), "seconds": time.perf_counter() - started}}),
      flush=True)
sys.stdin.readline()
"""


@dataclass(frozen=True)
class ReaderMemory:
    process: str
    passages: int
    load_seconds: float
    rss_mb: float
    private_mb: float
    shared_mb: float
    pss_mb: float


def smaps_rollup(pid: int) -> dict[str, float]:
    """The kB fields of /proc/PID/smaps_rollup, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[name.strip()] = int(parts[0]) / 1024
    return fields


def _memory(name: str, pid: int, info: dict) -> ReaderMemory:
    rollup = smaps_rollup(pid)
    private = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    shared = rollup.get("Shared_Clean", 0) + rollup.get("Shared_Dirty", 0)
    return ReaderMemory(
        name, info["passages"], round(info["seconds"], 2), round(rollup["Rss"], 1), round(private, 1),
        round(shared, 1), round(rollup["Pss"], 1),
    )  # fmt: skip


def _start_reader(root: Path, corpus: Path, data: Path) -> tuple[subprocess.Popen[str], dict]:
    script = _READER.format(root=str(root), corpus=str(corpus), data=str(data), ready=READY)
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(READY):
            return process, json.loads(line[len(READY) :])
    process.wait()
    raise RuntimeError(f"the reader process exited ({process.returncode}) before loading the index")


def measure(corpus: Path, data: Path, *, root: Path | None = None) -> list[ReaderMemory]:
    """Build the index of `corpus` in `data` if needed, then the memory of a first and a second reader process
    (the first still running when the second is measured, and measured again then)."""
    from index.engine import Engine

    root = root or Path(__file__).resolve().parents[1]
    Engine.open(corpus, data)  # built (or found current) before the readers: they only load
    first, first_info = _start_reader(root, corpus, data)
    try:
        time.sleep(0.5)
        alone = _memory("first process (alone)", first.pid, first_info)
        second, second_info = _start_reader(root, corpus, data)
        try:
            time.sleep(0.5)
            both = [
                _memory("first process (second running)", first.pid, first_info),
                _memory("second process", second.pid, second_info),
            ]
        finally:
            _stop(second)
    finally:
        _stop(first)
    return [alone, *both]


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        try:
            process.stdin.write("\n")
            process.stdin.close()
        except BrokenPipeError:
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def table(readers: list[ReaderMemory]) -> str:
    lines = [
        "| process | passages | load s | RSS MB | private MB | shared MB | PSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in readers:
        lines.append(
            f"| {r.process} | {r.passages:,} | {r.load_seconds:.2f} | {r.rss_mb:,.1f} | {r.private_mb:,.1f} |"
            f" {r.shared_mb:,.1f} | {r.pss_mb:,.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("data", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(table(measure(args.corpus, args.data)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
