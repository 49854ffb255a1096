"""validate's advice: a custom job that reads an output it does not see is warned about, located."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from pipegen.descriptor.loader import parse_descriptor
from pipegen.plan import build_plan
from pipegen.plan.advice import read_variables, unseen_outputs

HEAD = """\
version: 1
project: {name: relay, python: "3.11"}
targets: [gitlab, github]
tests: {unit: tests}
jobs:
  - name: stamp
    stage: test
    run: pipegen output set STAMP "s-1"
    outputs: [STAMP]
  - name: relay
    stage: qa
    needs: [stamp]
    run: echo "relay sees $STAMP"
"""


def advice(text: str) -> list[str]:
    descriptor = parse_descriptor(textwrap.dedent(text), Path("pipegen.yaml"))
    return [str(problem) for problem in unseen_outputs(descriptor, build_plan(descriptor))]


def test_reading_an_output_through_another_job_is_warned_at_the_run_line():
    warnings = advice(HEAD + """\
  - name: announce
    stage: qa
    needs: [relay]
    run: echo "announce read ${STAMP:-}"
""")
    assert len(warnings) == 1
    assert warnings[0].startswith("pipegen.yaml:17:10:")
    assert "'announce' reads $STAMP, an output of 'stamp'" in warnings[0] and "inputs" in warnings[0]


def test_direct_needs_inputs_own_outputs_and_unrelated_variables_are_not_warned():
    assert advice(HEAD + """\
  - name: announce
    stage: qa
    needs: [relay]
    inputs: [STAMP]
    run: echo "$STAMP $HOME ${CI_COMMIT_SHA:-}"
""") == []


def test_the_variables_a_command_expands():
    assert read_variables('echo "$A ${B} ${C:-x} $$ \\$ $1 ${D_2}"') == {"A", "B", "C", "D_2"}


def test_validate_prints_the_warning_and_exits_zero(tmp_path):
    (tmp_path / "pipegen.yaml").write_text(HEAD + """\
  - name: announce
    stage: qa
    needs: [relay]
    run: echo "$STAMP"
""", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipegen", "validate"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "warning: job 'announce' reads $STAMP" in done.stderr
