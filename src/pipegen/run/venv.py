"""A fresh venv per job, made with the plan's Python when this machine has it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pipegen.errors import EvaluationError


def interpreter(version: str) -> tuple[str, str | None]:
    """(python executable, a note when it is not the plan's version): `python<version>`
    from PATH, else the Python running pipegen."""
    found = shutil.which(f"python{version}")
    if found:
        return found, None
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    if current == version:
        return sys.executable, None
    return sys.executable, (f"python{version} is not on PATH: job venvs use this Python ({current}, "
                            f"{sys.executable}) instead")


def create(python: str, path: Path) -> Path:
    done = subprocess.run([python, "-m", "venv", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EvaluationError(f"could not create a venv with {python}: {done.stderr.strip() or done.stdout.strip()}")
    return path


def bin_dir(path: Path) -> Path:
    return path / ("Scripts" if sys.platform == "win32" else "bin")
