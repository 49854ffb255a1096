"""The compiled yes/no schema check agrees with jsonschema on schema.json, for the shipped
examples and for thousands of seeded mutations of them (types, unknown keys, bounds,
patterns, duplicates, missing keys)."""
from __future__ import annotations

import copy
import math
import random
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from pipegen.descriptor.schema import schema
from pipegen.descriptor.schema_check import compile_schema, descriptor_check, surely_valid

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("examples/*/pipegen.yaml"))
ODD_VALUES = [None, True, False, 0, 1, 1.0, 1.5, -1, 101, 1e9, math.nan, math.inf, "", "x", "UPPER_CASE",
              "a\nb", "main", "3.11", "$HOME", "job-x", [], ["a", "a"], ["github"], [1], {}, {"x": 1},
              {"greater_is_better": True}, "test", 361, 0.0, 43201]


def _jsonschema_valid(data) -> bool:
    return not any(True for _ in jsonschema.Draft202012Validator(schema()).iter_errors(data))


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _mutate(data, rng: random.Random):
    data = copy.deepcopy(data)
    path = rng.choice(list(_paths(data))[1:])
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = rng.random()
    if action < 0.5:
        parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif action < 0.65 and isinstance(parent, dict):
        del parent[last]
    elif action < 0.8 and isinstance(parent, dict):
        parent[rng.choice(["unknown", "nam", str(last) + "s", "Stage"])] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))  # a duplicate item
    else:
        parent[last] = [parent[last]]
    return data


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.parent.name)
def test_examples_are_valid_for_both(example: Path):
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert surely_valid(data) and _jsonschema_valid(data)


def test_the_shipped_schema_compiles():
    assert descriptor_check() is not None


def test_seeded_mutations_get_the_same_verdict_as_jsonschema():
    rng = random.Random(20261128)
    bases = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in EXAMPLES]
    verdicts = {True: 0, False: 0}
    for _ in range(3000):
        data = _mutate(rng.choice(bases), rng)
        if rng.random() < 0.3:
            data = _mutate(data, rng)
        expected = _jsonschema_valid(data)
        assert surely_valid(data) == expected, data
        verdicts[expected] += 1
    assert min(verdicts.values()) > 100  # both verdicts well exercised


def test_an_unknown_keyword_defers_to_jsonschema():
    assert compile_schema({"type": "object", "patternProperties": {"^x": {}}}) is None
    assert compile_schema({"$ref": "https://example.com/other.json"}) is None
    assert compile_schema({"type": "string", "format": "email"}) is None


def test_an_invalid_pattern_is_never_called_valid() -> None:
    """Patterns compile on first use; a broken one raises there, and surely_valid says "ask jsonschema"."""
    check = compile_schema({"pattern": "("})
    assert check is not None and check(1)  # not a string: the pattern is not needed
    with pytest.raises(re.error):
        check("x")
