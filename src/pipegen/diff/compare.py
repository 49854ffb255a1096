"""Reads each platform's file on both sides back into views and lists what changed."""
from __future__ import annotations

from pathlib import Path

from pipegen.cycle_gc import paused
from pipegen.descriptor.model import DESCRIPTOR_NAME
from pipegen.diff.changes import Change, pipeline_changes
from pipegen.errors import PipegenError
from pipegen.platforms import readback as rb, yaml_document
from pipegen.platforms.readers import read_back


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
        pieces = yaml_document.Pieces()  # and the entries of the text: each distinct one is parsed once
        before = (read_back(target, old[target], release, numbering=numbering, pieces=pieces) if target in old
                  else rb.PipelineView(platform=target))
        found[target] = pipeline_changes(before, read_back(target, new[target], release, numbering=numbering,
                                                           pieces=pieces))
    return found
