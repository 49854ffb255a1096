"""The one interface every deploy kind implements, and what kinds share.

A kind (pre-commit keeps one module per language the same way) turns the environments that
name it into jobs: checks in TEST, once per project, and per environment the jobs that deploy
it. Kinds only build plan jobs from plan features (steps, needs, outputs, hand-overs, gates,
runner tools): no backend knows a kind.
"""
from __future__ import annotations

from typing import Protocol

from pipegen.descriptor.deploy import DeploySettings
from pipegen.descriptor.model import Descriptor, Environment
from pipegen.errors import Problem
from pipegen.plan.jobs.common import output_env, secret_env, variable_env
from pipegen.plan.model import EnvValue, Job
from pipegen.records import record

IMAGE_REF = "IMAGE_REF"


@record
class CommandSettings:
    """The `command` kind's settings: the environment's deploy command (its secrets and
    variables are the environment's)."""

    command: str
    secrets: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()


@record
class Use:
    """One environment deploying with one kind, and where its settings are in the descriptor."""

    kind: str
    environment: Environment
    settings: DeploySettings | CommandSettings

    @property
    def where(self) -> tuple:
        return ("environments", self.environment.name, "deploy", self.kind)


@record
class DeployContext:
    """What an environment's deployment gets from the rest of the plan."""

    descriptor: Descriptor
    # The job publishing the image digest this environment deploys (IMAGE_REF), if any, and
    # the output it is published as (PROD with a model-serving image: the champion's image).
    image_producer: str | None = None
    image_output: str = IMAGE_REF
    image_source: str = ""  # where the image comes from, in a reviewer's words
    after: tuple[str, ...] = ()  # jobs this kind's deployment follows (the kinds before it)


@record
class KindJobs:
    jobs: tuple[Job, ...]
    deployed: str  # the job whose success means the kind deployed: the next kind waits for it


class NoChecks:
    """For kinds with nothing to check in TEST and no settings that can conflict."""

    def problems(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> list[Problem]:
        del descriptor, uses
        return []

    def check_jobs(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> tuple[Job, ...]:
        del descriptor, uses
        return ()


class DeployKind(Protocol):
    name: str  # the key under `deploy:`

    def problems(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> list[Problem]:
        """Settings that pass the schema but cannot work, located in the descriptor."""

    def check_jobs(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> tuple[Job, ...]:
        """TEST-stage jobs, once per project, for every environment using the kind."""

    def environment_jobs(self, use: Use, context: DeployContext) -> KindJobs:
        """The jobs deploying one environment."""


def store_env(use: Use, extra_secrets: tuple[str, ...] = (), extra_variables: tuple[str, ...] = ()
              ) -> dict[str, EnvValue]:
    """The environment's secrets and variables and the kind's own, by name."""
    environment, settings = use.environment, use.settings
    return {**secret_env((*environment.secrets, *settings.secrets, *extra_secrets)),
            **variable_env((*environment.variables, *settings.variables, *extra_variables))}


def secrets_of(use: Use, *extra: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*use.environment.secrets, *use.settings.secrets, *(name for name in extra if name))))


def image_env(context: DeployContext) -> dict[str, EnvValue]:
    if context.image_producer is None:
        return {}
    return output_env(context.image_output, context.image_producer)


def image_ref(context: DeployContext) -> str | None:
    """The shell word the deployment reads the image digest from."""
    return f'"${context.image_output}"' if context.image_producer else None


def distinct(values) -> tuple:
    return tuple(dict.fromkeys(values))


def differing(descriptor: Descriptor, uses: tuple[Use, ...], key: str, what: str) -> list[Problem]:
    """Settings TEST checks once must agree across environments that deploy the same source."""
    problems = []
    first = uses[0] if uses else None
    for use in uses[1:]:
        if getattr(use.settings, key) != getattr(first.settings, key):
            problems.append(descriptor.problem((*use.where, key), (
                f"environments.{use.environment.name}.deploy.{use.kind}.{key}: {what} differs from "
                f"environments.{first.environment.name}'s; TEST checks one, so write the same in every environment")))
    return problems
