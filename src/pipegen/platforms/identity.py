"""The set-up checklist's trust relationships: for each cloud identity the plan's jobs log in as,
what the cloud must trust (the CI's token issuer, the audience, the subject claim of exactly those
jobs), so a token of any other job, branch or repository is refused."""
from __future__ import annotations

from typing import Callable

from pipegen.descriptor.model import CloudIdentity
from pipegen.plan import Job, Plan, RunWhen
from pipegen.platforms.base import ChecklistItem

# Where each cloud keeps the trust (the federated credential / the role's trust policy / the pool).
_WHERE = {
    "azure": "Entra ID > App registrations (or the managed identity) > Certificates & secrets > Federated credentials",
    "aws": "IAM > Identity providers (an OpenID Connect provider for the issuer), then the role's trust policy "
           "(sts:AssumeRoleWithWebIdentity with conditions on :aud and :sub)",
    "gcp": "IAM > Workload Identity Federation: the provider's issuer and an attribute condition on the subject, "
           "and roles/iam.workloadIdentityUser for the service account",
}


def job_branches(job: Job, plan: Plan) -> tuple[str, ...]:
    """The branches a job's token can come from (it never runs on pull requests once it logs in)."""
    if job.run_when is RunWhen.BRANCH and job.branch:
        return (job.branch,)
    return plan.triggers.branches


def _key(identity: CloudIdentity) -> tuple[str, str]:
    return identity.cloud, identity.principal


def trust_items(plan: Plan, issuer: str, subjects: Callable[[Job], list[str]]) -> list[ChecklistItem]:
    """One item per identity: the issuer, the audience and every subject the jobs using it present."""
    grouped: dict[tuple[str, str], list[Job]] = {}
    for job in plan.jobs:
        if job.identity is not None:
            grouped.setdefault(_key(job.identity), []).append(job)
    items = []
    for (cloud, principal), jobs in grouped.items():
        identity = jobs[0].identity
        assert identity is not None  # grouped by identity above
        wanted = list(dict.fromkeys(subject for job in jobs for subject in subjects(job)))
        items.append(ChecklistItem("other", f"OIDC trust: {principal}", (
            f"{_WHERE[cloud]}: trust issuer {issuer}, audience {identity.token_audience}, subject "
            + " or ".join(wanted) + f" (the job(s) {', '.join(job.id for job in jobs)} and no other). "
            "No stored secret is needed for it.")))
    return items
