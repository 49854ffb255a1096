"""What `pipegen run` prints, through the real command: by default one line per job (redrawn in place
on a terminal, one per state change elsewhere), the summary, and the failing job's last lines and
log path, without the jobs' install chatter; `--verbose` streams every line of every job."""
from __future__ import annotations

import re

import pytest

from .conftest import job_log, pipegen_run, run_environment, run_on_a_terminal
from .test_runner import DEPLOYMENT_STAGES, DEPLOYMENTS, env, project

FAILING_TESTS = """\
version: 1
project: {name: tally, python: "3.11"}
targets: [gitlab]
tests: {unit: tests}
"""
FAILING_TEST = '''\
def test_arithmetic():
    assert 2 + 2 == 5, "arithmetic is broken"
'''
# What pip and uv say while a job installs (uv: the environment, the resolution, a ` + name==version` line per
# package): in the job's log, not on the screen.
INSTALL_CHATTER = re.compile(r"^(Requirement already satisfied|Collecting|Downloading|Installing collected packages|"
                             r"Successfully installed|Using cached|Using Python .* environment at|"
                             r"Resolved \d+ packages?|Prepared \d+ packages?|Installed \d+ packages?|Audited|"
                             r" \+ \S+==)")


@pytest.mark.slow
def test_a_failing_job_shows_its_last_lines_and_log_not_its_install(tmp_path, scenario_settings):
    root = project(tmp_path, FAILING_TESTS)
    (root / "tests").mkdir()
    (root / "tests" / "test_arithmetic.py").write_text(FAILING_TEST, encoding="utf-8")
    environment = run_environment(**scenario_settings)

    quiet = pipegen_run(root, "--job", "unit", env=environment)
    assert quiet.statuses == {"unit": "failed"}, quiet.explain()
    log = job_log(root, "unit").splitlines()
    chatter = [line for line in log if INSTALL_CHATTER.match(line)]
    assert chatter, "the job installed nothing: this test would prove nothing"
    shown = quiet.stdout.splitlines()
    assert not [line for line in shown if INSTALL_CHATTER.search(line)], quiet.stdout
    # One line per state change, the summary, then the failing job's tail under its log's path.
    assert "[unit] started (test: Unit tests)" in shown
    assert any(line.startswith("[unit] failed in ") and "exited with 1" in line for line in shown), quiet.stdout
    heading = next(index for index, line in enumerate(shown) if line.startswith("unit failed: "))
    assert shown[heading].endswith("lines of .pipegen/run/logs/unit.log:"), shown[heading]
    assert shown[heading + 1:] == [f"  {line}" for line in log[-30:]]
    assert "arithmetic is broken" in quiet.stdout and "1 failed" in quiet.stdout  # pytest's verdict, in the tail

    verbose = pipegen_run(root, "--job", "unit", "--verbose", env=environment)
    assert verbose.statuses == {"unit": "failed"}, verbose.explain()
    streamed = verbose.stdout.splitlines()
    log = job_log(root, "unit").splitlines()
    assert [line for line in streamed if line.startswith("[unit] ")][1:len(log) + 1] == [
        f"[unit] {line}" for line in log]  # after "started", every line of the job as it came
    assert any(INSTALL_CHATTER.match(line.removeprefix("[unit] ")) for line in streamed)
    assert streamed[-1].startswith("unit failed: step 'Unit tests under coverage (xdist workers and subprocesses "
                                   "too)' exited with 1: the project's own tests fail as written here (1 of 1 failed: "
                                   "tests/test_arithmetic.py::test_arithmetic")  # what failed, said plainly
    assert streamed[-1].endswith("; its log: .pipegen/run/logs/unit.log")


def test_on_a_terminal_each_job_has_one_line_redrawn_in_place(tmp_path):
    root = project(tmp_path, DEPLOYMENTS.replace('deploy: echo "qa gets', 'deploy: sleep 2; echo "qa gets'))
    code, text = run_on_a_terminal(root, *DEPLOYMENT_STAGES, "--approve", env={**env(), "TERM": "xterm"})
    assert code == 0, text
    # Each redraw goes back up over the block of two job lines and writes it again.
    frames = text.split("\x1b[2F\x1b[J")
    assert len(frames) >= 3, text
    assert re.search(r"deploy-qa\s+qa\s+running\s+\d+s\s+Deploy to QA", text), text
    assert re.search(r"deploy-prod\s+prod\s+waiting", text), text
    assert "[deploy-qa]" not in text  # no streamed output, no per-change lines: the block says it
    assert re.search(r"deploy-qa\s+qa\s+passed\s+\d+\.\ds\r?\ndeploy-prod\s+prod\s+passed", frames[-1]), frames[-1]
    assert "qa gets https://qa.example.test" in job_log(root, "deploy-qa")
