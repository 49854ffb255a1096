"""The `command` kind: the environment's own deploy command (`deploy: CMD`), run after the
other kinds, with the image digest in $IMAGE_REF."""
from __future__ import annotations

from pipegen.plan.deploy.base import IMAGE_REF, DeployContext, KindJobs, NoChecks, Use, image_env, store_env
from pipegen.plan.jobs.common import env_items
from pipegen.plan.model import STAGE_TITLES, Job, RunWhen, Step


class CommandKind(NoChecks):
    name = "command"

    def environment_jobs(self, use: Use, context: DeployContext) -> KindJobs:
        environment = use.environment
        stage = environment.name
        run = environment.deploy or ""
        if context.image_producer and context.image_output != IMAGE_REF:
            # The command reads $IMAGE_REF, whichever job published the digest this environment deploys.
            run = f'IMAGE_REF="${context.image_output}"\nexport IMAGE_REF\n{run}'
        job = Job(
            id=f"deploy-{stage}", title=f"Deploy to {STAGE_TITLES[stage]}", stage=stage,
            comment=f"Deploys to {STAGE_TITLES[stage]}"
                    + (f" {context.image_source}." if context.image_source else "."),
            steps=(Step(f"Deploy to {STAGE_TITLES[stage]}", run),), needs=context.after,
            env=env_items({**store_env(use), **image_env(context)}), python=False, timeout_minutes=30,
            environment=stage, secrets=environment.secrets, run_when=RunWhen.NOT_PULL_REQUEST)
        return KindJobs((job,), job.id)
