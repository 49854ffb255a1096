"""`pipegen init` in a repository of several Python projects: each folder that holds one is
inspected as `init` inspects a repository, and the starter descriptor declares them all under
`projects:` (pipegen.descriptor.projects), with the repository's targets and triggers once.

A repository is read as several projects when its root holds no Python project itself (no
pyproject.toml, setup.py, setup.cfg or requirements*.txt) and at least two folders, one or two
levels down, do. One such folder alone is the single-project layout init already knows (a
package in a subfolder)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipegen.init.starter import (
    Detection,
    _image_lines,
    _model_lines,
    _project_lines,
    _quality_lines,
    _target_lines,
    _test_lines,
    _trigger_lines,
)
from pipegen.paths import read_text

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
# Folders that never hold a project of the repository's own.
_SKIPPED = {"node_modules", "site-packages", "venv", "env", "build", "dist", "docs", "tests", "test", "examples",
            "__pycache__"}
_NAME_PART = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class FoundProject:
    name: str  # its key under projects:
    folder: str  # relative to the root, POSIX
    detection: Detection
    depends_on: tuple[str, ...] = ()


def holds_project(folder: Path) -> bool:
    return any((folder / name).is_file() for name in PROJECT_FILES) or any(folder.glob("requirements*.txt"))


def _candidates(root: Path) -> list[Path]:
    """Folders one or two levels down, in name order, hidden and tool folders left out."""
    def children(folder: Path) -> list[Path]:
        return sorted(child for child in folder.iterdir() if child.is_dir() and not child.is_symlink()
                      and not child.name.startswith(".") and child.name not in _SKIPPED)
    found = []
    for child in children(root):
        found.append(child)
        found += children(child)
    return found


def project_folders(root: Path) -> tuple[str, ...]:
    """The folders holding a Python project each (outermost only), when the root holds none and
    there are at least two; else ()."""
    if holds_project(root):
        return ()
    found: list[str] = []
    for candidate in _candidates(root):
        relative = candidate.relative_to(root).as_posix()
        if any(relative.startswith(f"{outer}/") for outer in found):
            continue
        if holds_project(candidate):
            found.append(relative)
    return tuple(found) if len(found) >= 2 else ()


def project_key(folder: str, taken: set[str]) -> str:
    """A project name from the folder's last part: lowercase letters, digits and '-', unique."""
    base = _NAME_PART.sub("-", folder.rsplit("/", 1)[-1].lower()).strip("-")
    base = re.sub(r"^[^a-z]+", "", base)[:36] or "project"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def dependencies(root: Path, folders: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Project -> the projects its requirements files install by relative path (`-e ../../libs/x`)."""
    found: dict[str, tuple[str, ...]] = {}
    for name, folder in folders.items():
        text = "\n".join(read_text(path, root=root) for path in sorted((root / folder).glob("requirements*.txt"))
                         if path.is_file() and not path.is_symlink())
        found[name] = tuple(other for other, other_folder in folders.items() if other != name
                            and re.search(rf"(^|[\s=]){re.escape(os.path.relpath(other_folder, folder))}/?(\s|$|\[)",
                                          text, re.MULTILINE))
    return found


def _indented(lines: list[str], spaces: int = 4) -> list[str]:
    return [f"{' ' * spaces}{line}" if line else "" for line in lines]


def _project_block(project: FoundProject) -> list[str]:
    detection = project.detection
    lines = [f"  {project.name}:", f"    folder: {project.folder}"]
    if project.depends_on:
        lines.append(f"    depends_on: [{', '.join(project.depends_on)}]  # its requirements install them by path")
    own = ["project:", f"  python: \"{detection.python.value}\"  # {detection.python.source}",
           *_project_lines(detection), *_test_lines(detection), *_quality_lines(detection),
           *_image_lines(detection), *_model_lines(detection)]
    return lines + _indented([line for line in own if line])


def render_projects(root: Detection, projects: list[FoundProject]) -> str:
    """The starter descriptor of several projects (deterministic: same repository, same text)."""
    lines = ["# pipegen.yaml: one descriptor for the CI pipelines of every project in this repository.",
             "# Written by `pipegen init` from what it found in each project's folder; edit freely.",
             "# Each project's jobs run in its folder, and only when it (or a project it depends on) changed.",
             "# `pipegen validate` checks it, `pipegen generate` writes the pipeline files.",
             "version: 1", *_target_lines(root), *_trigger_lines(root), "",
             f"projects:  # found {len(projects)} folders holding a Python project each"]
    for project in projects:
        lines += _project_block(project)
    return "\n".join(lines) + "\n"


def inspect_projects(root: Path, targets: tuple[str, ...], measure_lint: bool, *, repository_code: bool,
                     progress) -> tuple[Detection, list[FoundProject]] | None:
    """The repository's facts (targets, mainline) and each project's detection, or None when the
    repository is not several projects (see the module's docstring)."""
    # pylint: disable-next=import-outside-toplevel  # the starter's detection, as for one project
    from pipegen.init.starter import inspect_repository

    folders = project_folders(root)
    if not folders:
        return None
    repository = inspect_repository(root, targets, measure_lint=False, progress=progress)
    chosen = repository.targets
    names: dict[str, str] = {}
    for folder in folders:
        names[project_key(folder, set(names))] = folder
    depends = dependencies(root, names)
    projects = [FoundProject(name, folder, inspect_repository(root / folder, chosen, measure_lint,
                                                              repository_code=repository_code, progress=progress),
                             depends[name]) for name, folder in names.items()]
    return repository, projects
