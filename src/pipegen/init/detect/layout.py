"""Where the code and the tests live. The code's packages come from the packaging metadata
when it says (setuptools, Poetry, Hatch, setup.cfg, setup.py), else from the folders that are
Python packages; they are what coverage measures and lint checks, so they are never guessed."""
from __future__ import annotations

from pathlib import Path

from pipegen.init.detect.install import SAFE_NAME, package_folder
from pipegen.project_files import is_package, read_ini, read_toml, setup_py_arguments, table

# Folders at the root that hold no shipped code.
NOT_CODE = {"tests", "test", "docs", "doc", "examples", "scripts", "build", "dist", "venv", ".venv", "env",
            "benchmarks", "notebooks", "migrations", "site-packages", "node_modules"}
# Test pyramid levels and the folder names teams use for each (first found wins per level).
TEST_FOLDERS = {
    "unit": ("unit", "unit_tests"),
    "integration": ("integration", "integration_tests", "it"),
    "functional": ("functional", "e2e", "end_to_end", "acceptance", "system"),
}


def _is_package(folder: Path) -> bool:
    return folder.is_dir() and (folder / "__init__.py").is_file()


def _packages_in(root: Path, where: str) -> list[str]:
    base = root / where if where not in ("", ".") else root
    if not base.is_dir():
        return []
    prefix = "" if where in ("", ".") else where.strip("/") + "/"
    return [f"{prefix}{child.name}" for child in sorted(base.iterdir())
            if _is_package(child) and child.name not in NOT_CODE and not child.name.startswith(".")]


def _top_level(names: list, package_dir: dict, root: Path) -> list[str]:
    """setuptools' `packages` list mapped through `package_dir` to folders, top-level only."""
    base = package_dir.get("", "") if isinstance(package_dir, dict) else ""
    folders = []
    for name in names:
        if isinstance(name, str) and "." not in name:
            folder = package_dir.get(name) if isinstance(package_dir, dict) and name in package_dir else \
                (f"{base.strip('/')}/{name}" if base else name)
            if (root / folder).is_dir():
                folders.append(folder)
    return folders


def _from_pyproject(root: Path, pyproject: dict) -> list[str]:
    setuptools = table(pyproject, "tool", "setuptools")
    packages = setuptools.get("packages")
    if isinstance(packages, list):
        return _top_level(packages, setuptools.get("package-dir", {}), root)
    find = table(setuptools, "packages", "find")
    if find:
        wheres = find.get("where", ["."])
        wheres = wheres if isinstance(wheres, list) else [wheres]
        return [pkg for where in wheres for pkg in _packages_in(root, where)]
    poetry = table(pyproject, "tool", "poetry").get("packages")
    if isinstance(poetry, list):
        found = []
        for entry in poetry:
            if isinstance(entry, dict) and isinstance(entry.get("include"), str) and "*" not in entry["include"]:
                folder = f"{entry.get('from', '').strip('/')}/{entry['include']}".lstrip("/")
                if (root / folder).is_dir():
                    found.append(folder)
        return found
    hatch = table(pyproject, "tool", "hatch", "build", "targets", "wheel").get("packages")
    if isinstance(hatch, list):
        return [folder for folder in hatch if isinstance(folder, str) and (root / folder).is_dir()]
    return []


def _from_setup(root: Path) -> list[str]:
    cfg = read_ini(root / "setup.cfg")
    args = setup_py_arguments(root)
    package_dir = args.get("package_dir")
    if not isinstance(package_dir, dict):
        raw = cfg.get("options", "package_dir", fallback="")
        package_dir = {k.strip(): v.strip() for line in raw.splitlines() if "=" in line
                       for k, v in [line.split("=", 1)]}
    packages = args.get("packages")
    if isinstance(packages, tuple) and packages[0] == "find_packages":
        return _packages_in(root, packages[1])
    if isinstance(packages, list):
        return _top_level(packages, package_dir, root)
    raw = cfg.get("options", "packages", fallback="").strip()
    if raw.startswith("find"):
        where = cfg.get("options.packages.find", "where", fallback=package_dir.get("", "."))
        return _packages_in(root, where.strip())
    if raw:
        return _top_level([line.strip() for line in raw.splitlines() if line.strip()], package_dir, root)
    return []


def _holds_tests(folder: Path) -> bool:
    """`folder` has a tests/ (or test/) folder with pytest's test files in it."""
    return any((folder / base).is_dir() and any(_test_files(folder / base)) for base in ("tests", "test"))


def _test_files(folder: Path):
    yield from folder.rglob("test_*.py")
    yield from folder.rglob("*_test.py")


def app_folder(root: Path) -> str | None:
    """The one subfolder, not a package, holding the application and its tests (project/app with
    project/tests, as a Dockerfile in project/ runs it), when the root holds no tests itself; None
    otherwise. Its tests import the code as that folder's top-level modules (`import app`)."""
    if not root.is_dir() or _test_levels(root)[0]:
        return None
    found = [child.name for child in sorted(root.iterdir())
             if child.is_dir() and not child.name.startswith(".") and child.name not in NOT_CODE
             and SAFE_NAME.match(child.name) and not is_package(child) and _holds_tests(child)]
    return found[0] if len(found) == 1 else None


def code_folder(root: Path) -> str | None:
    """The subfolder holding the code and its tests, when the root does not: a package (backend/ with its
    pyproject.toml) or an application folder (project/)."""
    folder = package_folder(root)
    return folder if folder is not None else app_folder(root)


def source_packages(root: Path, pyproject: dict) -> tuple[tuple[str, ...], str]:
    """(folders holding the project's code, where that came from); when the repository holds
    none itself, those of the package in its one package subfolder (backend/app, say), or of the
    application folder holding the tests (project/app; the folder itself when its code is modules)."""
    found, why = _source_packages(root, pyproject)
    folder = code_folder(root) if not found else None
    if folder and folder != ".":
        inner, inner_why = _source_packages(root / folder, read_toml(root / folder / "pyproject.toml"))
        application = folder == app_folder(root)
        if inner:
            return tuple(f"{folder}/{path}" for path in inner), \
                f"packages in {folder}/, the application folder holding the tests" if application \
                else f"{inner_why} in {folder}/"
        if application:
            return (folder,), f"{folder}/, the application folder holding the tests (its code is modules)"
    return found, why


def _source_packages(root: Path, pyproject: dict) -> tuple[tuple[str, ...], str]:
    for found, why in ((_from_pyproject(root, pyproject), "pyproject.toml packaging settings"),
                       (_from_setup(root), "setup.py/setup.cfg packages")):
        if found:
            return tuple(dict.fromkeys(found)), why
    if found := _packages_in(root, "src"):
        return tuple(found), "packages under src/"
    if found := _packages_in(root, "."):
        return tuple(found), "packages at the repository root"
    return (), "no Python package found"


def test_levels(root: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """level -> folder for tests/<level-ish>; a bare tests/ (or test/) counts as unit; with
    neither at the root, those of the one package subfolder (backend/tests) or application folder
(project/tests). Also returns test
    folders found that fit no level (reported, never silently dropped)."""
    levels, extra = _test_levels(root)
    folder = code_folder(root) if not levels else None
    if folder and folder != ".":
        inner, inner_extra = _test_levels(root / folder)
        return ({level: f"{folder}/{path}" for level, path in inner.items()},
                tuple(f"{folder}/{path}" for path in inner_extra))
    return levels, extra


def _test_levels(root: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    for base_name in ("tests", "test"):
        base = root / base_name
        if not base.is_dir():
            continue
        levels: dict[str, str] = {}
        for level, names in TEST_FOLDERS.items():
            found = [name for name in names if (base / name).is_dir()]
            if found:
                levels[level] = f"{base_name}/{found[0]}"
        extra = tuple(f"{base_name}/{name}" for names in TEST_FOLDERS.values() for name in names
                      if (base / name).is_dir() and f"{base_name}/{name}" not in levels.values())
        if levels:
            return levels, extra
        return {"unit": base_name}, ()
    return {}, ()
