"""Where Azure forces a difference from the plan; the parity check allows exactly these."""
from __future__ import annotations

from pipegen.platforms.difference import IGNORED, SUBSET, Difference

DIFFERENCES: tuple[Difference, ...] = (
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
    Difference("azure", "oidc", SUBSET,
               "Short-lived cloud credentials: an Azure identity logs in through a workload identity federation "
               "service connection (AzureCLI@2 runs the step logged in); AWS and GCP have no first-party OIDC login "
               "task, so those jobs get no token and the checklist says how to give their agents one."),
    Difference("azure", "attests", IGNORED,
               "No native build provenance attestation for container images: the build job does not attest and PROD "
               "does not verify (GitHub artifact attestations only)."),
    Difference("azure", "verifies", IGNORED,
               "PROD deploys the digest QA built without an attestation check (see attests)."),
    Difference("azure", "sbom", IGNORED,
               "The build job's SBOMs (the image's and its Python environment's) are kept as pipeline "
               "artifacts (one per file, named after the build job and the path); no native mechanism attaches or "
               "attests them to the image (GitHub attests the image's SBOM to its digest with `image.provenance`)."),
)
