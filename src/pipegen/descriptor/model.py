"""The typed descriptor. Everything downstream (plan, gates) reads these frozen
dataclasses, never the raw YAML. Defaults live here, in one place."""
from __future__ import annotations

import posixpath
import re
from dataclasses import field
from pathlib import Path

from pipegen.descriptor.deploy import DeploySettings
from pipegen.errors import Problem
from pipegen.records import record

STAGES = ("test", "qa", "prod")
DESCRIPTOR_NAME = "pipegen.yaml"  # the default descriptor, at the repository root


@record
class Requirements:
    runtime: str | None = None
    test: str | None = None
    dev: str | None = None


@record
class Project:
    name: str
    python: str = "3.11"
    requirements: Requirements = Requirements()
    source: tuple[str, ...] = ()  # folders holding the packages: linted, measured by coverage
    # Commands installing the project into the job's Python; None: `pip install -e .` when
    # `package` (the repository has packaging metadata), else only the requirements files.
    install: tuple[str, ...] | None = None
    package: bool = False
    # Every checkout fetches the git submodules (recursively); default: the repository has some.
    submodules: bool = False


@record
class Triggers:
    branches: tuple[str, ...] = ("main",)
    pull_requests: bool = True
    schedule: str | None = None
    data_paths: tuple[str, ...] = ()


@record
class Service:
    """A container the tests talk to; tests find it at $<ENV_PREFIX>_HOST and its ports."""

    name: str
    image: str
    ports: tuple[int, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_")


# ${NAME} in a tests.env value: where a service runs, known only when the job runs.
TEST_ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def service_variables(services: tuple[Service, ...]) -> dict[str, str]:
    """<NAME>_HOST (and <NAME>_PORT when it has ports) -> the service that sets it."""
    found = {}
    for service in services:
        found[f"{service.env_prefix}_HOST"] = service.name
        if service.ports:
            found[f"{service.env_prefix}_PORT"] = service.name
    return found


@record
class Tests:
    unit: str | None = None
    integration: str | None = None
    functional: str | None = None
    services: tuple[Service, ...] = ()
    # What every test job's environment holds; a value may name ${<SERVICE>_HOST}/${<SERVICE>_PORT}.
    env: tuple[tuple[str, str], ...] = ()

    def levels(self) -> list[tuple[str, str]]:
        """The test pyramid, cheapest first: (level, path) for each level present."""
        return [(level, path) for level in ("unit", "integration", "functional")
                if (path := getattr(self, level)) is not None]


@record
class CoverageThresholds:
    min: float | None = None
    diff_min: float | None = None
    compare_branch: str = "origin/main"


@record
class PylintThresholds:
    min_score: float | None = None


@record
class Flake8Thresholds:
    max_issues: int | None = None


@record
class SonarSettings:
    project_key: str
    host_url_var: str = "SONAR_HOST_URL"
    token_secret: str = "SONAR_TOKEN"
    timeout: int = 300
    allow_no_gate: bool = False


@record
class RuffThresholds:
    max_issues: int | None = None


LINTERS = ("ruff", "pylint", "flake8")
RATCHETS = ("changed-lines", "compare-branch")


@record
class Lint:
    """Which linters run and how strictly. `tools` None: the linters that have a threshold
    (pylint and flake8 by default, ruff when `quality.ruff` is written)."""

    enabled: bool = True
    tools: tuple[str, ...] | None = None
    # changed-lines: no issue on a line the change adds or edits; compare-branch: no more
    # issues than the compare branch has. With a ratchet, the profile's absolute lint
    # thresholds do not apply (only those written in the descriptor do).
    ratchet: tuple[str, ...] = ()
    compare_branch: str | None = None


GATES = ("coverage", "lint", "sonar", "drift", "model")
GATE_MODES = ("enforce", "dry-run", "off", "auto")


@record
class Quality:
    """Thresholds as written in the descriptor; `profile` names a shipped `gates/*.yaml`
    whose values fill what the descriptor leaves out (see pipegen.gates.profiles)."""

    profile: str | None = None
    coverage: CoverageThresholds | None = None
    pylint: PylintThresholds | None = None
    flake8: Flake8Thresholds | None = None
    sonar: SonarSettings | None = None
    ruff: RuffThresholds | None = None
    lint: Lint = Lint()
    off: tuple[str, ...] = ()  # sections written as null (coverage, pylint, flake8, ruff): not checked
    # Pull requests show what a change to the pipeline files means (`pipegen diff`).
    pipeline_diff: bool = True
    # `quality.mode` as written: (gate or "default", mode); `quality.mode: dry-run` is ("default", "dry-run").
    modes: tuple[tuple[str, str], ...] = ()

    def gate_mode(self, gate: str) -> str | None:
        """The mode the descriptor gives `gate`: its own entry, else the default one; None when
        it says nothing (then PIPEGEN_GATE_MODE, else enforce, decides when the gate runs)."""
        modes = dict(self.modes)
        return modes.get(gate, modes.get("default"))


@record
class MetricRule:
    """MLflow MetricThreshold semantics."""

    greater_is_better: bool
    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None


@record
class Model:
    name: str
    train: str
    metrics: tuple[tuple[str, MetricRule], ...]  # ordered as written
    tracking_uri_var: str = "MLFLOW_TRACKING_URI"
    champion_alias: str = "champion"
    on_first_model: str = "thresholds"  # thresholds | pass | fail
    secrets: tuple[str, ...] = ()  # e.g. MLFLOW_TRACKING_TOKEN, passed by name only


@record
class DriftSettings:
    """`data.drift`: which data the drift gate compares and what a finding does.

    The reference is a path, or (`reference_artifact`) a file that the champion model's
    training run logged as an MLflow artifact: "drift since the model in production"."""

    current: str
    reference: str | None = None  # a CSV/Parquet path
    reference_artifact: str | None = None  # artifact path in the champion's training run
    columns: tuple[tuple[str, str], ...] = ()  # declared types: name -> numeric | categorical
    include: tuple[str, ...] = ()  # only these columns (default: all)
    exclude: tuple[str, ...] = ()
    alpha: float = 0.05
    correction: str = "fdr_bh"  # fdr_bh | bonferroni
    new_categories: str = "fail"  # fail | report
    on_drift: str = "report"  # report | retrain | fail


@record
class Data:
    drift: DriftSettings | None = None


@record
class ReportSettings:
    """`report`: one self-updating comment with every gate's Markdown on the pull/merge request."""

    comment: bool = False
    host: str | None = None  # github | gitlab | bitbucket | azure; default: the platform running the job
    token_secret: str | None = None  # secret holding the API token; default per platform


CLOUDS = ("azure", "aws", "gcp")
# What each cloud's identity must name (the schema checks each value's shape).
IDENTITY_FIELDS = {"azure": ("client_id", "tenant_id"), "aws": ("role_arn", "region"),
                   "gcp": ("workload_identity_provider", "service_account")}
DEFAULT_AUDIENCES = {"azure": "api://AzureADTokenExchange", "aws": "sts.amazonaws.com"}


@record
class CloudIdentity:  # pylint: disable=too-many-instance-attributes  # one field per descriptor key
    """A cloud identity a job reaches with the CI's short-lived OIDC token (workload identity
    federation), instead of a stored secret. None of these values is a secret."""

    cloud: str  # azure | aws | gcp
    client_id: str | None = None  # azure: the app registration / managed identity
    tenant_id: str | None = None
    subscription_id: str | None = None
    service_connection: str | None = None  # Azure Pipelines: the workload-identity service connection
    role_arn: str | None = None  # aws: the role to assume
    region: str | None = None
    workload_identity_provider: str | None = None  # gcp: projects/N/locations/global/workloadIdentityPools/..
    service_account: str | None = None
    audience: str | None = None  # the token's aud claim; None: the cloud's default

    @property
    def token_audience(self) -> str:
        if self.audience:
            return self.audience
        if self.cloud == "gcp":
            return f"https://iam.googleapis.com/{self.workload_identity_provider}"
        return DEFAULT_AUDIENCES[self.cloud]

    @property
    def principal(self) -> str:
        """Who the token becomes, for checklists and reviews."""
        return {"azure": f"Entra ID application {self.client_id} (tenant {self.tenant_id})",
                "aws": f"IAM role {self.role_arn}",
                "gcp": f"service account {self.service_account} through {self.workload_identity_provider}",
                }[self.cloud]


@record
class Image:
    name: str
    registry_var: str = "REGISTRY"
    dockerfile: str = "Dockerfile"
    context: str = "."
    username_secret: str | None = None  # with password_secret: `docker login` before the push
    password_secret: str | None = None
    secrets: tuple[str, ...] = ()  # further secrets the build needs, by name
    # The image serves the registered model: deploying it to PROD then waits for the model
    # gate's verdict (and its promotion). Otherwise the image deployment does not depend on it.
    serves_model: bool = False
    identity: CloudIdentity | None = None  # the registry login through OIDC, instead of the two secrets
    # The build job attests the image's build provenance where the platform can (GitHub artifact
    # attestations) and PROD verifies it before deploying, failing closed.
    provenance: bool = False

    @property
    def all_secrets(self) -> tuple[str, ...]:
        login = tuple(name for name in (self.username_secret, self.password_secret) if name)
        return tuple(dict.fromkeys(login + self.secrets))


@record
class Approval:
    approvers: tuple[str, ...] = ()
    timeout_minutes: int = 1440


@record
class Environment:
    name: str  # test | qa | prod
    deploy: str | None = None  # the deploy command (`deploy: CMD` or `deploy: {command: CMD}`)
    # The deploy kinds named under `deploy:` (pipegen.descriptor.deploy), as written.
    kinds: tuple[tuple[str, DeploySettings], ...] = ()
    approval: Approval | None = None
    branch: str | None = None  # only deploy from this branch
    secrets: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    identity: CloudIdentity | None = None  # the deploy jobs log in through OIDC as this identity

    @property
    def deploys(self) -> bool:
        """The environment deploys something: a command or a kind."""
        return self.deploy is not None or bool(self.kinds)


@record
class GithubSettings:
    runs_on: str = "ubuntu-latest"


@record
class GitlabSettings:
    image: str | None = None  # None: python:<version>-slim; "" never (shell runners use tags)
    tags: tuple[str, ...] = ()
    shell: bool = False  # a shell runner: no image at all


@record
class AzureSettings:
    vm_image: str | None = "ubuntu-latest"
    pool: str | None = None  # a self-hosted pool name instead of vm_image


@record
class JenkinsSettings:
    agent: str | None = None  # agent label; None: any
    credentials: tuple[tuple[str, str], ...] = ()  # secret name -> Jenkins credentials id

    def credentials_id(self, secret: str) -> str:
        return dict(self.credentials).get(secret, secret.lower().replace("_", "-"))


@record
class PipegenInstall:
    """Where the generated jobs install pipegen from: any pip requirement naming the
    `pipegen-ci` distribution (None: `pipegen-ci==` the generating version), and optionally
    the CI variable holding a private index URL, used as `--index-url` so that no public
    copy of the name can compete."""

    requirement: str | None = None
    index_url_var: str | None = None


INSTALLERS = ("uv", "pip")


@record
class DoctorSettings:
    """`settings.doctor`: pipegen-check runs `pipegen doctor` on the release branch with this secret."""

    token_secret: str | None = None  # None: off


@record
class Settings:
    # What installs the jobs' Python packages: uv (default; minutes less per run) or pip, for setups
    # that rely on pip's configuration files (pip.conf), which uv does not read.
    installer: str = "uv"
    pipegen: PipegenInstall = PipegenInstall()
    github: GithubSettings = GithubSettings()
    gitlab: GitlabSettings = GitlabSettings()
    azure: AzureSettings = AzureSettings()
    jenkins: JenkinsSettings = JenkinsSettings()
    doctor: DoctorSettings = DoctorSettings()


@record
class CustomJob:
    name: str
    stage: str
    run: str
    needs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()  # outputs of upstream jobs this job reads as $NAME
    title: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # literal environment values
    secrets: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    timeout_minutes: int = 30


@record  # `positions`: a default factory, excluded from comparison and repr
class Descriptor:
    path: Path
    project: Project
    targets: tuple[str, ...]
    triggers: Triggers = Triggers()
    tests: Tests = Tests()
    quality: Quality = Quality()
    model: Model | None = None
    image: Image | None = None
    environments: tuple[Environment, ...] = ()
    settings: Settings = Settings()
    jobs: tuple[CustomJob, ...] = ()
    data: Data = Data()
    report: ReportSettings = ReportSettings()
    version: int = 1
    # The project's folder, relative to the repository root, when the descriptor is one project of
    # several (`projects:`); its jobs run there. None: the descriptor's own folder.
    folder: str | None = None
    # YAML positions by path, e.g. ("jobs", 0, "needs", 1) -> (line, col), 1-based.
    # pylint: disable-next=invalid-field-call  # a record takes dataclass fields
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def command_path(self) -> str:
        """The descriptor as the project's jobs name it to pipegen, from the folder they run in."""
        if self.folder is None:
            return self.path.name
        return posixpath.relpath(self.path.name, self.folder)

    def environment(self, name: str) -> Environment | None:
        return next((env for env in self.environments if env.name == name), None)

    @property
    def prod_without_approval(self) -> bool:
        """`environments.prod.approval: false`: the one way to run PROD without an approval."""
        prod = self.environment("prod")
        return prod is not None and prod.approval is None

    def problem(self, path: tuple, message: str) -> Problem:
        """A Problem located at `path`, or at its nearest located ancestor."""
        positions = vars(self)["positions"]  # the instance's dict (pylint would infer the class's Field)
        while path and path not in positions:
            path = path[:-1]
        line, col = positions.get(path, (1, 1))
        return Problem(str(self.path), line, col, message)
