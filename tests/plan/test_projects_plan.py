"""Several projects, one plan: prefixed jobs in their folders, each project's model its own, the library's
dependants after its tests, and each platform's selection of a project's jobs (parsed, not grepped)."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from pipegen.pins.images import python_image
from pipegen.descriptor.loader import read_any
from pipegen.generate.render import render_file
from pipegen.plan import EnvKind
from pipegen.plan.projects import build_projects_plan

DESCRIPTOR = """\
version: 1
targets: [github, gitlab]
project:
  requirements: {test: requirements-test.txt}
tests:
  unit: tests/unit
projects:
  features:
    folder: libs/features
  churn:
    folder: models/churn
    depends_on: [features]
    image: {name: churn-api}
    model:
      name: churn-classifier
      train: python -m churn.train
      champion_alias: churn-champion
      metrics:
        auc: {greater_is_better: true, threshold: 0.75}
  fraud:
    folder: models/fraud
    depends_on: [features]
    paths: ["data/fraud/**"]
    project: {python: "3.12"}
    model:
      name: fraud-detector
      train: python -m fraud.train
      metrics:
        recall: {greater_is_better: true, threshold: 0.6}
"""


@pytest.fixture
def plan(tmp_path: Path):
    path = tmp_path / "pipegen.yaml"
    path.write_text(DESCRIPTOR, encoding="utf-8")
    return build_projects_plan(read_any(path))


def flags(command: str) -> dict[str, str]:
    words = shlex.split(command.replace("\\\n", " "))
    return {word: words[index + 1] for index, word in enumerate(words[:-1]) if word.startswith("--")}


def test_jobs_are_prefixed_and_run_in_their_project_folder(plan) -> None:
    ids = [job.id for job in plan.jobs]
    assert ids[:3] == ["pipegen-check", "changes", "features-unit"]
    assert ids.count("pipegen-check") == 1
    for job in plan.jobs[2:]:
        project = job.id.split("-")[0]
        assert job.project == project and job.folder == {"features": "libs/features", "churn": "models/churn",
                                                         "fraud": "models/fraud"}[project]
        assert dict(job.env)["PIPEGEN_PROJECT"].value == project
        assert "changes" in job.needs
    assert plan.job("churn-unit").needs == ("changes", "features-unit")
    # The image is built after the library's tests, as the project's own tests are.
    assert plan.job("churn-build").needs == ("changes", "features-unit")
    assert plan.job("churn-build").stage == "qa"
    assert plan.job("changes").outputs == ("CHANGED_FEATURES", "CHANGED_CHURN", "CHANGED_FRAUD")


def test_each_model_is_gated_and_promoted_with_its_own_names(plan) -> None:
    for project, model, alias in (("churn", "churn-classifier", "churn-champion"),
                                  ("fraud", "fraud-detector", "champion")):
        gate = flags(plan.job(f"{project}-model-gate").steps[-1].run)
        assert (gate["--model-name"], gate["--champion-alias"]) == (model, alias)
        promote = flags(plan.job(f"{project}-promote-model").steps[-1].run)
        assert promote["--model-name"] == model
        train = plan.job(f"{project}-train")
        assert train.outputs == ("MODEL_VERSION",)
        reader = dict(plan.job(f"{project}-model-gate").env)["MODEL_VERSION"]
        assert (reader.kind, reader.producer) == (EnvKind.OUTPUT, f"{project}-train")


def test_github_gates_each_project_on_the_changes_job(plan) -> None:
    workflow = yaml.safe_load(render_file(plan, "github").text)
    jobs = workflow["jobs"]
    assert set(jobs["changes"]["outputs"]) == {"CHANGED_FEATURES", "CHANGED_CHURN", "CHANGED_FRAUD"}
    churn = jobs["churn-unit"]
    assert churn["defaults"]["run"]["working-directory"] == "models/churn"
    assert "changes" in churn["needs"] and "features-unit" in churn["needs"]
    assert "needs.changes.outputs.CHANGED_CHURN == 'true'" in churn["if"] and "!failure()" in churn["if"]
    setup = next(step for step in jobs["fraud-unit"]["steps"] if step.get("name", "").startswith("Set up Python"))
    assert setup["with"]["python-version"] == "3.12"
    keep = next(step for step in churn["steps"] if step.get("name", "").startswith("Keep the reports"))
    assert all(path.startswith("models/churn/") for path in keep["with"]["path"].split("\n"))


def test_gitlab_selects_each_project_with_rules_changes(plan) -> None:
    pipeline = yaml.safe_load(render_file(plan, "gitlab").text)
    assert "changes" not in pipeline
    fraud = pipeline["fraud-unit"]
    changed = [rule for rule in fraud["rules"] if "changes" in rule]
    assert changed and set(changed[0]["changes"]["paths"]) == {
        "models/fraud/**/*", "data/fraud/**/*", "libs/features/**/*", "pipegen.yaml", ".gitlab-ci.yml"}
    assert fraud["rules"][-1] == {"when": "on_success"}  # schedules, manual runs, first pushes: every project
    assert {"job": "features-unit", "artifacts": False, "optional": True} in fraud["needs"]
    assert fraud["before_script"][0] == "cd models/fraud"
    assert (pipeline["default"]["image"], fraud["image"], "image" in pipeline["churn-unit"]) == (
        python_image("3.11"), python_image("3.12"), False)
    assert fraud["artifacts"]["reports"]["junit"] == ["models/fraud/pipegen-reports/unit.junit.xml"]


def test_github_report_comment_reads_only_its_own_projects_reports(tmp_path: Path) -> None:
    """Each project's report-comment job fetches the reports of its own project's jobs, by name (a
    `reports-churn-*` glob would also take a `churn-api` project's), into its own folder, where its
    `pipegen report comment --reports-dir pipegen-reports` runs."""
    path = tmp_path / "pipegen.yaml"
    path.write_text(DESCRIPTOR.replace("targets: [github, gitlab]", "targets: [github]")
                    + "  churn-api:\n    folder: services/churn-api\nreport:\n  comment: true\n", encoding="utf-8")
    workflow = yaml.safe_load(render_file(build_projects_plan(read_any(path)), "github").text)
    jobs = workflow["jobs"]

    def fetched(job_id: str) -> dict:
        (step,) = [step for step in jobs[job_id]["steps"] if str(step.get("uses", "")).startswith(
            "actions/download-artifact@") and step["with"].get("merge-multiple")]
        return step["with"]

    def kept(project: str) -> set[str]:
        return {step["with"]["name"] for job_id, job in jobs.items() if job.get("env", {}).get("PIPEGEN_PROJECT")
                == project and job_id != f"{project}-report-comment" for step in job["steps"]
                if str(step.get("uses", "")).startswith("actions/upload-artifact@")
                and step["with"]["name"].startswith("reports-")}

    churn = fetched("churn-report-comment")
    assert churn["path"] == "models/churn/pipegen-reports"
    assert jobs["churn-report-comment"]["defaults"]["run"]["working-directory"] == "models/churn"
    # minimatch's braces: {a,b} matches a or b, each name whole.
    assert churn["pattern"].startswith("{") and churn["pattern"].endswith("}")
    assert set(churn["pattern"][1:-1].split(",")) == kept("churn") and len(kept("churn")) > 1
    assert {fetched("churn-api-report-comment")["pattern"]} == kept("churn-api")  # one job: its exact name
