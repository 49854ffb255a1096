"""`pipegen model promote|rollback|record-image|serving-image`: move the production alias after the gate
and approval; keep each version's serving image on it and read the champion's back."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from pipegen import scrub
from pipegen.errors import UsageError

# Same values as pipegen.model_registry.registry's; repeated so `pipegen model --help` stays light.
DEFAULT_ALIAS = "champion"
DEFAULT_PREVIOUS_ALIAS = "previous-champion"


def _model_settings(descriptor: Path | None, model_name: str | None,
                    champion_alias: str | None) -> tuple[str, str, str]:
    """(model name, champion alias, tracking URI variable): flags first, then the descriptor."""
    # pylint: disable-next=import-outside-toplevel  # loads the descriptor only when needed
    from pipegen.commands.gate_model import descriptor_model
    base = descriptor_model(descriptor)
    name = model_name or (base.name if base else None)
    if not name:
        raise UsageError("no model: pass --model-name or add a model block to pipegen.yaml")
    alias = champion_alias or (base.champion_alias if base else DEFAULT_ALIAS)
    uri_var = base.tracking_uri_var if base else "MLFLOW_TRACKING_URI"
    return name, alias, uri_var


def _common_options(func: Callable) -> Callable:
    options = [
        click.option("--model-name", help="Registered model name (default: the descriptor's model.name)."),
        click.option("--champion-alias", help=f"Production alias (default: descriptor, else {DEFAULT_ALIAS})."),
        click.option("--previous-alias", default=DEFAULT_PREVIOUS_ALIAS, show_default=True,
                     help="Alias kept on the replaced champion, for rollback."),
        click.option("--tracking-uri", help="MLflow tracking URI (default: $<model.tracking_uri_var>, "
                                            "else $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db)."),
        click.option("--descriptor", type=click.Path(dir_okay=False, path_type=Path),
                     help="Read the model block from this descriptor (default: ./pipegen.yaml when present)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("model")
def group() -> None:
    """Promote or roll back the production model (MLflow registry aliases).

    Exit 0 done or nothing to do, 1 refused, 2 bad usage, 3 registry unreadable."""


@group.command("promote")
@click.option("--candidate-version", envvar="MODEL_VERSION", show_envvar=True,
              help="Version to promote (default: $MODEL_VERSION).")
@click.option("--expected-champion", metavar="VERSION|none",
              help="Promote only if the champion is this version ('none': no champion). "
                   "Default: the version the gate compared against (tag pipegen.gate.baseline_version).")
@click.option("--force", is_flag=True, help="Promote even if the gate failed or never evaluated the candidate.")
@_common_options
# pylint: disable-next=too-many-arguments,too-many-positional-arguments  # one parameter per click option
def promote_command(candidate_version: str | None, expected_champion: str | None, force: bool,
                    model_name: str | None, champion_alias: str | None, previous_alias: str,
                    tracking_uri: str | None, descriptor: Path | None) -> None:
    """Move the champion alias to the candidate, keeping the old champion as
    previous-champion, only if the champion is still the one the gate compared against."""
    # pylint: disable=import-outside-toplevel  # mlflow only when the command runs
    from pipegen import model_registry as mlflow_registry
    from pipegen.commands.gate_model import candidate_or_fail
    version = candidate_or_fail(candidate_version)  # a usage error before touching the registry
    name, alias, uri_var = _model_settings(descriptor, model_name, champion_alias)
    outcome = mlflow_registry.promote(mlflow_registry.Registry(mlflow_registry.tracking_uri(uri_var, tracking_uri)),
                                      name, version, champion_alias=alias, previous_alias=previous_alias,
                                      expected_champion=expected_champion, force=force)
    click.echo(scrub.clean(f"pipegen model promote: {outcome.message}"))


@group.command("rollback")
@_common_options
def rollback_command(model_name: str | None, champion_alias: str | None, previous_alias: str,
                     tracking_uri: str | None, descriptor: Path | None) -> None:
    """Put the previous champion back (idempotent: a second run changes nothing)."""
    # pylint: disable-next=import-outside-toplevel  # mlflow only when the command runs
    from pipegen import model_registry as mlflow_registry
    name, alias, uri_var = _model_settings(descriptor, model_name, champion_alias)
    registry = mlflow_registry.Registry(mlflow_registry.tracking_uri(uri_var, tracking_uri))
    outcome = mlflow_registry.rollback(registry, name, champion_alias=alias, previous_alias=previous_alias)
    click.echo(scrub.clean(f"pipegen model rollback: {outcome.message}"))


@group.command("record-image")
@click.option("--version", "version", envvar="MODEL_VERSION", show_envvar=True, required=True,
              help="The model version the image serves (default: $MODEL_VERSION).")
@click.option("--image-ref", required=True, help="The image digest (NAME@sha256:...).")
@_common_options
# pylint: disable-next=too-many-arguments,too-many-positional-arguments  # one parameter per click option
def record_image_command(version: str, image_ref: str, model_name: str | None, champion_alias: str | None,
                         previous_alias: str, tracking_uri: str | None, descriptor: Path | None) -> None:
    """Record on a model version the image digest built to serve it (tag pipegen.image_ref)."""
    del previous_alias
    # pylint: disable=import-outside-toplevel  # mlflow only when the command runs
    from pipegen import model_registry as mlflow_registry
    from pipegen.model_registry.serving import record_image
    if not version.strip():
        click.echo("pipegen model record-image: no model version (training was skipped): nothing recorded")
        return
    name, _, uri_var = _model_settings(descriptor, model_name, champion_alias)
    registry = mlflow_registry.Registry(mlflow_registry.tracking_uri(uri_var, tracking_uri))
    click.echo(f"pipegen model record-image: {record_image(registry, name, version, image_ref)}")


@group.command("serving-image")
@_common_options
def serving_image_command(model_name: str | None, champion_alias: str | None, previous_alias: str,
                          tracking_uri: str | None, descriptor: Path | None) -> None:
    """Print the image digest recorded on the champion version (exit 1 when there is none)."""
    del previous_alias
    # pylint: disable=import-outside-toplevel  # mlflow only when the command runs
    from pipegen import model_registry as mlflow_registry
    from pipegen.model_registry.serving import serving_image
    name, alias, uri_var = _model_settings(descriptor, model_name, champion_alias)
    registry = mlflow_registry.Registry(mlflow_registry.tracking_uri(uri_var, tracking_uri))
    version, image_ref = serving_image(registry, name, alias)
    click.echo(f"pipegen model serving-image: {name} version {version} ({alias}) is served by {image_ref}", err=True)
    click.echo(image_ref)
