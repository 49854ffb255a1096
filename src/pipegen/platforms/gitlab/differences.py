"""Where GitLab forces a difference from the plan; the parity check allows exactly these."""
from __future__ import annotations

from pipegen.platforms.difference import GATE_OUTPUTS_IN_REPORT, IGNORED, SUBSET, SUPERSET, Difference

DIFFERENCES: tuple[Difference, ...] = (
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
    Difference("gitlab", "runner_tools", IGNORED,
               "Every job runs in one image (`settings.gitlab.image`): the deploy kinds' tools (terraform, kubectl, "
               "helm, a cloud CLI) must be in it, or the jobs run on a shell runner; elsewhere the runner has them."),
    Difference("gitlab", "attests", IGNORED,
               "No native attestation of a container image's build provenance: with `image.provenance` the build job "
               "sets `RUNNER_GENERATE_ARTIFACTS_METADATA`, so the runner records SLSA provenance of the job's "
               "artifacts (the SBOMs among them), not of the pushed image, and PROD does not verify; sign and verify "
               "with cosign in your own jobs if you need it."),
    Difference("gitlab", "verifies", IGNORED,
               "PROD deploys the digest QA built without an attestation check (see attests)."),
    Difference("gitlab", "sbom", IGNORED,
               "The build job's SBOMs are declared as `artifacts: reports: cyclonedx` (GitLab's dependency list reads "
               "them) and kept with the job's artifacts; nothing attaches them to the image in the registry."),
)
