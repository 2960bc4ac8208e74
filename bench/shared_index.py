"""One index, many readers: the memory of a first and a second process serving the same index file.

The index is built once (the first `Engine.open` builds it under the build lock; here it is built before the
readers start, so neither pays for the build), then two processes open it one after the other and stay up. For
each, /proc/PID/smaps_rollup gives:

- RSS: every page the process touches, shared or not (what `ps` and `top` show);
- private (USS): pages only this process holds, what it alone adds to the machine;
- shared: pages also mapped by another process: the memory-mapped index arrays in the page cache, the
  interpreter's and libraries' code;
- PSS: RSS with each shared page divided among the processes sharing it;
- the index file's own mappings (from /proc/PID/smaps): how much of it is resident in the process, and how much
  of that is shared with the other process.

Each reader answers a few thousand questions before it is measured (a memory map costs nothing until its pages
are read), so the figures are those of a serving process.

The second process's private memory is what a second shard process costs; its shared pages are the index the
first one already brought in. Linux only (smaps_rollup).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

READY = "footnote-reader-ready"

_READER = """
import json, os, random, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from index.engine import Engine
started = time.perf_counter()
engine = Engine.open(Path({corpus!r}), Path({data!r}))
loaded = time.perf_counter() - started
# Serve: questions made of passages' own opening words touch posting lists all over the index, as a day of
# questions would; the memory-mapped pages they read become resident (and shared with other readers).
rng = random.Random(7)
questions = [engine.passages[rng.randrange(len(engine.passages))].text[:24] for _ in range({queries})]
for question in questions:
    engine.search(question, 10)
print({ready!r} + json.dumps({{"passages": len(engine.passages), "seconds": loaded, "queries": len(questions)}}),
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
    index_resident_mb: float  # pages of the index file mapped and resident in this process
    index_shared_mb: float  # ... of which also mapped by another process (one copy in the page cache)


def smaps_rollup(pid: int) -> dict[str, float]:
    """The kB fields of /proc/PID/smaps_rollup, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[name.strip()] = int(parts[0]) / 1024
    return fields


def mapped_file_mb(pid: int, folder: Path) -> tuple[float, float]:
    """(resident MB, shared MB) of the mappings of files under `folder` in /proc/PID/smaps."""
    resident = shared = 0
    inside = False
    prefix = str(folder.resolve())
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:  # a mapping's header line
            inside = len(head) >= 6 and head[5].startswith(prefix)
        elif inside and head and head[0] in ("Rss:", "Shared_Clean:", "Shared_Dirty:"):
            kb = int(head[1])
            if head[0] == "Rss:":
                resident += kb
            else:
                shared += kb
    return round(resident / 1024, 1), round(shared / 1024, 1)


def _memory(name: str, pid: int, info: dict, data: Path) -> ReaderMemory:
    rollup = smaps_rollup(pid)
    private = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    shared = rollup.get("Shared_Clean", 0) + rollup.get("Shared_Dirty", 0)
    index_resident, index_shared = mapped_file_mb(pid, data)
    return ReaderMemory(
        name, info["passages"], round(info["seconds"], 2), round(rollup["Rss"], 1), round(private, 1),
        round(shared, 1), round(rollup["Pss"], 1), index_resident, index_shared,
    )  # fmt: skip


def _start_reader(root: Path, corpus: Path, data: Path, queries: int) -> tuple[subprocess.Popen[str], dict]:
    script = _READER.format(root=str(root), corpus=str(corpus), data=str(data), ready=READY, queries=queries)
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(READY):
            return process, json.loads(line[len(READY) :])
    process.wait()
    raise RuntimeError(f"the reader process exited ({process.returncode}) before loading the index")


def measure(corpus: Path, data: Path, *, root: Path | None = None, queries: int = 2000) -> list[ReaderMemory]:
    """Build the index of `corpus` in `data` if needed, then the memory of a first and a second reader process,
    each having answered `queries` questions (the first still running when the second is measured, and
    measured again then)."""
    from index.engine import Engine

    root = root or Path(__file__).resolve().parents[1]
    Engine.open(corpus, data)  # built (or found current) before the readers: they only load
    first, first_info = _start_reader(root, corpus, data, queries)
    try:
        alone = _memory("first process (alone)", first.pid, first_info, data)
        second, second_info = _start_reader(root, corpus, data, queries)
        try:
            both = [
                _memory("first process (second running)", first.pid, first_info, data),
                _memory("second process", second.pid, second_info, data),
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
        "| process | passages | load s | RSS MB | private MB | shared MB | PSS MB | index file resident / shared MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in readers:
        lines.append(
            f"| {r.process} | {r.passages:,} | {r.load_seconds:.2f} | {r.rss_mb:,.1f} | {r.private_mb:,.1f} |"
            f" {r.shared_mb:,.1f} | {r.pss_mb:,.1f} | {r.index_resident_mb:,.1f} / {r.index_shared_mb:,.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("--queries", type=int, default=2000, help="questions each process answers first")
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(table(measure(args.corpus, args.data, queries=args.queries)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
