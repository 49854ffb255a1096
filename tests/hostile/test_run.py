"""`pipegen run` against a hostile project: a `.pipegen` (or its `run`, or `logs`) folder linked
out of the repository is refused before anything is deleted or written (the target is left as it
was); a state file that is a FIFO, a link to /proc, or holds what no job could have published (a
NUL, a line break) is exit 2, not a hang or a traceback; a job that prints its secret shows ***
on the console and in its log; an outputs file with a NUL publishes nothing."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hostile.conftest import SECRET, assert_safe, environment, pipegen
from run.test_runner import DEPLOYMENTS, project as committed_project

# The deployments of pipegen run's own tests, QA printing its secret.
DESCRIPTOR = DEPLOYMENTS.replace('"qa gets $TARGET_URL with ${DEPLOY_TOKEN:+a token}"',
                                 '"deploying with $DEPLOY_TOKEN"')
RUN = ("run", "--stage", "qa")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return committed_project(tmp_path, DESCRIPTOR)


def run_env(**extra: str) -> dict[str, str]:
    return environment(**{"DEPLOY_TOKEN": SECRET, "TARGET_URL": "https://qa.example.test", **extra})


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("linked", [".pipegen", ".pipegen/run", ".pipegen/run/logs", ".pipegen/run/handover"])
def test_a_linked_state_folder_is_refused_and_its_target_untouched(project, outside, linked):
    target = outside / "elsewhere"
    (target / "run" / "logs").mkdir(parents=True)
    (target / "run" / "logs" / "keep.log").write_text("precious\n", encoding="utf-8")
    (target / "logs").mkdir()
    (target / "logs" / "keep.log").write_text("precious\n", encoding="utf-8")
    before = snapshot(outside)
    link = project / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    ran = pipegen(project, *RUN, env=run_env())
    assert_safe(ran, 2)
    assert "symlink" in ran.err and "real .pipegen/run/ folder" in ran.err
    assert snapshot(outside) == before  # nothing deleted, nothing written there


@pytest.mark.parametrize("kind", ["fifo", "proc", "outside"])
def test_a_state_file_that_is_no_plain_file_of_the_project_is_refused(project, outside, kind):
    state = project / ".pipegen" / "run" / "state.json"
    state.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(state)
    elif kind == "proc":
        state.symlink_to("/proc/self/environ")
    else:
        state.symlink_to(outside / "secret.env")
    ran = pipegen(project, *RUN, env=run_env(), timeout=60)
    assert_safe(ran, 2)
    assert "state.json" in ran.err and "HOSTILE_API_TOKEN" not in ran.both and "API_TOKEN=" not in ran.both


@pytest.mark.parametrize("content", [
    {"jobs": {"deploy-qa": {"status": "passed", "outputs": {"IMAGE_REF": "a\u0000b"}}}},
    {"jobs": {"deploy-qa": {"status": "passed", "outputs": {"IMAGE_REF": "line\n::set-output name=x::y"}}}},
    {"jobs": {"deploy-qa": {"status": "passed", "outputs": {"BAD NAME": "x"}}}},
    {"jobs": {"deploy-qa": {"status": 3}}},
    {"jobs": ["not", "a", "mapping"]},
    "[" * 100_000,
    "\u0000",
])
def test_a_state_file_no_run_wrote_is_exit_2_not_a_traceback(project, content):
    state = project / ".pipegen" / "run" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    ran = pipegen(project, *RUN, env=run_env())
    assert_safe(ran, 2)
    assert "state.json is not a state file pipegen run wrote" in ran.err and "delete it" in ran.err


def test_a_secret_a_job_prints_is_masked_on_the_console_and_in_its_log(project, tmp_path):
    ran = pipegen(project, *RUN, "--verbose", "--report-json", "report.json", env=run_env(), timeout=300)
    log = project / ".pipegen" / "run" / "logs" / "deploy-qa.log"
    assert_safe(ran, 0, log, project / "report.json", project / ".pipegen" / "run" / "last-run.json")
    assert "deploying with ***" in ran.out and "deploying with ***" in log.read_text(encoding="utf-8")
    (tmp_path / "failing").mkdir()
    failing_project = committed_project(tmp_path / "failing", DESCRIPTOR.replace(
        '"deploying with $DEPLOY_TOKEN"', '"deploying with $DEPLOY_TOKEN"; exit 1'))
    failing = pipegen(failing_project, *RUN, env=run_env(), timeout=300)
    assert_safe(failing, 1)
    assert "deploying with ***" in failing.out  # the failing job's tail, shown after the summary


def test_the_report_json_is_not_written_through_a_link_out_of_the_repository(project, outside):
    (project / "report.json").symlink_to(outside / "secret.env")
    ran = pipegen(project, *RUN, "--report-json", "report.json", env=run_env(), timeout=300)
    assert_safe(ran, 2)
    assert (outside / "secret.env").read_text(encoding="utf-8") == f"API_TOKEN={SECRET}\n"


def test_an_outputs_file_publishes_only_what_output_set_could_have(tmp_path, outside):
    from pipegen.run.executor import read_outputs  # pylint: disable=import-outside-toplevel

    (tmp_path / "job").mkdir()
    path = tmp_path / "job" / "outputs.env"
    path.write_bytes(b"A=ok\nB=x\x00y\nC=z\r\n1D=x\nE=\xff\n")
    assert read_outputs(path) == {"A": "ok", "E": "\ufffd"}
    path.unlink()
    os.mkfifo(path)
    assert read_outputs(path) == {}  # a FIFO is not opened
    path.unlink()
    path.symlink_to(outside / "secret.env")
    assert read_outputs(path) == {}  # nor a link out of the job's folder
