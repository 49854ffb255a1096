"""`pipegen doctor` against loopback stand-ins of the four platforms' APIs (tests/doctor/standins.py),
with the real example descriptor: fully configured → 0, a secret missing → 1 naming it, PROD
without its approval → "weaker" and 1, a token lacking a scope → 3 naming the scope."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipegen.cli import cli, main
from tests.doctor.standins import TOKEN, Settings, StandIn

DESCRIPTOR = Path(__file__).resolve().parents[2] / "examples" / "churn" / "pipegen.yaml"
PROJECTS = {"github": "acme/churn", "gitlab": "acme/churn", "azure": "Churn/churn-model", "jenkins": "churn"}
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "AZURE_DEVOPS_EXT_PAT", "JENKINS_USER",
                   "JENKINS_API_TOKEN", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI",
                   "JENKINS_URL", "GITHUB_API_URL", "CI_API_V4_URL", "SYSTEM_COLLECTIONURI")
VARIABLES = ("MLFLOW_TRACKING_URI", "REGISTRY", "SONAR_HOST_URL")


def configured(platform: str) -> Settings:
    """The example's checklist, every item in place and as strict as the plan."""
    variables = {name: {} for name in VARIABLES}
    if platform == "github":
        return Settings(secrets={"SONAR_TOKEN": {}}, variables=variables, protected_branches={"main"},
                        environments={"qa": {"branches": ["main"]},
                                      "prod": {"reviewers": ["release-managers"], "branches": ["main"]}})
    if platform == "gitlab":
        return Settings(secrets={"SONAR_TOKEN": {"masked": True}, "REVIEW_TOKEN": {"masked": True}},
                        variables=variables, protected_branches={"release/*", "main"},
                        environments={"qa": {}, "prod": {"deployers": ["release-managers"], "approvals": 1}})
    if platform == "azure":
        return Settings(secrets={"SONAR_TOKEN": {}}, variables=variables,
                        environments={"qa": {}, "prod": {"reviewers": ["release-managers"], "branches": ["main"]}})
    return Settings(credentials={"folder:sonar-token", "review-token"}, users={"release-managers"},
                    branches=[f"feature/{n:03d}" for n in range(150)] + ["main"])


@pytest.fixture(name="doctor")
def doctor_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Runs `pipegen doctor --target P` against a stand-in holding `settings`; returns
    (exit code, output, JSON report, stand-in)."""
    monkeypatch.chdir(tmp_path)
    for name in TOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    started: list[StandIn] = []

    def run(platform: str, settings: Settings, token: str | None = TOKEN):
        stand_in = StandIn(platform, settings)
        started.append(stand_in)
        base = {"gitlab": f"{stand_in.url}/api/v4", "azure": f"{stand_in.url}/acme-org"}.get(platform, stand_in.url)
        env = {"GITHUB_TOKEN": token} if platform == "github" else {
            "GITLAB_TOKEN": token} if platform == "gitlab" else {
            "AZURE_DEVOPS_EXT_PAT": token} if platform == "azure" else {
            "JENKINS_USER": "jenkins-bot", "JENKINS_API_TOKEN": token}
        report = tmp_path / f"{platform}.json"
        result = CliRunner().invoke(cli, ["doctor", "--descriptor", str(DESCRIPTOR), "--target", platform,
                                          "--api-url", base, "--project", PROJECTS[platform],
                                          "--report-json", str(report)],
                                    env={k: v for k, v in env.items() if v is not None}, catch_exceptions=False)
        data = json.loads(report.read_text(encoding="utf-8"))
        return result.exit_code, result.output, data["platforms"][0], stand_in

    yield run
    for stand_in in started:
        stand_in.stop()


def by_item(report: dict) -> dict[str, dict]:
    return {finding["item"]: finding for finding in report["findings"]}


@pytest.mark.parametrize("platform", ["github", "gitlab", "azure", "jenkins"])
def test_fully_configured_project_passes_and_every_page_is_read(doctor, platform: str) -> None:
    code, output, report, stand_in = doctor(platform, configured(platform))
    assert code == 0, output
    assert report["findings"] and {f["status"] for f in report["findings"]} == {"ok"}
    findings = by_item(report)
    if platform == "jenkins":
        assert findings["credentials sonar-token"]["found"] == "credential in the folder churn"
        assert findings["other multibranch job"]["status"] == "ok"  # main is on the second tree range
    else:
        assert {f"variable {name}" for name in VARIABLES} <= set(findings)  # two pages on GitHub/GitLab
        assert findings["secret SONAR_TOKEN"]["status"] == "ok"
    paged = {"github": "page=2", "gitlab": "page=2", "azure": "continuationToken=1", "jenkins": "%7B100%2C200%7D"}
    assert any(paged[platform] in path for path, _ in stand_in.requests)
    assert all(credential for _, credential in stand_in.requests)  # every page authenticated, to this host only
    assert TOKEN not in output and "value-of-" not in output  # no token, no variable's value


@pytest.mark.parametrize("platform, item", [("github", "secret SONAR_TOKEN"), ("gitlab", "secret SONAR_TOKEN"),
                                            ("azure", "secret SONAR_TOKEN"), ("jenkins", "credentials sonar-token")])
def test_a_missing_secret_fails_and_is_named(doctor, platform: str, item: str) -> None:
    settings = configured(platform)
    settings.secrets.pop("SONAR_TOKEN", None)
    settings.credentials.discard("folder:sonar-token")
    code, output, report, _ = doctor(platform, settings)
    assert code == 1
    finding = by_item(report)[item]
    assert finding["status"] == "missing" and finding["fix"]
    assert item in output and "missing" in output
    assert [f["item"] for f in report["findings"] if f["status"] != "ok"] == [item]


@pytest.mark.parametrize("platform, item", [
    ("github", "environment prod: required reviewers"),
    ("gitlab", "environment prod: deployment approval"),
    ("azure", "environment prod: approvals check")])
def test_prod_without_required_reviewers_is_weaker(doctor, platform: str, item: str) -> None:
    settings = configured(platform)
    settings.environments["prod"].pop("reviewers", None)
    settings.environments["prod"]["approvals"] = 0
    code, output, report, _ = doctor(platform, settings)
    assert code == 1, output
    finding = by_item(report)[item]
    assert finding["status"] == "weaker" and "release-managers" in finding["fix"]
    assert "weaker" in output


def test_jenkins_submitter_that_is_no_user_is_left_to_check_by_hand(doctor) -> None:
    """The approval itself is the Jenkinsfile's `input`; a submitter Jenkins does not know as a
    user may be a group of the security realm, which no API lists: shown, not failed."""
    settings = configured("jenkins")
    settings.users.clear()
    code, _, report, _ = doctor("jenkins", settings)
    assert code == 0
    assert by_item(report)["environment prod: input submitter release-managers"]["status"] == "unchecked"


def test_unprotected_prod_and_an_unmasked_secret_are_weaker_on_gitlab(doctor) -> None:
    settings = configured("gitlab")
    del settings.environments["prod"]
    settings.secrets["SONAR_TOKEN"]["masked"] = False
    settings.protected_branches = {"release/*"}  # a wildcard that does not cover main
    code, _, report, _ = doctor("gitlab", settings)
    findings = by_item(report)
    assert code == 1
    assert findings["branch main: protection"]["status"] == "weaker"
    assert findings["environment prod"]["status"] == "weaker"
    assert findings["secret SONAR_TOKEN"]["status"] == "weaker" and "Mask" in findings["secret SONAR_TOKEN"]["fix"]


def test_github_release_branch_without_protection_and_open_deployment_branches_are_weaker(doctor) -> None:
    settings = configured("github")
    settings.protected_branches.clear()
    settings.environments["qa"]["branches"] = []
    code, _, report, _ = doctor("github", settings)
    findings = by_item(report)
    assert code == 1
    assert findings["branch main: protection"]["status"] == "weaker"
    assert findings["environment qa: deployment branches"]["found"] == "every branch may deploy"


def test_azure_secret_stored_in_clear_is_weaker(doctor) -> None:
    settings = configured("azure")
    settings.secrets["SONAR_TOKEN"] = {"isSecret": False}
    code, _, report, _ = doctor("azure", settings)
    assert code == 1
    assert by_item(report)["secret SONAR_TOKEN"]["status"] == "weaker"


@pytest.mark.parametrize("platform, path, scope", [
    ("github", "actions/secrets", "Secrets: read"), ("gitlab", "variables", "read_api"),
    ("azure", "build/definitions", "Build (Read)"), ("jenkins", "credentials", "Credentials/View")])
def test_a_token_lacking_a_scope_cannot_evaluate_and_names_the_scope(doctor, platform: str, path: str,
                                                                     scope: str) -> None:
    settings = configured(platform)
    settings.forbidden = path
    code, output, report, _ = doctor(platform, settings)
    assert code == 3
    assert scope in report["error"] and scope in output
    assert report["findings"] == []
    assert TOKEN not in output


@pytest.mark.parametrize("platform, variable", [("github", "GITHUB_TOKEN"), ("gitlab", "GITLAB_TOKEN"),
                                                ("azure", "AZURE_DEVOPS_EXT_PAT"), ("jenkins", "JENKINS_API_TOKEN")])
def test_no_token_cannot_evaluate_and_names_the_variable(doctor, platform: str, variable: str) -> None:
    code, output, report, stand_in = doctor(platform, configured(platform), token=None)
    assert code == 3
    assert variable in report["error"] and variable in output
    assert stand_in.requests == []  # nothing asked without a token


def test_a_wrong_token_is_refused_with_exit_3(doctor) -> None:
    code, _, report, _ = doctor("github", configured("github"), token="not-the-token-at-all")
    assert code == 3 and "HTTP 401" in report["error"] and "GITHUB_TOKEN" in report["error"]


def test_a_page_link_to_another_host_is_not_followed(doctor) -> None:
    """A server naming another host in its `Link` header gets no request from doctor, so the
    token never leaves the configured host; the run cannot evaluate (3) and says why."""
    settings = configured("github")
    settings.link_host = "localhost"  # the same stand-in under another name: a request would be recorded
    code, _, report, stand_in = doctor("github", settings)
    assert code == 3 and "another host" in report["error"]
    assert all("page=2" not in path for path, _ in stand_in.requests)


@pytest.mark.parametrize("output_format", ["json", "markdown"])
def test_json_and_markdown_on_stdout(doctor, output_format: str, tmp_path: Path) -> None:
    settings = configured("azure")
    settings.secrets.clear()
    stand_in = StandIn("azure", settings)
    try:
        result = CliRunner().invoke(cli, ["doctor", "-d", str(DESCRIPTOR), "-t", "azure", "--api-url",
                                          f"{stand_in.url}/acme-org", "--project", "Churn/churn-model", "--format",
                                          output_format, "--markdown", str(tmp_path / "doctor.md")],
                                    env={"AZURE_DEVOPS_EXT_PAT": TOKEN}, catch_exceptions=False)
    finally:
        stand_in.stop()
    assert result.exit_code == 1
    markdown = (tmp_path / "doctor.md").read_text(encoding="utf-8")
    assert markdown.startswith("### ❌ pipegen doctor `azure`: FAIL")
    assert "| secret SONAR_TOKEN | secret | not found | missing |" in markdown
    if output_format == "json":
        data = json.loads(result.stdout)
        assert data["exit_code"] == 1 and data["platforms"][0]["verdict"] == "fail"
    else:
        assert result.output == markdown


def test_every_target_without_its_api_cannot_evaluate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No URL for Azure and Jenkins, no repository for GitHub and GitLab: each platform says what
    is missing, nothing is asked, exit 3."""
    for name in TOKEN_VARIABLES + ("GITHUB_REPOSITORY", "CI_PROJECT_ID", "CI_PROJECT_PATH", "SYSTEM_TEAMPROJECT",
                                   "BUILD_DEFINITIONNAME", "JOB_NAME", "BRANCH_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["doctor", "-d", str(DESCRIPTOR), "--format", "json"], catch_exceptions=False)
    errors = {report["platform"]: report["error"] for report in json.loads(result.stdout)["platforms"]}
    assert result.exit_code == 3
    assert "pass --project" in errors["github"] and "pass --project" in errors["gitlab"]
    assert "SYSTEM_COLLECTIONURI" in errors["azure"] and "JENKINS_URL" in errors["jenkins"]


def test_api_url_with_several_targets_is_bad_usage(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["doctor", "-d", str(DESCRIPTOR), "--api-url", "https://example.invalid"])
    assert exited.value.code == 2
    assert "one --target" in capsys.readouterr().err


def test_the_ci_variables_name_repository_and_api(doctor, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a GitHub job, GITHUB_API_URL and GITHUB_REPOSITORY say where to ask: no option needed."""
    stand_in = StandIn("github", configured("github"))
    monkeypatch.setenv("GITHUB_API_URL", stand_in.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/churn")
    try:
        result = CliRunner().invoke(cli, ["doctor", "-d", str(DESCRIPTOR), "-t", "github"],
                                    env={"GITHUB_TOKEN": TOKEN}, catch_exceptions=False)
    finally:
        stand_in.stop()
    assert result.exit_code == 0, result.output
    assert doctor  # the fixture cleared the tokens and CI variables of the machine running the tests


IN_CI = ["doctor", "-d", str(DESCRIPTOR), "--in-ci", "--release-branch", "main", "--token-env", "DOCTOR_TOKEN"]


def test_in_ci_checks_the_running_platform_on_the_release_branch_with_the_named_secret(doctor) -> None:
    """What the generated pipegen-check step runs (settings.doctor): GitHub Actions' own variables
    say where to ask, the token comes from the secret the descriptor names."""
    settings = configured("github")
    settings.secrets.pop("SONAR_TOKEN")
    stand_in = StandIn("github", settings)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_API_URL": stand_in.url,
           "GITHUB_REPOSITORY": "acme/churn", "DOCTOR_TOKEN": TOKEN}
    try:
        result = CliRunner().invoke(cli, IN_CI, env=env, catch_exceptions=False)
        refused = CliRunner().invoke(cli, IN_CI, env={**env, "DOCTOR_TOKEN": ""}, catch_exceptions=False)
    finally:
        stand_in.stop()
    assert doctor and result.exit_code == 1
    assert "secret SONAR_TOKEN" in result.stdout and "doctor github: FAIL" in result.stdout
    assert TOKEN not in result.output
    assert refused.exit_code == 3 and "set the environment variable DOCTOR_TOKEN" in refused.output


@pytest.mark.parametrize("env, reason", [
    ({}, "not running in GitHub Actions, GitLab CI, Azure Pipelines or Jenkins"),
    ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/feature"}, "release branch main only"),
    ({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_HEAD_REF": "main",
      "GITHUB_REF": "refs/pull/7/merge"}, "release branch main only")])
def test_in_ci_elsewhere_says_why_nothing_is_checked(doctor, env: dict, reason: str) -> None:
    result = CliRunner().invoke(cli, IN_CI, env=env, catch_exceptions=False)
    assert doctor and result.exit_code == 0
    assert reason in result.output and "not checked" in result.output


def test_names_from_the_server_cannot_drive_the_ci_log(doctor) -> None:
    """A reviewer's name is data: a logging command in it reaches the log neutralised."""
    settings = configured("github")
    settings.environments["prod"]["reviewers"] = ["::error::pwned", "##vso[task.setvariable variable=X]1",
                                                  "x\n::error::on a line of its own"]
    code, output, _, _ = doctor("github", settings)
    assert code == 1
    assert "##vso[" not in output and "##vso [task.setvariable" in output  # Azure reads it anywhere in a line
    assert not any(line.lstrip().startswith("::") for line in output.splitlines())  # GitHub: at a line's start


def test_an_unreachable_server_cannot_evaluate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    stand_in = StandIn("gitlab", configured("gitlab"))
    stand_in.stop()  # its port is closed now: nothing answers there
    result = CliRunner().invoke(cli, ["doctor", "-d", str(DESCRIPTOR), "-t", "gitlab", "--api-url",
                                      f"{stand_in.url}/api/v4", "--project", "acme/churn"],
                                env={"GITLAB_TOKEN": TOKEN}, catch_exceptions=False)
    assert result.exit_code == 3
    assert "could not list the CI/CD variables: ConnectionError" in result.output
