"""Descriptors read the same with libyaml (used when PyYAML has it, for speed) as with
PyYAML's own parser (the reference): same values, positions, raw text and problems, for the
examples, the hostile cases of test_limits and seeded mutations of the examples; and the
examples do take the libyaml path."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from pipegen.descriptor import yaml_positions
from test_limits import CASES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("examples/*/pipegen.yaml"))]
INSERTS = [":", "-", " ", "\t", "\n", '"', "'", "[", "]", "{", "}", "#", "&a ", "*a", "!", "|", ">", "é", "\x85",
           "?", ",", "%", "\\", "@", "`", "!!str ", "!!int ", "<<: ", "~", "\r", "\ufeff", ": ,", ":\n", "- ",
           "!!binary ", "!!set ", '""', "''", "0x", ".inf", "|-\n", ">+\n", "\n\n", "---\n", "...\n", "&b [*a]",
           "%YAML 1.2\n", "%TAG ! tag:x,2000:\n", "!x ", "*b", "&a {k: *a}", "*zz"]

needs_libyaml = pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")


def _outcome(text: str, monkeypatch, loader) -> str:
    monkeypatch.setattr(yaml_positions, "_LIBYAML_LOADER", loader)
    try:
        located, problems = yaml_positions.load_located(text, "pipegen.yaml")
    except Exception as exc:  # pylint: disable=broad-exception-caught  # compared, not hidden
        return f"raised {type(exc).__name__}: {exc}"
    if located is None:
        return repr(problems)
    return repr((located.data, located.positions, located.raw, problems))


def _mutations(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        chars = list(rng.choice(EXAMPLES))
        for _ in range(rng.randint(1, 3)):
            chars.insert(rng.randrange(len(chars)), rng.choice(INSERTS))
        texts.append("".join(chars))
    return texts


@needs_libyaml
@pytest.mark.parametrize("text", [text for text, *_ in CASES.values()] + EXAMPLES)
def test_libyaml_and_pyyaml_agree_on_hostile_cases_and_examples(text: str, monkeypatch) -> None:
    assert _outcome(text, monkeypatch, yaml.CSafeLoader) == _outcome(text, monkeypatch, None)


@needs_libyaml
def test_libyaml_and_pyyaml_agree_on_mutated_descriptors(monkeypatch) -> None:
    for text in _mutations(1500, 20261128):
        assert _outcome(text, monkeypatch, yaml.CSafeLoader) == _outcome(text, monkeypatch, None), text


@needs_libyaml
def test_the_examples_are_read_in_one_pass(monkeypatch) -> None:
    """The fast path is taken for ordinary descriptors (else the speed silently goes): libyaml's
    events straight to values, with no node tree composed."""
    used = []
    compose = yaml_positions._compose  # pylint: disable=protected-access
    monkeypatch.setattr(yaml_positions, "_compose", lambda text, loader: used.append(loader) or compose(text, loader))
    for text in EXAMPLES:
        assert yaml_positions.load_located(text, "pipegen.yaml")[1] == []
    assert not used


@needs_libyaml
@pytest.mark.parametrize("text", ["a: 1\n", "a: [1, 2.5, true, null, ~, 2001-01-01, x]\n", "- a\n- {b: c}\n",
                                  "just text\n", "1: one\ntrue: yes\n", "a:\n  - b: 'q'\n    c: \"d\"\n",
                                  "a: |\n  one\n  two\n", "a: >-\n  folded\n"])
def test_one_pass_and_the_composer_agree(text: str, monkeypatch) -> None:
    """What the one-pass reader takes is read as the composer and builder read it."""
    monkeypatch.setattr(yaml_positions, "_LIBYAML_LOADER", yaml.CSafeLoader)
    one_pass = yaml_positions._read_plain(text, "pipegen.yaml")  # pylint: disable=protected-access
    assert one_pass is not None
    monkeypatch.setattr(yaml_positions, "_read_plain", lambda text, filename: None)
    composed, problems = yaml_positions.load_located(text, "pipegen.yaml")
    assert problems == []
    assert repr((one_pass.data, one_pass.positions, one_pass.raw)) == repr(
        (composed.data, composed.positions, composed.raw))


@needs_libyaml
def test_one_pass_leaves_the_unusual_to_the_composer(monkeypatch) -> None:
    """Anchors, aliases, tags, duplicate and complex keys, merge keys, empty plain scalars, a
    second document, limits and parse errors: the one-pass reader declines them all."""
    monkeypatch.setattr(yaml_positions, "_LIBYAML_LOADER", yaml.CSafeLoader)
    declined = ["a: &x 1\nb: *x\n", "a: !!str 1\n", "a: 1\na: 2\n", "? [a]\n: 1\n", "<<: {a: 1}\n",
                "a:\n", "a: 1\n---\nb: 2\n", "a: [\n", "a: 1.0e+999\n", "[" * 65 + "]" * 65 + "\n"]
    for text in declined:
        assert yaml_positions._read_plain(text, "pipegen.yaml") is None, text  # pylint: disable=protected-access
    taken = 0
    for text in _mutations(600, 20261206):
        monkeypatch.setattr(yaml_positions, "_LIBYAML_LOADER", yaml.CSafeLoader)  # _outcome sets it per call
        one_pass = yaml_positions._read_plain(text, "pipegen.yaml")  # pylint: disable=protected-access
        if one_pass is not None:
            taken += 1
            assert _outcome(text, monkeypatch, yaml.CSafeLoader) == _outcome(text, monkeypatch, None), text
    assert taken > 100  # the mutations still read in one pass are compared with the reference


@needs_libyaml
def test_an_alias_bomb_stops_at_the_limit_on_the_libyaml_path(monkeypatch) -> None:
    """The limits hold while libyaml's events arrive, before anything expands."""
    text, *_ = CASES["bomb-7-levels"]
    monkeypatch.setattr(yaml_positions, "_LIBYAML_LOADER", yaml.CSafeLoader)
    with pytest.raises(yaml_positions.LimitError, match="alias bomb"):
        yaml_positions._compose(text, yaml.CSafeLoader)  # pylint: disable=protected-access
