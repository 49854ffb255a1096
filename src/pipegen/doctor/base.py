"""The interface every platform's doctor implements, and what they share: the checklist's
kinds doctor can confirm, and the finding for a setting that is there or not."""
from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Mapping, Protocol

from pipegen.doctor.findings import Finding, Status
from pipegen.platforms.base import NOTHING_EXPECTED, ChecklistItem

if TYPE_CHECKING:  # pragma: no cover
    from pipegen.doctor.api import Api

# Kinds whose items name a setting an API can list; "other" items only when they carry an expectation.
CHECKED_KINDS = frozenset({"secret", "variable", "environment", "credentials"})


class PlatformDoctor(Protocol):
    """One platform: how its settings compare with the checklist. Where its API is by default, and
    the token's variables and scopes, are data in `pipegen.doctor.scopes` (shown by --help without
    loading requests)."""

    name: str
    unchecked_kinds: frozenset[str]  # checklist kinds this platform's API cannot confirm

    def default_project(self, environ: Mapping[str, str]) -> str | None:
        """The repository / project / job the CI running doctor is building, from its own variables."""

    def connect(self, environ: Mapping[str, str], api_url: str, project: str) -> "Api":
        """The API session, with the token from the environment (exit 3 without one)."""

    def check(self, items: list[ChecklistItem], api: "Api") -> list[Finding]:
        """One or more findings per checkable checklist item."""


def first_set(environ: Mapping[str, str], *names: str) -> str | None:
    """The value of the first of `names` set (not empty) in `environ`."""
    return next((environ[name] for name in names if environ.get(name)), None)


def checkable(item: ChecklistItem) -> bool:
    return item.kind in CHECKED_KINDS or item.expected != NOTHING_EXPECTED


def presence(item: ChecklistItem, where: str | None, fix: str, expected: str = "exists") -> Finding:
    """A setting found (`where` says where) or missing (with the fix)."""
    label = f"{item.kind} {item.name}"
    if where is None:
        return Finding(label, expected, "not found", Status.MISSING, fix)
    return Finding(label, expected, where, Status.OK)


def named(wanted: tuple[str, ...], found: set[str]) -> tuple[str, ...]:
    """The wanted names absent from `found` (case-insensitive, as the platforms compare logins and groups)."""
    lowered = {name.lower() for name in found}
    return tuple(name for name in wanted if name.lower() not in lowered)


def branches_allowed(wanted: tuple[str, ...], patterns: set[str]) -> tuple[str, ...]:
    """The wanted branches no pattern allows (fnmatch, as the platforms' `release/*` policies match)."""
    return tuple(branch for branch in wanted if not any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns))


def listed(names) -> str:
    return ", ".join(sorted(names)) or "none"
