"""A difference a platform forces on the plan, and the rules for how a platform's value may relate
to the plan's. Each platform lists its own in `pipegen.platforms.<platform>.differences`;
`pipegen.platforms.differences` gathers them."""
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
    what: str  # what a reviewer sees, in the table of docs/platforms.md
