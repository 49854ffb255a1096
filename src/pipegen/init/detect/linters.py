"""Which linters the repository already configures: those are the ones to gate, with the
repository's own settings (line length, rules). Nothing configured: pylint and flake8."""
from __future__ import annotations

from pathlib import Path

from pipegen.project_files import read_ini, read_text, table

DEFAULT_LINTERS = ("pylint", "flake8")


def configured_linters(root: Path, pyproject: dict) -> tuple[tuple[str, ...], str]:
    """(linters in the order ruff, pylint, flake8; where that came from)."""
    found: dict[str, str] = {}
    if table(pyproject, "tool", "ruff") or (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file():
        found["ruff"] = "ruff settings"
    elif "ruff" in read_text(root / ".pre-commit-config.yaml"):
        found["ruff"] = "ruff in .pre-commit-config.yaml"
    if table(pyproject, "tool", "pylint") or (root / ".pylintrc").is_file() or (root / "pylintrc").is_file():
        found["pylint"] = "pylint settings"
    if (root / ".flake8").is_file() or any(read_ini(root / name).has_section("flake8")
                                           for name in ("setup.cfg", "tox.ini")):
        found["flake8"] = "flake8 settings"
    if not found:
        return DEFAULT_LINTERS, "no linter configured: pylint and flake8 with their defaults"
    tools = tuple(tool for tool in ("ruff", "pylint", "flake8") if tool in found)
    return tools, "; ".join(found[tool] for tool in tools)
