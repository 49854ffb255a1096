"""pipegen's own linter environment: the linters at the versions the generated lint job installs
(`LINTER_REQUIREMENTS`), and nothing else, so what init measures is what the job will count.

On the project's Python version, as the lint job runs (pylint's checks and its reading of the standard
library depend on it): uv finds that interpreter or fetches one; without uv, `pythonX.Y` on PATH; else
pipegen's own Python, with pylint told the version (`--py-version`).

Made once per Python version and requirement set in pipegen's cache folder (`$PIPEGEN_CACHE_DIR`, else
`$XDG_CACHE_HOME/pipegen`, else `~/.cache/pipegen`), with uv when there is one (seconds) and with
venv and pip otherwise, and made again when it is older than `MAX_AGE_DAYS`, so its versions stay those a
job installs today (an old one is kept when it cannot be made again, offline). It is made in a temporary
folder and moved into place when complete, so two inits at once, or one stopped halfway, never leave a
broken environment behind. Nothing of the repository takes part: uv and pip run in the cache folder.
Without network (and without a cached copy of the linters) it cannot be made: init then says so, with
the command that would measure by hand.
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from pipegen.plan.jobs.lint import LINTER_REQUIREMENTS
from pipegen.run.venv import bin_dir, find_uv, uv_environment

RECORD = "pipegen-linters.json"
INSTALL_TIMEOUT = 900  # seconds: a slow index, never a hang
MAX_AGE_DAYS = 7  # the lint job installs the newest versions the requirements allow: so does a week-old init
_VERSIONS = ("import importlib.metadata as m, json, sys; print(json.dumps({'python': '%d.%d' % sys.version_info[:2], "
             "**{n: m.version(n) for n in sys.argv[1:]}}))")
# What a user runs to measure by hand: the tool's command as init runs it (never fixing).
_BY_HAND = {"ruff": "ruff check --no-fix", "pylint": "pylint --disable=import-error", "flake8": "flake8"}


class Unavailable(Exception):
    """The environment could not be made; the message says why in one line."""


@dataclass(frozen=True)
class LinterEnvironment:
    python: Path
    versions: dict[str, str] = field(default_factory=dict)  # linter -> version
    python_version: str = ""  # X.Y of `python`: the project's, or pipegen's own when none was found
    made: float = 0.0  # when (time.time())


def current_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get("PIPEGEN_CACHE_DIR"):
        return Path(environ["PIPEGEN_CACHE_DIR"])
    base = Path(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "pipegen"


def requirements() -> tuple[str, ...]:
    return tuple(LINTER_REQUIREMENTS[tool] for tool in sorted(LINTER_REQUIREMENTS))


def folder(python: str | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """Where the environment for this Python version (default: pipegen's own) and these requirements lives."""
    python = python or current_python()
    digest = hashlib.sha256("\n".join((python, *requirements())).encode("utf-8")).hexdigest()[:12]
    return cache_root(environ) / "linters" / f"py{python}-{digest}"


def _recorded(path: Path) -> LinterEnvironment | None:
    """The environment at `path` when it is complete (its record written last says so)."""
    try:
        record = json.loads((path / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    python = bin_dir(path) / "python"
    if not isinstance(record, dict) or record.get("requirements") != list(requirements()) or not python.exists():
        return None
    versions = dict(record.get("versions") or {})
    return LinterEnvironment(python, {tool: version for tool, version in versions.items() if tool != "python"},
                             str(versions.get("python", "")), float(record.get("made") or 0))


def _why(done: subprocess.CompletedProcess) -> str:
    """The failure in a line: the tool's first error, with its hint when it gives one (uv says "the network
    was disabled" there)."""
    lines = [line.strip() for line in (done.stderr or done.stdout or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    hints = [line for line in lines if line.lower().startswith("hint:")]
    why = errors[0] if errors else (lines[-1] if lines else f"exit {done.returncode}")
    return (f"{why} {hints[0]}" if hints else why)[:300]


def _run(argv: list[str], cwd: Path, env: Mapping[str, str], what: str) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False,
                              timeout=INSTALL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{what}: {exc}") from None
    if done.returncode != 0:
        raise Unavailable(f"{what}: {_why(done)}")
    return done


def _make(venv: Path, work: Path, uv: str | None, version: str) -> None:
    python = bin_dir(venv) / "python"
    if uv:
        env, links = uv_environment(os.environ)
        try:  # the project's version: installed, or fetched by uv
            _run([uv, "venv", "--quiet", "--python", version, str(venv)], work, env, "uv venv")
        except Unavailable:
            _run([uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)], work, env, "uv venv")
        _run([uv, "pip", "install", "--quiet", "--python", str(python), *links, *requirements()], work, env,
             "uv pip install")
    else:
        interpreter = sys.executable if version == current_python() else shutil.which(f"python{version}")
        _run([interpreter or sys.executable, "-m", "venv", str(venv)], work, os.environ, "python -m venv")
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements()], work,
             os.environ, "pip install")
    done = _run([str(python), "-I", "-c", _VERSIONS, *sorted(LINTER_REQUIREMENTS)], work, os.environ, "versions")
    record = {"requirements": list(requirements()), "versions": json.loads(done.stdout), "made": time.time()}
    (venv / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def uv_present() -> bool:
    return find_uv(os.environ) is not None


def ensure(on_make=None, python: str | None = None) -> LinterEnvironment:
    """The environment for Python `python` (X.Y; default pipegen's own), made first when it is not there yet or
    is older than MAX_AGE_DAYS (`on_make(how)` is told before, since it takes a while); Unavailable when it
    cannot be made (an old one is used then)."""
    version = python or current_python()
    final = folder(version)
    ready = _recorded(final)
    if ready is not None and time.time() - ready.made < MAX_AGE_DAYS * 86400:
        return ready
    uv = find_uv(os.environ)
    if on_make is not None:
        on_make(f"with {'uv' if uv else 'venv and pip'} for Python {version} in {final}")
    try:
        _make_in_place(final, uv, version)
    except Unavailable:
        if ready is None:
            raise
        return ready  # offline: last week's linters measure better than none
    ready = _recorded(final)
    if ready is None:
        raise Unavailable(f"{final} is not a complete linter environment")
    return ready


def _make_in_place(final: Path, uv: str | None, version: str) -> None:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".making-", dir=final.parent))
    except OSError as exc:
        raise Unavailable(f"cannot write {final.parent}: {exc.strerror or exc}") from None
    try:
        _make(work / "env", work, uv, version)
        if final.exists():  # an environment left incomplete by an earlier run, or an old one: moved aside first
            try:
                os.rename(final, work / "old")
            except OSError:
                pass  # another init moved it meanwhile
        try:
            os.rename(work / "env", final)
        except OSError:
            pass  # another init put one in place meanwhile: that one is used
    finally:
        shutil.rmtree(work, ignore_errors=True)


def by_hand(tool: str, targets: tuple[str, ...]) -> str:
    """One command that measures `tool` at the job's version (the user runs it, knowingly, in their repository)."""
    paths = " ".join(shlex.quote(target) for target in targets) or "."
    requirement = shlex.quote(LINTER_REQUIREMENTS[tool])
    if uv_present():
        return f"uvx --from {requirement} {_BY_HAND[tool]} {paths}"
    return f"python -m pip install {requirement} && python -m {_BY_HAND[tool]} {paths}"
