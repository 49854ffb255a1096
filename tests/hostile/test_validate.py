"""`pipegen validate` and the gates' thresholds on values that used to slip through or crash:
an integer literal Python refuses to print (over 4,300 digits, hex included), a path part no
file system holds (over 255 characters), a name a job sets twice (an env literal and a
variable: one would be dropped on every platform), and infinite metric thresholds. Each is
exit 2 with file:line:col where there is a place, never a traceback."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from hostile.conftest import assert_safe, pipegen

HEAD = "version: 1\nproject:\n  name: demo\n  python: \"3.11\"\ntargets: [github, gitlab, azure, jenkins]\n"
LOCATED = re.compile(r"^pipegen\.yaml:(\d+):(\d+): (.*)$", re.M)


def validate(repo: Path, text: str):
    (repo / "pipegen.yaml").write_text(text, encoding="utf-8")
    ran = pipegen(repo, "validate")
    generated = pipegen(repo, "generate")
    assert_safe(generated, 2)
    assert_safe(ran, 2)
    return [(int(line), int(col), message) for line, col, message in LOCATED.findall(ran.err)]


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "9" * 5000, "0x" + "f" * 5000, "0" + "7" * 6000,
                                     "0b" + "1" * 20000, "99999999999999999999999"])
@pytest.mark.parametrize("where", ["name", "timeout"])
def test_integers_too_large_to_print_are_located_problems(repo, literal, where):
    if where == "name":
        text = HEAD.replace("name: demo", f"name: {literal}") + "tests: {unit: tests}\n"
        line = 3
    else:
        text = HEAD + f"tests: {{unit: tests}}\njobs:\n  - name: j\n    stage: test\n    run: x\n" \
                      f"    timeout_minutes: {literal}\n"
        line = 11
    problems = validate(repo, text)
    assert problems and problems[0][0] == line
    assert "more characters" in problems[0][2] or "too large" in problems[0][2] or "expected a string" in problems[0][2]


@pytest.mark.parametrize("field", ["tests: {unit: PATH}", "project:\n  requirements: {runtime: PATH}",
                                   "image: {name: app, dockerfile: PATH}", "triggers: {data_paths: [PATH]}"])
def test_a_path_part_longer_than_any_file_system_allows_is_refused(repo, field):
    path = "data/" + "a" * 300 + "/x"
    if field.startswith("project:"):
        text = HEAD.replace('  python: "3.11"\n', f'  python: "3.11"\n  requirements: {{runtime: {path}}}\n') \
            + "tests: {unit: tests}\n"
    else:
        tests = "" if field.startswith("tests") else "tests: {unit: tests}\n"
        text = HEAD + tests + field.replace("PATH", path) + "\n"
    problems = validate(repo, text)
    assert any("at most 255 characters" in message for _, _, message in problems), problems


@pytest.mark.parametrize("first, second", [
    ("env: {A: literal}", "variables: [A]"), ("env: {A: literal}", "secrets: [A]"),
    ("secrets: [A]", "variables: [A]"), ("secrets: [A]", "inputs: [A]")])
def test_a_name_a_job_sets_twice_is_refused_where_it_is_written(repo, first, second):
    text = HEAD + "tests: {unit: tests}\njobs:\n  - name: j\n    stage: test\n    run: echo $A\n" \
                  f"    {first}\n    {second}\n"
    problems = validate(repo, text)
    assert [(line, message) for line, _, message in problems if "also in" in message] == [
        (12, f"jobs[0].{second.split(':')[0]}{'[0]' if second.split(':')[0] != 'env' else ''}: A is also in "
             f"jobs[0].{first.split(':')[0]}; give it one source (the other would be dropped)")]


def test_an_environment_secret_and_variable_of_one_name_are_refused(repo):
    text = HEAD + "tests: {unit: tests}\nenvironments:\n  qa:\n    deploy: ./d.sh\n    secrets: [KEY]\n" \
                  "    variables: [KEY]\n"
    problems = validate(repo, text)
    assert any(line == 11 and "environments.qa.variables[0]: KEY is also in environments.qa.secrets" in message
               for line, _, message in problems), problems


@pytest.mark.parametrize("bound", ["inf", "-inf", "nan", "1e999", "Infinity"])
def test_infinite_metric_thresholds_are_refused_like_nan(repo, bound):
    for rule in (f"threshold={bound}", f"min_absolute_change={bound}", f"min_relative_change={bound}"):
        ran = pipegen(repo, "gate", "model", "--model-name", "m", "--candidate-version", "1",
                      "--metric", f"auc:greater_is_better=true,{rule}")
        assert_safe(ran, 2)
        assert "finite number" in ran.err or "must be a number" in ran.err, ran.explain()
