"""The index build lock: one process builds an index file, the others wait and then load what it built.

Several processes serving one corpus (shard processes on one machine, or containers sharing the index volume)
start together and find the index missing or stale. Without a lock each would build it (minutes of both cores
at 100k passages) and replace the file under the others. `build_lock(index_file)` holds an exclusive `flock`
on `<index file>.lock` beside it; Engine.open takes it before building and, once it has it, looks at the index
file again: a process that waited finds the index its predecessor built and only loads it. flock is released by
the kernel when its holder exits, even by kill -9, so a crashed builder never blocks the others. (flock works
between processes of one machine and on local volumes; not reliably on network file systems.)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2


@contextlib.contextmanager
def build_lock(index_file: Path) -> Iterator[bool]:
    """Hold the build lock of `index_file`; yields whether another process held it first (and so may have built
    the index meanwhile). Where the lock file cannot be created (read-only data folder), nothing is locked: the
    index is then built in memory only, never written, so concurrent builders cannot collide."""
    lock_path = index_file.with_name(index_file.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        log.debug("no build lock at %s (%s)", lock_path, exc)
        yield False
        return
    waited = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    log.info("another process is building the index %s; waiting for it", index_file)
                    waited = True
                time.sleep(POLL_SECONDS)
        try:
            yield waited
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
