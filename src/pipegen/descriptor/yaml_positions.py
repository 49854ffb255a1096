"""YAML → plain Python values plus the position of every value and mapping key, so
every problem can be reported as file:line:col.

The node tree is composed here from PyYAML's event stream, without recursion, and the
limits below are checked while the events arrive: a descriptor is refused before an
alias bomb can expand, before nesting can exhaust the stack, and before a recursive
alias can loop.

The events come from libyaml when PyYAML has it and the text is sure to read the same
there (about ten times faster on big descriptors); otherwise, and for every error, from
PyYAML's own parser, whose marks and messages are the reference.

The usual descriptor (no anchors, aliases or tags, nothing wrong) is read from libyaml's events
in one pass straight to values and positions (_read_plain), without composing a node tree;
anything else falls back to the composer and builder below."""
from __future__ import annotations

import math
import re
from typing import Any

import yaml

from pipegen.cycle_gc import paused
from pipegen.errors import Problem, shorten
from pipegen.records import record

KEY = "<key>"  # positions[(*path, KEY)] is where the mapping key of `path` was written

MAX_BYTES = 1024 * 1024  # a descriptor is a few kilobytes; this is 1 MiB
MAX_DEPTH = 64  # nested mappings and lists, aliases expanded
MAX_ALIASES = 256  # `*name` references in the file
MAX_INT_BITS = 64  # an integer setting (a timeout, a threshold) is far smaller
MAX_NODES = 100_000  # values once every alias is expanded (a billion-laughs file has 10**9)

_LIBYAML_LOADER = getattr(yaml, "CSafeLoader", None)
# Text where libyaml and PyYAML can disagree: libyaml accepts tabs and '?' in places PyYAML
# refuses, counts columns after non-ASCII characters in bytes, and PyYAML's reader refuses
# control characters libyaml lets through. Such text goes to PyYAML alone.
_LIBYAML_UNSURE = re.compile(r"[^\n\x20-\x7e]|\?")

_SCALAR_EVENT, _ALIAS_EVENT = yaml.ScalarEvent, yaml.AliasEvent
_MAPPING_START, _SEQUENCE_START = yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAPPING_END, _SEQUENCE_END = yaml.MappingEndEvent, yaml.SequenceEndEvent

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


@record
class Located:
    data: Any
    positions: dict[tuple, tuple[int, int]]
    raw: dict[tuple, str]  # scalar text as written, for hints


class LimitError(Exception):
    """The file exceeds one of the limits; carries the mark where it did."""

    def __init__(self, mark: yaml.Mark | None, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


def _tag(node: yaml.Node) -> str:
    """A tag as written (`!!int`, not `tag:yaml.org,2002:int`), cut to a readable length."""
    return shorten(node.tag.replace("tag:yaml.org,2002:", "!!"))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Open:  # pylint: disable=too-few-public-methods
    """A mapping or list being composed: its node, the anchor it defines, and the size
    and height of its subtree with aliases expanded."""

    __slots__ = ("node", "anchor", "size", "height")

    def __init__(self, node: yaml.Node, anchor: str | None):
        self.node = node
        self.anchor = anchor
        self.size = 1
        self.height = 1


class _Unsure(Exception):
    """libyaml produced an event whose mark PyYAML may place elsewhere (an empty plain scalar)."""


class _Composer:
    """Events → node tree, iteratively, with the limits enforced as it goes."""

    def __init__(self, libyaml: bool = False) -> None:
        self.libyaml = libyaml
        self.resolver = yaml.resolver.Resolver()
        self.anchors: dict[str, tuple[yaml.Node, int, int]] = {}  # name -> (node, size, height)
        self.open_anchors: set[str] = set()
        self.stack: list[_Open] = []
        self.aliases = 0
        self.nodes = 0
        self.root: yaml.Node | None = None
        self.tags: dict[tuple, str] = {}  # (plain text, implicit) -> resolved tag; descriptors repeat values

    def _add(self, node: yaml.Node, size: int, height: int, mark: yaml.Mark) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise LimitError(mark, f"more than {MAX_NODES} values once aliases are expanded "
                                   "(an alias bomb?); write the values out or use fewer aliases")
        if len(self.stack) + height > MAX_DEPTH:
            raise LimitError(mark, f"nested deeper than {MAX_DEPTH} levels")
        if not self.stack:
            self.root = node
            return
        parent = self.stack[-1]
        parent.node.value.append(node)
        parent.size += size
        parent.height = max(parent.height, height + 1)

    def _anchor(self, anchor: str | None, node: yaml.Node, size: int, height: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = (node, size, height)

    def feed(self, event: yaml.Event) -> None:
        kind = event.__class__
        if kind is _SCALAR_EVENT:  # most events: handled inline, as _add would
            self._scalar(event)
        elif kind is _ALIAS_EVENT:
            self._alias(event)
        elif kind is _MAPPING_START or kind is _SEQUENCE_START:
            self._start(event)
        elif kind is _MAPPING_END or kind is _SEQUENCE_END:
            self._end(event)

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        style, value, tag = event.style, event.value, event.tag
        if self.libyaml and not style:  # libyaml writes a plain scalar's style as '', PyYAML as None
            if not value:
                raise _Unsure()
            style = None
        if tag is None or tag == "!":
            key = (value, event.implicit)
            tag = self.tags.get(key)
            if tag is None:
                tag = self.tags[key] = self.resolver.resolve(yaml.ScalarNode, value, event.implicit)
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, style=style)
        if event.anchor is not None:
            self.anchors[event.anchor] = (node, 1, 1)
        self.nodes += 1
        stack = self.stack
        if self.nodes > MAX_NODES or len(stack) + 1 > MAX_DEPTH:
            self.nodes -= 1
            self._add(node, 1, 1, event.start_mark)  # raises the limit's error
        if not stack:
            self.root = node
            return
        parent = stack[-1]
        parent.node.value.append(node)
        parent.size += 1
        if parent.height < 2:
            parent.height = 2

    def _alias(self, event: yaml.AliasEvent) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise LimitError(event.start_mark, f"more than {MAX_ALIASES} aliases")
        if event.anchor in self.open_anchors:
            raise LimitError(event.start_mark, f"alias *{shorten(event.anchor)} refers to a value that contains it "
                                               "(recursive aliases are not supported)")
        if event.anchor not in self.anchors:
            raise LimitError(event.start_mark, f"found undefined alias *{shorten(event.anchor)}")
        node, size, height = self.anchors[event.anchor]
        self._add(node, size, height, event.start_mark)

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(yaml.MappingNode if is_mapping else yaml.SequenceNode, None, event.implicit)
        kind = yaml.MappingNode if is_mapping else yaml.SequenceNode
        node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if len(self.stack) + 1 > MAX_DEPTH:
            raise LimitError(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        self.stack.append(_Open(node, event.anchor))
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)

    def _end(self, event: yaml.Event) -> None:
        done = self.stack.pop()
        done.node.end_mark = event.end_mark
        if isinstance(done.node, yaml.MappingNode):
            items = done.node.value
            if len(items) % 2:  # cannot happen with PyYAML's parser; kept exact anyway
                raise LimitError(event.start_mark, "a mapping key without a value")
            done.node.value = [(items[index], items[index + 1]) for index in range(0, len(items), 2)]
        if done.anchor is not None:
            self.open_anchors.discard(done.anchor)
            self._anchor(done.anchor, done.node, done.size, done.height)
        self.nodes -= done.size - 1  # its children were counted as they came; count the subtree once
        self._add(done.node, done.size, done.height, done.node.start_mark)


def compose(text: str) -> yaml.Node | None:
    """One YAML document as a node tree; raises yaml.YAMLError or LimitError."""
    if _LIBYAML_LOADER is not None and not _LIBYAML_UNSURE.search(text):
        try:
            return _compose(text, _LIBYAML_LOADER)
        except (yaml.YAMLError, LimitError, _Unsure):
            pass  # read again by PyYAML, for the reference mark and message
    return _compose(text, yaml.SafeLoader)


def _compose(text: str, loader: type) -> yaml.Node | None:
    composer = _Composer(libyaml=loader is not yaml.SafeLoader)
    feed = composer.feed
    documents = 0
    parser = loader(text)
    try:
        while parser.check_event():
            event = parser.get_event()
            if event.__class__ is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise LimitError(event.start_mark, "expected a single document, found a second one")
                composer.anchors.clear()
            feed(event)
    finally:
        parser.dispose()
    return composer.root


class _Builder:
    """Builds values from a composed node tree; SafeLoader's constructors give the
    scalar types (int, float, bool, null) YAML 1.1 users expect. The tree's depth is
    bounded by MAX_DEPTH, so the recursion here is too."""

    def __init__(self, filename: str):
        self.filename = filename
        self.loader = yaml.SafeLoader("")
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.raw: dict[tuple, str] = {}
        self.problems: list[Problem] = []

    def release(self) -> None:
        """Lets the node tree go when the caller drops it: PyYAML's loader keeps every node it
        constructed and refers to itself, so without this only a full garbage collection
        (which then walks every live object) would free them."""
        self.loader.constructed_objects.clear()
        self.loader.dispose()

    def _problem(self, node: yaml.Node, message: str) -> None:
        line, col = _mark(node)
        self.problems.append(Problem(self.filename, line, col, message))

    def build(self, node: yaml.Node, path: tuple) -> Any:
        self.positions[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self._problem(node, f"tag {_tag(node)} on a mapping is not supported")
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._problem(node, f"tag {_tag(node)} on a list is not supported")
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        self.raw[path] = node.value
        return self.scalar(node)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        """The scalar's value; a value its tag cannot read is a located problem (None)."""
        if node.tag == _STR:  # most values: what SafeLoader's str constructor returns, without its dispatch
            return node.value
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self._problem(node, f"invalid YAML: {shorten(exc.problem or str(exc))}")
            return None
        # PyYAML's constructors raise ValueError, KeyError, AttributeError... on text their tag
        # cannot read (`!!bool maybe`, `!!timestamp x`); whatever it is, it is this scalar's problem.
        except Exception:  # pylint: disable=broad-exception-caught
            self._problem(node, f"invalid YAML: {shorten(node.value)} is not a valid {_tag(node)} value")
            return None
        if (refused := _unusable_number(value, node.value)) is not None:
            self._problem(node, refused)
            return None
        if isinstance(value, (bytes, set)) or type(value).__module__ not in ("builtins", "datetime"):
            self._problem(node, f"tag {_tag(node)} is not supported")
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(key_node, "YAML merge keys (<<) are not supported")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, "a mapping or list as a key is not supported")
                continue
            key = self.scalar(key_node)
            if not isinstance(key, str):
                key = str(key)  # the schema reports it as an unknown key, located
            if key in result:
                self._problem(key_node, f"duplicate key {shorten(key)!r}")
                continue
            self.positions[(*path, key, KEY)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result


def _unusable_number(value: Any, written: str) -> str | None:
    """Why a number read from the descriptor cannot be used, or None."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        # Python refuses to print an integer of over 4,300 digits; no setting needs one of 20.
        return f"{shorten(written)} is too large a number (more than {MAX_INT_BITS} bits); quote it if it is text"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{written} is not a finite number (no .nan or .inf in a descriptor)"
    return None


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index, counting lines as YAML does."""
    before = text[:index]
    line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1, index - line_start + 1


def _reader_problem(exc: yaml.reader.ReaderError, text: str, filename: str) -> Problem:
    line, col = _position(text, exc.position)
    character = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return Problem(filename, line, col,
                   f"invalid YAML: the character U+{ord(character):04X} is not allowed in YAML text; "
                   "write it as an escape (\\uXXXX) in a double-quoted string if you really need it")


def load_located(text: str, filename: str) -> tuple[Located | None, list[Problem]]:
    """Parses one YAML document; returns (value with positions, problems)."""
    if len(text) > MAX_BYTES:
        return None, [Problem(filename, 1, 1, f"the descriptor is larger than {MAX_BYTES // 1024} KiB")]
    with paused():
        located = _read_plain(text, filename) if _LIBYAML_LOADER is not None and not _LIBYAML_UNSURE.search(text) \
            else None
        return (located, []) if located is not None else _load_located(text, filename)


class _NotPlain(Exception):
    """The text holds something _read_plain leaves to the composer and the builder."""


_NO_KEY = object()  # a mapping being read whose next scalar is a key


class _Reading:  # pylint: disable=too-few-public-methods
    """A mapping or list being read by _read_plain: its value, path and, for a mapping, the key
    whose value comes next."""

    __slots__ = ("value", "path", "key", "is_mapping")

    def __init__(self, value: dict | list, path: tuple, is_mapping: bool):
        self.value, self.path, self.key, self.is_mapping = value, path, _NO_KEY, is_mapping


def _read_plain(text: str, filename: str) -> Located | None:
    """The usual descriptor read in one pass from libyaml's events to values, positions and raw
    text, with no node tree in between (which cost more than the parse). Anything else (anchors,
    aliases, tags, complex or duplicate keys, a limit reached, a value with a problem, a parse error,
    an empty plain scalar) gives None: the composer and the builder read that text and say what is
    wrong. Both ways give the same values, positions and raw text (a test compares them)."""
    builder = _Builder(filename)  # its scalar(): the values of scalars that are not strings
    try:
        return _plain_events(_LIBYAML_LOADER(text), builder)
    except (_NotPlain, yaml.YAMLError):
        return None
    finally:
        builder.release()


def _plain_events(parser: Any, builder: _Builder) -> Located:  # noqa: C901  (one branch per event kind)
    # pylint: disable=too-many-branches,too-many-statements,too-many-locals,too-many-nested-blocks
    # (one loop over the events, kept flat: a call per event would cost a tenth of the read)
    positions: dict[tuple, tuple[int, int]] = {}
    raw: dict[tuple, str] = {}
    resolve = yaml.resolver.Resolver().resolve
    tags: dict[str, str] = {}  # the tag of each plain text read
    stack: list[_Reading] = []
    root: list = []
    events = documents = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            kind = event.__class__
            if kind is _SCALAR_EVENT or kind is _MAPPING_START or kind is _SEQUENCE_START:
                events += 1
                if event.anchor is not None or event.tag is not None or events > MAX_NODES:
                    raise _NotPlain()
                mark = event.start_mark
                position = (mark.line + 1, mark.column + 1)
                if kind is _SCALAR_EVENT:
                    written = event.value
                    if not event.style and not written:
                        raise _NotPlain()  # an empty plain scalar: libyaml may mark it elsewhere
                    implicit = event.implicit
                    if not implicit[0]:  # quoted or a block (a tag was refused above): always a string
                        tag = _STR
                    else:
                        tag = tags.get(written)  # plain: the resolvers decide by the text alone
                        if tag is None:
                            tag = tags[written] = resolve(yaml.ScalarNode, written, implicit)
                    if tag == _STR:
                        value: Any = written
                    else:
                        value = builder.scalar(yaml.ScalarNode(tag, written, mark, event.end_mark,
                                                               style=event.style or None))
                        if builder.problems or tag == "tag:yaml.org,2002:merge":
                            raise _NotPlain()
                else:
                    if len(stack) + 1 > MAX_DEPTH:
                        raise _NotPlain()
                    value = {} if kind is _MAPPING_START else []
                if not stack:
                    path: tuple = ()
                    root.append(value)
                else:
                    parent = stack[-1]
                    if not parent.is_mapping:
                        path = (*parent.path, len(parent.value))
                        parent.value.append(value)
                    elif parent.key is _NO_KEY:  # this scalar is a key
                        if kind is not _SCALAR_EVENT:
                            raise _NotPlain()
                        key = value if isinstance(value, str) else str(value)
                        if key in parent.value:
                            raise _NotPlain()
                        positions[(*parent.path, key, KEY)] = position
                        parent.key = key
                        continue
                    else:
                        path = (*parent.path, parent.key)
                        parent.value[parent.key] = value
                        parent.key = _NO_KEY
                positions[path] = position
                if kind is _SCALAR_EVENT:
                    raw[path] = written
                else:
                    stack.append(_Reading(value, path, kind is _MAPPING_START))
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                stack.pop()
            elif kind is _ALIAS_EVENT:
                raise _NotPlain()
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _NotPlain()
    finally:
        parser.dispose()
    if not root:
        raise _NotPlain()
    return Located(root[0], positions, raw)


def _load_located(text: str, filename: str) -> tuple[Located | None, list[Problem]]:
    try:
        node = compose(text)
    except LimitError as exc:
        line, col = (exc.mark.line + 1, exc.mark.column + 1) if exc.mark else (1, 1)
        return None, [Problem(filename, line, col, exc.message)]
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(exc, text, filename)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(filename, line, col, f"invalid YAML: {shorten(reason)}")]
    except yaml.YAMLError as exc:
        return None, [Problem(filename, 1, 1, f"invalid YAML: {shorten(str(exc).splitlines()[0])}")]
    if node is None:
        return None, [Problem(filename, 1, 1, "the descriptor is empty")]
    builder = _Builder(filename)
    data = builder.build(node, ())
    builder.release()
    if builder.problems:
        return None, builder.problems
    return Located(data, builder.positions, builder.raw), []


def load_bounded(text: str) -> Any:
    """A YAML document read under the same limits as a descriptor (size, depth, aliases),
    for other files pipegen reads (MLproject, compose files): their value, or None when
    they exceed a limit or do not parse."""
    located, _ = load_located(text, "<yaml>")
    return located.data if located is not None else None
