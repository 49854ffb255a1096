"""pipegen.model_registry.registry's pieces that need no server: URI resolution, bounded HTTP retries,
who/which-run attribution, and refusing a registry that does not exist."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipegen import ci
from pipegen import model_registry as registry
from pipegen.errors import EvaluationError


def test_tracking_uri_prefers_flag_then_descriptor_variable_then_embedded_default():
    env = {"TEAM_MLFLOW": "http://mlflow.team:5000", "MLFLOW_TRACKING_URI": "http://other"}
    assert registry.tracking_uri("TEAM_MLFLOW", "http://flag", env) == "http://flag"
    assert registry.tracking_uri("TEAM_MLFLOW", None, env) == "http://mlflow.team:5000"
    assert registry.tracking_uri("TEAM_MLFLOW", None, {"MLFLOW_TRACKING_URI": "http://other"}) == "sqlite:///mlflow.db"
    assert registry.tracking_uri("MLFLOW_TRACKING_URI", None, {}) == "sqlite:///mlflow.db"


def test_http_bounds_are_set_but_a_users_choice_wins():
    env = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "300"}
    registry.bound_http_retries(env)
    assert env["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "300"
    assert env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
    assert int(env["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"]) >= 0  # MLflow parses it as int


@pytest.mark.parametrize("env, actor, url", [
    ({"GITHUB_ACTOR": "octo", "GITHUB_REPOSITORY": "acme/churn", "GITHUB_RUN_ID": "9"},
     "octo", "https://github.com/acme/churn/actions/runs/9"),
    ({"GITLAB_USER_LOGIN": "gl", "CI_PIPELINE_URL": "https://gitlab.com/acme/churn/-/pipelines/5"},
     "gl", "https://gitlab.com/acme/churn/-/pipelines/5"),
    ({"BUILD_REQUESTEDFOR": "Ada Lovelace", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
      "SYSTEM_TEAMPROJECT": "churn model", "BUILD_BUILDID": "77"},
     "Ada Lovelace", "https://dev.azure.com/acme/churn%20model/_build/results?buildId=77"),
    ({"BUILD_USER_ID": "jenkins-admin", "BUILD_URL": "https://ci.acme/job/churn/12/"},
     "jenkins-admin", "https://ci.acme/job/churn/12/"),
])
def test_ci_attribution(env, actor, url):
    assert ci.ci_actor(env) == actor
    assert ci.ci_run_url(env) == url


def test_outside_ci_the_local_user_and_no_run():
    assert ci.ci_actor({"PIPEGEN_ACTOR": "me"}) == "me"
    assert ci.ci_run_url({}) is None


def test_a_missing_sqlite_registry_is_reported_not_created(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EvaluationError, match="no MLflow registry at sqlite:///mlflow.db"):
        registry.Registry("sqlite:///mlflow.db")
    assert not (tmp_path / "mlflow.db").exists()


def test_without_mlflow_the_message_says_how_to_install_it(tmp_path: Path, monkeypatch):
    # None in sys.modules makes `import mlflow` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(EvaluationError, match=r"pip install 'pipegen-ci\[mlflow\]'") as raised:
        registry.Registry("http://127.0.0.1:1")
    assert raised.value.exit_code == 3


def test_version_url_only_for_http_servers():
    assert registry.Registry("http://mlflow:5000/", must_exist=False).version_url("churn model", "3") == \
        "http://mlflow:5000/#/models/churn%20model/versions/3"
