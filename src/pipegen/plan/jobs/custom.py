"""Custom jobs from the descriptor: the escape hatch, wired into the same graph."""
from __future__ import annotations

import re

from pipegen.descriptor.model import CustomJob, Descriptor
from pipegen.plan.jobs.common import env_items, output_env, pipegen_for, project_environment, secret_env, variable_env
from pipegen.plan.model import EnvKind, EnvValue, Job, Step

# A custom job gets pipegen installed when it publishes outputs (`pipegen output set`, and
# the plan's output check) or its own commands call pipegen; other jobs skip the install.
_CALLS_PIPEGEN = re.compile(r"(?<![\w.-])pipegen(?![\w.-])")


def custom_jobs(descriptor: Descriptor, producers: dict[str, str]) -> list[Job]:
    """Every custom job of the descriptor; what they share (the project's environment, pipegen's
    requirement) is worked out once, not per job."""
    environment = project_environment(descriptor, ("runtime",))
    pipegen = pipegen_for(descriptor)
    return [custom_job(job, producers, environment, pipegen) for job in descriptor.jobs]


def custom_job(job: CustomJob, producers: dict[str, str], environment: dict, pipegen_requirement: str) -> Job:
    """One custom job: `environment` the Job fields of the project's runtime environment
    (project_environment), `pipegen_requirement` pipegen's, for a job that calls it."""
    env: dict[str, EnvValue] = {key: EnvValue(EnvKind.LITERAL, value) for key, value in job.env}
    env.update(secret_env(job.secrets))
    env.update(variable_env(job.variables))
    for name in job.inputs:
        if name in producers:
            env.update(output_env(name, producers[name]))
    calls_pipegen = bool(_CALLS_PIPEGEN.search(job.run))
    pipegen = pipegen_requirement if job.outputs or calls_pipegen else None
    why = "`pipegen output set` publishes its outputs" if job.outputs else "the command calls pipegen"
    return Job(
        id=job.name, title=job.title or job.name, stage=job.stage, comment="A custom job from the descriptor.",
        steps=(Step(job.title or job.name, job.run, id="run" if job.outputs else None),), needs=job.needs,
        outputs=job.outputs, output_step="run" if job.outputs else None, env=env_items(env),
        **environment, pipegen=pipegen,
        install_note="The project's runtime requirements and the project: a custom command may run either"
                     + (f"; pipegen (core): {why}." if pipegen else "."),
        timeout_minutes=job.timeout_minutes, secrets=job.secrets)
