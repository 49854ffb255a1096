"""The descriptor's JSON Schema (data in schema.json) and schema errors as located,
human messages: unknown keys with a "did you mean", types, enums, patterns."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipegen.descriptor.schema_check import surely_valid
from pipegen.descriptor.yaml_positions import KEY
from pipegen.errors import Problem, shorten

_JSON_TYPES = {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", int: "a number",
               float: "a number", type(None): "nothing (null)"}
_SCHEMA_TYPES = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "true or false",
                 "integer": "a whole number", "number": "a number", "null": "null"}


@lru_cache(maxsize=1)
def schema_text() -> str:
    # Next to this module in the wheel and in a checkout (importlib.resources costs more to import).
    return (Path(__file__).resolve().parent / "schema.json").read_text(encoding="utf-8")


def schema() -> dict:
    return json.loads(schema_text())


def dotted(path: tuple) -> str:
    text = ""
    for part in path:
        shown = shorten(part, 40)
        text += f"[{shown}]" if isinstance(part, int) else (f".{shown}" if text else shown)
    return text or "the descriptor"


def _shown(value: Any) -> str:
    """repr of a value, cut to a readable length."""
    return shorten(repr(value))


def _kind(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _suggest(word: str, choices: list[str]) -> str:
    import difflib  # pylint: disable=import-outside-toplevel  # only for a descriptor with a problem

    match = difflib.get_close_matches(word[:100], choices, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else f" (allowed: {', '.join(sorted(choices))})"


def _located(positions: dict, path: tuple, filename: str, message: str) -> Problem:
    while path and path not in positions:
        path = path[:-1]
    line, col = positions.get(path, (1, 1))
    return Problem(filename, line, col, message)


def _messages(error, positions: dict, filename: str, raw: dict) -> list[Problem]:
    path = tuple(error.absolute_path)
    where = dotted(path)
    validator, instance, sub = error.validator, error.instance, error.schema
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(sub.get("properties", {}))
        extras = [key for key in instance if key not in allowed]
        return [_located(positions, (*path, key, KEY), filename,
                         f"unknown key {_shown(key)} in {where}{_suggest(str(key), allowed) if allowed else ''}")
                for key in extras]
    if validator == "required":
        missing = [key for key in error.validator_value if key not in instance]
        return [_located(positions, path, filename, f"{where}: missing required key {_shown(key)}") for key in missing]
    if validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(_SCHEMA_TYPES.get(t, t) for t in expected)
        hint = ""
        if "string" in expected and isinstance(instance, (int, float)) and not isinstance(instance, bool):
            written = shorten(raw.get(path, str(instance)))
            hint = f' (quote it: "{written}"; YAML reads {written} as the number {instance})'
        return [_located(positions, path, filename, f"{where}: expected {wanted}, got {_kind(instance)}{hint}")]
    if validator == "enum":
        # the words to write (false stands in for an unquoted `off`, which YAML 1.1 reads as false)
        choices = [str(choice) for choice in error.validator_value if not isinstance(choice, bool)]
        suggestion = _suggest(str(instance), choices)
        return [_located(positions, path, filename, f"{where}: {_shown(instance)} is not allowed{suggestion}")]
    if validator == "const":
        return [_located(positions, path, filename, f"{where}: must be {error.validator_value!r}")]
    if validator == "pattern":
        what = sub.get("x-message", f"text matching {error.validator_value}")
        return [_located(positions, path, filename, f"{where}: {_shown(instance)} is not {what}")]
    if validator in ("minItems", "minProperties"):
        return [_located(positions, path, filename, f"{where}: must not be empty")]
    if validator == "minLength":
        return [_located(positions, path, filename, f"{where}: must not be empty")]
    if validator == "uniqueItems":
        return [_located(positions, path, filename, f"{where}: has duplicate entries")]
    if validator == "propertyNames":
        return [_located(positions, (*path, key, KEY), filename, f"{where}: key {_shown(key)} is not allowed here")
                for key in instance if isinstance(instance, dict)
                and not _matches(sub["propertyNames"].get("pattern", ".*"), key)]
    bounds = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "greater than",
              "exclusiveMaximum": "less than"}
    if validator in bounds:
        return [_located(positions, path, filename, f"{where}: must be {bounds[validator]} {error.validator_value}")]
    return [_located(positions, path, filename, f"{where}: {shorten(error.message, 200)}")]


def _matches(pattern: str, text: str) -> bool:
    return re.search(pattern, str(text)) is not None


def schema_problems(data: Any, positions: dict, filename: str, raw: dict | None = None) -> list[Problem]:
    if surely_valid(data):
        return []  # the common case, without importing jsonschema
    import jsonschema  # pylint: disable=import-outside-toplevel  # only when validating

    validator = jsonschema.Draft202012Validator(schema())
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        problems.extend(_messages(error, positions, filename, raw or {}))
    return problems
