"""Child processes end with their parent.

An index build runs in a separate process, which starts worker (and helper) processes of its own; multiprocessing
adds its resource tracker. Killing `footnote index --rebuild` (or a bot during a /reload) used to leave a 140 MB
worker blocked on a pipe and the resource tracker behind for good. Every child Footnote starts calls
`end_with_parent` first (as its pool's initializer): on Linux it asks the kernel to SIGKILL it when its parent
goes (prctl PR_SET_PDEATHSIG), and it exits at once if the parent is already gone. With the workers gone, the
resource tracker sees its pipe close and exits by itself. Elsewhere it does nothing beyond the second check.

The kernel's signal follows the *thread* that started the child: pools are started and shut down in one thread
(a `with` block), so the thread outlives its children.
"""

from __future__ import annotations

import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def end_with_parent(parent_pid: int) -> None:
    """Make this (child) process die with `parent_pid`, its parent."""
    if sys.platform.startswith("linux"):
        import ctypes  # here: the module is imported by every command, processes are started by few

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc to ask: the parent check below still runs
            pass
    if os.getppid() != parent_pid:  # the parent went before the request took effect
        os._exit(1)
