"""How the project installs itself, from its lock files and packaging metadata: uv, Poetry,
PEP 735 dependency groups, extras, a package in a subfolder. The commands install into the
job's Python (the project's environment), never into pipegen's."""
from __future__ import annotations

import re
from pathlib import Path

from pipegen.init.detect import Finding
from pipegen.project_files import is_package, read_ini, read_toml, setup_py_arguments, table

# Groups and extras that hold what tests and linters need (docs, notebooks... are left out).
TEST_GROUPS = ("test", "tests", "testing", "dev", "lint", "linting")
SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
PACKAGE_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
PIP_WITH_GROUPS = "python -m pip install --upgrade 'pip>=25.1'"  # pip's --group arrived in 25.1
UV = "python -m pip install 'uv>=0.5,<1'"
POETRY = "python -m pip install 'poetry>=2,<3'"
POETRY_INTO_JOB = ('VIRTUAL_ENV="$(python -c \'import sys; print(sys.prefix)\')" '
                   "POETRY_VIRTUALENVS_CREATE=false poetry install")


def package_folder(root: Path) -> str | None:
    """'.' when the repository is a package; else the one subfolder that is (a monorepo's
    backend/, a uv workspace's member); None when there is none, or several."""
    if is_package(root):
        return "."
    if not root.is_dir():
        return None
    subfolders = sorted(child.name for child in root.iterdir() if child.is_dir() and not child.name.startswith(".")
                        and SAFE_NAME.match(child.name) and is_package(child))
    return subfolders[0] if len(subfolders) == 1 else None


def _module_name(name: str) -> str:
    """The module Poetry looks for when `packages` is not declared (poetry-core's rule)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def poetry_application(root: Path, pyproject: dict) -> str | None:
    """Why Poetry cannot install the project itself (say so), or None when it can.

    `poetry install` installs the project as a package too; an application that is not one
    makes Poetry 2 stop with "No file/folder found for package NAME". That is the case with
    `package-mode = false`, and when no `packages` are declared and no module named after the
    project is where Poetry looks (NAME/, src/NAME/, NAME.py, src/NAME.py)."""
    poetry = table(pyproject, "tool", "poetry")
    if poetry.get("package-mode") is False:
        return "package-mode = false"
    if poetry.get("packages") or table(pyproject, "project").get("packages"):
        return None
    name = table(pyproject, "project").get("name") or poetry.get("name")
    if not isinstance(name, str) or not name.strip():
        return "no project name, so no package for Poetry to find"
    module = _module_name(name.strip())
    if any((root / base / module).is_dir() or (root / base / f"{module}.py").is_file() for base in ("", "src")):
        return None
    return f"no `packages` declared and no {module}/ or {module}.py for Poetry to find"


def _wanted(names) -> list[str]:
    return [name for name in names if isinstance(name, str) and name.lower() in TEST_GROUPS and SAFE_NAME.match(name)]


def _extras(folder: Path, pyproject: dict) -> list:
    """Extras the package declares: pyproject [project.optional-dependencies], setup.py's
    extras_require (parsed, never run), setup.cfg [options.extras_require]."""
    names = list(table(pyproject, "project", "optional-dependencies"))
    from_setup = setup_py_arguments(folder).get("extras_require")
    names += list(from_setup) if isinstance(from_setup, dict) else []
    cfg = read_ini(folder / "setup.cfg")
    names += cfg.options("options.extras_require") if cfg.has_section("options.extras_require") else []
    return list(dict.fromkeys(names))


def install_commands(root: Path, pyproject: dict) -> Finding | None:
    """Commands (one per line) that install the project and its test/lint dependencies, or
    None when the repository is not a package (requirements files then say it all)."""
    groups = _wanted(table(pyproject, "dependency-groups"))
    if (root / "uv.lock").is_file():
        flags = "".join(f" --group {group}" for group in groups)
        if table(pyproject, "tool", "uv", "workspace"):
            flags = " --all-packages" + flags  # a workspace: its members are the code under test
        # The job's interpreter, named: uv would otherwise follow .python-version and download another.
        return Finding("\n".join([UV, 'UV_PROJECT_ENVIRONMENT="$(python -c \'import sys; print(sys.prefix)\')" '
                                      'UV_PYTHON="$(python -c \'import sys; print(sys.executable)\')" '
                                      f"uv sync --locked --inexact{flags}"]), "uv.lock (uv sync into the job's Python)")
    if (root / "poetry.lock").is_file() or table(pyproject, "tool", "poetry"):
        return _poetry_install(root, pyproject)
    folder = package_folder(root)
    if folder is None:
        return None
    target = "." if folder == "." else f"./{folder}"
    sub = read_toml(root / folder / "pyproject.toml") if folder != "." else pyproject
    extras = _wanted(_extras(root / folder, sub))
    spec = f"{target}[{','.join(extras)}]" if extras else target
    quoted = f"'{spec}'" if extras else spec
    if groups and folder == ".":
        flags = "".join(f" --group {group}" for group in groups)
        return Finding("\n".join([PIP_WITH_GROUPS, f"python -m pip install -e {quoted}{flags}"]),
                       "pyproject.toml [dependency-groups] (PEP 735, pip >= 25.1)")
    where = "the package" if folder == "." else f"the package in {folder}/"
    return Finding(f"python -m pip install -e {quoted}",
                   f"{where} (editable, so coverage maps to the repository's files)")


def _poetry_install(root: Path, pyproject: dict) -> Finding:
    """`poetry install` into the job's Python, with the test groups; --no-root (and why) for an
    application Poetry cannot install as a package."""
    poetry_groups = _wanted(table(pyproject, "tool", "poetry", "group"))
    with_groups = f" --with {','.join(poetry_groups)}" if poetry_groups else ""
    not_a_package = poetry_application(root, pyproject)
    no_root = " --no-root" if not_a_package else ""
    # Poetry installs into the environment VIRTUAL_ENV names; without it, a job whose Python is a venv
    # (self-hosted agents, pipegen run) would have Poetry pick that venv's base interpreter instead.
    install = f"{POETRY_INTO_JOB} --no-interaction{no_root}{with_groups}"
    why = "poetry.lock / [tool.poetry] (poetry install into the job's Python)"
    if not_a_package:
        why += f"; --no-root: {not_a_package}, so only its dependencies are installed (the tests import " \
               "the code from the checkout)"
    return Finding("\n".join([POETRY, install]), why)


def lock_files(root: Path) -> tuple[str, ...]:
    """Lock files present: what dependency caches should be keyed on."""
    return tuple(name for name in ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock") if (root / name).is_file())
