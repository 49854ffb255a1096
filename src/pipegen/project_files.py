"""Reading the project's own metadata files, tolerantly: a file that is missing or does not
parse tells init nothing, it never stops it. The descriptor asks one question of them too:
is the project a package (`is_package`)."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `generate` reads pyproject.toml only
    import configparser

from pipegen.errors import PipegenError
from pipegen.paths import read_bytes

MAX_METADATA_BYTES = 1024 * 1024


def read_bytes_safely(path: Path) -> bytes:
    """The file's bytes through the safe reader (pipegen.paths); b"" when it is absent, not
    a regular file (a FIFO would block), too large, or reached through a symlink that leads
    out of the repository."""
    try:
        return read_bytes(path, MAX_METADATA_BYTES)
    except PipegenError:
        return b""


def read_text(path: Path) -> str:
    return read_bytes_safely(path).decode("utf-8", errors="replace")


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; {} when absent, unreadable, or tomllib is missing (Python 3.10)."""
    if not path.is_file():
        return {}
    try:
        # pylint: disable-next=import-outside-toplevel  # Python 3.11+; on 3.10 init reads less
        import tomllib
    except ImportError:
        return {}
    try:
        return tomllib.loads(read_bytes_safely(path).decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def read_ini(path: Path) -> configparser.ConfigParser:
    """setup.cfg / tox.ini / .flake8; an empty parser when absent or broken."""
    import configparser  # pylint: disable=import-outside-toplevel,redefined-outer-name

    parser = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        try:
            parser.read_string(read_text(path), source=str(path))
        except configparser.Error:
            return configparser.ConfigParser(interpolation=None)
    return parser


def table(data: Any, *keys: str) -> dict:
    """data[k1][k2]... when each level is a mapping, else {}."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def setup_py_arguments(root: Path) -> dict[str, Any]:
    """Literal keyword arguments of the `setup(...)` call in setup.py (parsed, never run).
    `find_packages("src")`/`find_packages(where="src")` is kept as ("find_packages", "src")."""
    path = root / "setup.py"
    if not path.is_file():
        return {}
    try:
        tree = ast.parse(read_text(path))
    except (SyntaxError, ValueError):
        return {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup":
            return {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
    return {}


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
            "find_packages", "find_namespace_packages"):
        where = next((_literal(kw.value) for kw in node.keywords if kw.arg == "where"), None)
        if where is None and node.args:
            where = _literal(node.args[0])
        return ("find_packages", where if isinstance(where, str) else ".")
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None


def is_package(folder: Path) -> bool:
    """Has packaging metadata pip can install (a pyproject.toml without a build or project
    table, e.g. only [tool.ruff], is configuration, not a package; so is a setup.cfg alone, which
    often holds only flake8's settings, and which pip does not install without a setup.py or a
    pyproject.toml beside it)."""
    if (folder / "setup.py").is_file():
        return True
    pyproject = read_toml(folder / "pyproject.toml")
    return bool(table(pyproject, "project") or table(pyproject, "build-system") or
                table(pyproject, "tool", "poetry"))


def submodule_paths(root: Path) -> tuple[str, ...]:
    """The paths of the git submodules `root/.gitmodules` declares, in its order; none when it is absent,
    unreadable or names none."""
    import configparser  # pylint: disable=import-outside-toplevel,redefined-outer-name

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(read_text(root / ".gitmodules"), source=".gitmodules")
    except configparser.Error:
        return ()
    paths = (parser.get(section, "path", fallback="").strip() for section in parser.sections()
             if section.startswith("submodule"))
    return tuple(dict.fromkeys(path for path in paths if path))
