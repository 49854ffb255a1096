"""Errors users can act on, and the exit codes every command shares (DESIGN §1)."""
from __future__ import annotations

import functools
import re

from pipegen.records import record

EXIT_OK = 0
EXIT_FAILED = 1  # a gate or a check failed
EXIT_USAGE = 2  # bad usage or bad descriptor
EXIT_UNAVAILABLE = 3  # could not evaluate: report missing, server unreachable, timeout

SHOWN_CHARACTERS = 60  # of a value quoted in a message; the rest is counted, not echoed
MAX_MESSAGE = 400  # characters of one problem's message
MAX_PROBLEMS_SHOWN = 50  # a file with 10,000 unknown keys is not echoed key by key


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """One line a terminal shows as written: line breaks and control characters (an
    escape sequence from a hostile file) become visible escapes."""
    return _UNPRINTABLE.sub(lambda found: repr(found.group(0))[1:-1], text)


def shorten(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """Text of a value for a message, cut to a readable length (a 20,000-character
    value is not echoed back whole)."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


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


@functools.total_ordering
@record
class Problem:
    """One finding in a descriptor, located where the user can jump to it."""

    file: str
    line: int  # 1-based
    col: int  # 1-based
    message: str

    def __str__(self) -> str:
        message = self.message if len(self.message) <= MAX_MESSAGE else shorten(self.message, MAX_MESSAGE)
        return f"{self.file}:{self.line}:{self.col}: {printable(message)}"

    def __lt__(self, other: Problem) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.file, self.line, self.col, self.message) < (other.file, other.line, other.col, other.message)


class DescriptorError(PipegenError):
    """Every problem found in a descriptor, reported together."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        shown = [str(problem) for problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"{self.problems[0].file}: ... and {len(self.problems) - MAX_PROBLEMS_SHOWN} more problems")
        super().__init__("\n".join(shown))
