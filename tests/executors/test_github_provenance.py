"""Build provenance, executed: act runs the generated workflow of a small project whose image is
attested (`image.provenance: true`). The build job pushes (the `docker` stand-in), writes the image's
SBOM with the real syft (from the image the stand-in's `docker save` wrote) and attests the digest's
provenance and that SBOM (the actions/attest-build-provenance and actions/attest stand-ins record
them); deploy-prod verifies with `gh
attestation verify` (the `gh` stand-in, tests/executors/bin/gh: the real one needs GitHub's API and
Sigstore) before its deploy command. When the recorded attestation is of another image, PROD refuses:
the verification step fails and the deploy command never runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .act_runner import REMOTE_NAME, Act

pytestmark = pytest.mark.slow

REGISTRY = "registry.example.test/team"
DESCRIPTOR = """\
project:
  name: textstats
  python: "3.11"
  requirements: {test: requirements-test.txt}
targets: [github]
tests:
  unit: tests/unit
image: {name: textstats, provenance: true}
environments:
  prod:
    deploy: echo "DEPLOYED=$IMAGE_REF"
    approval: {approvers: [release-managers]}
    branch: main
"""
OTHER_DIGEST = "sha256:" + "0" * 64
DPKG_STATUS = ("Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n"
               "Description: GNU C Library\n\n")


@pytest.fixture
def attested(example_repo, wheelhouse, standin_bin, tmp_path: Path):
    repo = example_repo("minimal")
    repo.git("remote", "add", REMOTE_NAME, "https://github.com/pipegen-tests/textstats.git")
    (repo.root / "azure-pipelines.yml").unlink()
    (repo.root / ".gitlab-ci.yml").unlink()
    (repo.root / "Jenkinsfile").unlink()
    repo.write({"pipegen.yaml": DESCRIPTOR, "Dockerfile": "FROM scratch\nCOPY rootfs/ /\n",
                "rootfs/var/lib/dpkg/status": DPKG_STATUS, "rootfs/etc/os-release": "ID=debian\nVERSION_ID=12\n"})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("textstats ships an attested image")
    repo.push("main")
    work = tmp_path / "act"
    work.mkdir()
    return Act(repo, wheelhouse, standin_bin, work, {"REGISTRY": REGISTRY}, {}), tmp_path / "attestations.jsonl"


def _push(runner: Act, attestations: Path, **env: str):
    event = {"ref": "refs/heads/main", "after": runner.repo.head, "repository": {"default_branch": "main"}}
    return runner.run("push", event, env={"PIPEGEN_TEST_ATTESTATIONS": str(attestations), **env})


def test_prod_deploys_the_attested_image_and_refuses_one_whose_attestation_fails(attested) -> None:
    runner, attestations = attested
    ran = _push(runner, attestations)
    assert ran.returncode == 0, ran.explain()
    assert ran.results["build"] == "success" and ran.results["deploy-prod"] == "success", ran.explain()
    (image,) = ran.printed("deploy-prod", "DEPLOYED")
    assert image.startswith(f"{REGISTRY}/textstats@sha256:")
    recorded = [json.loads(line) for line in attestations.read_text(encoding="utf-8").splitlines()]
    assert {(record["subject"], record["predicateType"]) for record in recorded} == {
        (image, "https://slsa.dev/provenance/v1"), (image, "https://cyclonedx.org/bom")}
    (sbom,) = [record for record in recorded if record["predicateType"] == "https://cyclonedx.org/bom"]
    assert sbom["sbom_describes"] == image and sbom["components"] >= 1  # syft's SBOM of this image, libc6 in it
    assert "Verification succeeded" in ran.log("deploy-prod")

    # The attestation recorded is of another image: PROD's verification fails closed.
    attestations.unlink()
    refused = _push(runner, attestations, PIPEGEN_TEST_ATTEST_OTHER_DIGEST=OTHER_DIGEST)
    assert refused.results["build"] == "success", refused.explain()
    assert refused.results["deploy-prod"] == "failure", refused.explain()
    assert refused.failed_steps("deploy-prod") == ["Verify the image's build provenance before deploying it"], \
        refused.explain()
    assert refused.printed("deploy-prod", "DEPLOYED") == []  # the deploy command never ran
    assert "Verification failed" in refused.log("deploy-prod")
