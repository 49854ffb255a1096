"""`pipegen report comment` against loopback servers that answer with each host's
documented request and response shapes: create then update in place (the hidden marker),
the token never in the output, the fork fallback, and a failure that does not fail the run."""
from __future__ import annotations

import json
import re
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from pipegen.cli import cli, main
from loopback_json import JsonHandler

TOKEN = "s3cr3t-t0ken-value-42"
CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH", "GITHUB_REF", "TF_BUILD", "GITLAB_CI",
                "JENKINS_URL", "CHANGE_ID", "CHANGE_URL", "CI_MERGE_REQUEST_IID", "SYSTEM_PULLREQUEST_PULLREQUESTID",
                "PIPEGEN_REPORT_TOKEN", "GITHUB_RUN_ID", "CI_PIPELINE_URL", "BUILD_URL")


class FakeHost(ThreadingHTTPServer):
    """Comments in memory; `requests` records (method, path, auth header, json body)."""

    def __init__(self, flavour: str, status: int | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.flavour = flavour
        self.forced_status = status
        self.comments: dict[int, str] = {1: "an unrelated review comment"}
        self.requests: list[tuple[str, str, str | None, dict | None]] = []
        self.next_id = 100
        self.page_size = 100  # each host's listing pages by its own documented mechanism

    def page(self, number: int) -> tuple[list[tuple[int, str]], bool]:
        """Comments on page `number` (1-based), and whether a later page exists."""
        items = list(self.comments.items())
        start = (number - 1) * self.page_size
        return items[start:start + self.page_size], len(items) > start + self.page_size

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(JsonHandler):
    server: FakeHost

    def _handle(self) -> None:
        data = self._json_body(None)
        auth = self.headers.get("Authorization") or self.headers.get("PRIVATE-TOKEN")
        host = self.server
        host.requests.append((self.command, self.path, auth, data))
        if host.forced_status:
            self._reply(host.forced_status, {"message": f"denied, your token {auth} is bad"})
            return
        expected = TOKEN if host.flavour == "gitlab" else f"Bearer {TOKEN}"
        if auth != expected:
            self._reply(401, {"message": "Bad credentials"})
            return
        getattr(self, f"_{host.flavour}")(data)

    do_GET = do_POST = do_PATCH = do_PUT = _handle

    def _new(self, text: str) -> int:
        self.server.next_id += 1
        self.server.comments[self.server.next_id] = text
        return self.server.next_id

    def _github(self, data) -> None:
        comments = self.server.comments
        if self.command == "GET" and (listing := re.fullmatch(
                r"/repos/acme/churn/issues/7/comments\?per_page=100(?:&page=(\d+))?", self.path)):
            number = int(listing[1] or 1)
            items, more = self.server.page(number)
            link = (f'<{self.server.url}/repos/acme/churn/issues/7/comments?per_page=100&page={number + 1}>; '
                    f'rel="next", <{self.server.url}/repos/acme/churn/issues/7/comments?per_page=100&page=9>; '
                    'rel="last"') if more else None
            self._reply(200, [{"id": key, "body": text, "user": {"login": "bot"}} for key, text in items],
                        {"Link": link} if link else None)
        elif self.command == "POST" and self.path == "/repos/acme/churn/issues/7/comments":
            self._reply(201, {"id": self._new(data["body"]), "body": data["body"]})
        elif self.command == "PATCH" and (match := re.fullmatch(
                r"/repos/acme/churn/issues/comments/(\d+)", self.path)):
            comments[int(match[1])] = data["body"]
            self._reply(200, {"id": int(match[1]), "body": data["body"]})
        else:
            self._reply(404, {"message": "Not Found"})

    def _gitlab(self, data) -> None:
        comments = self.server.comments
        project = "acme%2Fchurn" if "/projects/acme%2Fchurn/" in self.path else "42"  # id, or path encoded
        base = f"/api/v4/projects/{project}/merge_requests/5/notes"
        if self.command == "GET" and (listing := re.fullmatch(
                re.escape(base) + r"\?per_page=100&page=(\d+)&sort=asc", self.path)):
            items, more = self.server.page(int(listing[1]))
            self._reply(200, [{"id": key, "body": text, "system": False} for key, text in items],
                        {"X-Next-Page": str(int(listing[1]) + 1) if more else "", "X-Page": listing[1]})
        elif self.command == "POST" and self.path == base:
            self._reply(201, {"id": self._new(data["body"]), "body": data["body"]})
        elif self.command == "PUT" and (match := re.fullmatch(base + r"/(\d+)", self.path)):
            comments[int(match[1])] = data["body"]
            self._reply(200, {"id": int(match[1]), "body": data["body"]})
        else:
            self._reply(404, {"message": "404 Not found"})

    def _azure(self, data) -> None:
        comments = self.server.comments
        base = "/org/Churn%20Project/_apis/git/repositories/repo-id/pullRequests/9/threads"
        if self.command == "GET" and self.path == base + "?api-version=7.1":
            threads = [{"id": key, "status": "active", "comments": [{"id": 1, "content": text}]}
                       for key, text in comments.items()]
            self._reply(200, {"value": threads, "count": len(threads)})
        elif self.command == "POST" and self.path == base + "?api-version=7.1":
            assert data["comments"][0]["parentCommentId"] == 0
            thread = self._new(data["comments"][0]["content"])
            self._reply(200, {"id": thread, "status": data["status"],
                              "comments": [{"id": 1, "content": data["comments"][0]["content"]}]})
        elif self.command == "PATCH" and (match := re.fullmatch(
                base + r"/(\d+)/comments/1\?api-version=7.1", self.path)):
            comments[int(match[1])] = data["content"]
            self._reply(200, {"id": 1, "content": data["content"]})
        else:
            self._reply(404, {"message": "not found"})

    def _bitbucket(self, data) -> None:
        comments = self.server.comments
        base = "/repositories/acme/churn/pullrequests/3/comments"
        if self.command == "GET" and (listing := re.fullmatch(re.escape(base) + r"\?pagelen=100(?:&page=(\d+))?",
                                                              self.path)):
            number = int(listing[1] or 1)
            items, more = self.server.page(number)
            page = {"values": [{"id": key, "content": {"raw": text}, "deleted": False} for key, text in items],
                    "pagelen": 100, "page": number}
            if more:
                page["next"] = f"{self.server.url}{base}?pagelen=100&page={number + 1}"
            self._reply(200, page)
        elif self.command == "POST" and self.path == base:
            self._reply(201, {"id": self._new(data["content"]["raw"]), "content": data["content"]})
        elif self.command == "PUT" and (match := re.fullmatch(base + r"/(\d+)", self.path)):
            comments[int(match[1])] = data["content"]["raw"]
            self._reply(200, {"id": int(match[1]), "content": data["content"]})
        else:
            self._reply(404, {"type": "error"})


def serve(flavour: str, status: int | None = None) -> Iterator[FakeHost]:
    server = FakeHost(flavour, status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    reports = tmp_path / "pipegen-reports"
    reports.mkdir()
    (reports / "model.md").write_text("### ✅ pipegen gate `model`: PASS\n", encoding="utf-8")
    (reports / "coverage.md").write_text("### ✅ pipegen gate `coverage`: PASS\n", encoding="utf-8")
    (reports / "drift.md").write_text("### ✅ pipegen gate `drift`: PASS\n", encoding="utf-8")
    (reports / "diff.md").write_text("#### pipeline diff: no risky change\n", encoding="utf-8")


def github_env(server: FakeHost, tmp_path: Path, fork: bool = False) -> dict[str, str]:
    head = "someone/churn" if fork else "acme/churn"
    event = {"number": 7, "pull_request": {"number": 7, "head": {"repo": {"full_name": head}},
                                           "base": {"repo": {"full_name": "acme/churn"}}}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(path),
            "GITHUB_REPOSITORY": "acme/churn", "GITHUB_API_URL": server.url, "GITHUB_SHA": "0123456789abcdef0",
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "PIPEGEN_REPORT_TOKEN": TOKEN}


def gitlab_env(server: FakeHost) -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "5",
            "CI_PROJECT_ID": "42", "CI_API_V4_URL": f"{server.url}/api/v4", "PIPEGEN_REPORT_TOKEN": TOKEN}


def azure_env(server: FakeHost) -> dict[str, str]:
    return {"TF_BUILD": "True", "BUILD_REASON": "PullRequest", "SYSTEM_PULLREQUEST_PULLREQUESTID": "9",
            "SYSTEM_COLLECTIONURI": f"{server.url}/org/", "SYSTEM_TEAMPROJECT": "Churn Project",
            "BUILD_REPOSITORY_ID": "repo-id", "PIPEGEN_REPORT_TOKEN": TOKEN}


def jenkins_env(server: FakeHost, host: str = "bitbucket") -> dict[str, str]:
    """A Jenkins multibranch build of a change on `host` (CHANGE_ID, CHANGE_URL as the branch source sets them)."""
    number, url = {"bitbucket": ("3", "https://bitbucket.org/acme/churn/pull-requests/3"),
                   "github": ("7", "https://github.com/acme/churn/pull/7"),
                   "gitlab": ("5", "https://gitlab.example.test/acme/churn/-/merge_requests/5")}[host]
    return {"JENKINS_URL": "http://jenkins.invalid/", "CHANGE_ID": number, "CHANGE_URL": url,
            "PIPEGEN_REPORT_TOKEN": TOKEN}


# flavour -> (the server's API, the environment of the run, extra arguments)
RUNS = {
    "github": ("github", lambda server, tmp_path: github_env(server, tmp_path), lambda server: ()),
    "gitlab": ("gitlab", lambda server, tmp_path: gitlab_env(server), lambda server: ()),
    "azure": ("azure", lambda server, tmp_path: azure_env(server), lambda server: ()),
    "jenkins-bitbucket": ("bitbucket", lambda server, tmp_path: jenkins_env(server),
                          lambda server: ("--host", "bitbucket", "--api-url", server.url)),
    # the host from PIPEGEN_REPORT_HOST, as the generated Jenkinsfile sets it (report.host)
    "jenkins-github": ("github", lambda server, tmp_path: {**jenkins_env(server, "github"),
                                                           "PIPEGEN_REPORT_HOST": "github"},
                       lambda server: ("--api-url", server.url)),
    "jenkins-gitlab": ("gitlab", lambda server, tmp_path: jenkins_env(server, "gitlab"),
                       lambda server: ("--host", "gitlab", "--api-url", f"{server.url}/api/v4")),
}


def comment(env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, ["report", "comment", *args], env=env, catch_exceptions=False)


def ours(server: FakeHost) -> list[str]:
    return [text for text in server.comments.values() if "<!-- pipegen:report-comment" in text]


@pytest.mark.parametrize("flavour", list(RUNS))
def test_created_once_then_updated_in_place(flavour, tmp_path):
    api, make_env, arguments = RUNS[flavour]
    for server in serve(api):
        env, extra = make_env(server, tmp_path), arguments(server)
        first = comment(env, *extra)
        assert first.exit_code == 0, first.output
        assert "created the report comment" in first.output
        (tmp_path / "pipegen-reports" / "model.md").write_text("### ❌ pipegen gate `model`: FAIL\n")
        second = comment(env, *extra)
        assert second.exit_code == 0 and "updated the report comment" in second.output, second.output
        bodies = ours(server)
        assert len(bodies) == 1  # one comment per pull request, updated in place
        body = bodies[0]
        assert "`model`: FAIL" in body and "`model`: PASS" not in body
        order = [body.index(f"`{gate}`") for gate in ("coverage", "drift", "model")]
        assert order == sorted(order) and body.index("pipeline diff") > order[-1]  # the diff last
        assert server.comments[1] == "an unrelated review comment"
        methods = [method for method, *_ in server.requests]
        assert methods.count("POST") == 1
        for output in (first.output, second.output):
            assert TOKEN not in output


@pytest.mark.parametrize("flavour", ["github", "gitlab", "jenkins-bitbucket"])
def test_the_marker_is_found_on_a_later_page(flavour, tmp_path):
    """A long review: the report comment is past the first page of the listing; it is found
    (Link rel="next", X-Next-Page, `next`) and updated, not posted again."""
    api, make_env, arguments = RUNS[flavour]
    for server in serve(api):
        server.page_size = 2
        for number in range(5):  # listed oldest first: the report comes after three pages of remarks
            server.comments[50 + number] = f"review remark {number}"
        env, extra = make_env(server, tmp_path), arguments(server)
        assert comment(env, *extra).exit_code == 0
        assert list(server.comments)[-1] == server.next_id  # the report is the newest, on the last page
        second = comment(env, *extra)
        assert "updated the report comment" in second.output, second.output
        assert len(ours(server)) == 1
        assert [method for method, *_ in server.requests].count("POST") == 1
        pages = [path for method, path, *_ in server.requests if method == "GET"]
        assert len(pages) == 3 + 4  # the first run read all three pages, the second four


def test_github_fork_falls_back_to_the_step_summary(tmp_path):
    for server in serve("github"):
        run = comment(github_env(server, tmp_path, fork=True))
        assert run.exit_code == 0
        assert "fork" in run.output and "step summary" in run.output
        assert server.requests == []  # nothing attempted with a read-only token
        summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
        assert "read-only" in summary and "`model`: PASS" in summary


def test_refused_token_falls_back_and_is_never_printed(tmp_path):
    for server in serve("github", status=403):
        run = comment(github_env(server, tmp_path))
        assert run.exit_code == 0
        assert "HTTP 403" in run.output and "step summary" in run.output
        assert TOKEN not in run.output  # the server echoed it; pipegen scrubbed it
        assert TOKEN not in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_unreachable_host_is_reported_and_does_not_fail_unless_strict(tmp_path):
    for server in serve("gitlab"):
        env = {**gitlab_env(server), "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"}  # discard port: refused
    run = comment(env)
    assert run.exit_code == 0 and "could not list the merge request's notes" in run.output
    assert "does not fail the pipeline" in run.output and TOKEN not in run.output
    assert comment(env, "--strict").exit_code == 3


def test_outside_a_pull_request_nothing_is_posted(tmp_path):
    run = comment({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "PIPEGEN_REPORT_TOKEN": TOKEN})
    assert run.exit_code == 0 and "nothing to post" in run.output


def test_jenkins_needs_the_host(monkeypatch, capsys):
    for server in serve("github"):
        for key, value in jenkins_env(server).items():
            monkeypatch.setenv(key, value)
        with pytest.raises(SystemExit) as exited:
            main(["report", "comment"])
        assert exited.value.code == 2 and "--host" in capsys.readouterr().err
