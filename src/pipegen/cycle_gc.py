"""Pausing CPython's cycle collector around bounded work that allocates many objects.

Reading a descriptor and rendering its pipelines allocate tens of thousands of small
objects (YAML nodes and marks, plan records, view records) that reference counting frees.
Each allocation burst triggers the cycle collector, whose full passes walk every live
object: at 2,000 jobs that was a third of reading the descriptor. The work is bounded
(a descriptor is at most 1 MiB) and leaves no cycles worth collecting early, so the
collector waits until it is done; the collector runs again afterwards as usual."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused(process_ends: bool = False) -> Iterator[None]:
    """No cycle collection inside the block (nested blocks keep it off until the outer one ends).

    `process_ends`: the process exits right after the block (a command run as the program). What
    the block left alive is then frozen (gc.freeze) before the collector is back on: otherwise the
    next young-generation pass, and the full collection at interpreter shutdown, would walk every
    object the block allocated, a sixteenth of `generate`'s time at 2,000 jobs, to free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if process_ends:
                gc.freeze()
            gc.enable()
