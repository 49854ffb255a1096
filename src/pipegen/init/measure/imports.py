"""Which packages the linted code imports that init's measurement cannot see: neither the standard library
nor the project's own modules. The lint job installs the project's dependencies, and pylint infers through
them (a missing attribute, a wrong argument, an overridden method's signature): it can find more there than
init finds without them, so a pylint score measured without them is no bar the job is sure to meet.

Read from the code's syntax (`ast`), never by importing anything."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

from pipegen.errors import PipegenError
from pipegen.paths import read_bytes

MAX_FILES = 5000  # a bound on the reading, not on what is linted


def _first_party_roots(copy: Path, targets: list[Path]) -> list[Path]:
    """Where the project's own top-level modules are found: the root (the job's working directory), each
    target, and the first folder above each target that is not a package (pylint puts it on the path)."""
    roots = [copy]
    for target in targets:
        folder = copy / target
        roots.append(folder if folder.is_dir() else folder.parent)
        while (folder / "__init__.py").is_file() and folder != copy:
            folder = folder.parent
        roots.append(folder)
    return list(dict.fromkeys(roots))


def _own(name: str, roots: list[Path]) -> bool:
    return any((root / name).is_dir() or (root / f"{name}.py").is_file() for root in roots)


def _imported(path: Path, copy: Path) -> set[str]:
    try:
        tree = ast.parse(read_bytes(path, root=copy), filename=str(path))
    except (SyntaxError, ValueError, PipegenError):
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def unseen_imports(copy: Path, targets: list[Path]) -> tuple[str, ...]:
    """The top-level packages the Python files under `targets` (in the throw-away copy) import that are
    neither the standard library nor the project's own, sorted."""
    roots = _first_party_roots(copy, targets)
    files: list[Path] = []
    for target in targets:
        where = copy / target
        files += [where] if where.is_file() else sorted(where.rglob("*.py"))[:MAX_FILES]
    names: set[str] = set()
    for path in files[:MAX_FILES]:
        names |= _imported(path, copy)
    return tuple(sorted(name for name in names
                        if name not in sys.stdlib_module_names and name != "__future__" and not _own(name, roots)))
