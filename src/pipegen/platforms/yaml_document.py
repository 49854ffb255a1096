"""Pipeline files (pipegen's own output, often megabytes) as plain values, for the readers.

`yaml.load` with libyaml's loaders still composes a node per value and constructs each in
Python: two thirds of the time of reading a large workflow. A generated file is plain
mappings, lists and scalars, so its values are built here straight from libyaml's events,
about three times faster. Anything else (anchors and aliases, explicit tags, merge keys,
complex keys, several documents, an error) is read by `yaml.load` with the same loader as
before, so the result and the errors are PyYAML's in every case.

`pipegen diff` reads two versions of each file that are mostly the same text. With `Pieces`
shared by the two reads, a file laid out in block style is cut by its text into entries (one per
key or list item, and inside a large entry, one per key or item of its value) and each distinct
entry is parsed once; see `_Split` for when a file is cut and why the value is the same.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, TypeVar

import yaml

T = TypeVar("T")

_C_LOADERS = hasattr(yaml, "CBaseLoader") and hasattr(yaml, "CSafeLoader")  # PyYAML built with libyaml
_SCALAR, _MAPPING_START, _MAPPING_END = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_STR = "tag:yaml.org,2002:str"


class _Unusual(Exception):
    """The text uses what the event builder leaves to `yaml.load`."""


class Pieces:  # pylint: disable=too-few-public-methods
    """Entries of the files read so far, parsed, by their text (see `_Split`): one per pair of
    versions read together. Values come out shared between the documents: never change them."""

    def __init__(self) -> None:
        self.parsed: dict[tuple[bool, int, str], Any] = {}
        self.computed: dict[tuple[int, Callable], tuple[Any, Any]] = {}


def derived(pieces: Pieces | None, value: Any, compute: Callable[[Any], T]) -> T:
    """compute(value), once per parsed value shared by the documents read with `pieces` (what a
    reader takes from one job alone, for a job whose text is the same in both versions). By
    identity: each entry holds its value, so no other object can take its id."""
    if pieces is None:
        return compute(value)
    key = (id(value), compute)
    entry = pieces.computed.get(key)
    if entry is None or entry[0] is not value:
        entry = pieces.computed[key] = (value, compute(value))
    return entry[1]


def load(text: str, typed: bool, pieces: Pieces | None = None) -> Any:
    """The document's value as `yaml.load` gives it: with `typed`, as SafeLoader (booleans,
    numbers, null), else as BaseLoader (every scalar a string; `on:` stays the key "on").
    With `pieces`, entries whose text was parsed before are taken from there."""
    loader = (getattr(yaml, "CSafeLoader", yaml.SafeLoader) if typed
              else getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    if _C_LOADERS:
        if pieces is not None:
            try:
                return _Split(text, typed, pieces).document()
            except (_Unusual, yaml.YAMLError):
                pass  # read whole below
        try:
            return _from_events(text, _Scalars() if typed else None)
        except (_Unusual, yaml.YAMLError):
            pass  # read again below: PyYAML's value, or its error and mark
    return yaml.load(text, Loader=loader)


class _Scalars:  # pylint: disable=too-few-public-methods
    """Plain scalars resolved and constructed as SafeLoader does, each distinct text once."""

    def __init__(self) -> None:
        self.loader = yaml.SafeLoader("")
        self.known: dict[str, Any] = {}

    def value(self, text: str) -> Any:
        if text in self.known:
            return self.known[text]
        tag = self.loader.resolve(yaml.ScalarNode, text, (True, False))
        found = text if tag == _STR else self.loader.construct_object(yaml.ScalarNode(tag, text), deep=True)
        self.known[text] = found
        return found


def _from_events(text: str, scalars: _Scalars | None) -> Any:  # pylint: disable=too-many-branches,too-many-statements
    """One document's mappings, lists and scalars, built from the parser's events."""
    parser = yaml.CBaseLoader(text)
    try:
        get = parser.get_event
        get()  # stream start
        if parser.check_event(yaml.StreamEndEvent):
            return None
        get()  # document start
        event = get()
        if event.__class__ not in (_MAPPING_START, _SEQUENCE_START):
            raise _Unusual()  # a lone scalar, an alias, an empty document
        root = current = {} if event.__class__ is _MAPPING_START else []
        if event.anchor is not None or event.tag is not None:
            raise _Unusual()
        in_mapping, key, outer = event.__class__ is _MAPPING_START, None, []
        known = scalars.known if scalars is not None else None
        while True:
            event = get()
            kind = event.__class__
            if kind is _SCALAR:  # most events: handled inline
                if event.anchor is not None or event.tag is not None:
                    raise _Unusual()
                value = event.value
                if known is not None and event.implicit[0]:  # a plain scalar, typed as SafeLoader types it
                    value = known[value] if value in known else scalars.value(value)
                if not in_mapping:
                    current.append(value)
                elif key is None:
                    if value is None or value == "<<" or not isinstance(value, (str, int, float, bool)):
                        raise _Unusual()  # a null key, a merge key, a date: yaml.load decides
                    key = value
                else:
                    current[key], key = value, None
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                if event.anchor is not None or event.tag is not None or (in_mapping and key is None):
                    raise _Unusual()  # an anchor, a tag, a mapping or list as a key
                child: Any = {} if kind is _MAPPING_START else []
                if in_mapping:
                    current[key], key = child, None
                else:
                    current.append(child)
                outer.append((current, in_mapping))
                current, in_mapping = child, kind is _MAPPING_START
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                if not outer:
                    break
                current, in_mapping = outer.pop()
            else:
                raise _Unusual()  # an alias
        get()  # document end
        if not parser.check_event(yaml.StreamEndEvent):
            raise _Unusual()  # a second document: yaml.load refuses it
        return root
    finally:
        parser.dispose()


# ---------------------------------------------------------------------------- entry by entry

_ODD_BREAKS = ("\x85", "\u2028", "\u2029")  # line breaks to YAML, besides \n, \r\n and \r
# A plain key that starts an entry of a block mapping: nothing YAML reads another way (`? `, `: `,
# quotes, anchors, tags, `---`, `...`, `%` directives, flow collections).
_KEY = r"\.?[A-Za-z0-9_][A-Za-z0-9_.-]*:(?=[ \r\n]|\Z)"
_KEY_LINE = re.compile(_KEY)
_DASHED_KEY = re.compile(r"- " + _KEY)
_HEADER = re.compile(_KEY + r" *\r?\n")  # `key:` alone on its line: its value is the lines below
_CONTENT = re.compile(r"\n( *)[^ \r\n#]")  # a line that is neither blank nor a comment
_MISSING = object()
_NESTED_KEY = "_"
_NESTED = f"{_NESTED_KEY}:\n"
SPLIT_FROM = 4096  # characters: an entry this large is itself read entry by entry, where it can be
SMALLEST_ENTRY = 128  # characters on average: entries smaller than this are not worth reading one by one


@functools.lru_cache(maxsize=None)
def _shallow_lines(indent: int) -> re.Pattern:
    """A line indented `indent` or less that is not blank (tabs and comments included), up to its
    first other character (the spaces taken in a lookahead: a deeper line is not counted again
    with fewer of them)."""
    return re.compile(r"\n(?=( {0,%d}))\1[^ \r\n]" % indent)


class _Split:
    """One document read entry by entry, or `_Unusual` when its layout is not the one this needs.

    A block collection whose entries start at column n (each line of it indented at least n, or
    blank; only comments may follow less indented) is cut before each line indented exactly n
    that is not a comment; each entry must be a plain `key:` (a mapping) or a `- ` item (a list),
    all alike. Within such lines, libyaml's scanner compares columns only with the indentation
    of the collections they are in (never below n), so an entry parsed alone at the same column
    (as the value of a key at column 0) gives the events it gives in place; an entry that does
    not end where the next begins (an open quote or bracket) fails alone, and then the whole
    text is read as usual. A large `key:` entry (its value on the lines below) or `- key:` item
    is cut again the same way inside. Entries are parsed by `_from_events` (no anchors, aliases
    or tags, so no entry refers to another) and merged as one mapping or list, keys in order of
    first appearance with the last value, as PyYAML does. Entries next to each other are parsed
    in one go when that gives one entry each (a key swallowed by an open quote would not)."""

    def __init__(self, text: str, typed: bool, pieces: Pieces):
        # The cutting counts lines by \n alone; a byte-order mark would be dropped at the start of an entry.
        if text.startswith("\ufeff") or any(mark in text for mark in _ODD_BREAKS) or text.count("\r") != text.count(
                "\r\n"):
            raise _Unusual()
        self.text, self.typed, self.pieces = text, typed, pieces
        self.scalars = _Scalars() if typed else None

    def document(self) -> Any:
        text = self.text
        first = 0 if text[:1] not in ("", " ", "\r", "\n", "#") else _first_content(text, 0, len(text))
        if first is None or text[first] == " ":
            raise _Unusual()  # no content, or the document does not start at column 0
        if first and _from_events(text[:first], self.scalars) is not None:  # comments, blank lines
            raise _Unusual()
        return self._collection(first, len(text), 0)

    def _collection(self, start: int, end: int, indent: int, dashed: bool = False) -> Any:
        """The collection whose entries start at column `indent` in text[start:end]; `dashed`:
        the mapping of a `- key:` item, its first entry on the item's line at `start`."""
        text = self.text
        starts, end = self._entry_lines(start, end, indent)
        if len(starts) > 1 and end - start < SMALLEST_ENTRY * len(starts):
            raise _Unusual()  # many small entries (a long list of names): cheaper parsed in one go
        is_list = self._is_list(starts[1:] if dashed else starts, indent)
        spans = list(zip(starts, starts[1:] + [end]))
        pieces: list[Any] = [None] * len(spans)
        unread: list[int] = []  # consecutive small entries not read before: parsed together
        for index, (begin, finish) in enumerate(spans):
            known = _MISSING
            if dashed and index == 0:
                (known,) = self._entry_text(begin, finish, indent - 2, True)  # the item's keys on its line
                if not isinstance(known, dict):
                    raise _Unusual()
            elif finish - begin >= SPLIT_FROM:
                known = self._entry(begin, finish, indent, is_list)
            else:
                known = self.pieces.parsed.get((self.typed, indent, text[begin:finish]), _MISSING)
                if known is _MISSING:
                    unread.append(index)
                    continue
            pieces[index] = known
            self._read_together(spans, unread, pieces, indent, is_list)
            unread = []
        self._read_together(spans, unread, pieces, indent, is_list)
        return _merged(pieces, is_list)

    def _is_list(self, starts: list[int], indent: int) -> bool:
        """Whether the entries are list items (`- `), else plain keys: all alike, or `_Unusual`."""
        text = self.text
        kinds = {text[begin + indent] == "-" and text[begin + indent + 1:begin + indent + 2] in ("", " ", "\r", "\n")
                 or (None if _KEY_LINE.match(text, begin + indent) else "neither") for begin in starts}
        if len(kinds) > 1 or "neither" in kinds:
            raise _Unusual()  # a list item among keys, or what is neither (`? `, quotes, `---`, a tab)
        return kinds == {True}

    def _read_together(self, spans: list[tuple[int, int]], unread: list[int], pieces: list[Any], indent: int,
                       is_list: bool) -> None:
        """Entries next to each other, parsed in one go (one parser, not one each) when they come out
        as one entry each (a key written twice would not: then one by one), each then kept as if
        parsed alone: its lines are the same, in a collection at the same column."""
        if not unread:
            return
        text = self.text
        together: Any = None
        if len(unread) > 1:
            source = text[spans[unread[0]][0]:spans[unread[-1]][1]]
            try:
                together = _from_events(_NESTED + source, self.scalars) if indent else {_NESTED_KEY: _from_events(
                    source, self.scalars)}
            except (_Unusual, yaml.YAMLError):
                together = None
            together = together.get(_NESTED_KEY) if isinstance(together, dict) and len(together) == 1 else None
            if not isinstance(together, list if is_list else dict) or len(together) != len(unread):
                together = None
        if together is None:
            for index in unread:
                pieces[index] = self._entry_text(*spans[index], indent, is_list)
            return
        entries = [[item] for item in together] if is_list else [{key: value} for key, value in together.items()]
        for index, entry in zip(unread, entries):
            begin, finish = spans[index]
            pieces[index] = self.pieces.parsed[(self.typed, indent, text[begin:finish])] = entry

    def _entry_lines(self, start: int, end: int, indent: int) -> tuple[list[int], int]:
        """Where each entry starts (its line indented exactly `indent`, not a comment), and where the
        collection's lines end: a line indented less must be a comment after the last entry (a
        stage's banner above the next stage), with only comments and blank lines after it; those
        are comments in place too (less indented than any scalar of the collection, they end it)."""
        text = self.text
        starts, shallow = [start], None
        for match in _shallow_lines(indent).finditer(text, start, end):
            first = match.end() - 1
            if first - match.start() - 1 == indent and text[first] != "#":
                starts.append(match.start() + 1)
            elif first - match.start() - 1 < indent:
                if text[first] != "#":
                    raise _Unusual()
                shallow = match.start() + 1
                break
        if shallow is None:
            return starts, end
        if _CONTENT.search(text, shallow - 1, end) or _from_events(text[shallow:end], self.scalars) is not None:
            raise _Unusual()  # something after it: not the collection's trailing comments
        return starts, shallow

    def _entry(self, start: int, end: int, indent: int, is_list: bool) -> Any:
        """One large entry as a one-key mapping or a one-item list (kept by its text like a small one)."""
        cache = (self.typed, indent, self.text[start:end])
        found = self.pieces.parsed.get(cache, _MISSING)
        if found is _MISSING:
            try:
                found = self.pieces.parsed[cache] = self._inside(start, end, indent, is_list)
            except (_Unusual, yaml.YAMLError):
                found = self._entry_text(start, end, indent, is_list)  # read as one entry
        return found

    def _inside(self, start: int, end: int, indent: int, is_list: bool) -> Any:
        """A large entry cut again: `- key: ...` into its mapping's entries, `key:` (its value on
        the lines below, indented deeper) into its value's entries."""
        text = self.text
        if is_list:
            if not _DASHED_KEY.match(text, start + indent):
                raise _Unusual()
            return [self._collection(start, end, indent + 2, dashed=True)]
        if not _HEADER.match(text, start + indent):
            raise _Unusual()
        body = _CONTENT.search(text, text.index("\n", start), end)
        if body is None or len(body.group(1)) <= indent:
            raise _Unusual()
        (key,) = self._entry_text(start, body.start() + 1, indent, False)  # `key:` and any comments
        return {key: self._collection(body.start() + 1, end, len(body.group(1)))}

    def _entry_text(self, start: int, end: int, indent: int, is_list: bool) -> Any:
        source = self.text[start:end]
        cache = (self.typed, indent, source)
        found = self.pieces.parsed.get(cache, _MISSING)
        if found is _MISSING:
            # Indented, the entry is parsed as the value of a key at column 0: the same collection at
            # the same column, in a document that starts where the entry does.
            found = _from_events(_NESTED + source, self.scalars) if indent else {_NESTED_KEY: _from_events(
                source, self.scalars)}
            found = found.get(_NESTED_KEY) if isinstance(found, dict) and len(found) == 1 else None
            if not isinstance(found, list if is_list else dict) or len(found) != 1:
                raise _Unusual()
            self.pieces.parsed[cache] = found
        return found


def _merged(pieces: list[Any], is_list: bool) -> Any:
    """One-item lists as one list; one-key mappings as one mapping (keys in order of first
    appearance, each with its last value, as PyYAML builds a mapping)."""
    found: Any = [] if is_list else {}
    for piece in pieces:
        if is_list:
            found.extend(piece)
        else:
            found.update(piece)
    return found


def _first_content(text: str, start: int, end: int) -> int | None:
    match = _CONTENT.search(text, start, end)
    return None if match is None else match.start() + 1
