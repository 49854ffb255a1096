"""GitLab: the project's CI/CD variables by key with their masked and protected flags, and
its protected environments with who may deploy and whether a deployment approval is
required. Lists page by the `Link` header, or `X-Next-Page` where a proxy dropped it."""
from __future__ import annotations

from typing import Mapping
from urllib.parse import quote

import requests

from pipegen.doctor.api import Api, follow_link, token
from pipegen.doctor.base import branches_allowed, checkable, first_set, listed, named, presence
from pipegen.doctor.findings import Finding, Status
from pipegen.platforms.base import ChecklistItem

SCOPE = "the read_api scope and the Maintainer role on the project (CI/CD variables are visible to Maintainers only)"
PAGE = {"per_page": "100"}


def follow_next_page(response: requests.Response, params: dict) -> tuple[str, dict] | None:
    """The `Link` header's next page, else the `X-Next-Page` number on the same URL."""
    linked = follow_link(response, params)
    if linked:
        return linked
    page = response.headers.get("X-Next-Page", "").strip()
    return (response.url.split("?")[0], {**params, "page": page}) if page.isdigit() else None


class GitlabDoctor:
    name = "gitlab"
    unchecked_kinds: frozenset[str] = frozenset()

    @staticmethod
    def default_project(environ: Mapping[str, str]) -> str | None:
        return first_set(environ, "CI_PROJECT_ID", "CI_PROJECT_PATH")

    def connect(self, environ: Mapping[str, str], api_url: str, project: str) -> Api:
        secret = token(environ, "GITLAB_TOKEN", self.name)
        return Api(self.name, api_url, project, "GITLAB_TOKEN", credentials={"PRIVATE-TOKEN": secret})

    def check(self, items: list[ChecklistItem], api: Api) -> list[Finding]:
        project = f"projects/{quote(api.project, safe='')}"
        items = [item for item in items if checkable(item)]
        variables: dict[str, list[dict]] = {}
        if any(item.kind in ("secret", "variable") for item in items):
            # Only keys and flags are kept: the answer also holds every unmasked value.
            for entry in api.pages(f"{project}/variables", "list the CI/CD variables", SCOPE, _listed,
                                   follow_next_page, PAGE):
                variables.setdefault(str(entry.get("key")), []).append(
                    {"masked": bool(entry.get("masked")), "protected": bool(entry.get("protected")),
                     "scope": str(entry.get("environment_scope") or "*")})
        protected: dict[str, dict] = {}
        branches: set[str] = set()
        if any(item.kind == "environment" for item in items):
            branches = {str(entry.get("name")) for entry in api.pages(
                f"{project}/protected_branches", "list the protected branches", SCOPE, _listed, follow_next_page,
                PAGE)}
            protected = {str(entry.get("name")): entry for entry in api.pages(
                f"{project}/protected_environments", "list the protected environments", SCOPE, _listed,
                follow_next_page, PAGE)}
        findings: list[Finding] = []
        for item in items:
            if item.kind in ("secret", "variable"):
                findings.append(_variable(item, variables.get(item.name, [])))
            elif item.kind == "environment":
                findings += _environment(item, protected.get(item.name))
                findings += [_protected_branch(branch, branches) for branch in item.expected.branches]
        return findings


def _listed(page) -> list:
    return page if isinstance(page, list) else []


def _variable(item: ChecklistItem, entries: list[dict]) -> Finding:
    expected = item.expected
    wanted = ", ".join(part for part in (
        "masked" if expected.masked else "",
        {True: "protected", False: "not protected", None: ""}[expected.protected]) if part) or "exists"
    if not entries:
        return presence(item, None, f"Settings > CI/CD > Variables: add {item.name} ({wanted})", wanted)
    label = f"{item.kind} {item.name}"
    found = "; ".join(f"{'masked' if entry['masked'] else 'not masked'}, "
                      f"{'protected' if entry['protected'] else 'not protected'}, environments {entry['scope']}"
                      for entry in entries)
    if expected.masked and not all(entry["masked"] for entry in entries):
        return Finding(label, wanted, found, Status.WEAKER, f"edit {item.name}: tick 'Mask variable'")
    if expected.protected and not all(entry["protected"] for entry in entries):
        return Finding(label, wanted, found, Status.WEAKER, f"edit {item.name}: tick 'Protect variable'")
    if expected.protected is False and all(entry["protected"] for entry in entries):
        return Finding(label, wanted, found + " (merge request pipelines cannot read it)", Status.MISSING,
                       f"edit {item.name}: untick 'Protect variable'")
    return Finding(label, wanted, found, Status.OK)


def _protected_branch(branch: str, protected: set[str]) -> Finding:
    """GitLab protects branches by name or wildcard (`release/*`)."""
    label = f"branch {branch}: protection"
    if branches_allowed((branch,), protected):
        return Finding(label, "protected", "not protected: anyone who can push deploys from it", Status.WEAKER,
                       f"Settings > Repository > Protected branches: protect {branch}")
    return Finding(label, "protected", "protected", Status.OK)


def _environment(item: ChecklistItem, protection: dict | None) -> list[Finding]:
    label, expected = f"environment {item.name}", item.expected
    fix = f"Settings > CI/CD > Protected environments: protect {item.name}"
    if protection is None:
        deploys = "anyone who can run a pipeline on the branch deploys"
        return [Finding(label, "protected", f"not protected: {deploys}", Status.WEAKER,
                        fix + (f", allowed to deploy: {listed(expected.approvers)}" if expected.approvers else ""))]
    levels = protection.get("deploy_access_levels") or []
    deployers = {str(level.get("access_level_description") or "") for level in levels} - {""}
    findings = [Finding(label, "protected", f"protected, deployers: {listed(deployers)}", Status.OK)]
    if expected.approvers:
        absent = named(expected.approvers, deployers)
        findings.append(Finding(
            f"{label}: allowed to deploy", listed(expected.approvers), listed(deployers),
            Status.WEAKER if absent else Status.OK,
            f"edit {item.name}'s protection: allow {listed(absent)} to deploy" if absent else ""))
    if expected.approval:
        rules = protection.get("approval_rules") or []
        count = int(protection.get("required_approval_count") or 0) + sum(
            int(rule.get("required_approvals") or 0) for rule in rules)
        findings.append(Finding(
            f"{label}: deployment approval", "at least 1 approval", f"{count} approval(s) required",
            Status.OK if count else Status.WEAKER,
            "" if count else f"edit {item.name}'s protection: add approval rules (approvers: "
                             f"{listed(expected.approvers)})"))
    return findings
