"""Reading a generated install script back: what it installs into the job's Python and into
pipegen's own venv, whichever installer (uv or pip) writes the lines."""
from __future__ import annotations

import shlex

# Options of `uv pip install` / `pip install` that take a value (the value is not a package).
_VALUED = {"-r", "--requirement", "--python", "--index-url", "--target", "-c", "--constraint"}


def _lines(script: str) -> list[list[str]]:
    """The script's commands as words, comments and continuation lines folded."""
    words = []
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.append(shlex.split(line))
    return words


def _installs(words: list[str]) -> bool:
    return "install" in words and "pip" in words[:words.index("install")]


def target(words: list[str]) -> str:
    """Where an install line installs: `job` (the job's Python), `pipegen` (its own venv) or `uv` (uv itself)."""
    if "--target" in words:
        return "uv"
    python = words[words.index("--python") + 1] if "--python" in words else words[0]
    return "pipegen" if python.startswith("$pipegen_home/venv") else "job"


def installed(script: str, where: str = "job") -> dict[str, list[str]]:
    """{"requirements": [-r files], "packages": [specifiers], "editable": [-e paths]} installed into `where`."""
    found: dict[str, list[str]] = {"requirements": [], "packages": [], "editable": []}
    for words in _lines(script):
        if not _installs(words) or target(words) != where:
            continue
        rest = iter(words[words.index("install") + 1:])
        for word in rest:
            if word in ("-r", "--requirement"):
                found["requirements"].append(next(rest))
            elif word in ("-e", "--editable"):
                found["editable"].append(next(rest))
            elif word in _VALUED:
                next(rest)
            elif not word.startswith("-"):
                found["packages"].append(word)
    return found


def pipegen_lines(script: str) -> list[list[str]]:
    """The install lines naming pipegen-ci."""
    return [words for words in _lines(script) if _installs(words) and any("pipegen-ci" in word for word in words)]
