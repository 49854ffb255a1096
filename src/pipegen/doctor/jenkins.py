"""Jenkins: credentials by id (the multibranch job's folder store, then the system store), the
multibranch job with the release branches its branch source discovered, and the `input`
submitters as Jenkins users. Lists page through the JSON API's `tree` ranges (`{0,100}`)."""
from __future__ import annotations

from typing import Iterator, Mapping
from urllib.parse import quote, unquote

from pipegen.doctor.api import Api, token
from pipegen.doctor.base import checkable, listed, presence
from pipegen.doctor.findings import Finding, Status
from pipegen.errors import EvaluationError
from pipegen.platforms.base import ChecklistItem

CREDENTIALS = "the permissions Overall/Read and Credentials/View"
JOB = "the permissions Overall/Read and Job/Read on the multibranch job"
USERS = "the permission Overall/Read (to look users up)"
RANGE = 100
MULTIBRANCH = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"


def job_path(job: str) -> str:
    """`folder/name` as Jenkins' URL path `job/folder/job/name`."""
    return "/".join(f"job/{quote(part, safe='')}" for part in job.strip("/").split("/") if part)


class JenkinsDoctor:
    name = "jenkins"
    unchecked_kinds: frozenset[str] = frozenset({"variable"})  # global properties have no REST API

    @staticmethod
    def default_project(environ: Mapping[str, str]) -> str | None:
        job = environ.get("JOB_NAME", "")
        # In a branch build JOB_NAME is the branch's job, `<multibranch job>/<branch>`.
        return job.rsplit("/", 1)[0] if environ.get("BRANCH_NAME") and "/" in job else (job or None)

    def connect(self, environ: Mapping[str, str], api_url: str, project: str) -> Api:
        user = environ.get("JENKINS_USER", "").strip()
        if not user:
            raise EvaluationError("jenkins: no user: set the environment variables JENKINS_USER and JENKINS_API_TOKEN")
        secret = token(environ, "JENKINS_API_TOKEN", self.name)
        return Api(self.name, api_url, project, "JENKINS_USER/JENKINS_API_TOKEN", basic_auth=(user, secret))

    def check(self, items: list[ChecklistItem], api: Api) -> list[Finding]:
        items = [item for item in items if checkable(item) and item.kind not in self.unchecked_kinds]
        credentials = _credential_ids(api) if any(item.kind == "credentials" for item in items) else {}
        findings: list[Finding] = []
        for item in items:
            if item.kind == "credentials":
                findings.append(presence(item, credentials.get(item.name),
                                         f"{api.project} > Credentials > Add: Secret text with id {item.name}"))
            elif item.kind == "environment":
                findings += [_submitter(api, item.name, approver) for approver in item.expected.approvers]
            elif item.expected.branches:
                findings.append(_multibranch(api, item))
        return findings


def _ranged(api: Api, path: str, key: str, fields: str, what: str, scope: str,
            missing_ok: bool = False) -> Iterator[dict] | None:
    """Every entry of `key` through `tree=key[fields]{start,end}` ranges; None on a tolerated 404."""
    entries: list[dict] = []
    for start in range(0, RANGE * 50, RANGE):
        page = api.json(f"{path}/api/json", what, scope, {"tree": f"{key}[{fields}]{{{start},{start + RANGE}}}"},
                        missing_ok=missing_ok)
        if page is None:
            return None
        chunk = [entry for entry in page.get(key) or [] if isinstance(entry, dict)]
        entries += chunk
        if len(chunk) < RANGE:
            return iter(entries)
    raise EvaluationError(f"jenkins: could not {what}: more than {RANGE * 50} entries")


def _credential_ids(api: Api) -> dict[str, str]:
    """Credential id -> the store holding it; the job's folder store is looked at first."""
    stores = [(f"{job_path(api.project)}/credentials/store/folder/domain/_", f"folder {api.project}"),
              ("credentials/store/system/domain/_", "system store")]
    found: dict[str, str] = {}
    for path, where in stores:
        entries = _ranged(api, path, "credentials", "id", f"list the credentials of the {where}", CREDENTIALS,
                          missing_ok=True)
        for entry in entries or ():
            found.setdefault(str(entry.get("id")), f"credential in the {where}")
    return found


def _submitter(api: Api, environment: str, approver: str) -> Finding:
    label = f"environment {environment}: input submitter {approver}"
    user = api.json(f"user/{quote(approver, safe='')}/api/json", f"look up the user {approver}", USERS,
                    {"tree": "id,fullName"}, missing_ok=True)
    if user is not None:
        return Finding(label, "a Jenkins user or group", "Jenkins user", Status.OK)
    # Groups of LDAP, Active Directory, GitHub or SAML realms are not listed by any Jenkins API.
    return Finding(label, "a Jenkins user or group", "not a Jenkins user id: a group cannot be looked up",
                   Status.UNCHECKED, f"confirm {approver} is a group of the security realm with Job/Read")


def _multibranch(api: Api, item: ChecklistItem) -> Finding:
    label = f"{item.kind} {item.name}"
    wanted = f"multibranch job building {listed(item.expected.branches)}"
    job = api.json(f"{job_path(api.project)}/api/json", f"read the job {api.project}", JOB, {"tree": "_class"},
                   missing_ok=True)
    if job is None:
        return Finding(label, wanted, f"no job {api.project}", Status.MISSING,
                       f"New Item > Multibranch Pipeline {api.project}, Script Path Jenkinsfile")
    if job.get("_class") != MULTIBRANCH:
        return Finding(label, wanted, f"{api.project} is a {job.get('_class')}", Status.MISSING,
                       f"make {api.project} a Multibranch Pipeline job")
    branches = {unquote(str(entry.get("name"))) for entry in _ranged(
        api, job_path(api.project), "jobs", "name", f"list the branches of {api.project}", JOB) or ()}
    release = [branch for branch in item.expected.branches if "*" not in branch]
    absent = [branch for branch in release if branch not in branches]
    found = f"multibranch job, {len(branches)} branch(es) discovered"
    if absent:
        return Finding(label, wanted, f"{found}, not {listed(absent)}", Status.MISSING,
                       f"{api.project} > Configure > Branch Sources: discover {listed(absent)}, then Scan")
    return Finding(label, wanted, f"{found}, {listed(release)} among them" if release else found, Status.OK)
