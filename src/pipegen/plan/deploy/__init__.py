"""Deploy kinds: one module per kind behind one interface (`base.DeployKind`), and the
registry below, in deploy order: infrastructure first, then workloads, then DAGs, then the
environment's own command. Adding a kind adds a module here and its settings to the
descriptor; no backend changes (kinds build jobs from plan features only)."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor, Environment
from pipegen.errors import Problem
from pipegen.plan.deploy.airflow import AirflowKind
from pipegen.plan.deploy.base import IMAGE_REF, CommandSettings, DeployContext, DeployKind, Use
from pipegen.plan.deploy.command import CommandKind
from pipegen.plan.deploy.kubernetes import KubernetesKind
from pipegen.plan.deploy.terraform import TerraformKind
from pipegen.plan.model import Job

KINDS: dict[str, DeployKind] = {
    "terraform": TerraformKind(),
    "kubernetes": KubernetesKind(),
    "airflow": AirflowKind(),
    "command": CommandKind(),
}

__all__ = ["IMAGE_REF", "KINDS", "DeployContext", "DeployKind", "Use", "check_jobs", "environment_jobs",
           "kind_problems", "uses"]


def _environment_uses(environment: Environment) -> list[Use]:
    written = dict(environment.kinds)
    found = [Use(kind, environment, written[kind]) for kind in KINDS if kind in written]
    if environment.deploy is not None:
        found.append(Use("command", environment, CommandSettings(environment.deploy)))
    return found


def uses(descriptor: Descriptor) -> dict[str, tuple[Use, ...]]:
    """Kind -> the environments deploying with it, in stage order."""
    found: dict[str, list[Use]] = {}
    for environment in descriptor.environments:
        for use in _environment_uses(environment):
            found.setdefault(use.kind, []).append(use)
    return {kind: tuple(found[kind]) for kind in KINDS if kind in found}


def kind_problems(descriptor: Descriptor) -> list[Problem]:
    return [problem for kind, kind_uses in uses(descriptor).items()
            for problem in KINDS[kind].problems(descriptor, kind_uses)]


def check_jobs(descriptor: Descriptor) -> list[Job]:
    """TEST-stage checks of every kind in use, once per project."""
    return [job for kind, kind_uses in uses(descriptor).items()
            for job in KINDS[kind].check_jobs(descriptor, kind_uses)]


def environment_jobs(environment: Environment, context: DeployContext) -> list[Job]:
    """The jobs deploying one environment, kind after kind."""
    jobs: list[Job] = []
    after = context.after
    for use in _environment_uses(environment):
        built = KINDS[use.kind].environment_jobs(use, DeployContext(
            context.descriptor, context.image_producer, context.image_output, context.image_source, after))
        jobs += built.jobs
        after = (built.deployed,)
    return jobs
