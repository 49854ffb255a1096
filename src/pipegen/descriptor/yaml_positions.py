"""YAML → plain Python values plus the position of every value and mapping key, so
every problem can be reported as file:line:col."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from pipegen.errors import Problem

KEY = "<key>"  # positions[(*path, KEY)] is where the mapping key of `path` was written


@dataclass
class Located:
    data: Any
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    raw: dict[tuple, str] = field(default_factory=dict)  # scalar text as written, for hints


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Builds values from a composed node tree; SafeLoader's constructors give the
    scalar types (int, float, bool, null) YAML 1.1 users expect."""

    def __init__(self, filename: str):
        self.filename = filename
        self.loader = yaml.SafeLoader("")
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.raw: dict[tuple, str] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: tuple) -> Any:
        self.positions[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        self.raw[path] = node.value
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                line, col = _mark(key_node)
                self.problems.append(Problem(self.filename, line, col, "YAML merge keys (<<) are not supported"))
                continue
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)  # the schema reports it as an unknown key, located
            if key in result:
                line, col = _mark(key_node)
                self.problems.append(Problem(self.filename, line, col, f"duplicate key {key!r}"))
                continue
            self.positions[(*path, key, KEY)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result


_LIBYAML_LOADER = getattr(yaml, "CSafeLoader", None)
# Text where libyaml and PyYAML can disagree (libyaml accepts tabs and '?' in places
# PyYAML refuses; columns after non-ASCII characters and of empty plain scalars differ).
_LIBYAML_UNSURE = re.compile(r"[^\x0a\x20-\x7e]|\?")


def _compose(text: str) -> yaml.Node | None:
    """The node tree, from libyaml when present and sure to agree with PyYAML (ten times
    faster on big descriptors), else from PyYAML, whose nodes, marks and messages are
    the reference: anything libyaml refuses is parsed again by PyYAML for its message."""
    if _LIBYAML_LOADER is not None and not _LIBYAML_UNSURE.search(text):
        try:
            node = yaml.compose(text, Loader=_LIBYAML_LOADER)
        except yaml.YAMLError:
            node = None
        if node is not None and not _has_empty_plain_scalar(node):
            return node
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _has_empty_plain_scalar(root: yaml.Node) -> bool:
    """Each node once: aliases make the tree a graph, possibly with cycles."""
    pending, seen = [root], set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.value == "" and not node.style:
                return True
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                pending.extend((key, value))
    return False


def load_located(text: str, filename: str) -> tuple[Located | None, list[Problem]]:
    """Parses one YAML document; returns (value with positions, problems)."""
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(filename, line, col, f"invalid YAML: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(filename, 1, 1, f"invalid YAML: {exc}")]
    if node is None:
        return None, [Problem(filename, 1, 1, "the descriptor is empty")]
    builder = _Builder(filename)
    try:
        data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(filename, line, col, f"invalid YAML: {exc.problem}")]
    return Located(data, builder.positions, builder.raw), builder.problems
