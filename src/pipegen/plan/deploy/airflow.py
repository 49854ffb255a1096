"""The `airflow` kind: TEST checks every DAG file with real Airflow (imports, cycles, unique
ids, the descriptor's rules) through `pipegen gate dags`; each environment syncs the DAG
folder to its target (removed DAGs removed, nothing outside the folder touched), then checks
that the deployed folder imports cleanly."""
from __future__ import annotations

from pipegen.descriptor.deploy import AirflowDeploy, AirflowRules
from pipegen.descriptor.model import Descriptor
from pipegen.errors import Problem
from pipegen.plan.deploy.base import DeployContext, KindJobs, Use, differing, distinct, secrets_of, store_env
from pipegen.plan.jobs.common import cache_files, env_items, pipegen_for, quote, report_path
from pipegen.plan.model import REPORT_DIR, STAGE_TITLES, Job, RunWhen, Step
from pipegen.syntax import shell_command

# What syncs a bucket target (pipegen.deploy.airflow runs them): the runner provides the CLI.
BUCKET_TOOLS = {"gs://": "gcloud", "s3://": "aws"}


def rule_flags(rules: AirflowRules) -> tuple[str, ...]:
    flags = []
    if rules.owner:
        flags.append("--require-owner")
    if rules.tags:
        flags.append("--require-tags")
    if rules.retries:
        flags.append(f"--min-retries {rules.retries}")
    if not rules.catchup_needs_start_date:
        flags.append("--allow-catchup-without-start-date")
    return tuple(flags)


def _gate(folder: str, rules: AirflowRules, report: str) -> str:
    return shell_command("pipegen gate dags", f"--dags {folder}", *rule_flags(rules),
                         f"--junit {report_path(report + '.junit.xml')}", f"--markdown {report_path(report + '.md')}")


def _requirements(descriptor: Descriptor, settings: AirflowDeploy) -> tuple[str, ...]:
    path = settings.requirements or descriptor.project.requirements.runtime
    return (path,) if path else ()


def _airflow_job(descriptor: Descriptor, settings: AirflowDeploy, **fields) -> Job:
    """What every Airflow job shares: Airflow and the DAGs' providers in the job's Python, pipegen beside it."""
    requirements = _requirements(descriptor, settings)
    return Job(requirements=requirements, pipegen=pipegen_for(descriptor), cache_files=requirements or cache_files(
        descriptor), artifacts=(REPORT_DIR,), gate="dags",
        install_note="The DAGs' requirements (Airflow and its providers): the gate loads the DAGs with real "
                     "Airflow; not the project. pipegen (core): the DAG gate and the sync.", **fields)


class AirflowKind:
    name = "airflow"

    def problems(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> list[Problem]:
        problems = differing(descriptor, uses, "dags", "the DAG folder")
        problems += differing(descriptor, uses, "rules", "the DAG rules")
        problems += differing(descriptor, uses, "requirements", "the requirements file")
        for use in uses:
            if not _requirements(descriptor, use.settings):
                problems.append(descriptor.problem(use.where, (
                    f"environments.{use.environment.name}.deploy.airflow: name the requirements holding "
                    "apache-airflow (airflow.requirements, or project.requirements.runtime): the DAGs are "
                    "checked with real Airflow")))
            where = f"environments.{use.environment.name}.deploy.airflow"
            if (use.settings.target is None) == (use.settings.target_var is None):
                problems.append(descriptor.problem(use.where, f"{where}: give exactly one of target (the DAG folder: "
                                                   "a path or bucket URI) and target_var (a CI variable holding it)"))
            elif use.settings.target is not None and use.settings.target.rstrip("/") == "":
                problems.append(descriptor.problem((*use.where, "target"), (
                    f"{where}.target: the sync makes the target exactly the DAG folder (removing anything else): "
                    "name the DAG folder, not /")))
        return problems

    def check_jobs(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> tuple[Job, ...]:
        settings: AirflowDeploy = uses[0].settings
        folders = distinct(use.settings.dags for use in uses)
        return (_airflow_job(
            descriptor, settings, id="airflow-check", title="DAG integrity (real Airflow)", stage="test",
            comment="Loads every file of the DAG folder with Airflow's DagBag: import errors, cycles and duplicate "
                    "dag_ids fail, and so do the descriptor's DAG rules; the report joins the gate comment.",
            steps=(Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=()),
                   *(Step(f"DAG integrity ({folder})", _gate(quote(folder), settings.rules, "dags"), reads=())
                     for folder in folders)),
            timeout_minutes=20, junit=(report_path("dags.junit.xml"),)),)

    def environment_jobs(self, use: Use, context: DeployContext) -> KindJobs:
        settings: AirflowDeploy = use.settings
        name = use.environment.name
        title = STAGE_TITLES[name]
        report = f"dags-{name}"
        source = quote(settings.dags.rstrip("/"))
        target = quote(settings.target) if settings.target else f'"${settings.target_var}"'
        shown = settings.target or f"${settings.target_var}"
        # A target from a variable may be a bucket too: the documentation names the CLIs then.
        tools = tuple(tool for prefix, tool in BUCKET_TOOLS.items() if (settings.target or "").startswith(prefix))
        job = _airflow_job(
            context.descriptor, settings, id=f"airflow-{name}", title=f"Deploy the DAGs to {title}", stage=name,
            comment=f"Makes {shown} exactly the repository's {settings.dags} folder (removed DAGs removed, nothing "
                    "outside it touched; a bucket through its cloud's CLI), then loads the deployed folder with "
                    "Airflow: it must import cleanly.",
            steps=(Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=()),
                   Step(f"Sync the DAG folder to {shown}", shell_command(
                       "pipegen deploy airflow sync", f"--dags {source}", f"--target {target}")),
                   Step("Check the deployed DAG folder", _gate(target, settings.rules, report))),
            needs=context.after, env=env_items(store_env(use, extra_variables=tuple(
                name for name in (settings.target_var,) if name))), timeout_minutes=30, environment=name,
            junit=(report_path(report + ".junit.xml"),), secrets=secrets_of(use),
            run_when=RunWhen.NOT_PULL_REQUEST, runner_tools=tools)
        return KindJobs((job,), job.id)
