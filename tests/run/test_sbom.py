"""The build job's SBOMs, generated for real: `pipegen run` runs the build job of a project with an
image (the `docker` stand-in builds, pushes and saves, since no Docker runs here), the job installs the
project's runtime requirements and pipegen's `sbom` extra, `pipegen sbom environment` runs
cyclonedx-py on the job's Python, and `pipegen sbom image` runs the real syft on the image `docker
save` wrote. Both SBOMs kept with the run's artifacts are checked here, independently, against the
CycloneDX schema.

The stand-in's image is what its Dockerfile COPYs from the build context (FROM scratch; the stand-in
runs no RUN line): here a Debian package database and a Python distribution, so syft finds an
operating-system package and a PyPI one in it, as in a real python:*-slim image."""
from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from pipegen.plan.jobs.image import IMAGE_SBOM_PATH, SBOM_PATH

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


SITE = "rootfs/usr/local/lib/python3.11/site-packages"
IMAGE_CONTENT = {
    "rootfs/etc/os-release": 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    "rootfs/var/lib/dpkg/status": ("Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
                                   "Source: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n\n"),
    f"{SITE}/textstats-0.1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: textstats\nVersion: 0.1.0\n",
    f"{SITE}/textstats-0.1.0.dist-info/RECORD": "textstats/__init__.py,,\n",
}


def test_the_build_job_keeps_valid_cyclonedx_sboms_of_its_python_environment_and_its_image(
        example_repo, scenario_settings, standin_bin):
    repo = example_repo("minimal")
    repo.write({"pipegen.yaml": WITH_AN_IMAGE, "requirements.txt": "packaging\n", **IMAGE_CONTENT,
                "Dockerfile": "FROM scratch\nCOPY rootfs/ /\n"})
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

    # The image's SBOM: syft read the image the build saved, named by the digest the job published.
    image_text = (repo.root / ".pipegen" / "run" / "artifacts" / "build" / IMAGE_SBOM_PATH).read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(image_text) is None
    image_sbom = json.loads(image_text)
    purls = {component.get("purl", "").split("?")[0] for component in image_sbom["components"]}
    assert {"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4", "pkg:pypi/textstats@0.1.0"} <= purls
    described = image_sbom["metadata"]["component"]
    assert f"{described['name']}@{described['version']}" == ran.outputs("build")["IMAGE_REF"]
