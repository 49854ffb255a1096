"""The console examples of the documentation (README.md and docs/): each ```console block is
preceded by a marker naming the example project it runs in, `<!-- console-example: churn -->`.
Its `$ ` lines are commands; the lines after each, up to the next `$ `, are what it prints
(stdout and stderr together). tests/docs/test_console_examples.py runs every block in a fresh
git copy of that example and compares, after `normalise`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- console-example: ([a-z][a-z0-9-]*) -->$")
FENCE = re.compile(r"^```console\s*$")


@dataclass(frozen=True)
class Command:
    line: int  # where the command is written, 1-based
    text: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # the fence's line, 1-based
    example: str | None  # None: the block has no marker
    commands: tuple[Command, ...]

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documentation_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    index = 0
    while index < len(lines):
        if not FENCE.match(lines[index]):
            index += 1
            continue
        marker = MARKER.match(lines[index - 1]) if index else None
        end = next(position for position in range(index + 1, len(lines)) if lines[position].startswith("```"))
        found.append(Block(path, index + 1, marker.group(1) if marker else None,
                           _commands(lines[index + 1:end], index + 2)))
        index = end + 1
    return found


def _commands(body: list[str], first_line: int) -> tuple[Command, ...]:
    commands: list[Command] = []
    for offset, text in enumerate(body):
        if text.startswith("$ "):
            commands.append(Command(first_line + offset, text[2:], ()))
        elif commands:
            last = commands[-1]
            commands[-1] = Command(last.line, last.text, (*last.expected, text))
    return tuple(commands)


_COMMIT = re.compile(r"\b[0-9a-f]{12}(?:[0-9a-f]{28})?\b")
_DURATION = re.compile(r"\bin \d+(?:\.\d+)?s\b")
_STEP_DURATION = re.compile(r"\(\d+(?:\.\d+)? s\)")  # init's progress: "flake8 ... 0 issues (0.7 s)"
# The linters' versions are the newest in the lint job's pinned ranges on the day the example runs.
_LINTER_VERSION = re.compile(r"\b(pylint|flake8|ruff) \d+\.\d+(?:\.\d+)?\b")
# A generated file's body hash, and git's blob ids and hunk line numbers in a diff of one, change with
# every change to what pipegen writes elsewhere in the file; the lines a page shows are still compared.
_BODY_HASH = re.compile(r"(pipegen-body-sha256: )[0-9a-f]{64}\b")
_BLOB_IDS = re.compile(r"^index [0-9a-f]{7,40}\.\.[0-9a-f]{7,40}", re.MULTILINE)
_HUNK_LINES = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@", re.MULTILINE)


def normalise(text: str, workdir: Path | None = None, home: Path | None = None) -> list[str]:
    """What may differ between two runs of the same example, or after pipegen's output changes elsewhere:
    commit and blob ids, body hashes, a diff's line numbers, durations, linter versions, the copy's
    folder (shown as .) and the home folder (shown as ~)."""
    if workdir is not None:
        text = text.replace(str(workdir), ".")
    if home is not None:
        text = text.replace(str(home), "~")
    text = _BLOB_IDS.sub("index <blob>..<blob>", _BODY_HASH.sub(r"\1<sha256>", text))
    text = _HUNK_LINES.sub("@@ <lines> @@", text)
    text = _DURATION.sub("in <duration>", _COMMIT.sub("<commit>", text))
    text = _LINTER_VERSION.sub(r"\1 <version>", _STEP_DURATION.sub("(<duration>)", text))
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines
