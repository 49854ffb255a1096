"""Build provenance, executed: act runs the generated workflow of a small project whose image is
attested (`image.provenance: true`). The build job pushes (the `docker` stand-in) and attests the
digest (the actions/attest-build-provenance stand-in records it); deploy-prod verifies with `gh
attestation verify` (the `gh` stand-in, tests/executors/bin/gh: the real one needs GitHub's API and
Sigstore) before its deploy command. When the recorded attestation is of another image, PROD refuses:
the verification step fails and the deploy command never runs."""
from __future__ import annotations

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


@pytest.fixture
def attested(example_repo, wheelhouse, standin_bin, tmp_path: Path):
    repo = example_repo("minimal")
    repo.git("remote", "add", REMOTE_NAME, "https://github.com/pipegen-tests/textstats.git")
    (repo.root / "azure-pipelines.yml").unlink()
    (repo.root / ".gitlab-ci.yml").unlink()
    (repo.root / "Jenkinsfile").unlink()
    repo.write({"pipegen.yaml": DESCRIPTOR, "Dockerfile": "FROM scratch\n"})
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
    assert f'"subject": "{image}"' in attestations.read_text(encoding="utf-8")
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
