"""The garbage collector's policy for a serving acd: what is alive once the service has
started is left out of every later collection.

CPython's full collections walk every tracked object. Once acd has started, most of
them live as long as the process: the code, the configuration and, above all, the
routing state restored from Redis (at 10,000 agents and 10,000 waiting callers about
200,000 objects). Walking them paused the routing core's one task for 34-246 ms on
the 2-core test machine (docs/benchmarks.md, section 6), every caller's ring waiting
behind it. `gc.freeze()` moves them to a generation the collector never walks; what
is created afterwards (new callers, their records, a batch's commands) is collected
as before.

What it costs: a reference cycle among the frozen objects that later becomes garbage
is never freed (objects freed by reference counting, nearly all of them, still are);
the startup heap is collected once first, so no garbage is frozen with it. What it
does not do: callers and records created after the start are collected as before, so
as the restored state is replaced by new state, full collections grow back towards
their old length (see the benchmarks' note); and in `cluster.mode: active`, the routing
state that a node restores when it takes the lead after its start is not frozen.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)


def freeze_started_heap() -> int:
    """Collect once, then leave every object alive now out of later collections.
    Returns the number of objects frozen."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("%d objects alive after the start left out of garbage collections "
             "(collected in %.0f ms)", frozen, (time.perf_counter() - started) * 1e3)
    return frozen


_pauses = 0
_pauses_lock = threading.Lock()


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collection while building something of hundreds of thousands of
    containers that all stay alive (a month's report of every agent at 15 minutes: its
    rows): each collection would walk all built so far, and they come every few
    hundred allocations, ~60 % of the building's time (docs/benchmarks.md, section
    10). Nothing is lost: collections resume after, from the calls' thread as well
    (the pause is the process's); pauses taken by several threads end with the last."""
    global _pauses
    with _pauses_lock:
        # (turned off by someone else, it stays as they left it)
        ours = _pauses > 0 or gc.isenabled()
        if ours:
            _pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if ours:
            with _pauses_lock:
                _pauses -= 1
                if _pauses == 0:
                    gc.enable()
