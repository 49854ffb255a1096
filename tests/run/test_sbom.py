"""The build job's SBOM, generated for real: `pipegen run` runs the build job of a project with an
image (the `docker` stand-in builds and pushes, since no Docker runs here), the job installs the
project's runtime requirements and pipegen's `sbom` extra, `pipegen sbom environment` runs
cyclonedx-py on the job's Python, and the SBOM kept with the run's artifacts is checked here,
independently, against the CycloneDX schema."""
from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from pipegen.plan.jobs.image import SBOM_PATH

from .conftest import job_log, pipegen_run, run_environment

pytestmark = pytest.mark.slow

# The minimal example (a library), now with runtime requirements and an image deployed to QA.
WITH_AN_IMAGE = """\
project:
  name: textstats
  python: "3.11"
  requirements: {runtime: requirements.txt, test: requirements-test.txt}
targets: [github, gitlab, azure, jenkins]
tests:
  unit: tests/unit
image: {name: textstats}
environments:
  qa: {deploy: echo "deploying $IMAGE_REF"}
"""


def test_the_build_job_keeps_a_valid_cyclonedx_sbom_of_its_python_environment(
        example_repo, scenario_settings, standin_bin):
    repo = example_repo("minimal")
    repo.write({"pipegen.yaml": WITH_AN_IMAGE, "requirements.txt": "packaging\n",
                "Dockerfile": "FROM scratch\n"})
    repo.commit("textstats ships an image")
    env = run_environment(**scenario_settings, PATH=f"{standin_bin}:{run_environment()['PATH']}",
                          PIPEGEN_TEST_DOCKER_LOG=str(repo.root.parent / "docker.log"),
                          REGISTRY="registry.example.test:5000")
    ran = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--job", "build", env=env)
    assert ran.statuses == {"build": "passed"}, ran.explain()
    assert "CycloneDX 1.6, valid" in job_log(repo.root, "build")

    sbom = repo.root / ".pipegen" / "run" / "artifacts" / "build" / SBOM_PATH
    text = sbom.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document = json.loads(text)
    components = {component["name"].lower(): component for component in document["components"]}
    # the project's runtime requirement, installed in the job's environment, with its exact version
    assert components["packaging"]["purl"] == f"pkg:pypi/packaging@{components['packaging']['version']}"
    assert "textstats" in components  # the project itself (installed editable)
    assert "cyclonedx-bom" not in components and "pipegen-ci" not in components  # pipegen's own venv is apart
