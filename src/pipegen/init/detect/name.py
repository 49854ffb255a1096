"""The project's name: what its packaging metadata (or MLproject) declares, else the folder."""
from __future__ import annotations

import re
from pathlib import Path

from pipegen.init.detect import Finding
from pipegen.init.detect.install import package_folder
from pipegen.project_files import read_ini, read_text, read_toml, setup_py_arguments, table

_PROJECT_NAME_JUNK = re.compile(r"[^A-Za-z0-9._-]+")
_MLPROJECT_NAME = re.compile(r"^name:\s*['\"]?(?P<name>[^'\"#\n]+?)['\"]?\s*(?:#.*)?$", re.MULTILINE)


def sanitise_project_name(text: str) -> str:
    """Letters, digits, '.', '_' and '-' only (PEP 508 names already are); never empty."""
    name = _PROJECT_NAME_JUNK.sub("-", text.strip()).strip("-._")
    return name or "project"


def project_name(root: Path, pyproject: dict) -> Finding:
    """pyproject [project] / [tool.poetry], setup.cfg [metadata], setup.py (at the root, then in the one
    subfolder that is a package), MLproject, folder."""
    candidates = [
        (table(pyproject, "project").get("name"), "pyproject.toml [project]"),
        (table(pyproject, "tool", "poetry").get("name"), "pyproject.toml [tool.poetry]"),
        (read_ini(root / "setup.cfg").get("metadata", "name", fallback=None), "setup.cfg [metadata]"),
        (setup_py_arguments(root).get("name"), "setup.py setup(name=...)"),
    ]
    folder = package_folder(root)
    if folder not in (None, "."):  # the package lives in a subfolder (src/setup.py, backend/pyproject.toml)
        inner = read_toml(root / folder / "pyproject.toml")
        candidates += [
            (table(inner, "project").get("name"), f"{folder}/pyproject.toml [project]"),
            (table(inner, "tool", "poetry").get("name"), f"{folder}/pyproject.toml [tool.poetry]"),
            (read_ini(root / folder / "setup.cfg").get("metadata", "name", fallback=None),
             f"{folder}/setup.cfg [metadata]"),
            (setup_py_arguments(root / folder).get("name"), f"{folder}/setup.py setup(name=...)"),
        ]
    if (root / "MLproject").is_file():
        match = _MLPROJECT_NAME.search(read_text(root / "MLproject"))
        candidates.append((match.group("name") if match else None, "MLproject name"))
    for declared, where in candidates:
        if isinstance(declared, str) and declared.strip() and "{" not in declared:
            return Finding(sanitise_project_name(declared), where)
    return Finding(sanitise_project_name(root.resolve().name), "the folder name")
