"""TEST FIXTURE: loopback stand-ins for the four platforms' REST APIs, answering `pipegen doctor`'s
requests with the documented response shapes, pagination included (GitHub `Link` headers,
GitLab `X-Next-Page`/`Link`, Azure `x-ms-continuationtoken`, Jenkins `tree` ranges). They are
stand-ins, not the platforms: each serves one project whose settings a test describes, checks
the token, and records every request's path and credential header."""
from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.loopback_json import JsonHandler

PAGE = 2  # entries per page: the example's four variables take two pages
TOKEN = "doctor-standin-token-8c41f2"


@dataclass
class Answer:
    status: int
    payload: object
    headers: dict = field(default_factory=dict)


@dataclass
class Settings:
    """One project's settings as a platform holds them (names and flags; values only where the
    platform returns them, to prove doctor never prints one)."""

    secrets: dict[str, dict] = field(default_factory=dict)  # name -> flags (masked, protected, isSecret, env)
    variables: dict[str, dict] = field(default_factory=dict)
    environments: dict[str, dict] = field(default_factory=dict)  # name -> reviewers/branches/checks
    protected_branches: set[str] = field(default_factory=set)
    credentials: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    branches: list[str] = field(default_factory=list)  # Jenkins: branches the multibranch job discovered
    forbidden: str | None = None  # a path fragment answered 403 (a token lacking a scope)
    link_host: str = "127.0.0.1"  # the host GitHub-style `Link` headers name (another one: a hostile server)


class StandIn:
    """A ThreadingHTTPServer on 127.0.0.1 answering one platform; stop() when done."""

    def __init__(self, platform: str, settings: Settings):
        self.platform, self.settings = platform, settings
        self.requests: list[tuple[str, str | None]] = []  # (path with query, credential header)
        stand_in = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # pylint: disable=invalid-name
                stand_in.requests.append((self.path, self.headers.get("Authorization")
                                          or self.headers.get("PRIVATE-TOKEN")))
                answer = stand_in.answer(self.path, self.headers)
                self._reply(answer.status, answer.payload, answer.headers)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ routing

    def answer(self, raw: str, headers) -> Answer:
        parts = urlsplit(raw)
        path, query = unquote(parts.path), {key: values[0] for key, values in parse_qs(parts.query).items()}
        if not self._authorised(headers):
            return Answer(401, {"message": "Bad credentials"})
        if self.settings.forbidden and self.settings.forbidden in path:
            return self._forbidden()
        route = getattr(self, f"_{self.platform}")
        return route(parts.path, path, query) or Answer(404, {"message": "Not Found"})

    def _authorised(self, headers) -> bool:
        if self.platform == "github":
            return headers.get("Authorization") == f"Bearer {TOKEN}"
        if self.platform == "gitlab":
            return headers.get("PRIVATE-TOKEN") == TOKEN
        user = "jenkins-bot" if self.platform == "jenkins" else ""
        expected = "Basic " + base64.b64encode(f"{user}:{TOKEN}".encode()).decode()
        return headers.get("Authorization") == expected

    def _forbidden(self) -> Answer:
        if self.platform == "github":  # GitHub names the permissions the endpoint accepts
            return Answer(403, {"message": "Resource not accessible by personal access token"},
                          {"X-Accepted-GitHub-Permissions": "secrets=read"})
        if self.platform == "gitlab":
            return Answer(403, {"error": "insufficient_scope", "scope": "api read_api",
                                "error_description": "The request requires higher privileges than provided by "
                                                     "the access token."})
        if self.platform == "azure":
            return Answer(401, {"message": "TF400813: The user is not authorized to access this resource."})
        return Answer(403, {"message": "jenkins-bot is missing the Credentials/View permission"})

    def _paged_link(self, raw_path: str, entries: list, query: dict, key: str | None) -> Answer:
        """GitHub/GitLab `page`/`per_page` paging with a `Link: <...>; rel="next"` header."""
        page = int(query.get("page", "1"))
        chunk = entries[(page - 1) * PAGE:page * PAGE]
        headers = {}
        if page * PAGE < len(entries):
            here = self.url.replace("127.0.0.1", self.settings.link_host)
            headers["Link"] = f'<{here}{raw_path}?per_page=100&page={page + 1}>; rel="next"'
        return Answer(200, {"total_count": len(entries), key: chunk} if key else chunk, headers)

    # ------------------------------------------------------------------ GitHub

    def _github(self, raw_path: str, path: str, query: dict) -> Answer | None:
        found = re.fullmatch(r"/repos/acme/churn/(.+)", path)
        if not found:
            return None
        rest, s = found.group(1), self.settings
        repo_secrets = [{"name": n, "created_at": "2026-01-01T00:00:00Z"} for n, f in s.secrets.items()
                        if not f.get("env")]
        lists = {
            "actions/secrets": ("secrets", repo_secrets),
            "actions/organization-secrets": ("secrets", []),
            "actions/variables": ("variables", [{"name": n, "value": f.get("value", "x")}
                                                for n, f in s.variables.items()]),
            "actions/organization-variables": ("variables", []),
            "environments": ("environments", [self._github_environment(n, e) for n, e in s.environments.items()]),
        }
        if rest in lists:
            key, entries = lists[rest]
            return self._paged_link(raw_path, entries, query, key)
        env = re.fullmatch(r"environments/([^/]+)/(secrets|deployment-branch-policies)", rest)
        if env and env.group(1) in s.environments:
            if env.group(2) == "secrets":
                names = [{"name": n} for n, f in s.secrets.items() if f.get("env") == env.group(1)]
                return self._paged_link(raw_path, names, query, "secrets")
            policies = [{"id": i, "name": b, "type": "branch"}
                        for i, b in enumerate(s.environments[env.group(1)].get("branches") or [])]
            return self._paged_link(raw_path, policies, query, "branch_policies")
        branch = re.fullmatch(r"branches/(.+)/protection", rest)
        if branch:
            if branch.group(1) in s.protected_branches:
                return Answer(200, {"required_pull_request_reviews": {"required_approving_review_count": 1}})
            return Answer(404, {"message": "Branch not protected"})
        return None

    @staticmethod
    def _github_environment(name: str, env: dict) -> dict:
        rules = []
        if env.get("reviewers"):
            rules.append({"id": 1, "type": "required_reviewers", "prevent_self_review": False, "reviewers": [
                {"type": "Team", "reviewer": {"slug": login, "name": login}} for login in env["reviewers"]]})
        branches = env.get("branches")
        policy = {"protected_branches": False, "custom_branch_policies": True} if branches else None
        return {"id": hash(name) % 1000, "name": name, "protection_rules": rules, "deployment_branch_policy": policy}

    # ------------------------------------------------------------------ GitLab

    def _gitlab(self, raw_path: str, path: str, query: dict) -> Answer | None:
        found = re.fullmatch(r"/api/v4/projects/acme/churn/(variables|protected_environments|protected_branches)",
                             path)
        if not found:
            return None
        s = self.settings
        if found.group(1) == "variables":
            entries = [{"key": n, "value": f.get("value", f"value-of-{n}"), "variable_type": "env_var",
                        "protected": f.get("protected", False), "masked": f.get("masked", False), "raw": False,
                        "environment_scope": "*", "description": None}
                       for n, f in {**s.secrets, **s.variables}.items()]
            page = int(query.get("page", "1"))
            headers = {"X-Page": str(page), "X-Per-Page": str(PAGE), "X-Total": str(len(entries))}
            if page * PAGE < len(entries):
                headers["X-Next-Page"] = str(page + 1)  # no Link header: doctor follows X-Next-Page
            return Answer(200, entries[(page - 1) * PAGE:page * PAGE], headers)
        if found.group(1) == "protected_branches":
            return self._paged_link(raw_path, [{"id": i, "name": n, "allow_force_push": False, "push_access_levels": [
                {"access_level": 40, "access_level_description": "Maintainers"}]}
                for i, n in enumerate(sorted(s.protected_branches))], query, None)
        protected = [{"name": n, "deploy_access_levels": [
            {"id": 1, "access_level": 40, "access_level_description": d, "user_id": None, "group_id": 9,
             "group_inheritance_type": 0} for d in e.get("deployers", ["Maintainers"])],
            "required_approval_count": e.get("approvals", 0), "approval_rules": []}
            for n, e in s.environments.items()]
        return self._paged_link(raw_path, protected, query, None)

    # ------------------------------------------------------------------ Azure DevOps

    def _azure(self, _raw_path: str, path: str, query: dict) -> Answer | None:
        found = re.fullmatch(r"/acme-org/Churn/_apis/(.+)", path)
        if not found or "api-version" not in query:
            return None
        rest, s = found.group(1), self.settings
        if rest == "build/definitions":
            named = [{"id": 7, "name": "churn-model"}] if query.get("name") == "churn-model" else []
            return Answer(200, {"count": len(named), "value": named})
        if rest == "build/definitions/7":
            variables = {n: {"value": None, "isSecret": True} if f.get("isSecret", True) else {"value": "v"}
                         for n, f in s.secrets.items()}
            variables.update({n: {"value": f.get("value", "v")} for n, f in s.variables.items()})
            return Answer(200, {"id": 7, "name": "churn-model", "variables": variables, "variableGroups": []})
        if rest == "distributedtask/environments":  # one a page, the next page's token in a header
            names = sorted(s.environments)
            start = int(query.get("continuationToken", "0"))
            headers = {"x-ms-continuationtoken": str(start + 1)} if start + 1 < len(names) else {}
            chunk = [{"id": 100 + start, "name": names[start]}] if names else []
            return Answer(200, {"count": len(chunk), "value": chunk}, headers)
        if rest == "pipelines/checks/configurations" and query.get("resourceType") == "environment":
            name = sorted(s.environments)[int(query["resourceId"]) - 100]
            env, checks = s.environments[name], []
            if env.get("reviewers"):
                checks.append({"id": 1, "type": {"id": "8c6f20a7-a545-4486-9777-f762fafe0d4d", "name": "Approval"},
                               "settings": {"minRequiredApprovers": 1, "approvers": [
                                   {"displayName": r, "uniqueName": r} for r in env["reviewers"]]},
                               "resource": {"type": "environment", "id": query["resourceId"]}})
            if env.get("branches"):
                checks.append({"id": 2, "type": {"id": "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7", "name": "Task Check"},
                               "settings": {"displayName": "Branch control",
                                            "definitionRef": {"name": "evaluatebranchProtection", "version": "0.0.1"},
                                            "inputs": {"allowedBranches": ",".join(f"refs/heads/{b}"
                                                                                   for b in env["branches"])}}})
            return Answer(200, {"count": len(checks), "value": checks})
        return None

    # ------------------------------------------------------------------ Jenkins

    def _jenkins(self, _raw_path: str, path: str, query: dict) -> Answer | None:
        s, tree = self.settings, query.get("tree", "")
        ranged = re.fullmatch(r"(\w+)\[[\w,]+\]\{(\d+),(\d+)\}", tree)
        if path == "/job/churn/api/json" and tree == "_class":
            return Answer(200, {"_class": "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"})
        if path == "/job/churn/api/json" and ranged and ranged.group(1) == "jobs":
            jobs = [{"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "name": quote(b, safe="")}
                    for b in s.branches]
            return Answer(200, {"_class": "x", "jobs": jobs[int(ranged.group(2)):int(ranged.group(3))]})
        if path in ("/job/churn/credentials/store/folder/domain/_/api/json",
                    "/credentials/store/system/domain/_/api/json") and ranged:
            folder = path.startswith("/job/")
            ids = sorted(c for c in s.credentials if c.startswith("folder:") == folder)
            chunk = [{"id": c.removeprefix("folder:")} for c in ids][int(ranged.group(2)):int(ranged.group(3))]
            return Answer(200, {"_class": "com.cloudbees.plugins.credentials.CredentialsStoreAction$DomainWrapper",
                                "credentials": chunk})
        user = re.fullmatch(r"/user/([^/]+)/api/json", path)
        if user and user.group(1) in s.users:
            return Answer(200, {"id": user.group(1), "fullName": user.group(1)})
        return None
