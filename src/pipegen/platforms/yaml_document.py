"""Pipeline files (pipegen's own output, often megabytes) as plain values, for the readers.

`yaml.load` with libyaml's loaders still composes a node per value and constructs each in
Python: two thirds of the time of reading a large workflow. A generated file is plain
mappings, lists and scalars, so its values are built here straight from libyaml's events,
about three times faster. Anything else (anchors and aliases, explicit tags, merge keys,
complex keys, several documents, an error) is read by `yaml.load` with the same loader as
before, so the result and the errors are PyYAML's in every case.
"""
from __future__ import annotations

from typing import Any

import yaml

_C_LOADERS = hasattr(yaml, "CBaseLoader") and hasattr(yaml, "CSafeLoader")  # PyYAML built with libyaml
_SCALAR, _MAPPING_START, _MAPPING_END = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_STR = "tag:yaml.org,2002:str"


class _Unusual(Exception):
    """The text uses what the event builder leaves to `yaml.load`."""


def load(text: str, typed: bool) -> Any:
    """The document's value as `yaml.load` gives it: with `typed`, as SafeLoader (booleans,
    numbers, null), else as BaseLoader (every scalar a string; `on:` stays the key "on")."""
    loader = (getattr(yaml, "CSafeLoader", yaml.SafeLoader) if typed
              else getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    if _C_LOADERS:
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
