"""`pipegen output set` writes each CI's native mechanism."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from helpers import run_pipegen
from pipegen.ci import detect, is_pull_request
from pipegen.errors import UsageError
from pipegen.outputs import set_output


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
    ("OK", "nul\x00"), ("OK", "bad \udcff bytes"),
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
