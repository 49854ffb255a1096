"""Reads each platform's file on both sides back into views and lists what changed.

The platforms' files are independent of each other: when there is enough to read, each
platform is read and compared in its own worker process (forked, so the texts are not sent to
it), and only its list of changes comes back. Below that, and where fork is not available, the
platforms are read one after the other in this process; both ways give the same changes and
the same error, the first platform's in name order."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pipegen.cycle_gc import paused
from pipegen.descriptor.model import DESCRIPTOR_NAME
from pipegen.diff.changes import Change, pipeline_changes
from pipegen.errors import PipegenError
from pipegen.platforms import readback as rb, yaml_document
from pipegen.platforms.readers import read_back

if TYPE_CHECKING:  # multiprocessing is imported when workers start
    from concurrent.futures import Future


def release_branch(root: Path) -> str:
    """The branch PROD deploys from, as the working tree's descriptor says: its PROD environment's
    branch, else its first trigger branch without a glob (main when it names none, or cannot be
    read). Only those two settings are read, without positions or the descriptor's checks (a large
    descriptor would cost more to validate than the whole diff)."""
    import yaml  # pylint: disable=import-outside-toplevel

    from pipegen.descriptor.yaml_positions import MAX_BYTES  # pylint: disable=import-outside-toplevel
    from pipegen.paths import read_bytes  # pylint: disable=import-outside-toplevel

    try:
        data = yaml_document.load(read_bytes(root / DESCRIPTOR_NAME, limit=MAX_BYTES).decode("utf-8"), typed=True)
    except (PipegenError, OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return "main"
    prod = _mapping(_mapping(data).get("environments")).get("prod")
    branch = _mapping(prod).get("branch")
    if isinstance(branch, str) and branch:
        return branch
    branches = _mapping(_mapping(data).get("triggers")).get("branches", ["main"])
    return next((branch for branch in branches if isinstance(branch, str) and branch and "*" not in branch),
                "main") if isinstance(branches, list) else "main"


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


# Characters to read (both sides of every changed file) from which the platforms are read in
# parallel (benchmarks/bench.py --only diff, 2 cores): starting the workers costs 25-75 ms of CPU;
# at 1,000 jobs (5 M characters) they saved no time on a busy machine, at 10,000 jobs (50 M)
# they save about 40 % of the wall time. From here on (about 1,600 jobs) they pay.
PARALLEL_FROM_CHARACTERS = 8_000_000
# What reading a character costs per platform, relative to the YAML files (tree-sitter and the
# Groovy walk cost about three times as much): the costliest platforms start first.
_COST_PER_CHARACTER = {"jenkins": 3}

_Sides = tuple[dict[str, str], dict[str, str], str]
_SIDES: _Sides | None = None  # what the forked workers read: set just before they start


def to_read(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The platforms whose file is there after the change and differs from before, in name order."""
    return [target for target in sorted(new) if old.get(target) != new[target]]


def worker_count(old: dict[str, str], new: dict[str, str]) -> int:
    """How many processes read the changed files: one per changed file up to the cores, when
    there is enough to read and fork is available (a spawned worker would import pipegen again
    and receive the texts), else 1 (this process)."""
    targets = to_read(old, new)
    characters = sum(len(old.get(target, "")) + len(new[target]) for target in targets)
    if len(targets) < 2 or characters < PARALLEL_FROM_CHARACTERS:
        return 1
    import multiprocessing  # pylint: disable=import-outside-toplevel  # only when there is enough to read

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, len(targets))


@paused()  # reading a file back allocates a node per YAML value and no cycle (see pipegen.cycle_gc)
def compare_files(old: dict[str, str], new: dict[str, str], release: str,
                  workers: int | None = None) -> dict[str, list[Change]]:
    """Per platform present on either side: the changes from `old` to `new`, read by `workers`
    processes (default: worker_count)."""
    workers = worker_count(old, new) if workers is None else workers
    read = _in_workers(old, new, release, workers) if workers > 1 else {}
    found: dict[str, list[Change]] = {}
    for target in sorted(set(old) | set(new)):
        if target not in new:
            found[target] = [Change(f"the {target} pipeline file was removed", True, "jobs")]
        elif old.get(target) == new[target]:  # the same file does the same: nothing to read
            found[target] = []
        elif workers > 1:
            found[target] = read[target].result()  # raises what the worker raised, in name order
        else:
            found[target] = _changes(target, old.get(target), new[target], release)
    return found


def _changes(target: str, old: str | None, new: str, release: str) -> list[Change]:
    numbering = rb.Numbering()  # one for both sides: what each job waits for compares bit by bit
    pieces = yaml_document.Pieces()  # and the entries of the text: each distinct one is parsed once
    before = (read_back(target, old, release, numbering=numbering, pieces=pieces) if old is not None
              else rb.PipelineView(platform=target))
    return pipeline_changes(before, read_back(target, new, release, numbering=numbering, pieces=pieces))


def _in_workers(old: dict[str, str], new: dict[str, str], release: str, workers: int) -> dict[str, Future]:
    """Each changed platform read in a forked worker, the costliest first; the futures by platform."""
    global _SIDES  # pylint: disable=global-statement  # the forked workers inherit it: the texts are not pickled
    import multiprocessing  # pylint: disable=import-outside-toplevel
    from concurrent.futures import ProcessPoolExecutor  # pylint: disable=import-outside-toplevel

    targets = sorted(to_read(old, new), key=lambda target: -_COST_PER_CHARACTER.get(target, 1) * (
        len(old.get(target, "")) + len(new[target])))
    _SIDES = (old, new, release)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {target: pool.submit(_worker_changes, target) for target in targets}
            for future in futures.values():
                future.exception()  # all done before the pool closes
        return futures
    finally:
        _SIDES = None


def _worker_changes(target: str) -> list[Change]:
    assert _SIDES is not None, "set before the workers fork"
    old, new, release = _SIDES
    return _changes(target, old.get(target), new[target], release)
