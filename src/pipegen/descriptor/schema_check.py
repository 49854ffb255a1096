"""A yes/no check of a descriptor against schema.json, compiled once from the same file.

Importing jsonschema (and referencing, attrs, its format checkers) costs more than all of
`pipegen validate`'s own work, and a valid descriptor needs none of its error reports.
So this compiles the schema's keywords into plain Python closures that only answer
"valid or not", with jsonschema's Draft 2020-12 semantics for each keyword. When the
answer is "not valid", jsonschema runs and gives the located messages: schema.json stays
the one truth, and a keyword this module does not know makes it defer to jsonschema.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

Check = Callable[[Any], bool]

# Keywords that only annotate: they never make an instance invalid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples",
                          "deprecated", "readOnly", "writeOnly", "x-message", "$defs"})


class UnsupportedSchema(Exception):
    """The schema uses a keyword or reference this compiler does not implement."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": _is_number,
    # Draft 2020-12: a float with no fractional part is an integer.
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
}


def _equal(one: Any, other: Any) -> bool:
    """JSON equality as jsonschema sees it: true/false are not 1/0."""
    if isinstance(one, bool) or isinstance(other, bool):
        return isinstance(one, bool) and isinstance(other, bool) and one == other
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(_equal(a, b) for a, b in zip(one, other))
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(_equal(one[key], other[key]) for key in one)
    if isinstance(one, (list, dict, str)) or isinstance(other, (list, dict, str)):
        return type(one) is type(other) and one == other
    return one == other


def _unique(items: list) -> bool:
    seen: set = set()
    rest: list = []
    for item in items:
        if isinstance(item, (str, int, float)) or item is None:
            key = (isinstance(item, bool), isinstance(item, str), item)
            if key in seen:
                return False
            seen.add(key)
        else:
            if any(_equal(item, other) for other in rest):
                return False
            rest.append(item)
    return True


def _all_of(checks: list[Check]) -> Check:
    """One check for several (a plain loop: a generator per value costs more than the checks)."""
    if len(checks) == 1:
        return checks[0]

    def check(value) -> bool:
        for one in checks:
            if not one(value):
                return False
        return True
    return check


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        if pointer not in self.refs:
            # A definition, or a top-level property (a project block reuses the descriptor's sections).
            section, _, name = pointer.removeprefix("#/").partition("/")
            if section not in ("$defs", "properties") or not name or "/" in name:
                raise UnsupportedSchema(f"reference {pointer}")
            if name not in self.root.get(section, {}):
                raise UnsupportedSchema(f"unknown reference {pointer}")
            holder: list[Check] = []
            # Resolved late, so a schema may refer to itself. pylint: disable-next=unnecessary-lambda
            self.refs[pointer] = lambda value: holder[0](value)
            holder.append(self.compile(self.root[section][name]))
        return self.refs[pointer]

    def compile(self, schema: Any) -> Check:  # noqa: C901  (one branch per keyword)
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"schema {schema!r}")
        checks: list[Check] = []
        for keyword, argument in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            if keyword == "properties":
                continue  # with additionalProperties, below
            maker = getattr(self, "_k_" + keyword.replace("$", ""), None)
            if maker is None:
                raise UnsupportedSchema(f"keyword {keyword}")
            checks.append(maker(argument, schema))
        if "properties" in schema and "additionalProperties" not in schema:
            checks.append(self._k_additionalProperties(True, schema))
        return _all_of(checks)

    # One method per keyword: `argument` is the keyword's value, `schema` its whole schema.
    def _k_ref(self, argument, _schema) -> Check:
        return self.ref(argument)

    def _k_type(self, argument, _schema) -> Check:
        names = argument if isinstance(argument, list) else [argument]
        if any(name not in _TYPES for name in names):
            raise UnsupportedSchema(f"type {argument!r}")
        tests = [_TYPES[name] for name in names]
        if len(tests) == 1:
            return tests[0]

        def check(value) -> bool:
            for test in tests:
                if test(value):
                    return True
            return False
        return check

    def _k_additionalProperties(self, argument, schema) -> Check:
        if "patternProperties" in schema:
            raise UnsupportedSchema("patternProperties")
        properties = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        extra = self.compile(argument)

        def check(value):
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                sub = properties.get(key)
                if not (sub(item) if sub is not None else extra(item)):
                    return False
            return True
        return check

    def _k_required(self, argument, _schema) -> Check:
        required = frozenset(argument)
        return lambda value: not isinstance(value, dict) or required <= value.keys()

    def _k_propertyNames(self, argument, _schema) -> Check:
        sub = self.compile(argument)
        return lambda value: not isinstance(value, dict) or all(sub(key) for key in value)

    def _k_minProperties(self, argument, _schema) -> Check:
        return lambda value: not isinstance(value, dict) or len(value) >= argument

    def _k_items(self, argument, _schema) -> Check:
        sub = self.compile(argument)

        def check(value) -> bool:
            if isinstance(value, list):
                for item in value:
                    if not sub(item):
                        return False
            return True
        return check

    def _k_minItems(self, argument, _schema) -> Check:
        return lambda value: not isinstance(value, list) or len(value) >= argument

    def _k_uniqueItems(self, argument, _schema) -> Check:
        return (lambda value: not isinstance(value, list) or _unique(value)) if argument else (lambda value: True)

    def _k_minLength(self, argument, _schema) -> Check:
        return lambda value: not isinstance(value, str) or len(value) >= argument

    def _k_pattern(self, argument, _schema) -> Check:
        compiled: list = []  # compiled on first use: a descriptor uses few of the schema's patterns

        def check(value) -> bool:
            if not isinstance(value, str):
                return True
            if not compiled:
                compiled.append(re.compile(argument).search)
            return compiled[0](value) is not None
        return check

    def _k_enum(self, argument, _schema) -> Check:
        return lambda value: any(_equal(value, choice) for choice in argument)

    def _k_const(self, argument, _schema) -> Check:
        return lambda value: _equal(value, argument)

    def _k_minimum(self, argument, _schema) -> Check:
        return lambda value: not _is_number(value) or not value < argument

    def _k_maximum(self, argument, _schema) -> Check:
        return lambda value: not _is_number(value) or not value > argument

    def _k_exclusiveMinimum(self, argument, _schema) -> Check:
        return lambda value: not _is_number(value) or not value <= argument

    def _k_exclusiveMaximum(self, argument, _schema) -> Check:
        return lambda value: not _is_number(value) or not value >= argument


def compile_schema(schema: dict) -> Check | None:
    """A yes/no checker for `schema`, or None when it uses something not implemented here.
    Patterns are compiled when first used: the checker raises re.error on an invalid one."""
    try:
        return _Compiler(schema).compile(schema)
    except (UnsupportedSchema, re.error):
        return None


@lru_cache(maxsize=1)
def descriptor_check() -> Check | None:
    from pipegen.descriptor.schema import schema  # pylint: disable=import-outside-toplevel

    return compile_schema(schema())


def surely_valid(data: Any) -> bool:
    """True only when `data` is valid against schema.json; False means "ask jsonschema"."""
    check = descriptor_check()
    if check is None:
        return False
    try:
        return check(data)
    except (RecursionError, TypeError, ValueError, re.error):  # re.error: a pattern compiled on first use
        return False
