"""Errors users can act on, and the exit codes every command shares (DESIGN §1)."""
from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1  # a gate or a check failed
EXIT_USAGE = 2  # bad usage or bad descriptor
EXIT_UNAVAILABLE = 3  # could not evaluate: report missing, server unreachable, timeout


class PipegenError(Exception):
    """An error the CLI prints as one clean message (no traceback) and exits with."""

    exit_code = EXIT_USAGE


class UsageError(PipegenError):
    exit_code = EXIT_USAGE


class EvaluationError(PipegenError):
    """Something a gate needs could not be read or reached; gates fail closed with 3."""

    exit_code = EXIT_UNAVAILABLE


class CheckFailed(PipegenError):
    exit_code = EXIT_FAILED


@dataclass(frozen=True, order=True)
class Problem:
    """One finding in a descriptor, located where the user can jump to it."""

    file: str
    line: int  # 1-based
    col: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class DescriptorError(PipegenError):
    """Every problem found in a descriptor, reported together."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
