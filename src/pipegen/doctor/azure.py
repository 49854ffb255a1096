"""Azure DevOps: the pipeline's variables (secret ones by name only: Azure never returns their
values) and those of its linked variable groups, the environments with their Approvals and
Branch control checks. Lists page by the `x-ms-continuationtoken` header (or a
`continuationToken` in the body), sent back as the `continuationToken` parameter."""
from __future__ import annotations

from typing import Mapping
from urllib.parse import quote

import requests

from pipegen.doctor.api import Api, token
from pipegen.doctor.base import branches_allowed, checkable, listed, named, presence
from pipegen.doctor.findings import Finding, Status
from pipegen.errors import EvaluationError, UsageError
from pipegen.platforms.base import ChecklistItem

BUILD = "the PAT scope Build (Read)"
ENVIRONMENTS = "the PAT scope Environment (Read & manage)"
CHECKS = "the PAT scope Environment (Read & manage) and the User role on the environment (to read its checks)"
API_VERSION = "7.1"
CHECKS_VERSION = "7.1-preview.1"
APPROVAL = "Approval"
BRANCH_CONTROL = "evaluatebranchProtection"  # the Task Check definition behind 'Branch control'


def follow_continuation(response: requests.Response, params: dict) -> tuple[str, dict] | None:
    body = {}
    try:
        body = response.json()
    except ValueError:
        pass
    found = response.headers.get("x-ms-continuationtoken") or (
        body.get("continuationToken") if isinstance(body, dict) else None)
    return (response.url.split("?")[0], {**params, "continuationToken": str(found)}) if found else None


def _values(page) -> list:
    return page.get("value", []) if isinstance(page, dict) else []


class AzureDoctor:
    name = "azure"
    unchecked_kinds: frozenset[str] = frozenset()

    @staticmethod
    def default_project(environ: Mapping[str, str]) -> str | None:
        project, pipeline = environ.get("SYSTEM_TEAMPROJECT"), environ.get("BUILD_DEFINITIONNAME")
        return f"{project}/{pipeline}" if project and pipeline else None

    def connect(self, environ: Mapping[str, str], api_url: str, project: str) -> Api:
        if "/" not in project.strip("/"):
            raise UsageError(f"azure: --project must be PROJECT/PIPELINE, got {project!r}")
        secret = token(environ, "AZURE_DEVOPS_EXT_PAT", self.name)
        return Api(self.name, api_url, project.strip("/"), "AZURE_DEVOPS_EXT_PAT", basic_auth=("", secret),
                   headers={"Accept": "application/json"})

    def check(self, items: list[ChecklistItem], api: Api) -> list[Finding]:
        project, pipeline = api.project.split("/", 1)
        base = quote(project, safe="")
        items = [item for item in items if checkable(item)]
        variables = _pipeline_variables(api, base, pipeline) if any(
            item.kind in ("secret", "variable") for item in items) else {}
        environments = {}
        if any(item.kind == "environment" for item in items):
            environments = {str(env.get("name")): env for env in api.pages(
                f"{base}/_apis/distributedtask/environments", "list the environments", ENVIRONMENTS, _values,
                follow_continuation, {"api-version": API_VERSION, "$top": "50"})}
        findings: list[Finding] = []
        for item in items:
            if item.kind in ("secret", "variable"):
                findings.append(_variable(item, variables.get(item.name), pipeline))
            elif item.kind == "environment":
                findings += _environment(api, base, item, environments.get(item.name))
        return findings


def _pipeline_variables(api: Api, base: str, pipeline: str) -> dict[str, tuple[bool, str]]:
    """Variable name -> (secret?, where): the pipeline's own first, then its variable groups'."""
    found = [entry for entry in api.pages(f"{base}/_apis/build/definitions", f"find the pipeline {pipeline}", BUILD,
                                          _values, follow_continuation, {"api-version": API_VERSION, "name": pipeline})
             if entry.get("name") == pipeline]
    if not found:
        raise EvaluationError(f"azure: no pipeline named {pipeline!r} in project {api.project.split('/')[0]} "
                              "(--project PROJECT/PIPELINE)")
    definition = api.json(f"{base}/_apis/build/definitions/{int(found[0]['id'])}", f"read the pipeline {pipeline}",
                          BUILD, {"api-version": API_VERSION}) or {}
    variables: dict[str, tuple[bool, str]] = {}
    for name, entry in (definition.get("variables") or {}).items():
        variables[name] = (bool((entry or {}).get("isSecret")), "pipeline variable")
    for group in definition.get("variableGroups") or []:
        for name, entry in (group.get("variables") or {}).items():
            variables.setdefault(name, (bool((entry or {}).get("isSecret")), f"variable group {group.get('name')}"))
    return variables


def _variable(item: ChecklistItem, found: tuple[bool, str] | None, pipeline: str) -> Finding:
    fix = f"Pipelines > {pipeline} > Edit > Variables: add {item.name}"
    if item.kind == "secret":
        fix += " and tick 'Keep this value secret'"
    if found is None:
        return presence(item, None, fix, "secret" if item.kind == "secret" else "exists")
    secret, where = found
    if item.kind == "secret" and not secret:
        return Finding(f"secret {item.name}", "secret", f"{where}, not secret: its value shows in logs and "
                       "to anyone who can edit the pipeline", Status.WEAKER, f"edit {item.name}: tick 'Keep this "
                       "value secret'")
    return Finding(f"{item.kind} {item.name}", "secret" if item.kind == "secret" else "exists",
                   f"{where}{', secret' if secret else ''}", Status.OK)


def _environment(api: Api, base: str, item: ChecklistItem, environment: dict | None) -> list[Finding]:
    label, expected = f"environment {item.name}", item.expected
    if environment is None:
        return [presence(item, None, f"Pipelines > Environments > New environment: {item.name}")]
    findings = [Finding(label, "exists", "exists", Status.OK)]
    if not (expected.approval or expected.branches):
        return findings
    checks = list(api.pages(f"{base}/_apis/pipelines/checks/configurations", f"list environment {item.name}'s checks",
                            CHECKS, _values, follow_continuation,
                            {"api-version": CHECKS_VERSION, "resourceType": "environment",
                             "resourceId": str(environment.get("id")), "$expand": "settings"}))
    if expected.approval:
        findings.append(_approval(item, [check for check in checks
                                         if (check.get("type") or {}).get("name") == APPROVAL]))
    if expected.branches:
        findings.append(_branch_control(item, checks))
    return findings


def _approval(item: ChecklistItem, checks: list[dict]) -> Finding:
    label = f"environment {item.name}: approvals check"
    wanted = listed(item.expected.approvers) if item.expected.approvers else "at least one approver"
    fix = f"Pipelines > Environments > {item.name} > Approvals and checks: add Approvals ({wanted})"
    if not checks:
        return Finding(label, wanted, "no Approvals check: deployments run unapproved", Status.WEAKER, fix)
    found = {str(person.get(key)) for check in checks for person in (check.get("settings") or {}).get("approvers") or []
             for key in ("displayName", "uniqueName") if person.get(key)}
    absent = named(item.expected.approvers, found)
    return Finding(label, wanted, listed(found), Status.WEAKER if absent else Status.OK,
                   f"{fix} (missing: {listed(absent)})" if absent else "")


def _branch_control(item: ChecklistItem, checks: list[dict]) -> Finding:
    label = f"environment {item.name}: branch control"
    wanted = listed(f"refs/heads/{branch}" for branch in item.expected.branches)
    allowed: set[str] = set()
    for check in checks:
        settings = check.get("settings") or {}
        if (settings.get("definitionRef") or {}).get("name") == BRANCH_CONTROL:
            allowed |= {part.strip() for part in str((settings.get("inputs") or {}).get("allowedBranches", ""))
                        .split(",") if part.strip()}
    absent = branches_allowed(tuple(f"refs/heads/{branch}" for branch in item.expected.branches), allowed)
    if allowed and not absent and "*" not in allowed:
        return Finding(label, wanted, listed(allowed), Status.OK)
    found = listed(allowed) if allowed else "no Branch control check: any branch's run may deploy"
    return Finding(label, wanted, found, Status.WEAKER,
                   f"Pipelines > Environments > {item.name} > Approvals and checks: add Branch control ({wanted})")
