"""`pipegen report comment` against hostile reports and hostile hosts: a report linked to
/proc/self/environ, out of the repository or made a FIFO is left out (named) and never posted;
a report's secret or CI logging command is scrubbed from the body; the token goes to the API's
own host only (a redirect or a page link to 127.0.0.2 never receives it, a POST is never
replayed there), a token with stray whitespace is neither printed nor sent as is, a server's
echo of it is scrubbed even across the message cut; `--strict` fails on every outcome that
did not post the comment. The loopback hosts answer with each API's documented shapes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hostile.conftest import SECRET, Answer, RecordingHost, assert_safe, environment, pipegen

TOKEN = "rc-t0ken-7a6b5c4d3e2f1a0b"
ALLOWED = ("##vso[task.uploadsummary]",)


@pytest.fixture
def reports(repo: Path) -> Path:
    folder = repo / "pipegen-reports"
    folder.mkdir()
    (folder / "coverage.md").write_text("### ✅ pipegen gate `coverage`: PASS\n", encoding="utf-8")
    return folder


def gitlab(host: RecordingHost, **extra: str) -> dict[str, str]:
    return environment(GITLAB_CI="true", CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID="5",
                       CI_PROJECT_ID="42", CI_API_V4_URL=f"{host.url}/api/v4", PIPEGEN_REPORT_TOKEN=TOKEN, **extra)


def github(host: RecordingHost, repo: Path, **extra: str) -> dict[str, str]:
    event = repo.parent / "event.json"
    event.write_text(json.dumps({"number": 7, "pull_request": {
        "number": 7, "head": {"repo": {"full_name": "acme/churn"}}, "base": {"repo": {"full_name": "acme/churn"}}}}),
        encoding="utf-8")
    return environment(GITHUB_ACTIONS="true", GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event),
                       GITHUB_REPOSITORY="acme/churn", GITHUB_API_URL=host.url, PIPEGEN_REPORT_TOKEN=TOKEN,
                       GITHUB_STEP_SUMMARY=str(repo.parent / "summary.md"), **extra)


def gitlab_notes(other: RecordingHost | None = None, posted: list | None = None):
    """GitLab's notes API: an empty listing, a created note; `other` set: a POST is sent there (307)."""
    def route(method: str, path: str) -> Answer:
        if method == "GET" and "/merge_requests/5/notes" in path:
            return Answer(200, [], {"X-Next-Page": ""})
        if method == "POST" and other is not None:
            return Answer(307, {}, {"Location": f"{other.url}/api/v4/projects/42/merge_requests/5/notes"})
        if method == "POST":
            if posted is not None:
                posted.append(path)
            return Answer(201, {"id": 101, "body": "x"})
        return Answer(404, {"message": "404 Not found"})
    return route


def test_reports_that_are_not_plain_files_of_the_repository_are_left_out(repo, reports, outside, hosts):
    home, _ = hosts
    (reports / "drift.md").symlink_to("/proc/self/environ")
    (reports / "lint.md").symlink_to(outside / "secret.env")
    os.mkfifo(reports / "model.md")
    posted: list = []
    home.route = gitlab_notes(posted=posted)
    env = gitlab(home)
    printed = pipegen(repo, "report", "comment", "--print-body", env=env)
    assert_safe(printed, 0, secrets=(SECRET, TOKEN))
    for name in ("drift.md", "lint.md", "model.md"):
        assert f"{name} was not included" in printed.out
    assert "HOSTILE_API_TOKEN" not in printed.out and "`coverage`: PASS" in printed.out
    ran = pipegen(repo, "report", "comment", env=env)
    assert_safe(ran, 0, secrets=(SECRET, TOKEN))
    body = next(json.loads(seen.body)["body"] for seen in home.seen if seen.method == "POST")
    assert SECRET not in body and "HOSTILE_API_TOKEN" not in body and "`coverage`: PASS" in body


def test_a_report_carrying_a_secret_or_ci_commands_is_scrubbed_wherever_it_goes(repo, reports, hosts):
    home, _ = hosts
    (reports / "lint.md").write_text(f"token: {SECRET}\n::error::forged\n##vso[task.setvariable variable=A]1\n"
                                     f"\r::add-mask::x {TOKEN}\n", encoding="utf-8")
    home.route = gitlab_notes()
    ran = pipegen(repo, "report", "comment", env=gitlab(home))
    assert_safe(ran, 0, secrets=(SECRET, TOKEN))
    body = next(json.loads(seen.body)["body"] for seen in home.seen if seen.method == "POST")
    assert SECRET not in body and TOKEN not in body and "***" in body
    assert "##vso[" not in body and "\n::error::" not in body
    # Refused (403): the body goes to the CI's summary and the log instead, scrubbed the same way.
    home.route = lambda method, path: Answer(403, {"message": "forbidden"})
    refused = pipegen(repo, "report", "comment", env=environment(**{**gitlab(home), "GITLAB_CI": "true"}))
    assert_safe(refused, 0, secrets=(SECRET, TOKEN))
    assert "could not post this as a comment" in refused.out


@pytest.mark.parametrize("status", [302, 307, 308])
def test_gitlab_redirects_never_take_the_token_or_the_post_to_another_host(repo, reports, hosts, status):
    home, other = hosts

    def route(method: str, path: str) -> Answer:
        return Answer(status, {}, {"Location": f"{other.url}{path}"})  # every call sent to another host
    home.route = route
    other.route = gitlab_notes()
    ran = pipegen(repo, "report", "comment", "--strict", env=gitlab(home))
    assert_safe(ran, 3, secrets=(SECRET, TOKEN))
    assert not other.carried(TOKEN)
    assert [seen.method for seen in other.seen if seen.method != "GET"] == []  # nothing posted there
    assert home.seen and all(seen.headers.get("PRIVATE-TOKEN") == TOKEN for seen in home.seen)


def test_a_post_redirected_with_its_body_is_not_replayed_elsewhere(repo, reports, hosts):
    home, other = hosts
    home.route = gitlab_notes(other=other)
    other.route = gitlab_notes()
    ran = pipegen(repo, "report", "comment", env=gitlab(home))
    assert_safe(ran, 0, secrets=(SECRET, TOKEN))
    assert "not followed" in ran.out and other.seen == []


def test_github_page_links_to_another_host_are_not_followed_with_the_token(repo, reports, hosts):
    home, other = hosts

    def route(method: str, path: str) -> Answer:
        if method == "GET":
            link = f'<{other.url}/repos/acme/churn/issues/7/comments?per_page=100&page=2>; rel="next"'
            return Answer(200, [{"id": 1, "body": "a review remark"}], {"Link": link})
        return Answer(201, {"id": 2, "body": "x"})
    home.route = route
    other.route = lambda method, path: Answer(200, [{"id": 9, "body": "<!-- pipegen:report-comment ci=github -->"}])
    ran = pipegen(repo, "report", "comment", "--strict", env=github(home, repo))
    assert_safe(ran, 3, secrets=(SECRET, TOKEN))
    assert other.seen == [] and "another host" in ran.out
    assert all(seen.method == "GET" for seen in home.seen)  # nothing posted on a listing it could not finish


def test_bitbucket_next_page_on_another_host_is_not_followed(repo, reports, hosts):
    home, other = hosts
    home.route = lambda method, path: Answer(200, {"values": [], "next": f"{other.url}/steal?page=2"})
    env = environment(JENKINS_URL="http://jenkins.invalid/", CHANGE_ID="3",
                      CHANGE_URL="https://bitbucket.org/acme/churn/pull-requests/3", PIPEGEN_REPORT_TOKEN=TOKEN)
    ran = pipegen(repo, "report", "comment", "--host", "bitbucket", "--api-url", home.url, env=env)
    assert_safe(ran, 0, secrets=(SECRET, TOKEN))
    assert other.seen == []


def test_a_token_with_stray_whitespace_is_sent_trimmed_and_never_printed(repo, reports, hosts):
    home, _ = hosts
    home.route = gitlab_notes()
    ran = pipegen(repo, "report", "comment", env={**gitlab(home), "PIPEGEN_REPORT_TOKEN": f"  {TOKEN}\n"})
    assert_safe(ran, 0, secrets=(SECRET, TOKEN))
    assert "created the report comment" in ran.out
    assert {seen.headers.get("PRIVATE-TOKEN") for seen in home.seen} == {TOKEN}
    inner = pipegen(repo, "report", "comment", "--strict",
                    env={**gitlab(home), "PIPEGEN_REPORT_TOKEN": f"{TOKEN[:10]}\n{TOKEN[10:]}"})
    assert_safe(inner, 3, secrets=(SECRET, TOKEN, TOKEN[:10] + "\n", TOKEN[10:]))
    assert "whitespace or a control character inside it" in inner.both


@pytest.mark.parametrize("lead", [0, 150, 190, 197, 205])
def test_a_server_echoing_the_token_leaks_no_part_of_it_across_the_cut(repo, reports, hosts, lead):
    home, _ = hosts
    home.route = lambda method, path: Answer(500, "x" * lead + f" bad token {TOKEN} " + "y" * 300)
    ran = pipegen(repo, "report", "comment", env=gitlab(home))
    assert_safe(ran, 0, secrets=(SECRET, TOKEN, TOKEN[:6], TOKEN[-6:]))
    assert "HTTP 500" in ran.out


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_strict_fails_on_every_outcome_that_did_not_post(repo, reports, hosts, status):
    home, _ = hosts
    home.route = lambda method, path: Answer(status, {"message": "no"})
    assert pipegen(repo, "report", "comment", env=gitlab(home)).code == 0
    ran = pipegen(repo, "report", "comment", "--strict", env=gitlab(home))
    assert_safe(ran, 3, secrets=(SECRET, TOKEN))
    assert "was not posted" in ran.err


def test_strict_fails_without_a_token_or_on_a_fork(repo, reports, hosts):
    home, _ = hosts
    home.route = gitlab_notes()
    no_token = {**gitlab(home)}
    del no_token["PIPEGEN_REPORT_TOKEN"]
    assert_safe(pipegen(repo, "report", "comment", "--strict", env=no_token), 3, secrets=(SECRET, TOKEN))
    posted = pipegen(repo, "report", "comment", "--strict", env=gitlab(home))
    assert_safe(posted, 0, secrets=(SECRET, TOKEN))
    assert "created the report comment" in posted.out


@pytest.mark.parametrize("event", ["fifo", "proc", "garbage"])
def test_a_hostile_event_file_or_summary_neither_hangs_nor_leaks(repo, reports, hosts, event):
    home, _ = hosts
    home.route = lambda method, path: Answer(403, {"message": "forbidden"})
    env = github(home, repo)
    path = Path(env["GITHUB_EVENT_PATH"])
    path.unlink()
    if event == "fifo":
        os.mkfifo(path)
        os.mkfifo(env["GITHUB_STEP_SUMMARY"])
    elif event == "proc":
        path.symlink_to("/proc/self/environ")
    else:
        path.write_text(json.dumps({"number": {"a": 1}, "pull_request": "x"}), encoding="utf-8")
    ran = pipegen(repo, "report", "comment", env={**env, "GITHUB_REF": "refs/pull/7/merge"}, timeout=60)
    assert_safe(ran, 0, secrets=(SECRET, TOKEN), commands_allowed=ALLOWED)
    assert "HOSTILE_API_TOKEN" not in ran.both


def test_a_pull_request_number_that_is_not_a_number_posts_nothing(repo, reports, hosts):
    home, _ = hosts
    ran = pipegen(repo, "report", "comment", env={**gitlab(home), "CI_MERGE_REQUEST_IID": "5/../../../users"})
    assert_safe(ran, 0, secrets=(SECRET, TOKEN))
    assert "nothing to post" in ran.out and home.seen == []
