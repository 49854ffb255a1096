"""`quality.mode` reaches every platform's gate commands as `--mode`, read back from each file; a
gate the descriptor gives no mode takes the CI variable PIPEGEN_GATE_MODE, which GitHub (alone
in not handing CI variables to every job) maps into the jobs that run such a gate."""
from __future__ import annotations

import pytest
import yaml

from conftest import plan_from_yaml
from pipegen.ci import GATE_MODE_VARIABLE
from pipegen.errors import DescriptorError
from pipegen.generate.render import render_file
from pipegen.platforms.readers import read_back
from test_gate_junit_published import EVERY_GATE


def with_mode(mode: str) -> str:
    """The descriptor with every gate, its quality section given `mode`."""
    return EVERY_GATE.replace("    quality:\n", f"    quality:\n      mode: {mode}\n", 1)


GATES = ("coverage", "lint", "sonar", "drift", "model")


def modes_read_back(mode: str, platform: str) -> dict[str, str]:
    """gate -> the mode its command carries in `platform`'s file ("enforce" when none)."""
    view = read_back(platform, render_file(plan_from_yaml(with_mode(mode)), platform).text)
    return {gate.name: gate.mode for job in view.jobs.values() for gate in job.gates}


@pytest.mark.parametrize("platform", ["github", "gitlab", "azure", "jenkins"])
@pytest.mark.parametrize("mode, expected", [
    ("dry-run", dict.fromkeys(GATES, "dry-run")),
    ("off", dict.fromkeys(GATES, "off")),  # YAML 1.1 reads an unquoted off as false: still "off"
    ("{default: dry-run, sonar: enforce, model: enforce}",
     {"coverage": "dry-run", "lint": "dry-run", "drift": "dry-run", "sonar": "enforce", "model": "enforce"}),
    # nothing written: no --mode (the CI variable decides when they run), the model gate's own auto
    ("{}", {**dict.fromkeys(GATES, "enforce"), "model": "auto"}),
])
def test_the_descriptor_mode_is_in_every_gate_command(platform, mode, expected):
    assert modes_read_back(mode, platform) == expected


def test_github_maps_the_ci_variable_into_jobs_whose_gate_has_no_mode():
    workflow = yaml.safe_load(render_file(plan_from_yaml(with_mode("{sonar: dry-run}")), "github").text)
    mapped = {job_id for job_id, job in workflow["jobs"].items()
              if (job.get("env") or {}).get(GATE_MODE_VARIABLE) == f"${{{{ vars.{GATE_MODE_VARIABLE} }}}}"}
    # sonar carries the descriptor's mode, model-gate its own (auto); jobs without a gate need nothing
    assert mapped == {"lint", "integration", "drift"}  # integration: the last test level, the coverage gate


@pytest.mark.parametrize("written, message", [
    ("true", "quality.mode: write a gate mode"),
    ("lenient", "quality.mode: 'lenient' is not a gate mode"),
    ("{coverage: lenient}", "quality.mode.coverage: 'lenient' is not allowed"),
    ("{tests: dry-run}", "unknown key 'tests' in quality.mode"),
])
def test_a_mode_that_is_not_one_is_refused(written, message):
    with pytest.raises(DescriptorError, match=message):
        plan_from_yaml(with_mode(written))
