"""The container images pipegen writes, pinned by digest from a catalog kept as data.

The catalog (`images/catalog.yaml`, shipped in the wheel) maps `name:tag` to the tag's multi-arch
index digest and where that digest came from. Generated files carry `name:tag@sha256:...`: the tag
stays readable in a review, the registry pulls by the digest alone. A tag without an entry is
written as it is, and `unpinned` names it so the checklist can say so. A user's own image (a
descriptor setting) is never rewritten: pipegen pins only what it chooses.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from pipegen import paths
from pipegen.errors import UsageError
from pipegen.records import record
from pipegen.resources import data_dir

CATALOG_NAME = "catalog.yaml"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_CATALOG_BYTES = 256 * 1024


@record
class PinnedImage:
    """One catalog entry: `reference` (name:tag) at `digest`, from `registry`'s `repository`."""

    reference: str
    registry: str
    repository: str
    digest: str
    recorded: str
    source: str

    @property
    def tag(self) -> str:
        return self.reference.rsplit(":", 1)[1]

    @property
    def pinned(self) -> str:
        return f"{self.reference}@{self.digest}"


def shipped_catalog_path() -> Path:
    return data_dir("images") / CATALOG_NAME


def parse_catalog(text: str, where: str) -> dict[str, PinnedImage]:
    """The catalog's entries by reference; a malformed entry is refused with where it is."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{where}: not valid YAML: {exc}") from None
    entries = data.get("images") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise UsageError(f"{where}: expected a mapping `images:` of name:tag -> digest, registry, repository")
    catalog = {}
    for reference, entry in entries.items():
        if not isinstance(entry, dict) or ":" not in str(reference) or "@" in str(reference):
            raise UsageError(f"{where}: images.{reference}: expected name:tag with digest, registry, repository")
        digest = str(entry.get("digest", ""))
        if not DIGEST.match(digest):
            raise UsageError(f"{where}: images.{reference}.digest: {digest!r} is not sha256:<64 hex digits>")
        catalog[str(reference)] = PinnedImage(
            reference=str(reference), registry=str(entry.get("registry", "")).rstrip("/"),
            repository=str(entry.get("repository", "")), digest=digest,
            recorded=str(entry.get("recorded", "")), source=str(entry.get("source", "")))
    return catalog


def read_catalog(path: Path) -> dict[str, PinnedImage]:
    """A catalog a user named (the refresh command's `--catalog`), read through the safe reader."""
    return parse_catalog(paths.read_text(path, MAX_CATALOG_BYTES, root=path.parent), str(path))


@functools.lru_cache(maxsize=1)
def shipped_catalog() -> dict[str, PinnedImage]:
    path = shipped_catalog_path()
    return parse_catalog(path.read_text(encoding="utf-8"), str(path))


def pinned(reference: str) -> str:
    """`name:tag@sha256:...` for a catalogued image; any other reference as it is."""
    entry = shipped_catalog().get(reference)
    return entry.pinned if entry is not None else reference


def is_pinned(reference: str) -> bool:
    return "@sha256:" in reference


def python_image(version: str) -> str:
    """The default job image for a Python version, pinned when the catalog has it."""
    return pinned(f"python:{version}-slim")
