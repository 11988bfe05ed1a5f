"""Process policy, applied by the entry points only (the console script and
`schedule`), never by library code: a notebook calling `run_sync` keeps its
garbage collector and its interpreter as they were.

- One-shot commands run with the cyclic collector off: a 100k-model catalog is
  millions of acyclic objects that the collector would walk again and again
  (about 40% of the parse time) and free nothing; the process ends soon anyway.
- `schedule` runs for days: the collector stays on, but is paused during each
  run and does one full collection after it, between runs, where its walk over
  what the run left (0.3-0.6 s at 100k models) delays nothing.
- A one-shot process ends with os._exit once its output is flushed: the
  interpreter would spend a noticeable part of a large run freeing, one by one,
  objects that the operating system takes back at once.
- httpx imports its own command-line client (rich and pygments, ~40 ms) whenever
  click and rich are installed, as they are here; an empty placeholder module
  makes it skip that.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import types
from collections.abc import Iterator


def start_one_shot() -> None:
    """Before importing the command line: collector off, httpx's CLI skipped."""
    gc.disable()
    sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))


def start_long_running() -> None:
    """`schedule`: the collector back on, for a process that lives for days."""
    gc.enable()


@contextlib.contextmanager
def one_run() -> Iterator[None]:
    """Around each scheduled run: collector paused, then one collection after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


def fast_exit(code: int) -> None:
    """Flush stdout, stderr and the logs, then end the process at once."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(code)
