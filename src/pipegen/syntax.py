"""Escaping for the syntaxes generated text lands in. Each function returns text that
parses back to exactly the given value; tests feed hostile strings through all of them."""
from __future__ import annotations

import json
import re
from functools import lru_cache

import yaml

_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9 _./@+=,:-]*$")
# Plain scalars a YAML 1.2 parser (the npm `yaml` package behind GitHub's parser, Go's yaml.v3)
# reads as something other than a string, though PyYAML's YAML 1.1 reads them as strings.
_YAML12_NON_STRING = re.compile(
    r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$")
# One-line text that YAML's scanner reads, unchanged, as one plain scalar in block context
# (no indicator first, no ': ', ' #' or final ':'): then only the YAML 1.1 implicit
# resolvers decide what it reads as, which is much cheaper than parsing it.
_PLAIN_TEXT = re.compile(r"^[A-Za-z0-9_$/(][A-Za-z0-9 _$./@+=,:()\[\]{}'*|\"!&%<>?~^;-]*$")
_RESOLVER = yaml.resolver.Resolver()
_BLOCK_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]")


# Memoised: templates quote the same few hundred values thousands of times, and each
# first answer costs a YAML parse. `typed`, so True and 1 are different keys.
@lru_cache(maxsize=16384, typed=True)
def yaml_scalar(value: str | int | float | bool | None, flow: bool = False) -> str:
    """A flow scalar: plain when that reads back as the same string, else quoted. With
    `flow`, it also reads back inside a flow collection such as `[a, b]` (no plain `,`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if (value and _PLAIN_SAFE.match(value) and _indicator_free(value) and value == value.strip()
            and not _YAML12_NON_STRING.match(value) and not (flow and "," in value)):
        # Its characters are plain text's: the resolvers alone decide (a '.' first too, as in `./run.sh`;
        # only '...' first may end a document, which the full parse judges).
        if _resolves_as_string(value) if not value.startswith("...") else _reads_back_plain(value):
            return value
    if "\n" not in value and not _BLOCK_UNSAFE.search(value) and "\t" not in value:
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=4096, typed=True)
def yaml_block(text: str, indent: int) -> str:
    """A literal block scalar (`|`) for shell scripts, indented by `indent` spaces, to be
    followed by a line break in the template; falls back to a quoted scalar for text a
    block cannot carry exactly."""
    if "\n" not in text.rstrip("\n") or _BLOCK_UNSAFE.search(text) or text.strip("\n") == "":
        return yaml_scalar(text)
    stripped = text.rstrip("\n")
    trailing = len(text) - len(stripped)
    if trailing > 1:
        return yaml_scalar(text)  # keep-chomping would absorb the template's own newline
    chomp = "-" if trailing == 0 else ""
    lines = stripped.split("\n")
    if any(line != line.rstrip(" \t") and not line.strip() for line in lines):
        return yaml_scalar(text)  # whitespace-only lines would be read as indentation
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        return yaml_scalar(text)  # only Unicode spaces (NBSP...) on its lines: quoted, exact
    if first[:1] in (" ", "\t"):
        # An indentation indicator is relative to the parent node, which only the template
        # knows; a quoted scalar is exact without it.
        return yaml_scalar(text)
    pad = " " * indent
    body = "\n".join(pad + line if line else "" for line in lines)
    # The template's own line break ends the last line.
    return f"|{chomp}\n{body}"


@lru_cache(maxsize=4096, typed=True)
def yaml_expression(text: str) -> str:
    """A value people read best unquoted, such as a CI expression pipegen builds
    (`${{ ... }}`, `$[ ... ]`): plain when YAML 1.1 reads the plain form back as exactly
    this string and YAML 1.2 would not read it as a number, bool or null; else quoted."""
    if text and "\n" not in text and text == text.strip() and not _YAML12_NON_STRING.match(text):
        if _reads_back_plain(text, as_value=True):
            return text
    return yaml_scalar(text)


def _reads_back_plain(text: str, as_value: bool = False) -> bool:
    """Whether YAML 1.1 (PyYAML) reads `text` written plain back as exactly `text`, at the
    top of a document or, with `as_value`, as the value of a block mapping."""
    if _PLAIN_TEXT.match(text) and text == text.strip() and _indicator_free(text):
        return _resolves_as_string(text)
    try:
        if as_value:
            return yaml.safe_load(f"key: {text}") == {"key": text}
        return yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def _indicator_free(text: str) -> bool:
    """No ': ', ' #' or final ':' in non-empty one-line `text` whose only whitespace is ' ' (what
    _PLAIN_SAFE and _PLAIN_TEXT let through): nothing inside it ends a plain scalar."""
    return ": " not in text and " #" not in text and text[-1] != ":"


def _resolves_as_string(text: str) -> bool:
    """Whether YAML 1.1's implicit resolvers leave plain `text` a string (no bool, number, null...)."""
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"


LONG_COMMAND = 100  # past this many characters, one argument group a line


def shell_command(*parts: str) -> str:
    """One shell command from argument groups (already shell-quoted); past LONG_COMMAND
    characters, one group a line with `\\` continuations, so PR diffs stay readable."""
    parts = tuple(part for part in parts if part)
    line = " ".join(parts)
    return line if len(line) <= LONG_COMMAND else " \\\n    ".join(parts)


@lru_cache(maxsize=4096)  # the same labels, credentials and install scripts in every stage
def groovy_string(value: str) -> str:
    """A single-quoted Groovy string: no interpolation, so `$` stays literal."""
    if value == "":
        return '""'  # same value; tree-sitter-groovy misreads '' before some tokens
    escaped = (value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f"'{escaped}'"


@lru_cache(maxsize=4096)
def groovy_multiline(value: str) -> str:
    """A triple-single-quoted Groovy string for shell scripts (readable, no interpolation)."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\r", "\\r")
    return f"'''{escaped}'''"
