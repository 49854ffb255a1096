"""The image's SBOM in each platform's file, read back as structure: GitHub attests the SBOM the
build step writes to the digest the same step publishes (with `image.provenance`, the only job with
`attestations: write` and `id-token: write`); GitLab declares both SBOMs as its native `cyclonedx`
reports and, with provenance, asks the runner for its artifact provenance metadata; Azure keeps them
as pipeline artifacts. Without provenance nothing is attested and no job gets a token."""
from __future__ import annotations

import re
import shlex

import yaml

from conftest import plan_from_yaml
from pipegen.platforms import get_backend
from pipegen.platforms.github.backend import ATTEST

DESCRIPTOR = """
    version: 1
    project: {{name: app}}
    targets: [github, gitlab, azure, jenkins]
    tests: {{unit: tests/unit}}
    image: {{name: app, provenance: {provenance}}}
    environments:
      qa: {{deploy: ./deploy.sh qa "$IMAGE_REF"}}
      prod: {{deploy: ./deploy.sh prod "$IMAGE_REF", approval: {{approvers: [ops]}}}}
"""
ENVIRONMENT_SBOM = "pipegen-reports/sbom/python-environment.cdx.json"
IMAGE_SBOM = "pipegen-reports/sbom/image.cdx.json"


def _rendered(target: str, provenance: bool) -> dict:
    plan = plan_from_yaml(DESCRIPTOR.format(provenance=str(provenance).lower()))
    return yaml.safe_load(get_backend(target).render(plan))


def _sbom_image_arguments(script: str) -> list[str]:
    """The arguments of the `pipegen sbom image` command in a shell script (continuations joined)."""
    line = next(line for line in script.replace("\\\n", " ").splitlines() if "pipegen sbom image" in line)
    return shlex.split(line)


def test_github_attests_the_sbom_the_build_step_writes_to_the_digest_it_publishes():
    jobs = _rendered("github", provenance=True)["jobs"]
    steps = jobs["build"]["steps"]
    writer = next(step for step in steps if "pipegen sbom image" in step.get("run", ""))
    arguments = _sbom_image_arguments(writer["run"])
    written = arguments[arguments.index("--output") + 1]
    assert arguments[arguments.index("--image-ref") + 1] == "$digest"
    assert re.search(r'pipegen output set IMAGE_REF "\$digest"', writer["run"])  # the digest it publishes

    subject = next(step for step in steps if step.get("id") == "subject")
    assert subject["env"]["IMAGE_REF"] == f"${{{{ steps.{writer['id']}.outputs.IMAGE_REF }}}}"
    (attest,) = [step for step in steps if step.get("uses") == ATTEST.uses]
    assert attest["with"]["sbom-path"] == written == IMAGE_SBOM
    assert attest["with"]["subject-digest"] == "${{ steps.subject.outputs.digest }}"
    assert attest["with"]["subject-name"] == "${{ steps.subject.outputs.name }}"
    assert attest["with"]["push-to-registry"] is True
    assert steps.index(writer) < steps.index(subject) < steps.index(attest)

    granted = {job_id: job.get("permissions") or {} for job_id, job in jobs.items()}
    writers = {job_id for job_id, permissions in granted.items() if permissions.get("attestations") == "write"}
    tokens = {job_id for job_id, permissions in granted.items() if permissions.get("id-token") == "write"}
    assert writers == tokens == {"build"}
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact@"))
    assert set(upload["with"]["path"].splitlines()) == {ENVIRONMENT_SBOM, IMAGE_SBOM}


def test_github_without_provenance_keeps_the_sboms_but_attests_nothing():
    jobs = _rendered("github", provenance=False)["jobs"]
    assert not [job_id for job_id, job in jobs.items()
                if {"id-token", "attestations"} & set(job.get("permissions") or {})]
    assert not [step for step in jobs["build"]["steps"] if "attest" in str(step.get("uses", ""))]
    upload = next(step for step in jobs["build"]["steps"]
                  if str(step.get("uses", "")).startswith("actions/upload-artifact@"))
    assert set(upload["with"]["path"].splitlines()) == {ENVIRONMENT_SBOM, IMAGE_SBOM}


def test_gitlab_declares_both_sboms_as_cyclonedx_reports_and_asks_for_provenance_metadata():
    pipeline = _rendered("gitlab", provenance=True)
    build = pipeline["build"]
    assert build["artifacts"]["reports"]["cyclonedx"] == [ENVIRONMENT_SBOM, IMAGE_SBOM]
    assert {ENVIRONMENT_SBOM, IMAGE_SBOM} <= set(build["artifacts"]["paths"])
    arguments = _sbom_image_arguments("\n".join(build["script"]))
    assert arguments[arguments.index("--output") + 1] == IMAGE_SBOM
    metadata = {name for name, job in pipeline.items() if isinstance(job, dict)
                and (job.get("variables") or {}).get("RUNNER_GENERATE_ARTIFACTS_METADATA") == "true"}
    assert metadata == {"build"}
    without = _rendered("gitlab", provenance=False)["build"]
    assert "RUNNER_GENERATE_ARTIFACTS_METADATA" not in (without.get("variables") or {})
    assert without["artifacts"]["reports"]["cyclonedx"] == [ENVIRONMENT_SBOM, IMAGE_SBOM]


def test_azure_keeps_both_sboms_as_pipeline_artifacts():
    pipeline = _rendered("azure", provenance=True)
    jobs = [job for stage in pipeline["stages"] for job in stage["jobs"] if job.get("job") == "build"]
    (build,) = jobs
    kept = {step["inputs"]["targetPath"] for step in build["steps"] if step.get("task") == "PublishPipelineArtifact@1"}
    assert {ENVIRONMENT_SBOM, IMAGE_SBOM} <= kept
