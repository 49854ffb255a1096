"""Azure Pipelines and Jenkins have no executor here: `pipegen run` stands in for them by
executing the very commands their files carry. These tests read the committed files back
(YAML; Groovy through tree-sitter) and compare their shell commands, job by job, with the
list `pipegen run --dry-run` prints for the same plan."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from platforms import jenkins_structure as js
from pipegen.platforms.azure.backend import SCRIPT_PREAMBLE, azure_id
from pipegen.platforms.jenkins.reader import post_jobs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("churn", "minimal")
VENV_LINE = re.compile(r"^python\S* -m venv --clear (\S+)$")


def runner_commands(example: str, tmp_path: Path) -> dict[str, list[str]]:
    """job id -> the scripts `pipegen run` executes (install, then the plan's steps)."""
    report = tmp_path / f"{example}.json"
    done = subprocess.run([sys.executable, "-m", "pipegen", "run", "--dry-run", "--branch", "main",
                           "--report-json", str(report)], cwd=ROOT / "examples" / example,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    jobs = json.loads(report.read_text(encoding="utf-8"))["jobs"]
    return {job["id"]: [command["script"] for command in job["commands"]] for job in jobs}


def azure_commands(example: str) -> dict[str, list[str]]:
    """Azure job name -> its bash scripts without the preamble, leaving out the backend's own
    hand-over staging (its files are a pipeline artifact on Azure)."""
    pipeline = yaml.safe_load((ROOT / "examples" / example / "azure-pipelines.yml").read_text(encoding="utf-8"))
    found = {}
    for stage in pipeline["stages"]:
        for job in stage["jobs"]:
            steps = job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]
            scripts = []
            for step in steps:
                if "bash" not in step or "HANDOVER_DIR" in step.get("env", {}):
                    continue
                preamble, _, body = step["bash"].partition("\n")
                assert preamble == SCRIPT_PREAMBLE, step
                scripts.append(body.rstrip("\n"))
            found[job.get("job") or job["deployment"]] = scripts
    return found


def jenkins_commands(example: str) -> dict[str, list[str]]:
    """Leaf stage (one per job) -> its install command, then its plan steps, without
    `set -eu` and the venv activation; the variable checks are Jenkins' own."""
    pipeline = js.read_pipeline((ROOT / "examples" / example / "Jenkinsfile").read_text(encoding="utf-8"))
    found = {}
    # the declarative stages' leaves, then the scripted stages of `post { always }` (the gate report)
    for leaves in [top.leaves() for top in pipeline.stages] + [[stage for stage, _ in post_jobs(pipeline)]]:
        for leaf in leaves:
            scripts = []
            for call in js.sh_calls(leaf):
                preamble, _, body = call.script.partition("\n")
                assert preamble == "set -eu", call
                lines = body.split("\n")
                if all(line.startswith(': "${') for line in lines):
                    continue  # checks the variables the stage reads
                venv = next((VENV_LINE.match(line) for line in lines if VENV_LINE.match(line)), None)
                if venv:  # the setup: a fresh venv, activated, then the install command
                    rest_lines = lines[lines.index(f". {venv.group(1)}/bin/activate") + 1:]
                    # Jenkins' own uv and pip cache locations (agents keep no cache otherwise) are not commands
                    caches = ("export PIP_CACHE_DIR=", "export UV_CACHE_DIR=")
                    rest = "\n".join(line for line in rest_lines if not line.startswith(caches))
                    scripts += [rest] if rest else []
                    continue
                if lines[0].startswith(". ") and lines[0].endswith("/bin/activate"):
                    lines = lines[1:]
                scripts.append("\n".join(lines))
            found[leaf.name] = scripts
    return found


@pytest.mark.parametrize("example", EXAMPLES)
def test_azure_runs_the_commands_pipegen_run_executes(example, tmp_path):
    local = runner_commands(example, tmp_path)
    azure = azure_commands(example)
    assert all(local.values()), local  # every job runs something: the comparison is not of empty lists
    assert set(azure) == {azure_id(job_id) for job_id in local}
    for job_id, scripts in local.items():
        assert azure[azure_id(job_id)] == scripts, job_id


@pytest.mark.parametrize("example", EXAMPLES)
def test_jenkins_runs_the_commands_pipegen_run_executes(example, tmp_path):
    local = runner_commands(example, tmp_path)
    jenkins = jenkins_commands(example)
    assert set(jenkins) == set(local)
    for job_id, scripts in local.items():
        assert jenkins[job_id] == scripts, job_id
