"""Hostile strings in job titles, commands, literal variables and paths: every platform's
output still parses, each value comes back exactly, and no value becomes an expression.
Where a platform cannot carry a value literally, `validate` rejects it with a clear message."""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from pipegen.descriptor.loader import parse_descriptor
from pipegen.errors import DescriptorError
from pipegen.plan import build_plan
from pipegen.generate.render import render_file

HOSTILE = {
    "quotes": "it's \"quoted\"",
    "colon-hash": "key: value # not a comment",
    "gha-expression": "${{ github.token }}",
    "command-substitution": "$(whoami)",
    "shell-variable": "${HOME}",
    "backslashes": "back\\slash\\\\n",
    "unicode": "ünïcødé ✓ 日本",
    "leading-star": "*star",
    "leading-ampersand": "&anchor",
    "leading-bang": "!bang",
    "percent": "%AZP25 100%",
    "yaml-number": "0o17",
    "yaml-bool": "yes",
    "azure-runtime": "$[ variables.x ]",
    "groovy-interpolation": "${env.SECRET} \"$x\" '''",
}
# What each platform evaluates instead of carrying literally (validate rejects these).
UNREPRESENTABLE = {
    "github": {"gha-expression"},
    "azure": {"gha-expression", "command-substitution", "azure-runtime"},
    "gitlab": set(),
    "jenkins": set(),
}
NOT_A_PATH = {"command-substitution", "shell-variable", "gha-expression", "groovy-interpolation", "azure-runtime"}


def hostile_descriptor(target: str, value: str) -> str:
    path_value = value if "$" not in value and "`" not in value else "plain"
    data = {
        "project": {"name": "hostile"},
        "targets": [target],
        "tests": {"unit": f"tests/{path_value}"},
        "triggers": {"data_paths": [f"data/{path_value}/**"]},
        "jobs": [{"name": "custom", "title": value, "stage": "test", "run": f"echo {shlex.quote(value)}\n{value}",
                  "env": {"LITERAL": value}}],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _render(target: str, value: str) -> str:
    plan = build_plan(parse_descriptor(hostile_descriptor(target, value), Path("pipegen.yaml")))
    return render_file(plan, target).text


@pytest.mark.parametrize("target", ["github", "gitlab", "azure"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_yaml_platforms_carry_values_exactly(target: str, name: str) -> None:
    value = HOSTILE[name]
    if name in UNREPRESENTABLE[target]:
        with pytest.raises(DescriptorError) as raised:
            _render(target, value)
        messages = [problem.message for problem in raised.value.problems]
        assert all(re.search(r"would (evaluate|expand)", message) for message in messages), messages
        assert any(problem.line > 1 for problem in raised.value.problems)  # located in the file
        return
    document = yaml.safe_load(_render(target, value))
    strings = list(_strings(document))
    # the command: its second line is the value itself, inside some script
    assert any(value in script.split("\n") for script in strings), f"command lost on {target}"
    # the literal variable
    assert _literal_env(target, document) == value
    # the title, where the platform shows one
    if target != "gitlab":
        assert value in strings
    # the paths, shell-quoted in the test command and literal in the trigger
    if name not in NOT_A_PATH:
        pytest_lines = [line for script in strings for line in script.split("\n") if " -m pytest " in line]
        assert any(f"tests/{value}" in shlex.split(line) for line in pytest_lines)
        assert any(f"data/{value}/" in path for path in strings if path.startswith("data/"))
    _assert_no_injected_expression(target, document, value)


def _literal_env(target: str, document: dict) -> str:
    if target == "github":
        return document["jobs"]["custom"]["env"]["LITERAL"]
    if target == "gitlab":
        variable = document["custom"]["variables"]["LITERAL"]
        assert variable["expand"] is False  # GitLab would otherwise expand $ in it
        return variable["value"]
    job = next(job for stage in document["stages"] for job in stage["jobs"] if job.get("job") == "custom")
    return next(step["env"]["LITERAL"] for step in job["steps"] if "LITERAL" in step.get("env", {}))


GITHUB_EXPRESSION = re.compile(r"\$\{\{\s*(secrets|vars|needs|steps|github|always\(\)|hashFiles)[^}]*\}\}")


def _assert_no_injected_expression(target: str, document: dict, value: str) -> None:
    for text in _strings(document):
        if target == "github":
            for found in re.finditer(r"\$\{\{.*?\}\}", text):
                assert GITHUB_EXPRESSION.fullmatch(found.group(0)), found.group(0)
                assert value not in found.group(0) or value in ("yes", "0o17")
        if target == "azure":
            for found in re.finditer(r"\$\[.*?\]|\$\([A-Za-z0-9_.]+\)", text):
                assert value not in found.group(0), found.group(0)


def test_newline_in_a_title_is_rejected_clearly() -> None:
    text = hostile_descriptor("github", "x").replace("title: x", "title: \"two\\nlines\"")
    with pytest.raises(DescriptorError) as raised:
        parse_descriptor(text, Path("pipegen.yaml"))
    assert "one line of text" in str(raised.value)
