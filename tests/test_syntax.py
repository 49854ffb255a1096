"""Escaping round-trips: what pipegen writes parses back to exactly the value."""
from __future__ import annotations

import pytest
import yaml

from pipegen.syntax import groovy_multiline, groovy_string, yaml_block, yaml_expression, yaml_scalar

HOSTILE = [
    "plain", "a: b", "#hash", "x # y", "*alias", "&anchor", "!tag", "${{ secrets.X }}", "$(whoami)", "${HOME}",
    "back\\slash", "ünïcödé ✓", "'single'", '"double"', "- dash", "yes", "no", "on", "1.0", "0x1F", "~", "null",
    "", " lead", "trail ", "tab\there", "@at", "%pct", "`tick`", "[list]", "{map}", "a:b", "|pipe", ">fold",
    "?q", "key:", "-", "...", "---", "0o17", "1e3", "1E5", "+1", ".inf", ".NaN", "0x1f", "TRUE", "Null",
]
SCRIPTS = ["a\nb", "  indented\nx\n", "line\n\nafter blank", "x\n", "#!/bin/sh\necho '$HOME'\n", "a\n  b\n\tc",
           "\n\xa0\n", "\u2003\n\u3000", "\xa0\nx"]  # lines of Unicode spaces only (Python's strip() empties them)


@pytest.mark.parametrize("value", HOSTILE)
def test_yaml_scalar_round_trips(value: str) -> None:
    assert yaml.safe_load(f"key: {yaml_scalar(value)}\n")["key"] == value
    assert yaml.safe_load(f"- {yaml_scalar(value)}\n")[0] == value


@pytest.mark.parametrize("value", SCRIPTS + HOSTILE)
def test_yaml_block_round_trips(value: str) -> None:
    document = f"steps:\n  - run: {yaml_block(value, 6)}\n    name: after\n"
    assert yaml.safe_load(document)["steps"][0] == {"run": value, "name": "after"}


def _groovy_decode(literal: str) -> str:
    """Decodes the escapes pipegen emits (the same rules Groovy applies to '...' and '''...''')."""
    body = literal[3:-3] if literal.startswith("'''") else literal[1:-1]
    out, index = [], 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            nxt = body[index + 1]
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt))
            index += 2
        else:
            assert char != "'" or literal.startswith("'''"), literal
            out.append(char)
            index += 1
    return "".join(out)


@pytest.mark.parametrize("value", HOSTILE + SCRIPTS + ["'''", "x'''y", "\\'"])
def test_groovy_round_trips(value: str) -> None:
    assert _groovy_decode(groovy_string(value)) == value
    multi = groovy_multiline(value)
    assert "'''" not in multi[3:-3]
    assert _groovy_decode(multi) == value


@pytest.mark.parametrize("value", HOSTILE + ["a,b", "x, y"])
def test_flow_scalar_round_trips_in_a_flow_sequence(value: str) -> None:
    assert yaml.safe_load(f"[{yaml_scalar(value, flow=True)}, z]") == [value, "z"]


def test_empty_groovy_string_is_double_quoted() -> None:
    assert groovy_string("") == '""'


def test_plain_when_plain_is_safe() -> None:
    assert yaml_scalar("ubuntu-latest") == "ubuntu-latest"
    assert yaml_scalar("python -m churn.train") == "python -m churn.train"
    assert yaml_scalar("yes") == "'yes'"


@pytest.mark.parametrize("value", ["0o17", "1e3", "1E5", "+12", "-.5", ".inf", ".NaN", "0x1f", "True", "NULL"])
def test_quotes_what_yaml_1_2_reads_as_non_strings(value: str) -> None:
    # PyYAML (YAML 1.1) would read some of these plain forms back as strings; GitHub's and
    # GitLab's YAML 1.2 parsers would not.
    assert yaml_scalar(value)[0] in "'\""


@pytest.mark.parametrize("text", ["${{ github.event_name != 'pull_request' }}", "${{ secrets.X }}",
                                  "$[ stageDependencies.QA.build.outputs['image.IMAGE_REF'] ]", "$x: y", "$ # c"])
def test_expressions_plain_when_exact(text: str) -> None:
    rendered = yaml_expression(text)
    assert yaml.safe_load(f"key: {rendered}\n") == {"key": text}
    if ": " not in text and " #" not in text:
        assert rendered == text


@pytest.mark.parametrize("text", ["0o17", "1e3", "true", "~", "yes"])
def test_readable_values_never_change_type(text: str) -> None:
    assert yaml_expression(text)[0] in "'\""


def test_the_plain_scalar_shortcut_agrees_with_parsing() -> None:
    """yaml_scalar and yaml_expression decide "plain or quoted" without parsing for common
    text; for seeded random text of the characters involved, the answer matches PyYAML's."""
    import random  # pylint: disable=import-outside-toplevel

    from pipegen.syntax import _reads_back_plain  # pylint: disable=import-outside-toplevel

    rng = random.Random(20261128)
    alphabet = "aZ09_$./(@+=,: )[]{}'*-xyTrueOnYesNo~.e|\"!&%<>?^;#"
    words = ["true", "no", "on", "yes", "null", "1", "0x1", "1.5", "1e3", "2001-12-14", "1:30", "=", "~", ".inf",
             "<<", "...", "a: b", "a #b", "$[ a ]", "${{ b }}", "x,y", "a  b", "0o7", "+1", "1_000", "0b101", ".5",
             'pip | "$(Agent.OS)" | "x"', "a|b", "!a", "&a", "*a", "%a", "?a", "a ?b", "a: |", "<<"]
    checked = 0
    for _ in range(20000):
        if rng.random() < 0.5:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        else:
            text = rng.choice(["", ".", "-", "_", ":", " "]).join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        for as_value in (False, True):
            try:
                parsed = yaml.safe_load(f"key: {text}") == {"key": text} if as_value else yaml.safe_load(text) == text
            except yaml.YAMLError:
                parsed = False
            assert _reads_back_plain(text, as_value) == parsed, (text, as_value)
            checked += 1
    assert checked == 40000
