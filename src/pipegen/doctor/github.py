"""GitHub: repository, organization and environment secrets and variables by name,
environments with their required reviewers and deployment branch policies, and branch
protection on the branches PROD deploys from. Lists page by the `Link` header."""
from __future__ import annotations

from typing import Mapping
from urllib.parse import quote

from pipegen.doctor.api import Api, token
from pipegen.doctor.base import branches_allowed, checkable, listed, named, presence
from pipegen.doctor.findings import Finding, Status
from pipegen.platforms.base import ChecklistItem

SECRETS = "the fine-grained permission 'Secrets: read' (classic token: the repo scope)"
VARIABLES = "the fine-grained permission 'Variables: read' (classic token: the repo scope)"
ENVIRONMENTS = "the fine-grained permission 'Actions: read' (classic token: the repo scope)"
PROTECTION = "the fine-grained permission 'Administration: read' (classic token: the repo scope)"
PAGE = {"per_page": "100"}


class GithubDoctor:
    name = "github"
    unchecked_kinds: frozenset[str] = frozenset()

    @staticmethod
    def default_project(environ: Mapping[str, str]) -> str | None:
        return environ.get("GITHUB_REPOSITORY") or None

    def connect(self, environ: Mapping[str, str], api_url: str, project: str) -> Api:
        variable = "GH_TOKEN" if environ.get("GH_TOKEN") and not environ.get("GITHUB_TOKEN") else "GITHUB_TOKEN"
        secret = token(environ, variable, self.name)
        return Api(self.name, api_url, project, variable, credentials={"Authorization": f"Bearer {secret}"},
                   headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})

    def check(self, items: list[ChecklistItem], api: Api) -> list[Finding]:
        repo = f"repos/{api.project}"
        items = [item for item in items if checkable(item)]
        environments = {env["name"]: env for env in api.pages(
            f"{repo}/environments", "list the environments", ENVIRONMENTS,
            lambda page: page.get("environments", []), params=PAGE)} if any(
                item.kind == "environment" for item in items) else {}
        findings: list[Finding] = []
        secrets = variables = None
        for item in items:
            if item.kind == "secret":
                secrets = secrets if secrets is not None else _stored(api, "secrets", SECRETS, environments)
                findings.append(presence(item, secrets.get(item.name), f"Settings > Secrets and variables > Actions: "
                                         f"add the repository or environment secret {item.name}"))
            elif item.kind == "variable":
                variables = variables if variables is not None else _stored(api, "variables", VARIABLES, {})
                findings.append(presence(item, variables.get(item.name), "Settings > Secrets and variables > "
                                         f"Actions > Variables: add the repository variable {item.name}"))
            elif item.kind == "environment":
                findings += _environment(api, item, environments.get(item.name))
        return findings


def _stored(api: Api, kind: str, scope: str, environments: dict) -> dict[str, str]:
    """Secret or variable name -> where it is stored (repository, organization, environment E)."""
    repo = f"repos/{api.project}"
    where: dict[str, str] = {}
    places = [(f"{repo}/actions/{kind}", "repository"), (f"{repo}/actions/organization-{kind}", "organization")]
    places += [(f"{repo}/environments/{quote(name, safe='')}/{kind}", f"environment {name}")
               for name in sorted(environments)]
    for path, place in places:
        for entry in api.pages(path, f"list the {place} {kind}", scope, lambda page: page.get(kind, []),
                               params=PAGE):
            if isinstance(entry.get("name"), str):
                where.setdefault(entry["name"], f"{place} {kind[:-1]}")
    return where


def _environment(api: Api, item: ChecklistItem, environment: dict | None) -> list[Finding]:
    label, expected = f"environment {item.name}", item.expected
    if environment is None:
        return [presence(item, None, f"Settings > Environments > New environment: {item.name}")]
    findings = [Finding(label, "exists", "exists", Status.OK)]
    if expected.approval:
        findings.append(_reviewers(item, environment))
    if expected.branches:
        findings.append(_deployment_branches(api, item, environment))
        if expected.approval:
            findings += [_protection(api, branch) for branch in expected.branches if "*" not in branch]
    return findings


def _reviewers(item: ChecklistItem, environment: dict) -> Finding:
    label = f"environment {item.name}: required reviewers"
    wanted = listed(item.expected.approvers) if item.expected.approvers else "at least one"
    rules = [rule for rule in environment.get("protection_rules") or [] if rule.get("type") == "required_reviewers"]
    found = {_reviewer_name(entry) for rule in rules for entry in rule.get("reviewers") or []} - {""}
    fix = f"Settings > Environments > {item.name} > Required reviewers: add {wanted}"
    if not found:
        return Finding(label, wanted, "no required reviewers: deploys run unapproved", Status.WEAKER, fix)
    absent = named(item.expected.approvers, found)
    if absent:
        return Finding(label, wanted, listed(found), Status.WEAKER, f"{fix} (missing: {listed(absent)})")
    return Finding(label, wanted, listed(found), Status.OK)


def _reviewer_name(entry: dict) -> str:
    reviewer = entry.get("reviewer") or {}
    return str(reviewer.get("slug") or reviewer.get("login") or reviewer.get("name") or "")


def _deployment_branches(api: Api, item: ChecklistItem, environment: dict) -> Finding:
    label = f"environment {item.name}: deployment branches"
    wanted = listed(item.expected.branches)
    fix = (f"Settings > Environments > {item.name} > Deployment branches and tags: selected branches "
           f"{wanted}")
    policy = environment.get("deployment_branch_policy")
    if not policy:
        return Finding(label, wanted, "every branch may deploy", Status.WEAKER, fix)
    if policy.get("protected_branches"):
        return Finding(label, wanted, "protected branches", Status.OK)
    path = f"repos/{api.project}/environments/{quote(item.name, safe='')}/deployment-branch-policies"
    patterns = {str(entry.get("name")) for entry in api.pages(
        path, f"list environment {item.name}'s deployment branch policies", ENVIRONMENTS,
        lambda page: page.get("branch_policies", []), params=PAGE)
        if entry.get("type", "branch") == "branch"}
    absent = branches_allowed(item.expected.branches, patterns)
    status = Status.OK if patterns and not absent else Status.WEAKER
    return Finding(label, wanted, listed(patterns), status, "" if status is Status.OK else fix)


def _protection(api: Api, branch: str) -> Finding:
    label = f"branch {branch}: protection"
    answer = api.json(f"repos/{api.project}/branches/{quote(branch, safe='')}/protection",
                      f"read branch {branch}'s protection", PROTECTION, missing_ok=True)
    if answer is None:
        return Finding(label, "protected", "not protected: anyone with write access pushes to it",
                       Status.WEAKER, f"Settings > Branches > Add rule for {branch}: require a pull request")
    reviews = (answer.get("required_pull_request_reviews") or {}) if isinstance(answer, dict) else {}
    found = "protected, pull request reviews required" if reviews else "protected"
    return Finding(label, "protected", found, Status.OK)
