"""Reads each platform's file on both sides back into views and lists what changed."""
from __future__ import annotations

from pathlib import Path

from pipegen.cycle_gc import paused
from pipegen.descriptor.model import DESCRIPTOR_NAME
from pipegen.diff.changes import Change, pipeline_changes
from pipegen.errors import PipegenError
from pipegen.platforms import readback as rb
from pipegen.platforms.readers import read_back


def release_branch(root: Path) -> str:
    """The branch PROD deploys from, per the working tree's descriptor (main without one)."""
    from pipegen.descriptor.loader import load_descriptor  # pylint: disable=import-outside-toplevel

    try:
        descriptor = load_descriptor(root / DESCRIPTOR_NAME)
    except (PipegenError, OSError):
        return "main"
    prod = descriptor.environment("prod")
    if prod is not None and prod.branch:
        return prod.branch
    return next((branch for branch in descriptor.triggers.branches if "*" not in branch), "main")


@paused()  # reading a file back allocates a node per YAML value and no cycle (see pipegen.cycle_gc)
def compare_files(old: dict[str, str], new: dict[str, str], release: str) -> dict[str, list[Change]]:
    """Per platform present on either side: the changes from `old` to `new`."""
    found: dict[str, list[Change]] = {}
    for target in sorted(set(old) | set(new)):
        if target not in new:
            found[target] = [Change(f"the {target} pipeline file was removed", True, "jobs")]
            continue
        if old.get(target) == new[target]:  # the same file does the same: nothing to read
            found[target] = []
            continue
        numbering = rb.Numbering()  # one for both sides: what each job waits for compares bit by bit
        before = (read_back(target, old[target], release, numbering=numbering) if target in old
                  else rb.PipelineView(platform=target))
        found[target] = pipeline_changes(before, read_back(target, new[target], release, numbering=numbering))
    return found
