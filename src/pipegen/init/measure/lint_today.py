"""Where the repository's code stands today with each linter it uses: the issue counts (and pylint's
score) init turns into thresholds the repository passes now.

Measured harmlessly (see pipegen.init.measure): in a throw-away copy, with pipegen's own linter
environment (the versions the lint job installs), in Python's isolated mode, without the settings
that run repository code. `repository_code=True` (init's `--run-repository-code`) measures as the
repository's own setup would instead: the linters installed where pipegen runs, the settings as they
are, plugins and hooks included; still in a copy, so no file of the repository changes.
"""
from __future__ import annotations

import importlib.util
import math
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pipegen.errors import EvaluationError, PipegenError
from pipegen.init.measure import environment
from pipegen.init.measure.configs import Settings, flake8_settings, pylint_settings
from pipegen.init.measure.imports import unseen_imports
from pipegen.init.measure.workspace import copy_for_linting
from pipegen.paths import read_bytes


class Progress:
    """Where init says what it is doing while it measures (tens of seconds on a large repository): `begin`
    starts a line as a step starts, `end` finishes it. This one says nothing."""

    def begin(self, text: str) -> None:
        """A step starts."""

    def end(self, text: str) -> None:
        """The step begun last is done."""

    def line(self, text: str) -> None:
        self.begin(text)
        self.end("")


QUIET = Progress()


@dataclass(frozen=True)
class LintToday:
    tool: str
    issues: int | None = None  # None: not measured
    score: float | None = None  # pylint only
    why: str = ""  # what was found, or why not; never starts with the tool's name
    # Why the figure may not be the lint job's (it sees what the measurement could not: the project's
    # dependencies, plugins); "" when it is.
    partial: str = ""

    @property
    def clean(self) -> bool:
        """Measured, and nothing found, with everything the job will see."""
        return self.issues == 0 and not self.partial

    @property
    def score_floor(self) -> float | None:
        """Today's pylint score rounded down to one decimal: a bar today's code meets."""
        return None if self.score is None else math.floor(self.score * 10) / 10


def _isolated_env(home: Path) -> dict[str, str]:
    """The linters' environment variables: no Python or pylint settings of the caller's, and a home of their
    own, so neither a user's ~/.config/ruff nor ~/.pylintrc changes the figures, and nothing is cached there."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "PYLINT", "RUFF_", "FLAKE8")) and key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PYLINTHOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA"):
        env[key] = str(home)
    return env


def _with_left_out(why: str, settings: Settings) -> str:
    if not settings.left_out:
        return why
    return f"{why} (without {', '.join(settings.left_out)} from {settings.source}: they run repository code, " \
           "--run-repository-code uses them)"


def _pylint_partial(copy: Path, paths: list[Path], settings: Settings) -> str:
    """Why pylint's score here may be above the lint job's ('' when the job sees nothing more)."""
    unseen = unseen_imports(copy, paths)
    reasons = [f"{_some(unseen)}, which the lint job installs (pylint may find more through "
               f"{'them' if len(unseen) > 1 else 'it'} there)"] if unseen else []
    if any(option in ("init-hook", "load-plugins") for option in settings.left_out):
        reasons.append("the repository's init-hook or plugins, which the lint job runs")
    return f"measured without {' and '.join(reasons)}" if reasons else ""


def _some(names: tuple[str, ...], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _run_tool(tool: str, copy: Path, paths: list[Path], interpreter, scratch: Path | None,
              py_version: str | None = None) -> LintToday:
    # pylint: disable=import-outside-toplevel  # the gate module is only needed when init measures
    from pipegen.gates import lint
    from pipegen.gates.report_formats import PYLINT_ARGS

    if tool == "pylint":
        settings = pylint_settings(copy, scratch) if scratch else Settings(None)
        told = (f"--py-version={py_version}",) if py_version and not _sets_py_version(settings) else ()
        args = (*PYLINT_ARGS, "--persistent=n", *told, *((f"--rcfile={settings.path}",) if settings.path else ()))
        report = lint.run_pylint(paths, args, cwd=copy, interpreter=interpreter)  # as the lint job runs it
        return LintToday(tool, len(report.issues), report.score,
                         _with_left_out(f"{_count(len(report.issues), 'message')}, score {report.score:.2f}", settings),
                         partial=_pylint_partial(copy, paths, settings) if scratch else "")
    if tool == "flake8":
        settings = flake8_settings(copy) if scratch else Settings(None, "as found")
        args = (f"--config={settings.path}",) if settings.path else (("--isolated",) if scratch else ())
        count = len(lint.run_flake8(paths, args, cwd=copy, interpreter=interpreter).issues)
        return LintToday(tool, count, why=_with_left_out(_count(count, "issue"), settings))
    args = ("--no-cache",)
    count = len(lint.run_ruff(paths, args, cwd=copy, interpreter=interpreter))
    return LintToday(tool, count, why=_count(count, "issue"))


def _sets_py_version(settings: Settings) -> bool:
    """The repository's pylint settings name the Python version themselves (the job's pylint reads it too)."""
    if settings.path is None:
        return False
    try:
        return b"py-version" in read_bytes(settings.path, root=settings.path.parent)
    except PipegenError:
        return False


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _interpreter(tools: tuple[str, ...], targets: tuple[str, ...], repository_code: bool, home: Path,
                 progress: Progress, python: str | None = None):
    """(how to start the linters, the Python version pylint must be told when theirs is not the project's, or a
    LintToday per tool saying why they were not measured)."""
    # pylint: disable-next=import-outside-toplevel
    from pipegen.gates.lint import Interpreter

    if repository_code:
        missing = [tool for tool in tools if importlib.util.find_spec(tool) is None]
        not_measured = {tool: LintToday(tool, why=(
            f"not measured: not installed for {sys.executable} (--run-repository-code measures with the linters "
            f"installed there): python -m pip install {shlex.quote(environment.LINTER_REQUIREMENTS[tool])}"
        )) for tool in missing}
        return Interpreter((sys.executable, "-B"), None), None, not_measured
    started, making = time.monotonic(), []

    def announce(how: str) -> None:
        making.append(how)
        progress.begin(f"  making pipegen's linter environment {how} (once: the versions the lint job installs) ...")
    try:
        linters = environment.ensure(on_make=announce, python=python)
    except environment.Unavailable as exc:
        if making:
            progress.end(f"failed ({time.monotonic() - started:.1f} s)")
        return None, None, {tool: LintToday(tool, why=f"not measured: pipegen could not make its linter environment "
                                                      f"({exc}); to measure by hand: "
                                                      f"{environment.by_hand(tool, targets)}")
                            for tool in tools}
    if making:
        progress.end(f"done ({time.monotonic() - started:.1f} s)")
    told = python if python and linters.python_version != python else None
    progress.line(f"  with {_versions(linters, tools)} on Python {linters.python_version}"
                  + (f" (pylint told {python}: no Python {python} found)" if told else "")
                  + ", as the lint job installs them")
    return Interpreter((str(linters.python), "-I", "-B"), _isolated_env(home), installed_here=False), told, {}


def _versions(linters: environment.LinterEnvironment, tools: tuple[str, ...]) -> str:
    return ", ".join(f"{tool} {linters.versions[tool]}" for tool in tools if tool in linters.versions)


def measure(root: Path, tools: tuple[str, ...], targets: tuple[str, ...], *, repository_code: bool = False,
            progress: Progress = QUIET, python: str | None = None) -> dict[str, LintToday]:
    """Each of `tools` on `targets` (the whole repository when none), in a throw-away copy of `root`, with the
    linters on Python `python` (X.Y, the project's; default pipegen's own)."""
    if not tools:
        return {}
    with tempfile.TemporaryDirectory(prefix="pipegen-init-") as scratch_name:
        scratch = Path(scratch_name)
        for folder in ("home", "settings", "repository"):
            (scratch / folder).mkdir()
        # From here `python` is the version pylint is told: None when the linters run on the project's own.
        interpreter, python, found = _interpreter(tools, targets, repository_code, scratch / "home", progress, python)
        if interpreter is None:
            return found
        copy = scratch / "repository"
        progress.begin("  copying the files the linters read to a throw-away folder (the repository is not touched)"
                       " ...")
        started = time.monotonic()
        # The repository's own plugins and hooks may read anything (a plugins folder, a path an init-hook adds).
        progress.end(f"{copy_for_linting(root, () if repository_code else targets, copy)} files "
                     f"({time.monotonic() - started:.1f} s)")
        paths = [Path(target) for target in targets] or [Path(".")]
        for tool in (tool for tool in tools if tool not in found):
            progress.begin(f"  {tool} ...")
            started = time.monotonic()
            try:
                found[tool] = _run_tool(tool, copy, paths, interpreter,
                                        None if repository_code else scratch / "settings", python)
            except EvaluationError as exc:
                found[tool] = LintToday(tool, why=f"could not measure the code: {str(exc)[:200]}")
            progress.end(f"{found[tool].why} ({time.monotonic() - started:.1f} s)"
                         + (f"; {found[tool].partial}" if found[tool].partial else ""))
    return {tool: found[tool] for tool in tools}
