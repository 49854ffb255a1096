"""Reads a declarative Jenkinsfile back into data with tree-sitter-groovy (stages, conditions,
steps and the decoded Groovy string values): the Jenkins parity reader and the tests build on
it. tree-sitter is an optional dependency (`pip install 'pipegen-ci[diff]'`); importing this
module without it raises ImportError.

`parse_calls` turns Groovy into nested `Call`s: `name(args) { body }`, `name arg` and
`agent none` alike. `read_pipeline` then interprets the declarative directives.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import tree_sitter_groovy
from tree_sitter import Language, Node, Parser, Tree

_PARSER = Parser(Language(tree_sitter_groovy.language()))
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"', "$": "$",
                   "\n": ""}  # a backslash before a line break continues the line


class GroovySyntaxError(ValueError):
    """The parser found ERROR or MISSING nodes."""


@dataclass
class Call:
    """`name(args, key: value) { body }`; `target` is the receiver of `x.name(...)`."""

    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    body: list[Any] | None = None
    target: Any = None


@dataclass
class Ref:
    """A name or a property path such as `env.BRANCH_NAME`."""

    path: str


@dataclass
class Assign:
    target: str
    value: Any


@dataclass
class Concat:
    """`a + b + ...` (string concatenation)."""

    parts: list[Any]


@dataclass
class Ternary:
    condition: Any
    then: Any
    otherwise: Any


@dataclass
class Expr:
    """Any other expression, kept as text with its node type."""

    type: str
    text: str


@dataclass
class If:
    """`if (condition) { ... }` without an `else` (the scripted steps of a `script` block)."""

    condition: Any
    body: list[Any]


@dataclass
class Method:
    """A method declared outside `pipeline {}`."""

    name: str
    parameters: list[str]
    invocations: list[Call]  # every method call in the body, at any depth, in order


# ---------------------------------------------------------------------------- Groovy -> calls


def _text(node: Node) -> str:
    return node.text.decode("utf-8")


def decode_escapes(body: str) -> str:
    def replace(match: re.Match) -> str:
        escape = match.group(1)
        if escape.startswith("u") and len(escape) == 5:
            return chr(int(escape[1:], 16))
        if escape not in _SIMPLE_ESCAPES:
            raise ValueError(f"unknown Groovy escape \\{escape}")
        return _SIMPLE_ESCAPES[escape]

    return _ESCAPE.sub(replace, body)


def decode_string(node: Node) -> str:
    """The value of a single-quoted, triple-single-quoted or plain double-quoted literal."""
    text = _text(node)
    for quote in ("'''", '"""', "'", '"'):
        if text.startswith(quote) and text.endswith(quote) and len(text) >= 2 * len(quote):
            body = text[len(quote):-len(quote)]
            if quote.startswith('"') and "$" in body.replace("\\$", ""):
                raise GroovySyntaxError(f"interpolated GString in generated Groovy: {text!r}")
            return decode_escapes(body)
    raise GroovySyntaxError(f"not a string literal: {text!r}")


def _named(node: Node) -> list[Node]:
    return [child for child in node.named_children if child.type not in ("line_comment", "block_comment")]


def _arguments(node: Node, call: Call) -> None:
    for child in _named(node):
        if child.type == "map_item":
            key, value = _named(child)
            call.kwargs[_text(key)] = value_of(value)
        else:
            call.args.append(value_of(child))


class _StageCache:
    """Calls (`stage(...) { ... }` and every other) by their node's type and source text, from the
    file being read and the one read before it: `pipegen diff` reads two versions of one
    Jenkinsfile, whose stages are mostly the same text, and each unchanged stage is then walked
    once. Calls are never changed once built.
    The syntax tree of the file read before is kept too: tree-sitter parses the next file from it,
    told which lines changed, reusing the tree of the rest (the same tree as a fresh parse)."""

    def __init__(self) -> None:
        self.previous: dict[tuple[str, bytes], Call] = {}
        self.current: dict[tuple[str, bytes], Call] = {}
        self.source: bytes | None = None
        self.tree: Tree | None = None
        self.built_before: dict[int, tuple[Call, Stage]] = {}  # the `Stage` read from each call, by identity
        self.built: dict[int, tuple[Call, Stage]] = {}

    def next_file(self) -> None:
        self.previous, self.current = self.current, {}
        self.built_before, self.built = self.built, {}

    def stage(self, call: Call) -> Stage:
        """The `Stage` of a stage call: the same object for the same call (a stage both versions have)."""
        known = self.built.get(id(call)) or self.built_before.get(id(call))
        if known is None or known[0] is not call:
            known = (call, _new_stage(call))
        self.built[id(call)] = known
        return known[1]

    def get(self, key: tuple[str, bytes]) -> Call | None:
        return self.current.get(key) or self.previous.get(key)

    def parse(self, source: bytes) -> Tree:
        tree = self.tree
        edits = _edits(self.source, source) if tree is not None and self.source is not None else None
        if tree is None or edits is None:
            tree = _PARSER.parse(source)
        else:
            for edit in reversed(edits):  # later edits first: the earlier ones' positions do not move
                tree.edit(**edit)
            tree = _PARSER.parse(source, tree)
        self.source, self.tree = source, tree
        return tree


_RESYNC_WINDOW = 256  # lines looked ahead on each side for where two versions agree again
_RESYNC_LINES = 3  # lines that must agree there
_MAX_CHANGES = 64  # more separate changes than this: parse the file afresh


def _edits(old: bytes, new: bytes) -> list[dict[str, Any]] | None:
    """tree-sitter's edits from `old` to `new` (bytes and rows, in `old`'s terms), for versions
    that differ in a few places; None for files too different. A change in the middle replaces
    whole lines, each ending with \\n on both sides; a change that reaches the end of either
    file is taken from the line before it to the end of both."""
    before, after = old.split(b"\n"), new.split(b"\n")
    changes = _changed_lines(before, after)
    if changes is None:
        return None
    old_starts, new_starts = _line_starts(before), _line_starts(after)
    edits = []
    for old_first, old_end, new_first, new_end in changes:
        start = old_starts[old_first]
        if old_end < len(before) and new_end < len(after):
            edits.append({"start_byte": start, "old_end_byte": old_starts[old_end],
                          "new_end_byte": start + new_starts[new_end] - new_starts[new_first],
                          "start_point": (old_first, 0), "old_end_point": (old_end, 0),
                          "new_end_point": (old_first + new_end - new_first, 0)})
            continue
        if old_first == 0 or new_first == 0:
            return None  # the whole file
        start = old_starts[old_first - 1]
        edits.append({"start_byte": start, "old_end_byte": len(old),
                      "new_end_byte": start + len(new) - new_starts[new_first - 1],
                      "start_point": (old_first - 1, 0), "old_end_point": (len(before) - 1, len(before[-1])),
                      "new_end_point": (old_first - 1 + len(after) - new_first, len(after[-1]))})
        break  # it reaches the end
    return edits


def _line_starts(lines: list[bytes]) -> list[int]:
    """The byte offset of each line (lines end at \\n, as tree-sitter counts rows)."""
    return [0, *itertools.accumulate(len(line) + 1 for line in lines)]


def _changed_lines(before: list[bytes], after: list[bytes]) -> list[tuple[int, int, int, int]] | None:
    """(old first line, old end line, new first line, new end line) of each run of lines that
    differ, for versions that differ in a few places; None for files too different."""
    changes: list[tuple[int, int, int, int]] = []
    old_at = new_at = 0
    while True:
        old_at, new_at = _same_run(before, after, old_at, new_at)
        if old_at == len(before) and new_at == len(after):
            return changes
        if len(changes) == _MAX_CHANGES:
            return None
        ahead: dict[bytes, int] = {}
        for line in range(new_at, min(len(after), new_at + _RESYNC_WINDOW)):
            ahead.setdefault(after[line], line)
        for line in range(old_at, min(len(before), old_at + _RESYNC_WINDOW)):
            match = ahead.get(before[line])
            if match is not None and before[line:line + _RESYNC_LINES] == after[match:match + _RESYNC_LINES]:
                changes.append((old_at, line, new_at, match))
                old_at, new_at = line, match
                break
        else:
            if len(before) - old_at > _RESYNC_WINDOW or len(after) - new_at > _RESYNC_WINDOW:
                return None
            changes.append((old_at, len(before), new_at, len(after)))
            return changes


def _same_run(before: list[bytes], after: list[bytes], old_at: int, new_at: int) -> tuple[int, int]:
    """Past the lines both versions have alike from here (compared in blocks, then halved)."""
    step = 4096
    while old_at < len(before) and new_at < len(after):
        size = min(step, len(before) - old_at, len(after) - new_at)
        if before[old_at:old_at + size] == after[new_at:new_at + size]:
            old_at, new_at = old_at + size, new_at + size
        elif size == 1:
            break
        else:
            step = max(1, size // 2)
    return old_at, new_at


_STAGES = _StageCache()


def _call(node: Node) -> Call:
    """The call of this node: built once per distinct text (of this file and the one before; the
    stages of a Jenkinsfile repeat their agent, options, `when` and `post` blocks word for word)."""
    key = (node.type, node.text)
    known = _STAGES.get(key)
    if known is None:
        known = _STAGES.current[key] = _build_call(node)
    return known


def _build_call(node: Node) -> Call:
    children = _named(node)
    if node.type == "local_variable_declaration":  # `agent none` reads as a declaration
        kind, declarator = children
        return Call(_text(kind), [Ref(_text(_named(declarator)[0]))])
    names = [child for child in children if child.type == "identifier"]
    return _new_call(_text(names[-1]), children, names)


def _new_call(name: str, children: list[Node], names: list[Node]) -> Call:
    call = Call(name)
    first = children[0]
    if first.type != "identifier" or (len(names) > 1 and first is not names[-1]):
        call.target = value_of(first)
    for child in children:
        if child.type == "argument_list":
            _arguments(child, call)
        elif child.type == "closure":
            call.body = statements(child)
    return call


def value_of(node: Node) -> Any:  # pylint: disable=too-many-return-statements  # one per node type
    kind = node.type
    if kind in ("character_literal", "string_literal"):
        return decode_string(node)
    if kind == "decimal_integer_literal":
        return int(_text(node))
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "null_literal":
        return None
    if kind == "array_literal":
        return [value_of(child) for child in _named(node)]
    if kind in ("method_invocation", "juxt_function_call"):
        return _call(node)
    if kind in ("identifier", "field_access"):
        return Ref(_text(node))
    if kind == "ternary_expression":
        return Ternary(*(value_of(child) for child in _named(node)))
    if kind == "closure":
        return statements(node)
    if kind == "binary_expression" and _text(node.child_by_field_name("operator") or node.children[1]) == "+":
        left, right = _named(node)
        parts = left_value.parts if isinstance(left_value := value_of(left), Concat) else [left_value]
        return Concat([*parts, value_of(right)])
    if kind == "parenthesized_expression":
        return value_of(_named(node)[0])
    return Expr(kind, _text(node))


def _if(node: Node) -> Any:
    parts = _named(node)
    if len(parts) != 2:  # an `else` branch: kept as text
        return Expr(node.type, _text(node))
    condition, then = parts
    inner = _named(then)
    if then.type == "expression_statement" and len(inner) == 1 and inner[0].type == "closure":
        then = inner[0]  # tree-sitter-groovy reads the `{ ... }` block as a closure
    return If(value_of(condition), statements(then) if then.type in ("closure", "block") else [_statement(then)])


def _statement(node: Node) -> Any:
    if node.type == "if_statement":
        return _if(node)
    if node.type == "expression_statement":
        node = _named(node)[0]
    if node.type == "assignment_expression":
        target, value = _named(node)
        return Assign(_text(target), value_of(value))
    if node.type == "local_variable_declaration":
        return _call(node)
    return value_of(node)


def statements(node: Node) -> list[Any]:
    return [_statement(child) for child in _named(node)]


def _syntax_errors(root: Node) -> list[str]:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(f"{node.start_point[0] + 1}:{node.start_point[1] + 1}: {node.type} {_text(node)[:40]!r}")
        stack.extend(node.children)
    return found


def _descendants(node: Node, kind: str) -> Iterator[Node]:
    for child in node.named_children:
        if child.type == kind:
            yield child
        yield from _descendants(child, kind)


def parse_calls(text: str) -> tuple[list[Any], list[Method]]:
    """Top-level statements and method declarations; raises GroovySyntaxError on a bad parse."""
    root = _STAGES.parse(text.encode("utf-8")).root_node
    _STAGES.next_file()
    if root.has_error:
        raise GroovySyntaxError("\n".join(sorted(_syntax_errors(root))))
    top, methods = [], []
    for child in _named(root):
        # tree-sitter-groovy reads a typed declaration after another one as a function_definition
        if child.type in ("method_declaration", "function_definition"):
            name = next(c for c in child.named_children if c.type == "identifier")
            parameters = next(c for c in child.named_children if c.type == "formal_parameters")
            methods.append(Method(_text(name), [_text(p) for p in parameters.named_children],
                                  [_call(node) for node in _descendants(child, "method_invocation")]))
        else:
            top.append(_statement(child))
    return top, methods


# ---------------------------------------------------------------------------- declarative


@dataclass
class Stage:  # pylint: disable=too-many-instance-attributes  # one field per declarative directive
    name: str
    agent: Call | None = None
    when: list[Any] = field(default_factory=list)
    input: dict[str, Any] | None = None
    options: list[Call] = field(default_factory=list)
    stages: list["Stage"] = field(default_factory=list)
    parallel: list["Stage"] = field(default_factory=list)
    steps: list[Any] = field(default_factory=list)
    post: dict[str, list[Any]] = field(default_factory=dict)
    directives: list[str] = field(default_factory=list)  # every directive, in order

    @property
    def timeout_minutes(self) -> int | None:
        return option_timeout(self.options)

    @property
    def agent_label(self) -> str | None:
        """'any' for `agent any`, the label expression for `agent { label '...' }`."""
        if self.agent is None:
            return None
        if self.agent.body is None:
            return self.agent.args[0].path
        (label,) = [call for call in self.agent.body if isinstance(call, Call) and call.name == "label"]
        return label.args[0]

    def leaves(self) -> list["Stage"]:
        """Stages that run steps, in order (parallel branches in declaration order)."""
        if self.steps:
            return [self]
        return [leaf for child in (self.stages or self.parallel) for leaf in child.leaves()]

    def layers(self) -> list[list[str]]:
        """The nested stages as layers of leaf names: a parallel block is one layer."""
        return [[leaf.name for leaf in child.leaves()] for child in self.stages]

    def chains(self) -> list[list[list[str]]]:
        """Per layer, its parallel branches as chains of leaf names run one after another."""
        return [[[leaf.name for leaf in branch.leaves()] for branch in (child.parallel or [child])]
                for child in self.stages]

    def when_call(self, name: str) -> list[Call]:
        return [item for item in self.when if isinstance(item, Call) and item.name == name]


@dataclass
class Pipeline:
    methods: list[Method]
    agent: Call | None
    options: list[Call]
    triggers: list[Call]
    stages: list[Stage]
    directives: list[str]
    post: dict[str, list[Any]] = field(default_factory=dict)  # condition (always, failure...) -> steps

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.all_stages() if stage.name == name)

    def all_stages(self) -> Iterator[Stage]:
        def walk(stages: list[Stage]) -> Iterator[Stage]:
            for stage in stages:
                yield stage
                yield from walk(stage.stages)
                yield from walk(stage.parallel)

        return walk(self.stages)

    @property
    def timeout_minutes(self) -> int | None:
        return option_timeout(self.options)


def option_timeout(options: list[Call]) -> int | None:
    for call in options:
        if call.name == "timeout":
            unit = call.kwargs.get("unit")
            factor = {"MINUTES": 1, "HOURS": 60}.get(unit.path.rsplit(".", 1)[-1] if isinstance(unit, Ref) else unit)
            if factor is None:
                raise GroovySyntaxError(f"timeout unit {unit!r} is not MINUTES or HOURS")
            return call.kwargs["time"] * factor
    return None


def _calls(body: list[Any] | None) -> list[Call]:
    return [item for item in body or [] if isinstance(item, Call)]


def _stage(call: Call) -> Stage:
    return _STAGES.stage(call)


def _new_stage(call: Call) -> Stage:
    if call.name != "stage" or len(call.args) != 1:
        raise GroovySyntaxError(f"expected stage('name') {{ ... }}, found {call.name}")
    stage = Stage(call.args[0])
    for directive in _calls(call.body):
        stage.directives.append(directive.name)
        if directive.name == "agent":
            stage.agent = directive
        elif directive.name == "when":
            stage.when = directive.body
        elif directive.name == "input":
            stage.input = {item.name: item.args[0] for item in _calls(directive.body)}
        elif directive.name == "options":
            stage.options = _calls(directive.body)
        elif directive.name == "stages":
            stage.stages = [_stage(child) for child in _calls(directive.body)]
        elif directive.name == "parallel":
            stage.parallel = [_stage(child) for child in _calls(directive.body)]
        elif directive.name == "steps":
            stage.steps = directive.body
        elif directive.name == "post":
            stage.post = {condition.name: condition.body for condition in _calls(directive.body)}
    return stage


def read_pipeline(text: str) -> Pipeline:
    top, methods = parse_calls(text)
    (pipeline,) = [item for item in top if isinstance(item, Call) and item.name == "pipeline"]
    directives = {call.name: call for call in _calls(pipeline.body)}
    return Pipeline(
        methods=methods, agent=directives.get("agent"),
        options=_calls(directives["options"].body) if "options" in directives else [],
        triggers=_calls(directives["triggers"].body) if "triggers" in directives else [],
        stages=[_stage(call) for call in _calls(directives["stages"].body)],
        directives=[call.name for call in _calls(pipeline.body)],
        post={condition.name: condition.body for condition in _calls(directives["post"].body)}
        if "post" in directives else {})


# ---------------------------------------------------------------------------- steps


@dataclass
class ShCall:
    """An `sh` step with what encloses it: credentials bound and literal env."""

    label: str
    script: str
    credentials: dict[str, str]  # variable -> credentials id
    env: list[str]  # withEnv entries


def step_calls(steps: list[Any], credentials: dict[str, str] | None = None,
               env: list[str] | None = None) -> Iterator[tuple[Any, dict[str, str], list[str]]]:
    """Every step (and script-block statement) with the bindings in force around it."""
    credentials = dict(credentials or {})
    env = list(env or [])
    for item in steps:
        if isinstance(item, Call) and item.name == "withCredentials":
            (bindings,) = item.args
            inner = {binding.kwargs["variable"]: binding.kwargs["credentialsId"] for binding in bindings}
            yield from step_calls(item.body, {**credentials, **inner}, env)
        elif isinstance(item, Call) and item.name == "withEnv":
            yield from step_calls(item.body, credentials, env + list(item.args[0]))
        elif isinstance(item, Call) and item.name in ("script", "catchError", "dir"):
            yield from step_calls(item.body, credentials, env)
        else:
            yield item, credentials, env


def sh_calls(stage: Stage) -> list[ShCall]:
    found = []
    for item, credentials, env in step_calls(stage.steps):
        if isinstance(item, Call) and item.name == "sh":
            found.append(ShCall(item.kwargs["label"], item.kwargs["script"], credentials, env))
    return found


def env_assignments(stage: Stage) -> dict[str, Any]:
    """`env.NAME = value` statements inside the stage's script blocks."""
    return {item.target.removeprefix("env."): item.value for item, _, _ in step_calls(stage.steps)
            if isinstance(item, Assign) and item.target.startswith("env.")}
