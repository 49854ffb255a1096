"""Kubernetes: render the manifests (kustomize, plain files, or a Helm chart), set the project's
image by digest, validate every object offline against the Kubernetes schemas
(kubernetes-validate), then apply, wait for each workload's rollout under one deadline, and on
failure roll every workload back and fail."""
from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import yaml

from pipegen.errors import CheckFailed, EvaluationError, UsageError
from pipegen.paths import inside, read_bytes

KUSTOMIZATION = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
ROLLED_OUT = ("Deployment", "StatefulSet", "DaemonSet")  # what `kubectl rollout` waits for
Say = Callable[[str], None]


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    namespace: str | None

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


def _run(argv: list[str], what: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise EvaluationError(f"{argv[0]} is not on PATH: the runner needs it to {what}") from None
    except subprocess.TimeoutExpired:
        raise EvaluationError(f"{' '.join(argv[:3])} did not finish in {timeout:.0f} s") from None


def _checked(argv: list[str], what: str) -> str:
    done = _run(argv, what)
    if done.returncode != 0:
        raise UsageError(f"could not {what}: {' '.join(argv[:3])} exited with {done.returncode}: "
                         f"{(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout


def _documents(text: str, where: str) -> list[dict]:
    try:
        found = [document for document in yaml.safe_load_all(text) if document is not None]
    except yaml.YAMLError as exc:
        raise UsageError(f"{where}: not YAML: {exc}") from None
    for document in found:
        if not isinstance(document, dict) or "kind" not in document or "apiVersion" not in document:
            raise UsageError(f"{where}: every document must be a Kubernetes object (apiVersion, kind)")
    items = []
    for document in found:  # a List's items are objects of their own
        items += document.get("items") or [] if document["kind"].endswith("List") else [document]
    return items


def render_source(root: Path, manifests: str | None = None, chart: str | None = None, values: str | None = None,
                  release: str = "release", namespace: str | None = None) -> list[dict]:
    """The objects the source stands for, rendered offline."""
    if chart is not None:
        folder = inside(root, chart)
        argv = ["helm", "template", release, str(folder)]
        if values:
            argv += ["--values", str(inside(root, values))]
        if namespace:
            argv += ["--namespace", namespace]
        return _documents(_checked(argv, f"render the chart {chart}"), chart)
    if manifests is None:
        raise UsageError("give --manifests or --chart")
    path = inside(root, manifests)
    if path.is_dir() and any((path / name).is_file() for name in KUSTOMIZATION):
        return _documents(_checked(["kubectl", "kustomize", str(path)], f"render {manifests} with kustomize"),
                          manifests)
    if path.is_dir():
        files = sorted(file for file in path.rglob("*") if file.suffix in MANIFEST_SUFFIXES and file.is_file())
        if not files:
            raise UsageError(f"{manifests}: no manifest (*.yaml, *.yml, *.json) in this folder")
    else:
        files = [path]
    documents = []
    for file in files:
        # Each file through the safe reader: a link leading out of the repository is refused.
        documents += _documents(read_bytes(inside(root, file)).decode("utf-8"), str(file))
    return documents


def _pod_specs(document: dict) -> Iterator[dict]:
    spec = document.get("spec") or {}
    kind = document.get("kind")
    if kind == "Pod":
        yield spec
    elif kind == "CronJob":
        yield ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec") or {}
    elif isinstance(spec.get("template"), dict):
        yield spec["template"].get("spec") or {}


def repository(image: str) -> str:
    """An image reference without its digest and tag: `reg:5000/team/app:1@sha256:..` -> `reg:5000/team/app`."""
    name = image.split("@", 1)[0]
    head, _, tail = name.rpartition("/")
    tail = tail.split(":", 1)[0]
    return f"{head}/{tail}" if head else tail


def set_image(documents: list[dict], name: str, reference: str) -> list[str]:
    """Every container running image `name` (any registry, tag or digest) runs `reference`
    instead; returns where. `reference` must be a digest: a tag can move, a digest cannot."""
    if "@sha256:" not in reference:
        raise UsageError(f"{reference!r} is not an image digest (NAME@sha256:...): Kubernetes deploys by "
                         "digest, never by tag")
    changed = []
    for document in documents:
        for spec in _pod_specs(document):
            for field in ("initContainers", "containers"):
                for container in spec.get(field) or ():
                    image = str(container.get("image", ""))
                    if repository(image) == name or repository(image).endswith("/" + name):
                        container["image"] = reference
                        changed.append(f"{document['kind']}/{document.get('metadata', {}).get('name')}: "
                                       f"{container.get('name')}")
    if not changed:
        raise CheckFailed(f"no container in the manifests runs the image {name!r}: nothing would deploy "
                          "IMAGE_REF (name the image as the descriptor does, e.g. image: " + name + ")")
    return changed


def validate(documents: list[dict], version: str | None = None) -> list[str]:
    """Each object against the Kubernetes schemas, offline; returns notes (objects without a
    schema, such as custom resources). Raises CheckFailed naming every invalid object."""
    import kubernetes_validate  # pylint: disable=import-outside-toplevel  # only when validating

    version = version or kubernetes_validate.latest_version()
    problems, notes = [], []
    for document in documents:
        label = f"{document.get('kind')}/{(document.get('metadata') or {}).get('name', '?')}"
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            notes.append(f"{label}: no schema for {document.get('apiVersion')} {document.get('kind')} "
                         f"in Kubernetes {version} (a custom resource?): not validated")
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path) or "(top)"
            problems.append(f"{label}: {where}: {exc.message}")
    if problems:
        raise CheckFailed("the manifests are not valid Kubernetes objects (Kubernetes " + version + "):\n  "
                          + "\n  ".join(problems))
    return [f"{len(documents)} object(s) valid against Kubernetes {version}", *notes]


def dump(documents: list[dict]) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False)


def workloads(documents: list[dict]) -> list[Workload]:
    return [Workload(document["kind"], document["metadata"]["name"], document["metadata"].get("namespace"))
            for document in documents if document.get("kind") in ROLLED_OUT]


def _kubectl(namespace: str | None, context: str | None, kubeconfig: str | None) -> list[str]:
    argv = ["kubectl"]
    if kubeconfig:
        argv += ["--kubeconfig", kubeconfig]
    if context:
        argv += ["--context", context]
    if namespace:
        argv += ["--namespace", namespace]
    return argv


@contextlib.contextmanager
def _kubeconfig(variable: str | None) -> Iterator[str | None]:
    """The kubeconfig a secret holds, as a private file that lives as long as the apply."""
    if not variable:
        yield None
        return
    content = os.environ.get(variable)
    if not content:
        raise UsageError(f"${variable} is empty: the kubeconfig secret is not set")
    with tempfile.TemporaryDirectory(prefix="pipegen-kube-") as scratch:
        path = str(Path(scratch) / "kubeconfig")
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(content)
        yield path


def _roll_out(pending: list[Workload], target: Target, timeout: float, say: Say) -> Workload | None:
    """Waits for every rollout under one deadline; returns the first that did not become ready."""
    deadline = time.monotonic() + timeout
    for workload in pending:
        left = max(1, int(deadline - time.monotonic()))
        say(f"$ kubectl rollout status {workload.ref} --timeout={left}s")
        done = _run([*target.kubectl(workload.namespace), "rollout", "status", workload.ref, f"--timeout={left}s"],
                    "wait for the rollout", timeout=left + 60)
        say((done.stdout + done.stderr).rstrip())
        if done.returncode != 0:
            return workload
    return None


@dataclass(frozen=True)
class Target:
    """Where kubectl talks to: the environment's namespace and context, and a kubeconfig file."""

    namespace: str | None
    context: str | None
    kubeconfig: str | None

    def kubectl(self, namespace: str | None = None) -> list[str]:
        return _kubectl(namespace or self.namespace, self.context, self.kubeconfig)


def apply(manifest: Path, namespace: str | None, context: str | None, timeout: float, say: Say,
          kubeconfig_env: str | None = None) -> None:
    """Applies, waits for every rollout under one deadline; on failure rolls every workload back
    and raises CheckFailed."""
    pending = workloads(_documents(read_bytes(manifest).decode("utf-8"), str(manifest)))
    with _kubeconfig(kubeconfig_env) as kubeconfig:
        target = Target(namespace, context, kubeconfig)
        say(f"$ kubectl apply -f {manifest}")
        done = _run([*target.kubectl(), "apply", "-f", str(manifest)], "apply the manifests")
        say((done.stdout + done.stderr).rstrip())
        if done.returncode != 0:
            raise CheckFailed(f"kubectl apply failed (exit {done.returncode}): nothing was rolled out")
        failed = _roll_out(pending, target, timeout, say)
        if failed is None:
            say(f"rolled out: {', '.join(w.ref for w in pending) or 'nothing to wait for'}")
            return
        for workload in pending:
            say(f"$ kubectl rollout undo {workload.ref}")
            done = _run([*target.kubectl(workload.namespace), "rollout", "undo", workload.ref], "roll back")
            say((done.stdout + done.stderr).rstrip() or f"(exit {done.returncode})")
    raise CheckFailed(f"{failed.ref} did not become ready within {timeout:.0f} s: rolled back "
                      f"{', '.join(w.ref for w in pending)}")
