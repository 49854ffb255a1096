"""Training entry points: an MLproject's entry points, train.py at the root, src/<pkg>/train.py."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from pipegen.descriptor.yaml_positions import load_bounded
from pipegen.detect.files import read_text

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
    if (root / "train.py").is_file():
        return Training("python train.py", "train.py")
    for script in sorted((root / "src").glob("*/train.py")) if (root / "src").is_dir() else ():
        package = script.parent.name
        if package.isidentifier():
            return Training(f"PYTHONPATH=src python -m {package}.train", f"src/{package}/train.py")
    return None
