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
