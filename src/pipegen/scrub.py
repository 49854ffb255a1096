"""The one scrubber: everything pipegen prints, writes to a report, posts, or hands to a
CI's log passes through here on its way out.

- `redact`: every secret pipegen knows becomes `***`. It knows the values of the environment
  variables that hold secrets (the CIs' own tokens, names that say TOKEN, SECRET, PASSWORD,
  ...), of the names a command or the descriptor declares secret, and the values a command
  registers (the token it sends). A secret is found whatever whitespace surrounds or splits
  it, percent-, JSON- or basic-auth-encoded, and by a fragment of six characters or more
  where a word ends or starts (`abcdef…`, `'abcdef'`): what is left when a server or a
  shortened message echoed only part of it. Passwords in URLs
  (`https://user:pass@host`) are masked too.
- `neutralise`: text that came from data (a CSV cell, a report, a file name, a server's
  answer, a pipeline file) cannot drive the CI reading the log: control characters (CR, ESC,
  ...) are shown as escapes, and no line can start a logging command on any of the four
  platforms: GitHub's `::command::` (after leading spaces) and legacy `##[command]`, Azure's
  `##vso[...]` (anywhere in a line) and `##[...]`, GitLab's `section_start:`/`section_end:`
  markers (which also need CR and ESC), Jenkins' console notes (ESC[8mha:...).
- `clean` does both; `cut` shortens text only after redacting it, so a cut never leaves the
  head of a secret behind.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import json
import os
import re
from enum import Enum
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote

from pipegen.cycle_gc import paused
from pipegen.errors import EvaluationError, printable

MASK = "***"
MIN_SECRET = 4  # shorter values are not masked: they would mask every "true" or "1" in a log
MIN_GUESSED_SECRET = 8  # for variables that only look secret by their name
MIN_FRAGMENT = 6  # the shortest head or tail of a secret masked where a word ends or starts

# Variables each CI documents as holding a token, and pipegen's own.
SECRET_VARIABLES = frozenset({
    "GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "CI_JOB_TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V1", "CI_JOB_JWT_V2", "CI_REGISTRY_PASSWORD", "CI_DEPLOY_PASSWORD",
    "SYSTEM_ACCESSTOKEN", "SONAR_TOKEN", "PIPEGEN_REPORT_TOKEN", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD",
})
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY", re.I)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s/@]+(?=@)")

_registered_values: set[str] = set()
_registered_names: set[str] = set()


def register(value: str | None) -> None:
    """A secret this process holds (a token it sends): masked from now on."""
    if value and value.strip():
        _registered_values.add(value)


def register_names(names: Iterable[str]) -> None:
    """Environment variables whose values are secret (the descriptor's `secrets`, --token-env)."""
    _registered_names.update(name for name in names if name)


def credential(value: str | None, where: str) -> str | None:
    """A token as it may be sent: surrounding whitespace (a secret file's newline) dropped;
    whitespace or a control character inside refused (EvaluationError, naming `where`, not the
    token). Registered either way, so no message ever shows it."""
    if not value:
        return None
    register(value)
    token = value.strip()
    if not token:
        return None
    if any(character.isspace() or ord(character) < 32 or ord(character) == 127 for character in token):
        raise EvaluationError(f"the token in {where} has whitespace or a control character inside it; "
                              "set it to the token alone")
    return token


def _looks_secret(name: str) -> bool:
    return name in SECRET_VARIABLES or name in _registered_names or bool(_SECRET_NAME.search(name))


def known_secrets(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Every secret value known now: registered ones and the secret variables' values."""
    env = os.environ if environ is None else environ
    found = {value for value in _registered_values if len(value.strip()) >= MIN_SECRET}
    for name, value in env.items():
        if not value or not _looks_secret(name):
            continue
        explicit = name in SECRET_VARIABLES or name in _registered_names
        if len(value.strip()) >= (MIN_SECRET if explicit else MIN_GUESSED_SECRET):
            found.add(value)
    return frozenset(found)


def _variants(secret: str) -> set[str]:
    """The spellings a secret can come back in: as is, each of its lines, and encoded."""
    core = secret.strip()
    variants = {core}
    variants.update(line.strip() for line in core.splitlines() if len(line.strip()) >= MIN_SECRET)
    variants.add(quote(core, safe=""))
    variants.add(json.dumps(core)[1:-1])
    variants.add(repr(core)[1:-1])
    for basic in (f"{core}:", f":{core}"):  # basic auth: the token as user (Sonar) or as password
        variants.add(base64.b64encode(basic.encode("utf-8", "surrogatepass")).decode("ascii").rstrip("="))
    return {variant for variant in variants if len(variant) >= MIN_SECRET}


def _spaced(text: str) -> str:
    """A pattern matching `text` with any whitespace between its characters (a token wrapped
    or split by a server, a log or a cut), or instead of its own."""
    return r"\s*".join(re.escape(character) for character in "".join(text.split()))


@functools.lru_cache(maxsize=16)
def _pattern(secrets: frozenset[str]) -> re.Pattern | None:
    """One pattern for every spelling of every secret, longest first."""
    wholes = sorted({variant for secret in secrets for variant in _variants(secret)}, key=len, reverse=True)
    return re.compile("|".join(_spaced(text) for text in wholes)) if wholes else None


# A secret's characters, as far as a cut or an echo goes: a fragment ends or starts where they do.
_RUN = re.compile(r"[A-Za-z0-9_+/=~-]+")


def _fragments(text: str, secrets: frozenset[str]) -> list[tuple[int, int]]:
    """Spans holding the head of a secret that ends where a word of `text` ends (a message
    cut, a quote, the end), or its tail starting where a word starts: what is left of a
    secret that a server or a shortened message echoed only in part."""
    cores = {"".join(secret.split()) for secret in secrets}
    cores = [core for core in cores if len(core) > MIN_FRAGMENT]
    if not cores:
        return []
    runs = list(_RUN.finditer(text))
    spans = []
    for core in cores:
        windows: dict[str, list[int]] = {}
        for offset in range(len(core) - MIN_FRAGMENT + 1):
            windows.setdefault(core[offset:offset + MIN_FRAGMENT], []).append(offset)
        for run in runs:
            end, start = run.end(), run.start()
            for offset in sorted(windows.get(text[end - MIN_FRAGMENT:end], ()), reverse=True):
                size = offset + MIN_FRAGMENT  # the head core[:size] would end here
                if size < len(core) and text[max(0, end - size):end] == core[:size]:
                    spans.append((end - size, end))
                    break
            for offset in sorted(windows.get(text[start:start + MIN_FRAGMENT], ())):
                if 0 < offset and text[start:start + len(core) - offset] == core[offset:]:
                    spans.append((start, start + len(core) - offset))
                    break
    return spans


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every known secret, and every password in a URL, replaced by ***."""
    if not text:
        return text
    return _redact(text, known_secrets(environ))


def redactor(environ: Mapping[str, str] | None = None) -> Callable[[str], str]:
    """`redact` for many texts at once: the secrets known now are gathered once (reading the
    environment per text made a report of a hundred thousand strings take minutes)."""
    secrets = known_secrets(environ)
    return lambda text: _redact(text, secrets) if text else text


def _redact(text: str, secrets: frozenset[str]) -> str:
    if not secrets and "@" not in text:  # nothing to look for, and no URL with a password
        return text
    text = _URL_PASSWORD.sub(lambda found: found.group("head") + MASK, text)
    pattern = _pattern(secrets)
    if pattern is not None:
        text = pattern.sub(MASK, text)
    merged: list[list[int]] = []
    for start, end in sorted(_fragments(text, secrets)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + MASK + text[end:]
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab and newline
_HASH_COMMAND = re.compile(r"##(vso)?\[", re.I)  # Azure (anywhere in a line), GitHub legacy, Azure formatting
_COLON_COMMAND = re.compile(r"^([^\S\n]*):(?=:)", re.M)  # GitHub: `::name ...::` after leading whitespace
_SECTION = re.compile(r"^([^\S\n]*section_(?:start|end)):", re.M | re.I)  # GitLab's collapsible sections


# Anything neutralise changes, as one search (most texts, such as a report's categories, hold none).
_NEUTRALISED = re.compile("|".join(pattern.pattern for pattern in (_CONTROL, _HASH_COMMAND, _COLON_COMMAND, _SECTION)),
                          re.M | re.I)


def neutralise(text: str) -> str:
    """Data made harmless for a CI log: visible escapes for control characters, and a space
    that breaks every logging-command prefix (`: :error::`, `##vso [`, `## [`, `section_start :`)."""
    if not text or not _NEUTRALISED.search(text):
        return text
    text = _CONTROL.sub(lambda found: repr(found.group(0))[1:-1], text)
    text = _HASH_COMMAND.sub(lambda found: "##" + (found.group(1) or "") + " [", text)
    text = _COLON_COMMAND.sub(r"\1: ", text)
    return _SECTION.sub(r"\1 :", text)


def clean(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Redacted and neutralised: what any text from data goes through before it is shown."""
    return neutralise(redact(text, environ))


def logging_command(command: str, value: str) -> str:
    """A CI logging command pipegen itself issues (`##vso[task.uploadsummary]`) with a value
    that came from elsewhere (a path): the value cleaned, so it cannot end the line or
    start another command."""
    return command + neutralise(printable(redact(value)))


def cut(text: str, limit: int, environ: Mapping[str, str] | None = None) -> str:
    """`text` redacted, then cut to `limit` characters (with a `…`)."""
    text = redact(text, environ)
    return text if len(text) <= limit else redact(text[:limit] + "…", environ)


def map_strings(value: Any, function: Callable[[str], str]) -> Any:
    """`value` with `function` applied to every string inside it (dataclasses, dicts, lists, tuples)."""
    if value is None or isinstance(value, (Enum, bool, int, float)):
        return value
    if isinstance(value, str):
        return function(value)
    if isinstance(value, dict):
        return {map_strings(key, function): map_strings(item, function) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(map_strings(item, function) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{field.name: map_strings(getattr(value, field.name), function)
                                             for field in dataclasses.fields(value) if field.init})
    return value


def clean_data(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """`clean` applied to every string inside `value` (a gate's result, a report's data)."""
    redact_one = redactor(environ)
    with paused():  # a report of many strings: no cycle collection while it is copied
        return map_strings(value, lambda text: neutralise(redact_one(text)))
