"""Training entry points: an MLproject's entry points, train.py at the root, src/train.py,
src/<pkg>/train.py, <pkg>/train.py."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipegen.descriptor.yaml_positions import load_bounded
from pipegen.init.detect import Finding
from pipegen.project_files import read_text

TRAINING_NAMES = ("main", "train", "training")


@dataclass(frozen=True)
class Training:
    """A training entry point found on disk, and the command that would run it in CI."""

    command: str
    found: str


def _entry_points(root: Path) -> list[str]:
    try:
        data = load_bounded(read_text(root / "MLproject"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return []
    points = data.get("entry_points") if isinstance(data, dict) else None
    return [str(name) for name in points] if isinstance(points, dict) else []


def find_training(root: Path) -> Training | None:
    """`mlflow run .` only runs the `main` entry point; another name is asked for with -e,
    and an MLproject with none of the usual names gets no command (init lists them)."""
    if (root / "MLproject").is_file():
        points = _entry_points(root)
        if "main" in points:
            return Training("mlflow run . --env-manager local", "MLproject entry point main")
        chosen = next((name for name in TRAINING_NAMES if name in points), None)
        if chosen:
            return Training(f"mlflow run . -e {chosen} --env-manager local", f"MLproject entry point {chosen}")
        listed = ", ".join(points) or "none"
        return Training("mlflow run . -e ENTRY_POINT --env-manager local",
                        f"MLproject (entry points: {listed}; pick the one that trains)")
    return _training_script(root)


def _training_script(root: Path) -> Training | None:
    """train.py at the root, src/train.py, src/<pkg>/train.py, <pkg>/train.py (a package at the root)."""
    if (root / "train.py").is_file():
        return Training("python train.py", "train.py")
    if (root / "src" / "train.py").is_file():
        return Training("python src/train.py", "src/train.py")
    for script in sorted((root / "src").glob("*/train.py")) if (root / "src").is_dir() else ():
        package = script.parent.name
        if package.isidentifier():
            return Training(f"PYTHONPATH=src python -m {package}.train", f"src/{package}/train.py")
    for script in sorted(root.glob("*/train.py")):  # a package at the root: <pkg>/train.py
        package = script.parent.name
        if package.isidentifier() and (script.parent / "__init__.py").is_file():
            return Training(f"python -m {package}.train", f"{package}/train.py")
    return None


# --- the environment an MLproject declares -----------------------------------------------------

_PIP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?\s*([<>=!~]=?\s*[0-9][0-9A-Za-z.*+!-]*"
                       r"(\s*,\s*[<>=!~]=?\s*[0-9][0-9A-Za-z.*+!-]*)*)?$")
_CONDA_PYTHON = re.compile(r"^python\s*[=<>~!]*\s*(?P<version>3\.\d{1,2})")


def _mlproject_env_file(root: Path) -> tuple[str, str] | None:
    """(kind, file) of the environment the MLproject names: python_env or conda_env."""
    try:
        data = load_bounded(read_text(root / "MLproject"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return None
    for kind in ("python_env", "conda_env"):
        name = data.get(kind) if isinstance(data, dict) else None
        if isinstance(name, str) and _SAFE_FILE.match(name) and (root / name).is_file():
            return kind, name
    return None


_SAFE_FILE = re.compile(r"^[A-Za-z0-9._/-]+\.ya?ml$")


def _environment(root: Path) -> tuple[str, str, list, str | None] | None:
    """(kind, file, pip requirements, python version) from the MLproject's environment file."""
    found = _mlproject_env_file(root)
    if found is None:
        return None
    kind, name = found
    try:
        data = load_bounded(read_text(root / name))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    entries = data.get("dependencies") if isinstance(data.get("dependencies"), list) else []
    python = None
    requirements: list[str] = []
    if kind == "python_env":
        python = str(data["python"]) if isinstance(data.get("python"), (str, float)) else None
        requirements = [str(entry) for entry in entries if isinstance(entry, str)]
    else:
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("pip"), list):
                requirements += [str(item) for item in entry["pip"] if isinstance(item, str)]
            elif isinstance(entry, str) and (match := _CONDA_PYTHON.match(entry)):
                python = match.group("version")
            elif isinstance(entry, str) and entry.split("=")[0].strip() not in ("python", "pip"):
                # conda's `name=1.2` pins are pip's `name==1.2`; most conda names are PyPI names too.
                requirements.append(re.sub(r"(?<![<>=!~])=(?!=)", "==", entry.strip()))
    return kind, name, requirements, python


def mlproject_install(root: Path) -> Finding | None:
    """`pip install` of what the MLproject's python_env/conda file lists (-r files included)."""
    found = _environment(root)
    if found is None or not found[2]:
        return None
    _, name, requirements, _ = found
    args = []
    for requirement in requirements:
        if requirement.startswith("-r "):
            path = requirement[3:].strip()
            if not re.match(r"^[A-Za-z0-9._/-]+$", path):
                return None
            args.append(f"-r {shlex.quote(path)}")
        elif _PIP_NAME.match(requirement.strip()):
            args.append(shlex.quote(requirement.strip()))
        else:
            return None  # something pip may not read the same way: leave the install to the user
    return Finding(f"python -m pip install {' '.join(args)}", f"{name} (the MLproject's environment)")


def mlproject_python(root: Path) -> Finding | None:
    found = _environment(root)
    if found is None or not found[3]:
        return None
    match = re.match(r"^3\.(\d{1,2})", found[3])
    return Finding(f"3.{int(match.group(1))}", f"{found[1]} python {found[3]}") if match else None
