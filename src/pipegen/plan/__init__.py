"""The plan: a backend-neutral graph of stages → jobs → steps, built once from the
descriptor and validated (unknown needs, cycles, output clashes, outputs nobody produces).
Backends only render it; none of them reads the descriptor.

Shell text in `Step.run` is final shell: descriptor values are already shell-quoted
here. Backends only escape it for the syntax it lands in (YAML scalar, Groovy string).

- `model`: the records (Plan, Stage, Job, Step, EnvValue) and their questions (needs, barriers);
- `jobs/`: one builder per kind of job (tests, lint, sonar, model, image, custom, report, check);
- `validate`: the graph's problems, located in the descriptor;
- `passes`: the passes over the built jobs (outputs, conditions, the model's chain, order);
- `build`: `build_plan`, which runs them in order.
"""
from pipegen.plan.build import build_plan, effective_thresholds
from pipegen.plan.jobs.report import REPORT_HOST_ENV, REPORT_TOKEN_ENV
from pipegen.plan.model import (
                                OUTPUTS_FILE,
                                PLAN_STAGES,
                                REPORT_DIR,
                                STAGE_TITLES,
                                EnvKind,
                                EnvValue,
                                Job,
                                Plan,
                                RunWhen,
                                Stage,
                                Step,
                                Triggers,
)

__all__ = ["OUTPUTS_FILE", "PLAN_STAGES", "REPORT_DIR", "REPORT_HOST_ENV", "REPORT_TOKEN_ENV", "STAGE_TITLES",
           "EnvKind", "EnvValue", "Job", "Plan", "RunWhen", "Stage", "Step", "Triggers", "build_plan",
           "effective_thresholds"]
