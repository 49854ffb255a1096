"""The `kubernetes` kind: manifests (a kustomize folder, plain manifests or a Helm chart) are
rendered with the image set by digest ($IMAGE_REF, never a tag) and validated offline against
the Kubernetes schemas, in TEST for every environment and again before each deployment; then
applied, the rollout waited for with a timeout, and on failure rolled back and the job failed.
The namespace and the context are the environment's."""
from __future__ import annotations

from pipegen.descriptor.deploy import KubernetesDeploy
from pipegen.descriptor.model import Descriptor
from pipegen.errors import Problem
from pipegen.plan.deploy.base import DeployContext, KindJobs, Use, image_env, image_ref, secrets_of, store_env
from pipegen.plan.jobs.common import env_items, pipegen_for, quote
from pipegen.plan.model import STAGE_TITLES, EnvKind, EnvValue, Job, RunWhen, Step
from pipegen.syntax import shell_command

RENDER_DIR = "pipegen-kubernetes"
# TEST renders before any image exists: a well-formed digest that names no real image.
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64
KUBECONFIG_ENV = "PIPEGEN_KUBECONFIG"

# Why the Kubernetes jobs install what they do (a comment above their install lines).
KUBERNETES_INSTALL_NOTE = ("pipegen with its Kubernetes extra: it renders, validates and applies the manifests; "
                           "kubectl comes from the runner; not the project.")


def _tools(settings: KubernetesDeploy) -> tuple[str, ...]:
    return ("kubectl", "helm") if settings.chart else ("kubectl",)


def _render(descriptor: Descriptor, settings: KubernetesDeploy, reference: str | None, out: str) -> str:
    source = f"--chart {quote(settings.chart)}" if settings.chart else f"--manifests {quote(settings.manifests or '')}"
    image = descriptor.image
    return shell_command(
        "pipegen deploy kubernetes render", source,
        *((f"--values {quote(settings.values)}",) if settings.values else ()),
        *((f"--release {quote(settings.release or descriptor.project.name)}",) if settings.chart else ()),
        *((f"--namespace {settings.namespace}",) if settings.namespace else ()),
        *((f"--image {quote(image.name)}", f"--image-ref {reference}") if image is not None and reference else ()),
        f"--out {out}")


class KubernetesKind:
    name = "kubernetes"

    def problems(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> list[Problem]:
        problems = []
        for use in uses:
            settings: KubernetesDeploy = use.settings
            where = f"environments.{use.environment.name}.deploy.kubernetes"
            if (settings.manifests is None) == (settings.chart is None):
                problems.append(descriptor.problem(use.where, f"{where}: give exactly one of manifests (a kustomize "
                                                   "folder or plain manifests) and chart (a Helm chart)"))
            for key in ("values", "release"):
                if getattr(settings, key) is not None and settings.chart is None:
                    problems.append(descriptor.problem((*use.where, key), f"{where}.{key}: only for a Helm chart"))
        return problems

    def check_jobs(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> tuple[Job, ...]:
        reference = None
        if descriptor.image is not None:
            reference = quote(f"pipegen.invalid/{descriptor.image.name}@{PLACEHOLDER_DIGEST}")
        steps = []
        seen = set()
        for use in uses:
            settings: KubernetesDeploy = use.settings
            key = (settings.source, settings.values, settings.namespace)
            if key in seen:
                continue
            seen.add(key)
            name = use.environment.name
            steps.append(Step(f"Render and validate {settings.source} ({name})", _render(
                descriptor, settings, reference, f"{RENDER_DIR}/{name}.yaml"), reads=()))
        tools = tuple(dict.fromkeys(tool for use in uses for tool in _tools(use.settings)))
        return (Job(
            id="kubernetes-check", title="Kubernetes manifests render and validate", stage="test",
            comment="Renders every environment's manifests offline, with the image set by a placeholder digest, "
                    "and validates them against the Kubernetes schemas: nothing reaches a cluster.",
            steps=tuple(steps), pipegen=pipegen_for(descriptor, "kubernetes"),
            install_note=KUBERNETES_INSTALL_NOTE, timeout_minutes=10, runner_tools=tools),)

    def environment_jobs(self, use: Use, context: DeployContext) -> KindJobs:
        settings: KubernetesDeploy = use.settings
        name = use.environment.name
        rendered = f"{RENDER_DIR}/{name}.yaml"
        env = store_env(use)
        if settings.kubeconfig_secret:
            # The apply step reads the kubeconfig from this name, whatever the secret is called.
            env[KUBECONFIG_ENV] = EnvValue(EnvKind.SECRET, settings.kubeconfig_secret)
        apply = shell_command(
            "pipegen deploy kubernetes apply", f"--manifest {rendered}",
            *((f"--namespace {settings.namespace}",) if settings.namespace else ()),
            *((f"--context {quote(settings.context)}",) if settings.context else ()),
            f"--timeout {settings.timeout}",
            *((f"--kubeconfig-env {KUBECONFIG_ENV}",) if settings.kubeconfig_secret else ()))
        job = Job(
            id=f"kubernetes-{name}", title=f"Deploy to Kubernetes ({STAGE_TITLES[name]})", stage=name,
            comment="".join([
                f"Renders {settings.source} with the image set by digest, validates it offline, applies it",
                f" to namespace {settings.namespace}" if settings.namespace else "",
                f" in context {settings.context}" if settings.context else "",
                f", waits up to {settings.timeout} s for the rollout, and rolls back and fails when it does not "
                "become ready."]),
            steps=(Step("Render with the image digest and validate offline",
                        _render(context.descriptor, settings, image_ref(context), rendered), reads=()),
                   Step("Apply, wait for the rollout, roll back on failure", apply)),
            needs=context.after, env=env_items({**env, **image_env(context)}),
            pipegen=pipegen_for(context.descriptor, "kubernetes"), install_note=KUBERNETES_INSTALL_NOTE,
            timeout_minutes=10 + settings.timeout // 60, environment=name,
            secrets=secrets_of(use, settings.kubeconfig_secret), run_when=RunWhen.NOT_PULL_REQUEST,
            runner_tools=_tools(settings))
        return KindJobs((job,), job.id)
