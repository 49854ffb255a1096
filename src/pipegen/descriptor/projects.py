"""Several projects in one repository: a root descriptor's `projects:` mapping.

Each project is an ordinary descriptor once merged: the root's sections (everything but
`projects`) are the shared settings, and a project's own sections override them key by key
(mappings merge, any other value replaces). So every check, default and job builder of a
one-project descriptor applies to each project unchanged, and every problem is reported where
it was written (a project's key, or the shared key it inherited)."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path, PurePosixPath
from typing import Any

from pipegen.descriptor.model import Descriptor
from pipegen.descriptor.schema import dotted
from pipegen.descriptor.yaml_positions import KEY
from pipegen.errors import Problem
from pipegen.records import record

# The keys a project block may hold: where it lives and what it shares, and the sections it may override.
PROJECT_KEYS = ("folder", "depends_on", "paths")
PROJECT_SECTIONS = ("project", "tests", "quality", "model", "image", "environments", "jobs", "data")
# Shared by the whole repository: one pipeline file per platform has one set of these.
ROOT_ONLY = ("version", "targets", "triggers", "settings", "report")
# Platforms whose pipeline can hold several projects today.
PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


@record
class ProjectEntry:
    """One project of a repository: its folder (relative to the root, POSIX), what it depends
    on (other projects), the shared paths whose change concerns it, and its own descriptor."""

    name: str
    folder: str
    descriptor: Descriptor
    depends_on: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@record
class ProjectSet:
    """A root descriptor declaring several projects."""

    path: Path
    projects: tuple[ProjectEntry, ...]

    def project(self, name: str) -> ProjectEntry | None:
        return next((entry for entry in self.projects if entry.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.projects)

    @property
    def first(self) -> Descriptor:
        """The descriptor holding the shared settings (targets, triggers, settings are the same in all)."""
        return self.projects[0].descriptor

    def dependants(self, name: str) -> tuple[str, ...]:
        """The projects that depend on `name`, directly or through others, in declared order."""
        found: set[str] = set()
        changed = True
        while changed:
            changed = False
            for entry in self.projects:
                if entry.name not in found and (name in entry.depends_on or found & set(entry.depends_on)):
                    found.add(entry.name)
                    changed = True
        return tuple(entry.name for entry in self.projects if entry.name in found)


def deep_merge(shared: Any, own: Any) -> Any:
    """`own` over `shared`: mappings merge key by key, anything else replaces."""
    if isinstance(shared, dict) and isinstance(own, dict):
        merged = dict(shared)
        for key, value in own.items():
            merged[key] = deep_merge(shared[key], value) if key in shared else value
        return merged
    return own


def project_data(data: dict, name: str) -> dict:
    """The descriptor of project `name`: the root's shared sections under the project's own."""
    shared = {key: value for key, value in data.items() if key != "projects"}
    block = data["projects"][name]
    own = {key: value for key, value in block.items() if key not in PROJECT_KEYS}
    merged = deep_merge(shared, own)
    project = merged.get("project")
    if project is None or isinstance(project, dict):
        merged["project"] = {"name": name, **(project or {})}
    return merged


def project_positions(positions: dict, name: str) -> dict:
    """Positions of the merged descriptor: the project's own where it wrote the key, else the root's."""
    merged = {path: place for path, place in positions.items() if not path or path[0] != "projects"}
    prefix = ("projects", name)
    for path, place in positions.items():
        if path[:2] == prefix and len(path) > 2:
            merged[path[2:]] = place
    merged.setdefault(("project", "name"), positions.get((*prefix, KEY), (1, 1)))
    return merged


def _at(positions: dict, path: tuple, filename: str, message: str) -> Problem:
    while path and path not in positions:
        path = path[:-1]
    line, col = positions.get(path, (1, 1))
    return Problem(filename, line, col, message)


def _folder_problem(folder: Any) -> str | None:
    if not isinstance(folder, str) or not folder.strip():
        return "give the project's folder, relative to the repository root"
    pure = PurePosixPath(folder)
    if pure.is_absolute() or "\\" in folder or ".." in pure.parts:
        return f"{folder!r} must be a relative folder inside the repository (no '..', no absolute path)"
    return None


def normal_folder(folder: str) -> str:
    return posixpath.normpath(folder)


def shape_problems(data: dict, positions: dict, filename: str) -> list[Problem]:
    """The `projects:` mapping itself: names, folders (one project per folder), keys, and
    dependencies (known projects, no cycle). The sections are checked per project afterwards."""
    projects = data.get("projects")
    if not isinstance(projects, dict) or not projects:
        return [_at(positions, ("projects",), filename, "projects: a mapping of project name -> {folder: ..., ...}")]
    problems = []
    if "project" in data and isinstance(data["project"], dict) and "name" in data["project"]:
        problems.append(_at(positions, ("project", "name"), filename, "project.name: with projects:, each project "
                            "is named by its key under projects (the root's project block holds shared settings)"))
    owners: dict[str, str] = {}
    for name, block in projects.items():
        problems += _block_problems(name, block, projects, owners, positions, filename)
    return problems or _cycle_problems(projects, positions, filename)


def _block_problems(name: Any, block: Any, projects: dict, owners: dict[str, str], positions: dict,
                    filename: str) -> list[Problem]:
    """One project block: its name, keys, folder (not another project's: `owners`) and dependencies."""
    here = ("projects", name)
    if not isinstance(name, str) or not PROJECT_NAME.match(name):
        return [_at(positions, (*here, KEY), filename, f"projects: {name!r} is not a project name "
                    "(lowercase letters, digits and '-', starting with a letter, at most 40)")]
    if not isinstance(block, dict):
        return [_at(positions, here, filename, f"projects.{name}: a mapping with at least folder")]
    problems = []
    for key in block:
        if key not in PROJECT_KEYS + PROJECT_SECTIONS:
            shared = " (shared by every project: write it at the root)" if key in ROOT_ONLY else ""
            problems.append(_at(positions, (*here, key, KEY), filename,
                                f"projects.{name}: unknown key {key!r}{shared}"))
    error = _folder_problem(block.get("folder"))
    if error:
        problems.append(_at(positions, (*here, "folder"), filename, f"projects.{name}.folder: {error}"))
    else:
        folder = normal_folder(block["folder"])
        if folder in owners:
            problems.append(_at(positions, (*here, "folder"), filename, f"projects.{name}.folder: {folder} is "
                                f"already the folder of project {owners[folder]} (one project per folder)"))
        owners.setdefault(folder, name)
    problems += _list_problems(block, here, positions, filename)
    for index, other in enumerate(block.get("depends_on") or ()):
        if isinstance(other, str) and other not in projects:
            problems.append(_at(positions, (*here, "depends_on", index), filename,
                                f"{dotted((*here, 'depends_on', index))}: no project named {other!r} "
                                f"(known: {', '.join(str(key) for key in projects)})"))
    return problems


def _list_problems(block: dict, here: tuple, positions: dict, filename: str) -> list[Problem]:
    problems = []
    for key in ("depends_on", "paths"):
        value = block.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(item, str) for item in value)):
            problems.append(_at(positions, (*here, key), filename, f"{dotted((*here, key))}: a list of "
                                + ("project names" if key == "depends_on" else "path globs")))
    return problems


def _cycle_problems(projects: dict, positions: dict, filename: str) -> list[Problem]:
    """A project that depends on itself, directly or through others: reported once, on the first edge."""
    graph = {name: list(block.get("depends_on") or ()) for name, block in projects.items()}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> list[str] | None:
        state[name] = 1
        for other in graph[name]:
            if state.get(other) == 1:
                return [*trail[trail.index(other):], other]
            if state.get(other) is None:
                found = visit(other, [*trail, other])
                if found:
                    return found
        state[name] = 2
        return None

    for name in graph:
        if state.get(name) is None:
            cycle = visit(name, [name])
            if cycle:
                first = cycle[0]
                index = graph[first].index(cycle[1])
                return [_at(positions, ("projects", first, "depends_on", index), filename,
                            f"projects.{first}.depends_on: a cycle: {' -> '.join(cycle)}")]
    return []
