"""The kubernetes kind at run time: manifests rendered offline (the real `kubectl kustomize`),
the image set by digest, validated with kubernetes-validate; applied and rolled out against the
`kubectl` stand-in (tests/executors/bin/kubectl: no cluster runs here), which can also hold a
rollout that never becomes ready, so the job rolls back and fails."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import run_pipegen

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "k8s"
DIGEST = "registry.example.test/churn-model@sha256:" + "ab" * 32


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin_bin: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES, root / "k8s")
    monkeypatch.chdir(root)
    monkeypatch.setenv("PATH", f"{standin_bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PIPEGEN_TEST_KUBECTL_STATE", str(tmp_path / "cluster"))
    return root


def images(path: Path) -> dict[str, list[str]]:
    return {document["metadata"]["name"]: [container["image"] for container in
                                           document["spec"]["template"]["spec"]["containers"]]
            for document in yaml.safe_load_all(path.read_text()) if document["kind"] == "Deployment"}


def calls(tmp_path: Path) -> list[list[str]]:
    """What reached the "cluster" (rendering with kustomize runs the real kubectl, offline)."""
    made = [json.loads(line) for line in (tmp_path / "cluster" / "calls.log").read_text().splitlines()]
    return [call for call in made if call[0] != "kustomize"]


def render(capsys, *args: str):
    return run_pipegen(capsys, "deploy", "kubernetes", "render", *args)


def test_a_kustomize_overlay_renders_with_the_image_digest_and_validates(project: Path, capsys) -> None:
    result = render(capsys, "--manifests", "k8s/overlays/qa", "--image", "churn-model", "--image-ref", DIGEST,
                    "--out", "out/qa.yaml")
    assert result.exit_code == 0, result.err
    # only the project's image moves to the digest; the overlay's prefix and patch are applied
    sidecar = "registry.example.test/tools/proxy:1.2"
    assert images(project / "out" / "qa.yaml") == {"qa-churn-api": [DIGEST, sidecar]}
    assert yaml.safe_load_all((project / "out" / "qa.yaml").read_text()).__next__()["kind"] == "Service"
    assert "2 object(s) valid against Kubernetes" in result.out


def test_plain_manifests_and_one_file_render_too(project: Path, capsys) -> None:
    assert render(capsys, "--manifests", "k8s/base/deployment.yaml", "--out", "one.yaml").exit_code == 0
    (project / "k8s" / "base" / "kustomization.yaml").unlink()
    plain = render(capsys, "--manifests", "k8s/base", "--image", "churn-model", "--image-ref", DIGEST,
                   "--out", "p.yaml")
    assert plain.exit_code == 0, plain.err
    assert images(project / "p.yaml") == {"churn-api": [DIGEST, "registry.example.test/tools/proxy:1.2"]}


@pytest.mark.parametrize(("edit", "code", "message"), [
    (("replicas: 1", "replicas: two"), 1, "Deployment/churn-api: spec.replicas"),
    (("  replicas: 1", "  replicas: 1\n  replica: 1"), 1, "Deployment/churn-api"),
    (("image: churn-model:latest", "image: another:latest"), 1, "no container in the manifests runs the image"),
])
def test_invalid_manifests_are_refused_before_anything_is_applied(project: Path, capsys, edit, code, message) -> None:
    path = project / "k8s" / "base" / "deployment.yaml"
    path.write_text(path.read_text().replace(*edit))
    result = render(capsys, "--manifests", "k8s/base", "--image", "churn-model", "--image-ref", DIGEST,
                    "--out", "x.yaml")
    assert result.exit_code == code and message in result.err, result.err
    assert not (project / "x.yaml").exists()


def test_a_tag_is_never_deployed(project: Path, capsys) -> None:
    result = render(capsys, "--manifests", "k8s/base", "--image", "churn-model", "--image-ref",
                    "registry.example.test/churn-model:v2", "--out", "x.yaml")
    assert result.exit_code == 2 and "is not an image digest" in result.err


def test_a_rollout_that_becomes_ready(project: Path, tmp_path: Path, capsys) -> None:
    assert render(capsys, "--manifests", "k8s/overlays/qa", "--image", "churn-model", "--image-ref", DIGEST,
                  "--out", "qa.yaml").exit_code == 0
    result = run_pipegen(capsys, "deploy", "kubernetes", "apply", "--manifest", "qa.yaml", "--namespace", "churn-qa",
                         "--context", "qa-cluster", "--timeout", "30")
    assert result.exit_code == 0, result.err
    made = calls(tmp_path)
    assert made[0] == ["--context", "qa-cluster", "--namespace", "churn-qa", "apply", "-f", "qa.yaml"]
    assert made[1][-3:] == ["status", "deployment/qa-churn-api", made[1][-1]] and made[1][-1].startswith("--timeout=")
    assert "rolled out: deployment/qa-churn-api" in result.out


def test_a_rollout_that_never_becomes_ready_is_rolled_back(project: Path, tmp_path: Path, capsys,
                                                           monkeypatch) -> None:
    monkeypatch.setenv("KUBE_SECRET", "apiVersion: v1\nkind: Config\n")
    assert render(capsys, "--manifests", "k8s/base", "--image", "churn-model", "--image-ref", DIGEST,
                  "--out", "v1.yaml").exit_code == 0
    first = run_pipegen(capsys, "deploy", "kubernetes", "apply", "--manifest", "v1.yaml", "--timeout", "30",
                        "--kubeconfig-env", "KUBE_SECRET")
    assert first.exit_code == 0, first.err
    path = project / "k8s" / "base" / "deployment.yaml"
    path.write_text(path.read_text().replace("      labels: {app: churn-api}\n    spec:",
                                             "      labels: {app: churn-api}\n      annotations:\n"
                                             "        pipegen.test/never-ready: 'true'\n    spec:"))
    assert render(capsys, "--manifests", "k8s/base", "--image", "churn-model", "--image-ref", DIGEST,
                  "--out", "v2.yaml").exit_code == 0
    second = run_pipegen(capsys, "deploy", "kubernetes", "apply", "--manifest", "v2.yaml", "--timeout", "2",
                         "--kubeconfig-env", "KUBE_SECRET")
    assert second.exit_code == 1, second.out
    assert "deployment/churn-api did not become ready within 2 s: rolled back deployment/churn-api" in second.err
    verbs = [call[call.index("--kubeconfig") + 2:][:2] for call in calls(tmp_path)]
    assert verbs == [["apply", "-f"], ["rollout", "status"], ["apply", "-f"], ["rollout", "status"],
                     ["rollout", "undo"]]
    state = json.loads((tmp_path / "cluster" / "objects.json").read_text())
    assert state["deployment/churn-api"]["revision"] == 1 and state["deployment/churn-api"]["undone"]
    # the kubeconfig went to kubectl as a private file that is gone afterwards
    kubeconfig = Path(calls(tmp_path)[0][1])
    assert not kubeconfig.exists() and kubeconfig.name == "kubeconfig"


def test_an_empty_kubeconfig_secret_is_a_usage_error(project: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("KUBE_SECRET", "")
    (project / "m.yaml").write_text((FIXTURES / "base" / "service.yaml").read_text())
    result = run_pipegen(capsys, "deploy", "kubernetes", "apply", "--manifest", "m.yaml", "--kubeconfig-env",
                         "KUBE_SECRET")
    assert result.exit_code == 2 and "$KUBE_SECRET is empty" in result.err


def test_a_chart_needs_helm_on_the_runner(project: Path, capsys, monkeypatch) -> None:
    (project / "chart").mkdir()
    monkeypatch.setenv("PATH", "/nonexistent")
    result = render(capsys, "--chart", "chart", "--out", "x.yaml")
    assert result.exit_code == 3 and "helm is not on PATH" in result.err
