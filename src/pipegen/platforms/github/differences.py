"""Where GitHub forces a difference from the plan; the parity check allows exactly these."""
from __future__ import annotations

from pipegen.platforms.difference import OMITTED_AFTER_APPROVAL, SUPERSET, Difference

DIFFERENCES: tuple[Difference, ...] = (
    Difference("github", "release_runs", "queue",
               "A release-branch push while an earlier run waits for PROD approval waits behind it (one concurrency "
               "group per branch); GitHub keeps only the newest waiting run, so intermediate pushes are skipped."),
    Difference("github", "environment", OMITTED_AFTER_APPROVAL,
               "A PROD job that waits for another PROD job does not name the environment again: each reference "
               "asks the reviewers again. It runs only after that approval."),
    Difference("github", "steps.reads", SUPERSET,
               "CI variables (`vars.*`) are set for the whole job, `PIPEGEN_GATE_MODE` included where a gate "
               "carries no `--mode` (other platforms hand every CI variable to every job); secrets only on the "
               "steps that read them."),
)
