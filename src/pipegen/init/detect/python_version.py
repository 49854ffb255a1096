"""Which Python the project runs on, from the most explicit evidence to the least:
.python-version (the team's pin), the Dockerfile's base image (what production runs),
existing CI files, requires-python / python_requires (the lowest supported), tox's envlist."""
from __future__ import annotations

import re
from pathlib import Path

from pipegen.init.detect import Finding
from pipegen.init.detect.ci_competition import Mainline, github_workflow
from pipegen.init.detect.install import package_folder
from pipegen.init.detect.layout import code_folder
from pipegen.project_files import read_ini, read_text, read_toml, setup_py_arguments, table

DEFAULT_PYTHON = "3.11"
_VERSION = re.compile(r"(?<![\d.])3\.(?P<minor>\d{1,2})(?![\d])")
_LOWER_BOUND = re.compile(r"^\s*(?:>=|~=|==|\^|~)\s*3\.(?P<minor>\d{1,2})(?:\.[\d*]+)*\s*$")
_UPPER_BOUND = re.compile(r"^\s*(?:<|<=|!=)\s*\d+(?:\.[\d*]+)*\s*$")
_DOCKER_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(?:\S+/)?python:(?P<minor>3\.\d{1,2})", re.MULTILINE | re.I)
# CI file -> the key whose value names the Python (a version, a flow list or a block list).
_CI_PATTERNS = (
    (".github/workflows", re.compile(r"python-version:")),
    (".gitlab-ci.yml", re.compile(r"image:\s*['\"]?(?:\S+/)?python:")),
    ("azure-pipelines.yml", re.compile(r"versionSpec:")),
    ("Jenkinsfile", re.compile(r"python:")),
    (".travis.yml", re.compile(r"^python:", re.MULTILINE)),
)
_MATRIX_REFERENCE = re.compile(r"python-version:\s*['\"]?\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}")
_TOX_ENV = re.compile(r"\bpy3(?P<minor>\d{1,2})\b")


def _short(version: str) -> str:
    match = _VERSION.search(version)
    return f"3.{int(match.group('minor'))}" if match else ""


def _from_python_version_file(root: Path) -> Finding | None:
    for line in read_text(root / ".python-version").splitlines():
        if line.strip() and not line.strip().startswith("#"):
            version = _short(line.strip())
            return Finding(version, f".python-version ({line.strip()})") if version and \
                line.strip()[0].isdigit() else None
    return None


def _from_dockerfile(root: Path) -> Finding | None:
    """The root's Dockerfile, else that of the subfolder holding the code and its tests (project/Dockerfile)."""
    for folder in dict.fromkeys((".", code_folder(root) or ".")):
        dockerfile = "Dockerfile" if folder == "." else f"{folder}/Dockerfile"
        if match := _DOCKER_FROM.search(read_text(root / dockerfile)):
            return Finding(_short(match.group("minor")), f"{dockerfile} FROM python image")
    return None


def _ci_versions(text: str, key: re.Pattern) -> set[str]:
    """Versions named where `key` occurs: on the same line (`3.11`, `['3.10', '3.11']`,
    `python:3.12-slim`) and in a block list right below it (`- "3.10"`)."""
    found: set[str] = set()
    keys = [key]
    # `python-version: ${{ matrix.python }}`: the versions are listed under the matrix's own key.
    keys += [re.compile(rf"^\s*{re.escape(name)}:", re.MULTILINE) for name in _MATRIX_REFERENCE.findall(text)]
    for pattern in keys:
        for match in pattern.finditer(text):
            rest = text[match.end():].split("\n")
            values = [rest[0]] + _list_items(rest[1:])
            found |= {_short(m.group(0)) for value in values for m in _VERSION.finditer(value.split("#")[0])}
    return found


def _list_items(lines: list[str]) -> list[str]:
    items = []
    for line in lines:
        if not line.strip().startswith("- "):
            break
        items.append(line)
    return items


def _test_workflows(root: Path, folder: Path) -> list[Path]:
    """The workflows that test the mainline: a release, docs, scheduled or downstream workflow
    may build on any Python, and says nothing about the one the code must run on."""
    mainline = Mainline(("main", "master"))
    return [file for file in sorted(folder.glob("*.y*ml"))
            if github_workflow(root, file.relative_to(root).as_posix(), mainline).competes]


def _from_test_workflows(root: Path) -> Finding | None:
    """The oldest version any test workflow runs (its matrix, or one version per workflow)."""
    folder = root / ".github" / "workflows"
    found = [(version, file) for file in (_test_workflows(root, folder) if folder.is_dir() else ())
             for version in _ci_versions(read_text(file), _CI_PATTERNS[0][1])]
    if not found:
        return None
    version, file = min(found, key=lambda pair: int(pair[0].split(".")[1]))
    tested = sorted({v for v, f in found if f == file}, key=lambda v: int(v.split(".")[1]))
    return Finding(version, f"{file.relative_to(root)} (tests {', '.join(tested)})")


def _from_ci_files(root: Path) -> Finding | None:
    if found := _from_test_workflows(root):
        return found
    for name, key in _CI_PATTERNS[1:]:
        path = root / name
        files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            versions = sorted(_ci_versions(read_text(file), key), key=lambda v: int(v.split(".")[1]))
            if versions:  # a matrix: the oldest version it tests, the one the code must still run on
                return Finding(versions[0], f"{file.relative_to(root)} (tests {', '.join(versions)})")
    return None


def lower_bound(spec: str) -> str | None:
    """The lower bound of a requires-python specifier when it is one clear 3.x bound."""
    parts = spec.split(",")
    lower = [m.group("minor") for part in parts if (m := _LOWER_BOUND.match(part))]
    others = [part for part in parts if not _LOWER_BOUND.match(part) and not _UPPER_BOUND.match(part)]
    return f"3.{int(lower[0])}" if len(lower) == 1 and not others else None


def _from_requires_python(root: Path, pyproject: dict) -> Finding | None:
    specs = [
        (table(pyproject, "project").get("requires-python"), "requires-python"),
        (table(pyproject, "tool", "poetry", "dependencies").get("python"), "[tool.poetry.dependencies] python"),
        (read_ini(root / "setup.cfg").get("options", "python_requires", fallback=None), "setup.cfg python_requires"),
        (setup_py_arguments(root).get("python_requires"), "setup.py python_requires"),
    ]
    folder = package_folder(root)
    if folder not in (None, "."):  # the package lives in a subfolder (src/setup.py)
        inner = read_toml(root / folder / "pyproject.toml")
        specs += [
            (table(inner, "project").get("requires-python"), f"{folder}/pyproject.toml requires-python"),
            (read_ini(root / folder / "setup.cfg").get("options", "python_requires", fallback=None),
             f"{folder}/setup.cfg python_requires"),
            (setup_py_arguments(root / folder).get("python_requires"), f"{folder}/setup.py python_requires"),
        ]
    for spec, where in specs:
        if isinstance(spec, str) and (version := lower_bound(spec)):
            return Finding(version, f"{where} {spec.strip()}")
    return None


def _from_tox(root: Path) -> Finding | None:
    envlist = read_ini(root / "tox.ini").get("tox", "envlist", fallback="")
    minors = sorted({int(m.group("minor")) for m in _TOX_ENV.finditer(envlist)})
    return Finding(f"3.{minors[0]}", f"tox.ini envlist ({envlist.strip()})") if minors else None


def python_version(root: Path, pyproject: dict) -> Finding:
    # pylint: disable-next=import-outside-toplevel  # mlproject reads YAML; only init asks
    from pipegen.init.detect.mlproject import mlproject_python
    for detector in (_from_python_version_file, _from_dockerfile, _from_ci_files, mlproject_python):
        if found := detector(root):
            return found
    if found := _from_requires_python(root, pyproject):
        return found
    if found := _from_tox(root):
        return found
    return Finding(DEFAULT_PYTHON, "default (nothing in the repository names a Python version)")
