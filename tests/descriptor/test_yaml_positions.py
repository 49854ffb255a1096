"""Descriptors parse to the same values, positions and problems with libyaml (used when
present, for speed) as with PyYAML (the reference), for the examples and seeded
mutations of them."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from pipegen.descriptor import yaml_positions

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("examples/*/pipegen.yaml"))]
INSERTS = [":", "-", " ", "\t", "\n", '"', "'", "[", "]", "{", "}", "#", "&a ", "*a", "!", "|", ">", "é", "\x85",
           "?", ",", "%", "\\", "@", "`", "!!str ", "!!int ", "<<: ", "~", "\r", "\ufeff", ": ,", ":\n", "- ",
           "!!binary ", "!!set ", '""', "''", "0x", ".inf", "|-\n", ">+\n", "\n\n", "---\n", "...\n"]

needs_libyaml = pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")


def _outcome(text: str, monkeypatch, loader) -> str:
    monkeypatch.setattr(yaml_positions, "_LIBYAML_LOADER", loader)
    try:
        located, problems = yaml_positions.load_located(text, "pipegen.yaml")
    except Exception as exc:  # pylint: disable=broad-except  # compared, not hidden
        return f"raised {type(exc).__name__}"
    if located is None:
        return repr(problems)
    return repr((located.data, located.positions, located.raw, problems))


@needs_libyaml
def test_libyaml_and_pyyaml_agree_on_mutated_descriptors(monkeypatch) -> None:
    rng = random.Random(20261128)
    texts = list(EXAMPLES)
    for _ in range(1500):
        chars = list(rng.choice(EXAMPLES))
        for _ in range(rng.randint(1, 3)):
            chars.insert(rng.randrange(len(chars)), rng.choice(INSERTS))
        texts.append("".join(chars))
    for text in texts:
        fast = _outcome(text, monkeypatch, yaml.CSafeLoader)
        assert fast == _outcome(text, monkeypatch, None), text


@needs_libyaml
def test_recursive_aliases_do_not_hang_the_libyaml_path(monkeypatch) -> None:
    monkeypatch.setattr(yaml_positions, "_LIBYAML_LOADER", yaml.CSafeLoader)
    assert yaml_positions._compose("project: &p {name: x, self: *p}\n") is not None  # pylint: disable=protected-access
