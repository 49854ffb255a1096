"""`pipegen gate drift`: has the current data drifted from the reference data?"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from pipegen.commands._gate_common import with_gate_options
from pipegen.descriptor.model import Descriptor, DriftSettings
from pipegen.errors import EvaluationError, UsageError
from pipegen.gates import profiles
from pipegen.gates.drift import CORRECTIONS, GATE_NAME, KINDS, NEW_CATEGORY_RULES, ON_DRIFT, DriftPolicy
from pipegen.gates.result import GateResult

OUTPUT_NAME = "DATA_DRIFT"


def _declared(specs: tuple[str, ...]) -> dict[str, str]:
    columns = {}
    for spec in specs:
        name, sep, kind = spec.rpartition("=")
        if not sep or not name or kind not in KINDS:
            raise UsageError(f"--column {spec!r}: expected NAME=numeric or NAME=categorical")
        columns[name] = kind
    return columns


def _settings(descriptor: Descriptor | None) -> DriftSettings | None:
    return descriptor.data.drift if descriptor is not None else None


def _champion_snapshot(descriptor: Descriptor | None, artifact: str, model_name: str | None,
                       champion_alias: str | None, tracking_uri: str | None, workdir: Path) -> tuple[Path | None, str]:
    """Downloads the data snapshot the champion's training run logged; (None, why) without a champion."""
    model = descriptor.model if descriptor is not None else None
    name = model_name or (model.name if model else None)
    if not name:
        raise UsageError("--reference-artifact needs the model: pass --model-name or add a model block")
    alias = champion_alias or (model.champion_alias if model else "champion")
    from pipegen import model_registry as mlflow_registry  # pylint: disable=import-outside-toplevel  # mlflow on use
    uri = mlflow_registry.tracking_uri(model.tracking_uri_var if model else "MLFLOW_TRACKING_URI", tracking_uri)
    if mlflow_registry.missing_sqlite_registry(uri):
        return None, f"no MLflow registry at {uri} yet, so no {alias!r} version"
    registry = mlflow_registry.Registry(uri)
    version = registry.alias_version(name, alias) if registry.model_exists(name) else None
    if version is None:
        return None, f"{name} has no {alias!r} version yet"
    info = registry.version(name, version)
    if info.run_id is None:
        raise EvaluationError(f"{name} v{version} ({alias}) has no training run to read its data snapshot from")
    local = _data_file(registry.download_run_artifact(info.run_id, artifact, workdir), f"{name} v{version}")
    return local, f"{name} v{version} ({alias}) run {info.run_id}: {artifact}"


def _data_file(local: Path, owner: str) -> Path:
    """The downloaded artifact, or the one data file in a downloaded folder."""
    if not local.is_dir():
        return local
    files = sorted(p for p in local.rglob("*") if p.suffix.lower() in (".csv", ".parquet", ".pq"))
    if len(files) != 1:
        raise EvaluationError(f"the artifact of {owner} is a folder with {len(files)} data files; "
                              "name the file (e.g. data/customers.csv)")
    return files[0]


def _publish(value: bool) -> str:
    """DATA_DRIFT for the train job; returns the note the report carries."""
    from pipegen.ci.outputs import set_output  # pylint: disable=import-outside-toplevel
    platform = set_output(OUTPUT_NAME, str(value).lower(), sys.stdout)
    return f"published {OUTPUT_NAME}={str(value).lower()} ({platform}) for the train job"


@click.command("drift")
@click.option("--reference", type=click.Path(dir_okay=False, path_type=Path),
              help="Reference data set, CSV or Parquet (default: descriptor data.drift.reference).")
@click.option("--reference-artifact", help="Instead: the data snapshot the champion's training run logged as this "
                                           "MLflow artifact path (default: data.drift.reference_artifact).")
@click.option("--current", type=click.Path(dir_okay=False, path_type=Path),
              help="Current data set (default: data.drift.current).")
@click.option("--column", "column_specs", multiple=True, metavar="NAME=KIND",
              help="Declare a column numeric or categorical (repeatable; others are inferred).")
@click.option("--include", multiple=True, help="Test only these columns (repeatable).")
@click.option("--exclude", multiple=True, help="Do not test these columns (repeatable).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Significance level for the corrected p-values (default 0.05).")
@click.option("--correction", type=click.Choice(CORRECTIONS), help="fdr_bh (default) or bonferroni.")
@click.option("--new-categories", type=click.Choice(NEW_CATEGORY_RULES),
              help="A categorical value the reference never had: fail (default) or report.")
@click.option("--on-drift", type=click.Choice(ON_DRIFT),
              help="report (default): pass and report; retrain: also publish DATA_DRIFT=true|false; fail.")
@click.option("--model-name", help="For --reference-artifact: the registered model (default: descriptor).")
@click.option("--champion-alias", help="For --reference-artifact: the production alias (default: descriptor).")
@click.option("--tracking-uri", help="MLflow tracking URI (default: $<model.tracking_uri_var>, else "
                                     "$MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).")
@with_gate_options
# pylint: disable-next=too-many-arguments,too-many-locals  # one parameter per click option
def gate_drift(*, descriptor: Path | None, reference: Path | None, reference_artifact: str | None,
               current: Path | None, column_specs: tuple[str, ...], include: tuple[str, ...],
               exclude: tuple[str, ...], alpha: float | None, correction: str | None, new_categories: str | None,
               on_drift: str | None, model_name: str | None, champion_alias: str | None,
               tracking_uri: str | None) -> GateResult:
    """Per feature: two-sample Kolmogorov-Smirnov (numeric) or Pearson chi-squared
    (categorical), corrected across features (Benjamini-Hochberg or Bonferroni). Schema
    breaks (missing column, changed type, unseen category) always fail; drift does what
    --on-drift says. Needs SciPy: pip install 'pipegen-ci[drift]'.

    Exit 0 pass, 1 fail, 2 bad usage, 3 data or registry unreadable."""
    loaded = profiles.read_descriptor(descriptor)
    settings = _settings(loaded) or DriftSettings(current="")
    current = current or (Path(settings.current) if settings.current else None)
    if current is None:
        raise UsageError("no current data: pass --current or set data.drift.current in pipegen.yaml")
    if reference is None and reference_artifact is None:
        reference = Path(settings.reference) if settings.reference else None
        reference_artifact = settings.reference_artifact
    if reference is None and reference_artifact is None:
        raise UsageError("no reference data: pass --reference PATH or --reference-artifact ARTIFACT")
    policy = DriftPolicy(
        alpha=alpha if alpha is not None else settings.alpha, correction=correction or settings.correction,
        new_categories=new_categories or settings.new_categories, on_drift=on_drift or settings.on_drift,
        columns={**dict(settings.columns), **_declared(column_specs)},
        include=include or settings.include, exclude=exclude or settings.exclude)
    from pipegen.gates import drift  # pylint: disable=import-outside-toplevel  # keeps --help light
    with tempfile.TemporaryDirectory(prefix="pipegen-drift-") as workdir:
        label = None
        if reference is None:
            reference, label = _champion_snapshot(loaded, reference_artifact, model_name, champion_alias,
                                                  tracking_uri, Path(workdir))
            if reference is None:
                result = GateResult(GATE_NAME, notes=[f"{label}: no reference data to compare with, "
                                                      "so everything counts as new (DATA_DRIFT=true)"],
                                    data={"data_drift": True, "drifted": [], "schema_breaks": [],
                                          "reference": None, "current": str(current)})
            else:
                result = drift.evaluate(reference, current, policy, reference_label=label)
        else:
            result = drift.evaluate(reference, current, policy)
    if policy.on_drift == "retrain" and result.error is None:
        result.notes.append(_publish(bool(result.data.get("data_drift"))))
    return result


command = gate_drift
