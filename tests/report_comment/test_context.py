"""Which pull/merge request a run builds, from each CI's documented variables."""
from __future__ import annotations

import json

import pytest

from pipegen.errors import UsageError
from pipegen.report_comment.context import resolve


@pytest.mark.parametrize("url, host, expected", [
    ("https://github.com/acme/churn/pull/12", "github", ("https://api.github.com", "acme/churn", "12")),
    ("https://ghe.example.com/acme/churn/pull/12", "github", ("https://ghe.example.com/api/v3", "acme/churn", "12")),
    ("https://gitlab.example.com/data/ml/churn/-/merge_requests/12", "gitlab",
     ("https://gitlab.example.com/api/v4", "data/ml/churn", "12")),
    ("https://bitbucket.org/acme/churn/pull-requests/12", "bitbucket",
     ("https://api.bitbucket.org/2.0", "acme/churn", "12")),
])
def test_jenkins_change_url(url, host, expected):
    ci, target = resolve({"JENKINS_URL": "http://j/", "CHANGE_ID": "12", "CHANGE_URL": url}, host)
    assert ci == "jenkins" and (target.api_url, target.repository, target.number) == expected
    assert target.host == host and not target.read_only


def test_jenkins_refuses_a_url_of_another_host_and_bitbucket_data_center():
    with pytest.raises(UsageError, match="not a gitlab"):
        resolve({"JENKINS_URL": "x", "CHANGE_ID": "1", "CHANGE_URL": "https://github.com/a/b/pull/1"}, "gitlab")
    with pytest.raises(UsageError, match="Bitbucket Cloud"):
        resolve({"JENKINS_URL": "x", "CHANGE_ID": "1",
                 "CHANGE_URL": "https://bb.example.com/a/b/pull-requests/1"}, "bitbucket")


def test_branch_builds_have_no_target():
    assert resolve({"JENKINS_URL": "x", "BRANCH_NAME": "main"}, "github") == ("jenkins", None)
    assert resolve({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push"}) == ("gitlab", None)
    assert resolve({}) == (None, None)


def test_github_number_and_fork_from_the_event(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 5, "head": {"repo": None},
                                                  "base": {"repo": {"full_name": "acme/churn"}}}}))
    _, target = resolve({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/churn"})
    assert (target.number, target.read_only) == ("5", True)  # a deleted fork: no head repository


def test_azure_fork_and_project_url():
    _, target = resolve({"TF_BUILD": "True", "SYSTEM_PULLREQUEST_PULLREQUESTID": "3",
                         "SYSTEM_PULLREQUEST_ISFORK": "True", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/",
                         "SYSTEM_TEAMPROJECT": "My Project", "BUILD_REPOSITORY_ID": "r1"})
    assert target.api_url == "https://dev.azure.com/org/My%20Project" and target.read_only
