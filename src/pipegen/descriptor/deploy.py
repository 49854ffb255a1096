"""The deploy kinds an environment may name under `deploy:`, as typed settings.

`environments.<env>.deploy` is a shell command, or a mapping of kinds (and optionally a
`command` run after them). Each kind's settings are one record here; what a kind *does*
(its jobs in every stage) lives in `pipegen.plan.deploy`, one module per kind.
"""
from __future__ import annotations

from typing import Any, Callable, Union

from pipegen.records import record


@record
class AirflowRules:
    """Rules every DAG must keep, besides importing: checked by `pipegen gate dags`."""

    owner: bool = False  # every task names an owner other than Airflow's default 'airflow'
    tags: bool = False  # every DAG has a tag
    retries: int = 0  # every task retries at least this often
    catchup_needs_start_date: bool = True  # catchup=True without a start_date is refused


@record
class AirflowDeploy:
    target: str | None = None  # an absolute path (a mounted DAG folder), gs://bucket/path or s3://bucket/path
    target_var: str | None = None  # a CI variable holding the target, instead
    dags: str = "dags"
    requirements: str | None = None  # None: project.requirements.runtime
    rules: AirflowRules = AirflowRules()
    secrets: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()


@record
class TerraformDeploy:
    dir: str = "infra"
    var_file: str | None = None  # relative to `dir`
    workspace: str | None = None
    backend_config: tuple[tuple[str, str], ...] = ()  # key -> CI variable holding its value
    fail_on_destroy: bool = False
    secrets: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()


@record
class KubernetesDeploy:
    manifests: str | None = None  # a kustomize folder, a folder of manifests or one file
    chart: str | None = None  # a Helm chart, instead of manifests
    values: str | None = None
    release: str | None = None  # Helm release name; None: the project's name
    namespace: str | None = None
    context: str | None = None
    timeout: int = 300  # seconds for the rollout before it is rolled back
    kubeconfig_secret: str | None = None
    secrets: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return self.chart or self.manifests or ""


DeploySettings = Union[AirflowDeploy, TerraformDeploy, KubernetesDeploy]


def _tuple(values: Any) -> tuple:
    return tuple(values or ())


def _airflow(data: dict) -> AirflowDeploy:
    rules = data.get("rules") or {}
    return AirflowDeploy(target=data.get("target"), target_var=data.get("target_var"), dags=data.get("dags", "dags"),
                         requirements=data.get("requirements"),
                         rules=AirflowRules(**rules), secrets=_tuple(data.get("secrets")),
                         variables=_tuple(data.get("variables")))


def _terraform(data: dict) -> TerraformDeploy:
    values = {key: value for key, value in data.items() if key not in ("backend_config", "secrets", "variables")}
    return TerraformDeploy(**values, backend_config=tuple(sorted((data.get("backend_config") or {}).items())),
                           secrets=_tuple(data.get("secrets")), variables=_tuple(data.get("variables")))


def _kubernetes(data: dict) -> KubernetesDeploy:
    values = {key: value for key, value in data.items() if key not in ("secrets", "variables")}
    return KubernetesDeploy(**values, secrets=_tuple(data.get("secrets")), variables=_tuple(data.get("variables")))


# The kinds by their key under `deploy:`. Their deploy order in an environment is the plan's
# (pipegen.plan.deploy.KINDS): infrastructure first, then workloads, then DAGs.
KIND_SETTINGS: dict[str, Callable[[dict], DeploySettings]] = {
    "terraform": _terraform,
    "kubernetes": _kubernetes,
    "airflow": _airflow,
}


def parse_kinds(deploy: Any) -> tuple[tuple[str, DeploySettings], ...]:
    """(kind, settings) for each kind an environment's `deploy` mapping names (schema-checked)."""
    if not isinstance(deploy, dict):
        return ()
    return tuple((kind, parse(deploy[kind] or {})) for kind, parse in KIND_SETTINGS.items() if kind in deploy)
