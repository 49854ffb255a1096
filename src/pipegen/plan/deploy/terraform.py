"""The `terraform` kind: TEST checks the configuration (`fmt -check`, `validate`); each
environment plans into a saved plan, kept and summarised (job summary, pull request comment,
and for PROD before the approval), then applies exactly that plan, refusing one made from
another commit. A plan that destroys or replaces something is flagged (or fails, as asked)."""
from __future__ import annotations

import shlex

from pipegen.deploy import SEAL_SUFFIX
from pipegen.descriptor.deploy import TerraformDeploy
from pipegen.descriptor.model import Descriptor
from pipegen.plan.deploy.base import DeployContext, KindJobs, NoChecks, Use, distinct, secrets_of, store_env
from pipegen.plan.jobs.common import env_items, pipegen_for, quote, report_path
from pipegen.plan.model import REPORT_DIR, STAGE_TITLES, EnvKind, EnvValue, Job, RunWhen, Step
from pipegen.syntax import shell_command

PLAN_DIR = "pipegen-terraform"
# Terraform's own switches for unattended runs: no prompt, output without "run terraform X" hints.
AUTOMATION_ENV = {"TF_IN_AUTOMATION": EnvValue(EnvKind.LITERAL, "1"), "TF_INPUT": EnvValue(EnvKind.LITERAL, "0")}

# Why the Terraform jobs install what they do (a comment above their install lines).
TERRAFORM_INSTALL_NOTE = ("pipegen (core) only: it seals, summarises and verifies the saved plan; terraform comes "
                          "from the runner; not the project.")


def plan_file(environment: str) -> str:
    return f"{PLAN_DIR}/{environment}/tfplan"


def _chdir(settings: TerraformDeploy) -> str:
    return f"terraform -chdir={quote(settings.dir)}"


def _init(settings: TerraformDeploy) -> str:
    backend = [f'-backend-config="{key}=${variable}"' for key, variable in settings.backend_config]
    lines = [shell_command(f"{_chdir(settings)} init -input=false", *backend)]
    if settings.workspace:
        lines.append(f"{_chdir(settings)} workspace select -or-create {quote(settings.workspace)}")
    return "\n".join(lines)


def plan_stage(environment: str) -> str:
    """Where an environment's plan is made: its own stage, but PROD's in QA, before the
    approval (every PROD job waits for it), so reviewers read the plan they approve."""
    return "qa" if environment == "prod" else environment


class TerraformKind(NoChecks):
    name = "terraform"

    def check_jobs(self, descriptor: Descriptor, uses: tuple[Use, ...]) -> tuple[Job, ...]:
        folders = distinct(use.settings.dir for use in uses)
        steps = []
        for folder in folders:
            settings = TerraformDeploy(dir=folder)
            steps.append(Step(f"terraform fmt -check ({folder})",
                              f"{_chdir(settings)} fmt -check -recursive -diff", reads=()))
            steps.append(Step(f"terraform validate ({folder})",
                              f"{_chdir(settings)} init -backend=false -input=false\n{_chdir(settings)} validate",
                              reads=()))
        return (Job(
            id="terraform-check", title="Terraform format and validate", stage="test",
            comment="`terraform fmt -check` and `terraform validate` (no backend, no credentials) on "
                    + ", ".join(folders) + ".",
            steps=tuple(steps), env=env_items(dict(AUTOMATION_ENV)), python=False, timeout_minutes=15,
            runner_tools=("terraform",)),)

    def environment_jobs(self, use: Use, context: DeployContext) -> KindJobs:
        settings: TerraformDeploy = use.settings
        name = use.environment.name
        title = STAGE_TITLES[name]
        saved = plan_file(name)
        variables = tuple(variable for _, variable in settings.backend_config)
        env = env_items({**AUTOMATION_ENV, **store_env(use, extra_variables=variables)})
        secrets = secrets_of(use)
        var_file = f" -var-file={quote(settings.var_file)}" if settings.var_file else ""
        gate = shell_command(
            f'{_chdir(settings)} show -json "$PWD/{saved}" | pipegen gate terraform --plan-json -',
            f"--environment {name}", *(("--fail-on-destroy",) if settings.fail_on_destroy else ()),
            f"--junit {report_path(f'terraform-{name}.junit.xml')}",
            f"--markdown {report_path(f'terraform-{name}.md')}")
        plan_job = Job(
            id=f"terraform-plan-{name}", title=f"Terraform plan for {title}", stage=plan_stage(name),
            comment=f"Plans {title} into a saved plan (handed to terraform-apply-{name}, sealed with this commit) "
                    "and summarises it: counts and resources by address; destroys and replacements are "
                    + ("refused." if settings.fail_on_destroy else "flagged.")
                    + (" Runs before the PROD approval, so reviewers see what they approve." if name == "prod" else ""),
            steps=(Step("Terraform init", _init(settings)),
                   Step("Terraform plan into a saved plan", "\n".join([
                       f"mkdir -p {PLAN_DIR}/{name} {REPORT_DIR}",
                       f'{_chdir(settings)} plan -input=false -out="$PWD/{saved}"{var_file}',
                       f"pipegen deploy terraform seal --plan {saved}"])),
                   Step("Plan summary (flags destroys and replacements)", gate, reads=())),
            needs=context.after if plan_stage(name) == name else (), env=env,
            pipegen=pipegen_for(context.descriptor), install_note=TERRAFORM_INSTALL_NOTE, timeout_minutes=30,
            artifacts=(REPORT_DIR,),
            junit=(report_path(f"terraform-{name}.junit.xml"),), hands_over=(saved, f"{saved}{SEAL_SUFFIX}"),
            secrets=secrets, gate="terraform", runner_tools=("terraform",))
        apply_job = Job(
            id=f"terraform-apply-{name}", title=f"Terraform apply to {title}", stage=name,
            comment=f"Applies exactly the plan terraform-plan-{name} saved, after checking it was made from this "
                    "commit; Terraform itself refuses it if the state moved since.",
            steps=(Step("Refuse a plan from another commit", shlex.join(
                       ["pipegen", "deploy", "terraform", "verify", "--plan", saved]), reads=()),
                   Step("Terraform init", _init(settings)),
                   Step("Terraform apply the saved plan", f'{_chdir(settings)} apply -input=false "$PWD/{saved}"')),
            needs=(*context.after, plan_job.id), env=env, pipegen=pipegen_for(context.descriptor),
            install_note=TERRAFORM_INSTALL_NOTE,
            timeout_minutes=60, environment=name, fetches=(plan_job.id,), secrets=secrets,
            run_when=RunWhen.NOT_PULL_REQUEST, runner_tools=("terraform",))
        return KindJobs((plan_job, apply_job), apply_job.id)
