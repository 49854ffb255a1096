"""`pipegen output set` writes each CI's native mechanism."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_pipegen
from pipegen.ci import detect, is_pull_request
from pipegen.errors import UsageError
from pipegen.ci.outputs import set_output


def test_github_writes_output_and_env(tmp_path: Path) -> None:
    output, env_file = tmp_path / "out", tmp_path / "env"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_ENV": str(env_file)}
    assert set_output("MODEL_VERSION", "7", io.StringIO(), env) == "github"
    assert output.read_text() == "MODEL_VERSION=7\n" and env_file.read_text() == "MODEL_VERSION=7\n"


def test_azure_prints_output_variable_escaped() -> None:
    stdout = io.StringIO()
    set_output("IMAGE_REF", "reg/app@sha256:ab%;]", stdout, {"TF_BUILD": "True"})
    assert stdout.getvalue().splitlines()[0] == \
        "##vso[task.setvariable variable=IMAGE_REF;isOutput=true]reg/app@sha256:ab%AZP25;]"


@pytest.mark.parametrize("platform_env", [{"GITLAB_CI": "true"}, {"JENKINS_URL": "http://j"}, {}])
def test_dotenv_file_for_gitlab_jenkins_and_local(tmp_path: Path, platform_env: dict) -> None:
    env = {**platform_env, "PIPEGEN_OUTPUTS_FILE": str(tmp_path / "o.env")}
    set_output("A", "1", io.StringIO(), env)
    set_output("B", "x=y", io.StringIO(), env)
    assert (tmp_path / "o.env").read_text() == "A=1\nB=x=y\n"


def test_gitlab_dotenv_size_limit(tmp_path: Path) -> None:
    env = {"GITLAB_CI": "true", "PIPEGEN_OUTPUTS_FILE": str(tmp_path / "o.env")}
    with pytest.raises(UsageError, match="5120-byte dotenv limit"):
        set_output("BIG", "x" * 6000, io.StringIO(), env)


@pytest.mark.parametrize("name,value", [
    ("bad-name", "v"), ("1X", "v"), ("OK", "two\nlines"),
    ("NAME\n", "v"),  # `re.match` with `$` used to accept a trailing newline and write two lines
    ("NAME\r", "v"), ("", "v"), ("OK", "carriage\rreturn"), ("OK", "nel\x85line"), ("OK", "ls\u2028"),
    ("OK", "nul\x00"), ("OK", "bad \udcff bytes"), ("OK", "record\x1eseparator"), ("OK", "\x1b[31mred"),
])
@pytest.mark.parametrize("platform_env", [{"GITHUB_ACTIONS": "true"}, {"TF_BUILD": "True"}, {"GITLAB_CI": "true"},
                                          {"JENKINS_URL": "http://j"}, {}])
def test_rejects_what_no_platform_carries(tmp_path: Path, name: str, value: str, platform_env: dict) -> None:
    env = {**platform_env, "GITHUB_OUTPUT": str(tmp_path / "o"), "GITHUB_ENV": str(tmp_path / "e"),
           "PIPEGEN_OUTPUTS_FILE": str(tmp_path / "o.env")}
    stdout = io.StringIO()
    with pytest.raises(UsageError):
        set_output(name, value, stdout, env)
    assert stdout.getvalue() == "" and not list(tmp_path.iterdir())  # nothing published anywhere


def test_a_trailing_newline_in_the_name_never_reaches_azure(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    result = run_pipegen(capsys, "output", "set", "NAME\n", "v")
    assert result.exit_code == 2
    assert "##vso" not in result.out
    assert len(result.err.splitlines()) == 1


def test_detect_and_pull_requests() -> None:
    assert detect({"GITHUB_ACTIONS": "true"}) == "github"
    assert detect({"TF_BUILD": "True"}) == "azure"
    assert detect({"GITLAB_CI": "true"}) == "gitlab"
    assert detect({"JENKINS_URL": "x"}) == "jenkins"
    assert detect({}) is None
    assert is_pull_request({"GITHUB_EVENT_NAME": "pull_request"})
    assert is_pull_request({"BUILD_REASON": "PullRequest"})
    assert is_pull_request({"CI_PIPELINE_SOURCE": "merge_request_event"})
    assert is_pull_request({"CHANGE_ID": "12"})
    assert not is_pull_request({"GITHUB_EVENT_NAME": "push", "BUILD_REASON": "IndividualCI"})


# ---------------------------------------------------------------------------- output check


def _run_output(tmp_path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipegen", "output", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


PLATFORM_ENVIRONMENTS = {"github": {"GITHUB_ACTIONS": "true"}, "azure": {"TF_BUILD": "True"},
                         "gitlab": {"GITLAB_CI": "true"}, "jenkins": {"JENKINS_URL": "http://j"}, "local": {}}


@pytest.mark.parametrize("platform_env", PLATFORM_ENVIRONMENTS.values(), ids=PLATFORM_ENVIRONMENTS.keys())
def test_a_job_fails_when_its_step_did_not_publish_a_promised_output(tmp_path: Path, platform_env: dict):
    env = {key: value for key, value in os.environ.items()
           if key not in {"GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "RUNNER_TEMP",
                          "AGENT_TEMPDIRECTORY", "PIPEGEN_OUTPUTS_LEDGER"}}
    env.update(platform_env)
    if "GITHUB_ACTIONS" in platform_env:
        # Each GitHub step gets its own GITHUB_OUTPUT file; the job's temporary folder is shared.
        env.update(RUNNER_TEMP=str(tmp_path / "runner-temp"), GITHUB_OUTPUT=str(tmp_path / "step1"),
                   GITHUB_ENV=str(tmp_path / "env"))
        (tmp_path / "runner-temp").mkdir()
    if "TF_BUILD" in platform_env:
        env["AGENT_TEMPDIRECTORY"] = str(tmp_path / "agent-temp")
    missing = _run_output(tmp_path, env, "check", "MODEL_VERSION")
    assert missing.returncode == 1
    assert "MODEL_VERSION was not published by this job" in missing.stderr and "Traceback" not in missing.stderr
    assert _run_output(tmp_path, env, "set", "MODEL_VERSION", "3").returncode == 0
    if "GITHUB_ACTIONS" in platform_env:
        env["GITHUB_OUTPUT"] = str(tmp_path / "step2")
    assert _run_output(tmp_path, env, "check", "MODEL_VERSION").returncode == 0
    both = _run_output(tmp_path, env, "check", "MODEL_VERSION", "IMAGE_REF")
    assert both.returncode == 1 and "IMAGE_REF was not published" in both.stderr
    assert "MODEL_VERSION" not in both.stderr.split("IMAGE_REF")[0]


def test_output_check_refuses_a_name_that_cannot_be_an_output(tmp_path: Path):
    result = _run_output(tmp_path, dict(os.environ), "check", "NOT-A-NAME")
    assert result.returncode == 2 and "must match" in result.stderr
