"""What each platform does differently from the plan because the platform forces it: listed
once, here. The parity check (`pipegen.parity`) applies these rules when it compares a file
read back with the plan, and the README's table is rendered from the same list
(`markdown_table`; a test keeps the README equal to it)."""
from __future__ import annotations

from dataclasses import dataclass

# How a platform's value may relate to the plan's for one aspect.
IGNORED = "ignored"  # the file cannot express it (it lives in the platform's settings)
OMITTED_AFTER_APPROVAL = "omitted after approval"  # left out where an earlier job already got the approval
SUPERSET = "superset"  # the platform may add to the plan's set (never drop from it)
SUBSET = "subset"  # the file shows only part of it (never anything the plan lacks)
SAME_STAGE_SUPERSET = "superset within the stage"  # may add jobs of the job's own stage (never drop any)
# The report job (stage "report") may also see the outputs of gate jobs, whose reports it fetches.
GATE_OUTPUTS_IN_REPORT = "superset: gate jobs' outputs, in the report stage"


@dataclass(frozen=True)
class Difference:
    platform: str
    aspect: str  # a field of readback.JobView / PipelineView, or "steps.reads" / "steps.secrets"
    rule: str  # IGNORED | SUPERSET | SUBSET, or the platform's value for pipeline-level aspects
    what: str  # what a reviewer sees, in the README table


DIFFERENCES: tuple[Difference, ...] = (
    Difference("github", "release_runs", "queue",
               "A release-branch push while an earlier run waits for PROD approval waits behind it (one concurrency "
               "group per branch); GitHub keeps only the newest waiting run, so intermediate pushes are skipped."),
    Difference("github", "environment", OMITTED_AFTER_APPROVAL,
               "A PROD job that waits for another PROD job does not name the environment again: each reference "
               "asks the reviewers again. It runs only after that approval."),
    Difference("github", "steps.reads", SUPERSET,
               "CI variables (`vars.*`) are set for the whole job; secrets only on the steps that read them."),
    Difference("gitlab", "release_runs", "parallel",
               "A release-branch push runs its own pipeline while an earlier one waits at `approve-prod`; "
               "`resource_group` lets one deployment per job run at a time. GitLab has no per-branch queue."),
    Difference("gitlab", "cancel_superseded", SUPERSET,
               "`auto_cancel: conservative` also cancels superseded branch pipelines, but never once a "
               "deployment (`interruptible: false`) has started."),
    Difference("gitlab", "schedule", IGNORED,
               "The cron schedule lives in Build > Pipeline schedules (the setup checklist says so)."),
    Difference("gitlab", "secrets", IGNORED,
               "Every job can read every CI/CD variable, masked ones included; scope secrets to environments "
               "or protected branches in the project settings."),
    Difference("gitlab", "steps", IGNORED, "Secrets are not scoped per step (see above)."),
    Difference("gitlab", "approvers", IGNORED,
               "Who may run the manual approval job is the protected environment's list of allowed deployers, "
               "in the project settings (the job's comment names them)."),
    Difference("gitlab", "visible_outputs", GATE_OUTPUTS_IN_REPORT,
               "A job's dotenv report travels with its artifacts: the report job, which fetches only the reports "
               "of the jobs that keep some (`dependencies:`), also sees those jobs' outputs (`DATA_DRIFT`)."),
    Difference("gitlab", "outputs", SUBSET,
               "A dotenv report names its variables at run time; the file shows the names its consumers read."),
    Difference("azure", "release_runs", "parallel",
               "Each release-branch push gets its own run (no `batch`, which would hold main's CI until an "
               "approval is given); add an exclusive-lock check on the prod environment to serialize deployments."),
    Difference("azure", "secrets", IGNORED,
               "A `$(NAME)` macro does not say whether NAME is secret; the steps' `env:` shows what each step reads."),
    Difference("azure", "model_failure", "warning",
               "The model's chain (drift, train, model-gate) continues on error, so a failed model shows as "
               "\"partially succeeded\" and PROD still deploys the image; promote-model runs only when the "
               "gate's result is Succeeded."),
    Difference("azure", "outputs", SUBSET,
               "Output variables are set at run time; the file shows the names its consumers read."),
    Difference("jenkins", "release_runs", "queue",
               "A release-branch build waits while an earlier one waits at the PROD `input` (never aborted); "
               "Jenkins collapses waiting builds into one."),
    Difference("jenkins", "cancel_superseded", SUPERSET,
               "`abortPrevious` aborts a superseded build of any other branch, not only of a pull request."),
    Difference("jenkins", "events", SUPERSET,
               "A multibranch job builds every branch and pull request it discovers; restrict discovery in the "
               "branch source. Branch-restricted stages (build, deploy, PROD) still run only where the plan says."),
    Difference("jenkins", "after", SAME_STAGE_SUPERSET,
               "Stages run in layers: a job may also wait for jobs of its stage's earlier layers that it does not "
               "need. The model's chain runs under `catchError`, so a failed model stops only the stages that "
               "test its result (the promotion), not the image's deployment."),
    Difference("jenkins", "environment", IGNORED,
               "No deployment environments: the PROD stage's `input` (with `submitter`) is the approval."),
    Difference("jenkins", "visible_outputs", SUPERSET,
               "Outputs read into `env.NAME` are visible to every later stage of the run."),
    Difference("jenkins", "steps.reads", SUBSET,
               "CI variables are global environment properties; only secrets (`withCredentials`) are scoped per step."),
)


def rule(platform: str, aspect: str) -> str | None:
    return next((item.rule for item in DIFFERENCES if item.platform == platform and item.aspect == aspect), None)


def markdown_table() -> str:
    lines = ["| platform | aspect | what differs |", "|---|---|---|"]
    lines += [f"| {item.platform} | {item.aspect} | {item.what} |" for item in DIFFERENCES]
    return "\n".join(lines) + "\n"
