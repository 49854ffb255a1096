"""Every JUnit file a gate writes (`pipegen gate ... --junit FILE`) reaches the platform's test
results, also when the gate failed the job: read from each generated file itself (the gate
commands in its scripts, then the platform's own publishing), not from the plan."""
from __future__ import annotations

import re
import shlex

import pytest
import yaml

from conftest import plan_from_yaml
from pipegen.generate.render import render_file
from pipegen.plan import Plan

try:
    from . import jenkins_structure as js  # tests/platforms is a package
except ImportError:
    import jenkins_structure as js  # type: ignore[no-redef]

_GATE = re.compile(r"pipegen gate \w+(?:\\\n|[^\n])*")

# A variant with every gate: the ratchet lint job, a drift gate on a path, a model, Sonar.
EVERY_GATE = """
    project: {name: every-gate, python: "3.11", source: src}
    targets: [github, gitlab, azure, jenkins]
    tests: {unit: tests/unit, integration: tests/integration}
    quality:
      coverage: {min: 80, diff_min: 90}
      lint: {tools: [ruff, pylint], ratchet: [changed-lines]}
      sonar: {project_key: every-gate}
    model:
      name: m
      train: python train.py
      metrics: {auc: {greater_is_better: true, threshold: 0.7}}
    data:
      drift: {current: data/now.csv, reference: data/ref.csv}
    environments:
      prod: {approval: {approvers: [ops]}}
"""


def gate_junits(script: str) -> list[str]:
    """The --junit paths of the `pipegen gate` commands in a shell script."""
    found = []
    for match in _GATE.finditer(script):
        words = shlex.split(match.group(0).replace("\\\n", " "))
        found += [words[index + 1] for index, word in enumerate(words[:-1]) if word == "--junit"]
    return found


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def github_published(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """job -> (JUnit written, paths uploaded whatever the outcome). GitHub has no test tab of its
    own: the JUnit files travel in the job's reports artifact, the Markdown in the job summary."""
    jobs = yaml.safe_load(text)["jobs"]
    found = {}
    for job_id, job in jobs.items():
        written = [path for step in job["steps"] for path in gate_junits(step.get("run", ""))]
        kept = [path for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")
                and step.get("if") == "${{ always() }}" for path in step["with"]["path"].splitlines()]
        found[job_id] = (written, kept)
    return found


def gitlab_published(text: str) -> dict[str, tuple[list[str], list[str]]]:
    config = yaml.safe_load(text)
    found = {}
    for job_id, job in config.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        written = [path for line in job["script"] for path in gate_junits(line)]
        artifacts = job.get("artifacts") or {}
        always = artifacts.get("when") == "always"
        found[job_id] = (written, list((artifacts.get("reports") or {}).get("junit", [])) if always else [])
    return found


def azure_published(text: str) -> dict[str, tuple[list[str], list[str]]]:
    found = {}
    for stage in yaml.safe_load(text)["stages"]:
        for job in stage["jobs"]:
            steps = job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]
            written = [path for step in steps for path in gate_junits(step.get("bash", ""))]
            published = [path for step in steps if step.get("task") == "PublishTestResults@2"
                         and step.get("condition") == "succeededOrFailed()"
                         for path in step["inputs"]["testResultsFiles"].splitlines()]
            found[job.get("job") or job["deployment"]] = (written, published)
    return found


def jenkins_published(text: str) -> dict[str, tuple[list[str], list[str]]]:
    pipeline = js.read_pipeline(text)
    found = {}
    for top in pipeline.stages:
        for leaf in top.leaves():
            written = [path for call in js.sh_calls(leaf) for path in gate_junits(call.script)]
            published = [path.strip() for call in leaf.post.get("always", []) if call.name == "junit"
                         for path in call.kwargs["testResults"].split(",")]
            found[leaf.name] = (written, published)
    return found


READERS = {"github": github_published, "gitlab": gitlab_published, "azure": azure_published,
           "jenkins": jenkins_published}


def check_published(plan: Plan, platform: str) -> set[str]:
    """Asserts every gate JUnit of the platform's file is published; returns the files seen."""
    seen = set()
    for job_id, (written, published) in READERS[platform](render_file(plan, platform).text).items():
        for path in written:
            assert any(inside(path, kept) for kept in published), (platform, job_id, path, published)
            seen.add(path)
    return seen


@pytest.mark.parametrize("platform", sorted(READERS))
def test_every_gate_junit_of_the_churn_example_reaches_the_test_results(churn_plan, platform):
    seen = check_published(churn_plan, platform)
    # the coverage gate runs in the last test level, beside that level's own pytest JUnit
    assert {f"pipegen-reports/{gate}.junit.xml" for gate in ("coverage", "lint", "sonar", "drift", "model")} == seen


@pytest.mark.parametrize("platform", sorted(READERS))
def test_every_gate_junit_of_a_variant_with_every_gate_reaches_the_test_results(platform):
    seen = check_published(plan_from_yaml(EVERY_GATE), platform)
    assert {f"pipegen-reports/{gate}.junit.xml" for gate in ("coverage", "lint", "sonar", "drift", "model")} == seen
