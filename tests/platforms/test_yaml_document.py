"""The readers' YAML loading (platforms/yaml_document.py): values built from libyaml's events equal
`yaml.load`'s with the same loader, on pipegen's files and on whatever else a file may hold."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipegen.platforms import yaml_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GENERATED = sorted([*EXAMPLES.glob("*/.github/workflows/*.yml"), *EXAMPLES.glob("*/.gitlab-ci.yml"),
                    *EXAMPLES.glob("*/azure-pipelines.yml")])
ODD = [
    "", "# only a comment\n", "---\n", "plain scalar\n", "- a\n---\n- b\n",
    "on: [push]\nyes: no\nnumbers: [1, 0x1f, 1.5, .inf, ~, null, '1', \"2\"]\nwhen: 2020-01-01\n",
    "a: &anchor {b: 1}\nc: *anchor\n", "<<: {a: 1}\nb: 2\n", "? [a, b]\n: 1\n", "a: !!str 1\nb: !custom x\n",
    "empty:\nnested: {list: [[], {}, [{}]]}\n", "1: one\ntrue: yes\n~: null key\n", "2020-01-01: a date key\n",
    "a: b: c\n", "key: [unclosed\n", "dup: 1\ndup: 2\n", "'quoted key': 'it''s'\nblock: |\n  two\n  lines\n",
]


IDS = [f"odd-{index}" for index in range(len(ODD))] + [str(path.relative_to(EXAMPLES)) for path in GENERATED]


@pytest.mark.parametrize("typed, loader", [(True, "CSafeLoader"), (False, "CBaseLoader")])
@pytest.mark.parametrize("text", ODD + [path.read_text(encoding="utf-8") for path in GENERATED], ids=IDS)
def test_values_and_errors_are_pyyamls(text: str, typed: bool, loader: str) -> None:
    assert GENERATED, "the examples' generated files are the main case"
    assert outcome(lambda: yaml_document.load(text, typed)) == outcome(
        lambda: yaml.load(text, Loader=getattr(yaml, loader)))


def test_without_libyaml_pyyaml_reads_the_file(monkeypatch) -> None:
    monkeypatch.setattr(yaml_document, "_C_LOADERS", False)
    monkeypatch.delattr(yaml, "CSafeLoader")
    monkeypatch.delattr(yaml, "CBaseLoader")
    assert yaml_document.load("on: yes\nn: 1\n", typed=True) == {True: True, "n": 1}
    assert yaml_document.load("on: yes\nn: 1\n", typed=False) == {"on": "yes", "n": "1"}


def outcome(load) -> tuple[str, object]:
    try:
        return "value", load()
    except yaml.YAMLError as exc:
        return "error", str(exc)


# ---------------------------------------------------------------------------- entry by entry (pipegen diff)

# Texts that look like entries cut at their lines but are not: each must read as PyYAML reads it.
TRICKY = [
    "a: 1\nb: 2\n", "a:\n  b: 1\n  c: 2\nd: 3\n", "a: \"open\nb: closed\"\n", "a: 'open\nb: closed'\n",
    "a: [1,\nb, 2]\n", "a: {x: 1,\nb: 2}\n", "a: |\n  text\n# not a key\nb: 1\n",
    "a: |\n  text\n  # content\nb: 1\n", "a: |+\n  keep\n\n\nb: 1\n", "a: >-\n  folded\n  text\n\nb: 1\n",
    "a: |2\n   two\nb: 1\n", "a: plain\n  more\nb: 1\n",
    "a: 1\n---\nb: 2\n", "a: 1\n...\nb: 2\n", "%YAML 1.1\n---\na: 1\n", "a: 1\n--- b: 2\n", "a: &x 1\nb: *x\n",
    "? a\n: 1\nb: 2\n", "a: 1\n: 2\n", "a: 1\n\"b\": 2\n", "a: 1\n'b': 2\n", "a: 1\na: 2\n", "a:\n- 1\n- 2\nb: 3\n",
    "- a: 1\n  b: 2\n- c: 3\n", "-\n  a: 1\n- b\n", "- - a\n  - b\n- c\n", "a: 1\r\nb:\r\n  c: 2\r\n", "a: 1\rb: 2\n",
    "a: 1\x85b: 2\n", "a: 1\u2028b: 2\n", "\ufeffa: 1\nb: 2\n", "a:\n\tb: 1\n", "a: \"tab\there\"\nb: 1\n",
    "a:\n  b: 1\n c: 2\n", "a:\n    b: 1\n  c: 2\n", "a:\n  b: 1\n# banner\n  c: 2\n",
    "a:\n  b: |\n    x\n# c\n    y\n",
    "a:\n  - b: 1\n  # comment\n  - c: 2\n", "a:\n  - b: 1\n# comment\n  - c: 2\n", "  a: 1\nb: 2\n", "# c\n  a: 1\n",
    "a: 1\nb: \x07\n", "a: 1\n# \x07\nb: 2\n", "a:\n  b: 1\n# \x07\n", "1: a\n01: b\n", "yes: 1\nno: 2\non: 3\n",
    "null: 1\nb: 2\n", "a: !!str 1\n", "a:\n  b:\n    c: 1\n  d: 2\n", "a:\n  - 1\n  - 2\n  - 3\n", "a: b: c\n",
    "a:\n  'x\n  y': 1\n", "a:\n  b: \"x\n  c: y\"\n", "a:\n  b: [1,\n  c, 2]\n", "k:\n  - x: 1\n    y: 2\n  - x: 3\n",
]


def _aggressive(monkeypatch) -> None:
    """Cut every entry again inside, however small: the small texts above and the examples'
    files then go through every path of the cutting."""
    monkeypatch.setattr(yaml_document, "SPLIT_FROM", 1)
    monkeypatch.setattr(yaml_document, "SMALLEST_ENTRY", 1)


@pytest.fixture(params=["as is", "every entry cut"])
def cutting(request, monkeypatch) -> str:
    if request.param == "every entry cut":
        _aggressive(monkeypatch)
    return request.param


def _mutations(text: str, seed: int, count: int = 40) -> list[str]:
    """The text with a snippet that YAML may read across lines (quotes, brackets, block scalars,
    comments, markers, tabs, less or more indentation) put at the start of a random line."""
    import random  # pylint: disable=import-outside-toplevel

    snippets = ["'", '"', "[", "{", "# x", "---", "...", "? ", ": ", "- ", "|", ">", "\t", " ", "   ", "&a ", "*a",
                "!t ", "%", "\r", "x: |\n", "x: \"\n", "y\n", "\n", "  # c\n", "#\n  "]
    lines = text.split("\n")
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        copy = list(lines)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(copy))
            indent = len(copy[at]) - len(copy[at].lstrip(" "))
            copy[at] = copy[at][:rng.choice([0, indent, indent + 2])] + rng.choice(snippets) + copy[at][
                rng.choice([0, indent, indent + 2]):]
        found.append("\n".join(copy))
    return found


@pytest.mark.parametrize("typed, loader", [(True, "CSafeLoader"), (False, "CBaseLoader")])
def test_entry_by_entry_reads_what_pyyaml_reads(typed: bool, loader: str, cutting: str) -> None:
    """The cut reading (a text alone, and a text after another sharing its pieces) against PyYAML,
    on pipegen's files, odd and tricky texts and random damage to pipegen's files."""
    del cutting
    texts = ODD + TRICKY + [path.read_text(encoding="utf-8") for path in GENERATED]
    texts += [text for index, path in enumerate(GENERATED)
              for text in _mutations(path.read_text(encoding="utf-8")[:6000], index)]
    shared = yaml_document.Pieces()
    for text in texts:
        expected = outcome(lambda: yaml.load(text, Loader=getattr(yaml, loader)))  # pylint: disable=cell-var-from-loop
        assert outcome(lambda: yaml_document.load(text, typed, yaml_document.Pieces())) == expected, text  # noqa: B023
        assert outcome(lambda: yaml_document.load(text, typed, shared)) == expected, text  # noqa: B023


def test_pipegen_files_are_read_entry_by_entry_and_a_changed_job_alone_is_parsed_again(monkeypatch) -> None:
    """On pipegen's own layout the cutting applies (no fallback to the whole text), and the second
    version parses only what differs from the first."""
    calls = []
    real = yaml_document._from_events  # pylint: disable=protected-access

    def counting(text, scalars):
        calls.append(text)
        return real(text, scalars)

    monkeypatch.setattr(yaml_document, "_from_events", counting)
    for path in [path for path in GENERATED if path.stat().st_size > 20_000]:  # many jobs
        before = path.read_text(encoding="utf-8")
        after = before.replace("timeout-minutes: 30", "timeout-minutes: 45", 1).replace(
            "timeoutInMinutes: '30'", "timeoutInMinutes: '45'", 1).replace("timeout: 30m", "timeout: 45m", 1)
        assert after != before, path
        pieces, typed = yaml_document.Pieces(), "workflows" not in str(path)
        calls.clear()
        first = yaml_document.load(before, typed, pieces)
        assert before not in calls and len(calls) > 1  # cut, not read whole
        calls.clear()
        second = yaml_document.load(after, typed, pieces)
        assert second == yaml.load(after, Loader=yaml.CSafeLoader if typed else yaml.CBaseLoader) != first
        assert sum(map(len, calls)) < len(after) / 4, path  # the changed job (and comments), not the file


def test_values_read_with_pieces_are_the_same_objects_in_both_versions() -> None:
    """What both versions have is parsed once and shared (readers never change a document)."""
    path = next(path for path in GENERATED if path.name == ".gitlab-ci.yml")
    text = path.read_text(encoding="utf-8")
    pieces = yaml_document.Pieces()
    first, second = yaml_document.load(text, True, pieces), yaml_document.load(text + "\n# more\n", True, pieces)
    assert first == second
    *unchanged, last = first  # the comment joins the last job's text
    assert all(second[key] is first[key] for key in unchanged if isinstance(first[key], (dict, list)))
    assert second[last] is not first[last]
