"""Where Jenkins forces a difference from the plan; the parity check allows exactly these."""
from __future__ import annotations

from pipegen.platforms.difference import IGNORED, SAME_STAGE_SUPERSET, SUBSET, SUPERSET, Difference

DIFFERENCES: tuple[Difference, ...] = (
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
    Difference("jenkins", "hands_over", IGNORED,
               "Files handed to a later job (a saved Terraform plan) travel by `stash`, which lasts as long as the "
               "build; the other platforms keep them as the run's artifacts."),
    Difference("jenkins", "oidc", IGNORED,
               "No short-lived OIDC tokens for builds: a job with a cloud identity keeps Jenkins credentials (or "
               "the agent's own cloud identity), and the checklist names each; the other platforms log in with a "
               "token issued for that one job."),
    Difference("jenkins", "attests", IGNORED,
               "No native build provenance attestation: the build stage does not attest and PROD does not verify "
               "(GitHub artifact attestations only)."),
    Difference("jenkins", "verifies", IGNORED,
               "PROD deploys the digest QA built without an attestation check (see attests)."),
    Difference("jenkins", "sbom", IGNORED,
               "The build job's SBOMs (the image's and its Python environment's) are archived with the build "
               "(`archiveArtifacts`); no native mechanism attaches or attests them to the image (GitHub attests the "
               "image's SBOM to its digest with `image.provenance`)."),
)
