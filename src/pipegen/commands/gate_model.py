"""`pipegen gate model`: the candidate MLflow model version against the champion."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from pipegen import paths
from pipegen.commands._gate_common import with_gate_options
from pipegen.descriptor.model import MetricRule, Model
from pipegen.errors import EvaluationError, UsageError
from pipegen.gates import profiles
from pipegen.gates.model import FIRST_MODEL_RULES, GATE_NAME, validate_rule
from pipegen.gates.result import GateResult

RULE_KEYS = ("greater_is_better", "threshold", "min_absolute_change", "min_relative_change")
MAX_DRIFT_REPORT_BYTES = 16 * 1024 * 1024
TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _rule_value(metric: str, key: str, text: str) -> bool | float:
    if key == "greater_is_better":
        if text.lower() not in TRUE_WORDS:
            raise UsageError(f"--metric {metric}: greater_is_better must be true or false, not {text!r}")
        return TRUE_WORDS[text.lower()]
    try:
        return float(text)
    except ValueError as exc:
        raise UsageError(f"--metric {metric}: {key} must be a number, not {text!r}") from exc


def parse_metric(spec: str) -> tuple[str, MetricRule]:
    """'auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005' -> (name, rule)."""
    name, sep, body = spec.partition(":")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--metric {spec!r}: expected NAME:greater_is_better=true|false[,threshold=X]"
                         "[,min_absolute_change=X][,min_relative_change=X]")
    values: dict[str, bool | float] = {}
    for item in filter(None, (part.strip() for part in body.split(","))):
        key, eq, text = (piece.strip() for piece in item.partition("="))
        if not eq or key not in RULE_KEYS:
            raise UsageError(f"--metric {name}: unknown setting {item!r} (known: {', '.join(RULE_KEYS)})")
        values[key] = _rule_value(name, key, text)
    if "greater_is_better" not in values:
        raise UsageError(f"--metric {name}: greater_is_better is required (true or false)")
    rule = MetricRule(**values)
    validate_rule(name, rule)
    return name, rule


def descriptor_model(path: Path | None) -> Model | None:
    """The descriptor's model block: from --descriptor, else ./pipegen.yaml when present."""
    descriptor = profiles.read_descriptor(path)
    return descriptor.model if descriptor is not None else None


def resolve_model(descriptor: Path | None, model_name: str | None, champion_alias: str | None,
                  on_first_model: str | None, metric_specs: tuple[str, ...]) -> Model:
    """Flags override the descriptor; `--metric` given at all replaces its metric list."""
    base = descriptor_model(descriptor)
    name = model_name or (base.name if base else None)
    if not name:
        raise UsageError("no model to gate: pass --model-name and --metric, or add a model block to pipegen.yaml")
    metrics = tuple(parse_metric(spec) for spec in metric_specs) or (base.metrics if base else ())
    if not metrics:
        raise UsageError(f"no metrics to compare for {name}: pass --metric NAME:greater_is_better=...,threshold=...")
    model = base or Model(name=name, train="", metrics=metrics)
    overrides = {"name": name, "metrics": metrics}
    if champion_alias:
        overrides["champion_alias"] = champion_alias
    if on_first_model:
        overrides["on_first_model"] = on_first_model
    return replace(model, **overrides)


def candidate_or_fail(candidate_version: str | None) -> str:
    """The candidate version, or a usage error saying where it normally comes from."""
    version = (candidate_version or "").strip()
    if not version:
        raise UsageError("no candidate version: pass --candidate-version or set MODEL_VERSION "
                         "(the train job's output)")
    return version


@click.command("model")
@click.option("--model-name", help="Registered model name (default: the descriptor's model.name).")
@click.option("--candidate-version", envvar="MODEL_VERSION", show_envvar=True,
              help="Version to evaluate (default: $MODEL_VERSION, published by the train job).")
@click.option("--champion-alias", help="Alias of the production version (default: descriptor, else champion).")
@click.option("--on-first-model", type=click.Choice(FIRST_MODEL_RULES),
              help="With no champion yet: thresholds (only absolute bounds apply), pass, or fail.")
@click.option("--metric", "metric_specs", multiple=True, metavar="NAME:RULES",
              help="Repeatable; replaces the descriptor's metrics, e.g. "
                   "'auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005'.")
@click.option("--tracking-uri", help="MLflow tracking URI (default: $<model.tracking_uri_var>, "
                                     "else $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).")
@click.option("--drift-report", type=click.Path(dir_okay=False, path_type=Path),
              help="The drift gate's JSON report: its summary is tagged on the candidate next to the verdict "
                   "(pipegen.drift.*), so the registry says which data the model was judged on.")
@with_gate_options
# pylint: disable-next=too-many-arguments,too-many-positional-arguments  # one parameter per click option
def gate_model(descriptor: Path | None, model_name: str | None, candidate_version: str | None,
               champion_alias: str | None, on_first_model: str | None, metric_specs: tuple[str, ...],
               tracking_uri: str | None, drift_report: Path | None = None) -> GateResult:
    """Compare the candidate model version with the champion, per metric, with MLflow's
    MetricThreshold rules; tag the verdict on the candidate version.

    Exit 0 pass, 1 fail, 2 bad usage, 3 registry unreadable (fails closed)."""
    model = resolve_model(descriptor, model_name, champion_alias, on_first_model, metric_specs)
    version = candidate_or_fail(candidate_version)
    # pylint: disable=import-outside-toplevel  # pulls in mlflow on use only
    from pipegen import model_registry as mlflow_registry  # pylint: disable=import-outside-toplevel
    from pipegen.ci import ci_run_url  # pylint: disable=import-outside-toplevel
    from pipegen.gates.model import evaluate
    try:
        registry = mlflow_registry.Registry(mlflow_registry.tracking_uri(model.tracking_uri_var, tracking_uri))
        result = evaluate(registry, model, version, ci_run=ci_run_url()).result
        if drift_report is not None:
            _tag_drift(registry, model.name, version, drift_report, result)
        return result
    except EvaluationError as exc:
        return GateResult(GATE_NAME, error=str(exc))


def _tag_drift(registry, model_name: str, version: str, report: Path, result: GateResult) -> None:
    """The drift gate ran before training, when no candidate existed: its summary joins the
    verdict on the candidate here. A missing report is a note, not a failure (drift may be off)."""
    from pipegen.gates.drift import TAG_PREFIX, tags_from_report  # pylint: disable=import-outside-toplevel
    if not os.path.lexists(report):
        result.notes.append(f"no drift report at {report}: drift summary not tagged")
        return
    text = paths.read_text(report, MAX_DRIFT_REPORT_BYTES, error=EvaluationError)  # the one safe reader
    registry.tag_version(model_name, version, tags_from_report(text))
    result.notes.append(f"drift summary tagged on {model_name} v{version} ({TAG_PREFIX}*)")


command = gate_model
