"""Where generated jobs install pipegen from: the `pipegen-ci` distribution only.

The PyPI name `pipegen` is an unrelated project; a job that installed it would run a
stranger's code next to the pipeline's secrets. These tests read every pip install that
generated files, templates and examples carry and parse each requirement."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from conftest import plan_from_yaml
from helpers import run_pipegen
from pipegen import __version__
from pipegen.platforms import REGISTRY, get_backend
from pipegen.plan import EnvKind

ROOT = Path(__file__).resolve().parents[2]
PIP_INSTALL = re.compile(r"pip(?:3)? install\b(?P<args>[^\n]*(?:\\\n[^\n]*)*)")
BASE = """\
version: 1
project: {name: lib, python: "3.11"}
targets: [github, gitlab, azure, jenkins]
tests: {unit: tests/unit}
quality: {coverage: {min: 80}}
model:
  name: m
  train: python train.py
  metrics: {auc: {greater_is_better: true, threshold: 0.5}}
"""


def installed_distributions(text: str) -> list[str]:
    """Canonical names of every requirement a `pip install` in `text` names."""
    names = []
    for match in PIP_INSTALL.finditer(text):
        # Groovy strings escape the shell's single quotes as \' (pipegen-ci[diff] is quoted)
        args = match.group("args").replace("\\\n", " ").replace("\\'", "'")
        # Groovy/YAML quoting around the shell text ends the command at the first quote
        # that is not part of it; stop at shell separators too.
        try:
            words = shlex.split(re.split(r"[;&|]|'''", args)[0], comments=True)
        except ValueError:
            continue
        skip_next = False
        for word in words:
            if skip_next:
                skip_next = False
                continue
            if word in {"-r", "--requirement", "--index-url", "-i", "-c", "--constraint", "--extra-index-url"}:
                skip_next = True
                continue
            if word.startswith("-") or word in {".", "-e"}:
                continue
            try:
                names.append(canonicalize_name(Requirement(word).name))
            except InvalidRequirement:
                continue
    return names


def generated_files() -> list[Path]:
    files = [path for path in (ROOT / "examples").rglob("*")
             if path.is_file() and (path.name in {".gitlab-ci.yml", "azure-pipelines.yml", "Jenkinsfile"}
                                    or path.suffix == ".yml" and ".github" in path.parts)]
    return sorted(files + [path for path in (ROOT / "templates").rglob("*") if path.is_file()])


def test_the_distribution_is_pipegen_ci():
    metadata = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^name = "pipegen-ci"$', metadata, re.MULTILINE)


@pytest.mark.parametrize("path", generated_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_generated_file_example_or_template_installs_the_pypi_pipegen(path: Path):
    names = installed_distributions(path.read_text(encoding="utf-8"))
    assert "pipegen" not in names
    if path.parent.name != "templates" and "templates" not in path.parts and "pipegen-ci" in path.read_text():
        assert "pipegen-ci" in names


def test_every_job_that_calls_pipegen_installs_pipegen_ci(churn_plan):
    for job in churn_plan.jobs:
        calls_pipegen = any(re.search(r"(^|\n|\|\s*|;\s*|&&\s*)pipegen ", step.run) for step in job.steps)
        if calls_pipegen or "pipegen output set" in " ".join(step.run for step in job.steps):
            assert job.pipegen is not None, job.id
        if job.pipegen is not None:
            requirement = Requirement(job.pipegen)
            assert canonicalize_name(requirement.name) == "pipegen-ci"
            assert str(requirement.specifier) == f"=={__version__}"
    assert Requirement(churn_plan.job("train").pipegen).extras == {"mlflow"}


@pytest.mark.parametrize("requirement", [
    "pipegen-ci @ file:///wheels/pipegen_ci-0.2.0-py3-none-any.whl",
    "pipegen-ci @ git+https://git.example.com/org/pipegen.git@0123456789abcdef0123456789abcdef01234567",
    "Pipegen_CI>=0.2,<0.3",
])
def test_a_requirement_naming_pipegen_ci_is_used_as_written(requirement: str):
    plan = plan_from_yaml(BASE + f"settings:\n  pipegen:\n    requirement: {json.dumps(requirement)}\n")
    assert plan.job("unit").pipegen == requirement
    train = Requirement(plan.job("train").pipegen)
    assert train.extras == {"mlflow"} and canonicalize_name(train.name) == "pipegen-ci"
    assert train.url == Requirement(requirement).url and train.specifier == Requirement(requirement).specifier


@pytest.mark.parametrize("requirement, message", [
    ("pipegen==0.1.0", "names the distribution 'pipegen'; pipegen's distribution is 'pipegen-ci'"),
    ("pipegen[mlflow] @ file:///w/pipegen-0.1.0-py3-none-any.whl", "names the distribution 'pipegen'"),
    ("pipegen-ci==0.2.0; python_version < '3'", "environment markers"),
    ("pipegen-ci===", "not a pip requirement"),
])
def test_validate_refuses_a_requirement_that_is_not_pipegen_ci(tmp_path: Path, capsys, requirement, message):
    descriptor = tmp_path / "pipegen.yaml"
    descriptor.write_text(BASE + f"settings:\n  pipegen:\n    requirement: {json.dumps(requirement)}\n",
                          encoding="utf-8")
    result = run_pipegen(capsys, "validate", "--descriptor", str(descriptor))
    assert result.exit_code == 2
    (line,) = result.err.strip().splitlines()
    assert line.startswith(f"{descriptor}:12:18: settings.pipegen.requirement: ")
    assert message in line
    assert "Traceback" not in result.err


def test_a_private_index_is_the_only_index_pipegen_comes_from(tmp_path: Path):
    plan = plan_from_yaml(BASE + "settings:\n  pipegen: {index_url_var: PIPEGEN_INDEX_URL}\n")
    lint_free = plan.job("unit")
    assert dict(lint_free.env)["PIPEGEN_INDEX_URL"].kind is EnvKind.VARIABLE
    commands = lint_free.install_commands()
    (pipegen,) = [command for command in commands if "pipegen-ci" in command]
    # pipegen goes into its own venv, from the private index only.
    assert shlex.split(pipegen.replace("\\\n", " ")) == [
        "$uv", "pip", "install", "--quiet", "--python", "$pipegen_home/venv/bin/python",
        "--index-url", "$PIPEGEN_INDEX_URL", f"pipegen-ci=={__version__}"]
    assert all("index-url" not in command for command in commands if command != pipegen)
    assert "PIPEGEN_INDEX_URL" in plan.variables
    # Jobs that never call pipegen do not read the variable.
    assert all(job.pipegen or "PIPEGEN_INDEX_URL" not in dict(job.env) for job in plan.jobs)
    for name in REGISTRY:
        backend = get_backend(name)
        checklist = backend.checklist(plan)
        assert any(item.name == "PIPEGEN_INDEX_URL" for item in checklist), name
        assert "--extra-index-url" not in backend.render(plan)
