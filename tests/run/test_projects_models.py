"""Two models in one repository (examples/monorepo with a model block per ML project), under `pipegen run` with a
real MLflow server: each model is trained, gated and promoted under its own registered name and champion alias,
and a later change to one project gates and promotes only that project's model."""
from __future__ import annotations

import subprocess
import sys

import pytest

from executors.plugin import forget_registered_model

from .conftest import pipegen_run, run_environment

pytestmark = pytest.mark.slow

MODELS = {"churn": ("churn-classifier", "churn-champion", "auc"), "fraud": ("fraud-detector", "champion", "recall")}

TRAIN = '''\
"""`python -m {package}.train`: register a version of {model} with its {metric}, publish MODEL_VERSION."""
import os
import subprocess

import mlflow
from mlflow.pyfunc import PythonModel


class Scores(PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def main() -> None:
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment("{package}")
    with mlflow.start_run():
        mlflow.log_metric("{metric}", float(os.environ.get("{variable}", "0.9")))
        info = mlflow.pyfunc.log_model(name="model", python_model=Scores(), registered_model_name="{model}",
                                       pip_requirements=["mlflow"])
    version = str(info.registered_model_version)
    subprocess.run(["pipegen", "output", "set", "MODEL_VERSION", version], check=True)


if __name__ == "__main__":
    main()
'''


def model_block(project: str) -> str:
    name, alias, metric = MODELS[project]
    return (f"    project: {{requirements: {{runtime: requirements.txt, test: requirements-test.txt}}}}\n"
            f"    model:\n      name: {name}\n      train: python -m {project}.train\n"
            f"      champion_alias: {alias}\n"
            f"      metrics: {{{metric}: {{greater_is_better: true, threshold: 0.7, min_absolute_change: 0.01}}}}\n"
            "    environments:\n      prod: {approval: {approvers: [ml-leads]}}\n")


def aliases(tracking_uri: str, name: str) -> dict[str, str]:
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel  # heavy

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    return {alias: str(version) for alias, version in client.get_registered_model(name).aliases.items()}


@pytest.fixture
def two_models(example_repo, scenario_settings, mlflow_server):
    repo = example_repo("monorepo")
    descriptor = (repo.root / "pipegen.yaml").read_text(encoding="utf-8")
    files = {}
    for project, (model, _, metric) in MODELS.items():
        folder = f"models/{project}"
        descriptor = descriptor.replace(f"    folder: {folder}\n", f"    folder: {folder}\n{model_block(project)}")
        files[f"{folder}/requirements.txt"] = "mlflow>=2.16,<4\n-e ../../libs/features\n"
        files[f"{folder}/src/{project}/train.py"] = TRAIN.format(package=project, model=model, metric=metric,
                                                                 variable=f"{project.upper()}_SCORE")
        forget_registered_model(mlflow_server, model)
    repo.write({"pipegen.yaml": descriptor, **files})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("two models, each with its own registered name and champion")
    repo.push("main")
    env = run_environment(**scenario_settings, PIP_NO_COMPILE="1", MLFLOW_TRACKING_URI=mlflow_server)
    return repo, env, mlflow_server


@pytest.mark.pipeline_scenario(minutes=7)
def test_each_model_is_gated_and_promoted_on_its_own(two_models) -> None:
    repo, env, tracking = two_models
    first = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--approve", "--parallel", "2", env=env)
    assert first.returncode == 0, first.explain()
    versions = {}
    for project, (model, alias, _) in MODELS.items():
        for job in ("train", "model-gate", "promote-model"):
            assert first.statuses[f"{project}-{job}"] == "passed", first.explain()
        versions[project] = first.outputs(f"{project}-train")["MODEL_VERSION"]
        assert aliases(tracking, model) == {alias: versions[project]}

    # A change to fraud alone, with a better score: only fraud's model is trained, gated and promoted.
    repo.git("checkout", "--quiet", "-b", "fraud-better")
    repo.commit("fraud: a better detector", {"models/fraud/src/fraud/__init__.py":
                                             (repo.root / "models/fraud/src/fraud/__init__.py").read_text() + "\n"})
    second = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--approve", "--changed-since", "main",
                         env={**env, "FRAUD_SCORE": "0.95"})
    assert second.returncode == 0, second.explain()
    assert {job: second.statuses[job] for job in ("churn-train", "churn-model-gate", "churn-promote-model")} == {
        "churn-train": "unchanged", "churn-model-gate": "unchanged", "churn-promote-model": "unchanged"}
    assert second.statuses["fraud-promote-model"] == "passed", second.explain()
    newer = second.outputs("fraud-train")["MODEL_VERSION"]
    assert newer != versions["fraud"]
    assert aliases(tracking, "fraud-detector") == {"champion": newer, "previous-champion": versions["fraud"]}
    assert aliases(tracking, "churn-classifier") == {"churn-champion": versions["churn"]}
