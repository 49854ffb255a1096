"""The report job: one self-updating comment with every gate's report on the pull/merge request."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.plan.jobs.common import env_items, pipegen_for
from pipegen.plan.model import REPORT_DIR, EnvKind, EnvValue, Job, RunWhen, Step

REPORT_TOKEN_ENV = "PIPEGEN_REPORT_TOKEN"
# `pipegen report comment --host` from the environment: set only where it is read (Jenkins, see Job.review_host).
REPORT_HOST_ENV = "PIPEGEN_REPORT_HOST"


def report_job(descriptor: Descriptor) -> Job | None:
    report = descriptor.report
    if not report.comment or not descriptor.triggers.pull_requests:
        return None
    env = {REPORT_TOKEN_ENV: EnvValue(EnvKind.SECRET, report.token_secret)} if report.token_secret else {}
    return Job(
        id="report-comment", title="Gate report on the pull request", stage="report",
        comment="Collects every gate's Markdown into one comment on the pull/merge request, updated in place; "
                "runs also when a gate failed, and never fails the pipeline itself.",
        steps=(Step("Post or update the report comment", f"pipegen report comment --reports-dir {REPORT_DIR}"),),
        env=env_items(env), pipegen=pipegen_for(descriptor),
        install_note="pipegen (core) only: it reads the gates' reports and posts them; not the project.",
        timeout_minutes=5, run_when=RunWhen.PULL_REQUEST,
        always=True, collects_reports=True, review_comment=True, review_host=report.host)
