"""`pipegen deploy ...`: what the deploy kinds' jobs run. Each subcommand imports its
machinery when it runs."""
from __future__ import annotations

from pathlib import Path

import click


@click.group()
def group() -> None:
    """What deploy kinds' jobs run (see docs/deploy/): exit 0 done, 1 refused or failed,
    2 bad usage, 3 a tool could not run."""


@group.group("airflow")
def airflow_group() -> None:
    """Airflow DAG folders."""


@airflow_group.command("sync")
@click.option("--dags", default="dags", show_default=True, help="The repository's DAG folder.")
@click.option("--target", required=True, help="The environment's DAG folder: an absolute path, gs:// or s3://.")
def airflow_sync(dags: str, target: str) -> None:
    """Make TARGET exactly the DAG folder: new and changed files copied (atomically), files
    the repository no longer has removed, nothing outside TARGET touched. Buckets sync with
    `gcloud storage rsync --delete-unmatched-destination-objects` or `aws s3 sync --delete`."""
    from pipegen.deploy import airflow  # pylint: disable=import-outside-toplevel

    for line in airflow.sync(dags, target, Path.cwd()):
        click.echo(f"pipegen deploy airflow sync: {line}" if not line.startswith(" ") else line)


@group.group("terraform")
def terraform_group() -> None:
    """Saved Terraform plans: sealed where they are made, checked where they are applied."""


@terraform_group.command("seal")
@click.option("--plan", "plan", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The saved plan (terraform plan -out=PLAN).")
def terraform_seal(plan: Path) -> None:
    """Record beside PLAN the commit it was made from and its SHA-256."""
    from pipegen.deploy import terraform  # pylint: disable=import-outside-toplevel

    record = terraform.seal(plan)
    click.echo(f"pipegen deploy terraform seal: {plan} sealed for commit {record['commit'][:12]}")


@terraform_group.command("verify")
@click.option("--plan", "plan", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The saved plan handed over by the plan job.")
def terraform_verify(plan: Path) -> None:
    """Refuse (exit 1) a plan that was not sealed for this commit or changed since."""
    from pipegen.deploy import terraform  # pylint: disable=import-outside-toplevel

    click.echo(f"pipegen deploy terraform verify: {terraform.verify(plan)}")


@group.group("kubernetes")
def kubernetes_group() -> None:
    """Kubernetes manifests: render and validate offline, apply and roll out."""


@kubernetes_group.command("render")
@click.option("--manifests", help="A kustomize folder, a folder of manifests or one manifest file.")
@click.option("--chart", help="A Helm chart folder (instead of --manifests).")
@click.option("--values", help="The chart's values file.")
@click.option("--release", default="release", show_default=True, help="The Helm release name.")
@click.option("--namespace", help="The namespace (Helm renders it into the objects).")
@click.option("--image", "image_name", help="The image name the manifests use for the project's image.")
@click.option("--image-ref", help="The digest to run it at (NAME@sha256:...).")
@click.option("--kubernetes-version", help="Validate against this Kubernetes version (default: the newest known).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the rendered manifests.")
# pylint: disable-next=too-many-arguments  # one per click option
def kubernetes_render(manifests: str | None, chart: str | None, values: str | None, release: str,
                      namespace: str | None, image_name: str | None, image_ref: str | None,
                      kubernetes_version: str | None, out: Path) -> None:
    """Render offline, set the image by digest, validate every object against the Kubernetes
    schemas; nothing reaches a cluster."""
    from pipegen.deploy import kubernetes  # pylint: disable=import-outside-toplevel
    from pipegen.errors import UsageError  # pylint: disable=import-outside-toplevel

    if (image_name is None) != (image_ref is None):
        raise UsageError("--image and --image-ref go together")
    documents = kubernetes.render_source(Path.cwd(), manifests, chart, values, release, namespace)
    if image_name and image_ref:
        for where in kubernetes.set_image(documents, image_name, image_ref):
            click.echo(f"pipegen deploy kubernetes render: {where} runs {image_ref}")
    for note in kubernetes.validate(documents, kubernetes_version):
        click.echo(f"pipegen deploy kubernetes render: {note}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(kubernetes.dump(documents), encoding="utf-8")


@kubernetes_group.command("apply")
@click.option("--manifest", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The rendered manifests (pipegen deploy kubernetes render --out).")
@click.option("--namespace", help="The environment's namespace.")
@click.option("--context", help="The environment's kubeconfig context.")
@click.option("--timeout", type=click.IntRange(1, 86400), default=300, show_default=True,
              help="Seconds every rollout together may take before everything is rolled back.")
@click.option("--kubeconfig-env", help="An environment variable holding a kubeconfig (a secret).")
def kubernetes_apply(manifest: Path, namespace: str | None, context: str | None, timeout: int,
                     kubeconfig_env: str | None) -> None:
    """kubectl apply, then `kubectl rollout status` for every Deployment, StatefulSet and
    DaemonSet; when one does not become ready in time, `kubectl rollout undo` them all and fail."""
    from pipegen.deploy import kubernetes  # pylint: disable=import-outside-toplevel

    kubernetes.apply(manifest, namespace, context, timeout, click.echo, kubeconfig_env)
