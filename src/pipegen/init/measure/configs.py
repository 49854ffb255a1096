"""The repository's linter settings, read the way each linter reads them, less the settings that run code.

pylint runs its `init-hook` (Python text) and imports the modules `load-plugins` names before it lints;
astroid imports the C extensions `extension-pkg-allow-list` names (all of them with
`unsafe-load-any-extension`). flake8 imports the code `[flake8:local-plugins]` names. pipegen writes the
settings pylint and flake8 would use without those, and points them at that file; everything else
(message choices, line length, ignores, excludes) is the repository's. ruff runs no code of the
repository's: its settings are used as they are, with fixing switched off on the command line.
"""
from __future__ import annotations

import configparser
import json
from dataclasses import dataclass
from pathlib import Path

from pipegen.project_files import read_text, read_toml, table

# pylint's places, in its own order (pylint.config.find_default_config_files): the first that holds
# pylint settings is the one it reads.
PYLINT_FILES = ("pylintrc", "pylintrc.toml", ".pylintrc", ".pylintrc.toml", "pyproject.toml", "setup.cfg", "tox.ini")
PYLINT_CODE_OPTIONS = frozenset({"init-hook", "load-plugins", "extension-pkg-allow-list", "extension-pkg-whitelist",
                                 "unsafe-load-any-extension"})
PYLINT_OWN_EXTENSIONS = "pylint.extensions."
# Where pylint would send its report instead of the output pipegen reads.
PYLINT_LEFT_OUT = PYLINT_CODE_OPTIONS | {"output"}

FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")  # flake8's own order
FLAKE8_LOCAL_PLUGINS = "flake8:local-plugins"
FLAKE8_LEFT_OUT = frozenset({"output-file", "tee"})  # the report goes where pipegen reads it


@dataclass(frozen=True)
class Settings:
    """A linter's settings as pipegen hands them over: the file (None: no settings of the repository's),
    where they came from, and which code-running settings were left out."""

    path: Path | None
    source: str = ""
    left_out: tuple[str, ...] = ()


def _option(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _pylint_text(value) -> str:
    """A TOML value as pylint turns it into an option's text (lists joined by commas)."""
    if isinstance(value, (list, tuple)):
        return ",".join(_pylint_text(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{key}:{item}" for key, item in value.items())
    return str(value)


def _pylint_toml_options(path: Path) -> dict[str, str] | None:
    settings = table(read_toml(path), "tool", "pylint")
    if not settings:
        return None
    options: dict[str, str] = {}
    for key, value in settings.items():
        pairs = value.items() if isinstance(value, dict) else [(key, value)]
        options.update((name, _pylint_text(item)) for name, item in pairs)
    return options


def _pylint_ini_options(path: Path, sectioned: bool) -> dict[str, str] | None:
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    try:
        parser.read_string(read_text(path).lstrip("\ufeff"), source=str(path))
        sections = [name for name in parser.sections() if not sectioned or name.startswith("pylint")]
        if sectioned and not sections:
            return None
        return {name: value for section in sections for name, value in parser[section].items()}
    except configparser.Error:
        return {} if not sectioned else None


def _pylint_options(root: Path) -> tuple[str, dict[str, str]] | None:
    for name in PYLINT_FILES:
        path = root / name
        if not path.is_file():
            continue
        if name.endswith(".toml"):
            options = _pylint_toml_options(path)
        else:
            options = _pylint_ini_options(path, sectioned=name in ("setup.cfg", "tox.ini"))
        if options is not None:
            return name, options
    return None


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped in TOML)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def pylint_settings(root: Path, folder: Path) -> Settings:
    """The settings pylint finds in `root`, written to `folder` without the code-running ones, as a
    TOML rcfile to pass with --rcfile (which also keeps a user's ~/.pylintrc out, as in CI)."""
    found = _pylint_options(root)
    path = folder / "pylintrc.toml"
    lines = ["# pylint's settings from the repository, without those that run code (written by pipegen init)",
             "[tool.pylint.main]"]
    if found is None:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Settings(path)
    source, options = found
    left_out = []
    for name, value in options.items():
        option = _option(name)
        if option == "load-plugins":
            # pylint's own extensions are pylint's code, in pipegen's environment; any other plugin is not.
            kept = [plugin for plugin in _listed(value) if plugin.startswith(PYLINT_OWN_EXTENSIONS)]
            dropped = [plugin for plugin in _listed(value) if plugin not in kept]
            if dropped:
                left_out.append(f"load-plugins {', '.join(dropped)}")
            if kept:
                lines.append(f"{_toml_string(name)} = {_toml_string(','.join(kept))}")
        elif option in PYLINT_CODE_OPTIONS:
            left_out.append(option)
        elif option not in PYLINT_LEFT_OUT:
            lines.append(f"{_toml_string(name)} = {_toml_string(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Settings(path, source, tuple(left_out))


def _listed(value: str) -> list[str]:
    """A comma-separated option's entries, as pylint splits them."""
    return [entry.strip() for entry in value.replace("\n", ",").split(",") if entry.strip()]


def flake8_settings(copy: Path) -> Settings:
    """flake8's `[flake8]` settings from the first of its files in the repository's throw-away `copy`, written
    beside it (so relative
    excludes mean the same) without the local plugins; Settings(None) when there are none (flake8 then
    runs with --isolated: neither a user's nor a parent folder's settings, as in CI)."""
    for name in FLAKE8_FILES:
        parser = configparser.RawConfigParser()
        try:
            parser.read_string(read_text(copy / name), source=name)
        except configparser.Error:
            continue  # flake8 leaves a file it cannot parse aside too
        if "flake8" not in parser and FLAKE8_LOCAL_PLUGINS not in parser:
            continue
        sanitised = configparser.RawConfigParser()
        sanitised.add_section("flake8")
        if "flake8" in parser:
            for key, value in parser["flake8"].items():
                if _option(key) not in FLAKE8_LEFT_OUT:
                    sanitised.set("flake8", key, value)
        path = copy / ".pipegen-flake8.cfg"
        with path.open("w", encoding="utf-8") as handle:
            sanitised.write(handle)
        left_out = (f"[{FLAKE8_LOCAL_PLUGINS}]",) if FLAKE8_LOCAL_PLUGINS in parser else ()
        return Settings(path, name, left_out)
    return Settings(None)
