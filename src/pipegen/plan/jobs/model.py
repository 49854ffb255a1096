"""The model's jobs: the drift gate, training, the model failgate (QA) and the promotion (PROD)."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.plan.jobs.common import (
    env_items,
    gate_command,
    gate_mode,
    gate_report_flags,
    number,
    output_env,
    pipegen_for,
    project_environment,
    quote,
    report_path,
    secret_env,
)
from pipegen.plan.model import REPORT_DIR, EnvKind, EnvValue, Job, RunWhen, Step
from pipegen.records import replace
from pipegen.syntax import shell_command

DRIFT_REPORT = f"{REPORT_DIR}/drift.json"


# CI variables saying a run was started by the schedule (Jenkins has none: there it always trains).
SCHEDULED_RUN_TEST = ('[ "${GITHUB_EVENT_NAME:-}" = schedule ] || [ "${CI_PIPELINE_SOURCE:-}" = schedule ] '
                      '|| [ "${BUILD_REASON:-}" = Schedule ]')


NO_CANDIDATE_GUARD = ('if [ -z "${MODEL_VERSION:-}" ]; then\n'
                      '  echo "no candidate model: training was skipped (no data drift on a scheduled run)"\n'
                      '  exit 0\nfi')


def model_registry_env(descriptor: Descriptor) -> dict[str, EnvValue]:
    # MLflow (the training code, the gates, promote) reads MLFLOW_TRACKING_URI, whatever the CI calls it.
    model = descriptor.model
    return {"MLFLOW_TRACKING_URI": EnvValue(EnvKind.VARIABLE, model.tracking_uri_var), **secret_env(model.secrets)}


def drift_job(descriptor: Descriptor) -> Job | None:
    drift = descriptor.data.drift
    if drift is None:
        return None
    from_champion = drift.reference_artifact is not None
    retrain = drift.on_drift == "retrain"
    model = descriptor.model
    mode = gate_mode(descriptor, "drift")
    return Job(
        id="drift", title="Data drift gate", stage="qa",
        comment="Compares the current data with " + ("the champion model's training snapshot" if from_champion
                                                     else "the reference data")
                + " per feature (KS / chi-squared, corrected); schema breaks fail"
                + ("; publishes DATA_DRIFT for train." if retrain else "."),
        steps=(Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}"),
               Step("Drift gate", gate_command(
                   "drift", mode, f"--descriptor {quote(descriptor.command_path)}", f"--report-json {DRIFT_REPORT}"),
                   id="drift" if retrain else None)),
        outputs=("DATA_DRIFT",) if retrain else (), output_step="drift" if retrain else None,
        env=env_items(model_registry_env(descriptor) if from_champion else {}),
        pipegen=pipegen_for(descriptor, "drift", "mlflow") if from_champion else pipegen_for(descriptor, "drift"),
        install_note="pipegen only, with SciPy for the statistical tests"
                     + (" and MLflow to fetch the champion's training snapshot" if from_champion else "")
                     + "; not the project: the gate reads data files.",
        timeout_minutes=15, artifacts=(REPORT_DIR,), junit=(report_path("drift.junit.xml"),),
        hands_over=(DRIFT_REPORT,) if model is not None else (),
        secrets=model.secrets if from_champion and model else (), gate="drift", gate_mode=mode)


def _train_step(descriptor: Descriptor) -> Step:
    """The training command; with `on_drift: retrain`, skipped on a scheduled run when the
    drift gate found nothing moved (MODEL_VERSION is then published empty)."""
    drift = descriptor.data.drift
    train = descriptor.model.train
    if drift is None or drift.on_drift != "retrain":
        return Step("Train and register", train, id="train")
    script = "\n".join([
        "# Retrain when the data moved, or when the run is not the schedule (a code or data change).",
        f'if [ "${{DATA_DRIFT:-true}}" = false ] && {{ {SCHEDULED_RUN_TEST}; }}; then',
        '  echo "no data drift since the champion and a scheduled run: training skipped"',
        '  pipegen output set MODEL_VERSION ""',
        "else",
        *(f"  {line}" for line in train.splitlines()),
        "fi"])
    return Step("Train and register (skipped when no data drift on a scheduled run)", script, id="train")


def _guarded(step: Step, descriptor: Descriptor) -> Step:
    drift = descriptor.data.drift
    if drift is None or drift.on_drift != "retrain":
        return step
    return replace(step, run=f"{NO_CANDIDATE_GUARD}\n{step.run}")


def model_jobs(descriptor: Descriptor) -> tuple[list[Job], list[Job]]:
    model = descriptor.model
    if model is None:
        return [], []
    registry_env = model_registry_env(descriptor)
    drift = descriptor.data.drift
    drift_env = output_env("DATA_DRIFT", "drift") if drift is not None and drift.on_drift == "retrain" else {}
    drift_flag = f" --drift-report {DRIFT_REPORT}" if drift is not None else ""
    train = Job(
        id="train", title="Train the candidate model", stage="qa",
        comment="Trains and registers a candidate version; the training command publishes it with "
                "`pipegen output set MODEL_VERSION <version>`.",
        steps=(_train_step(descriptor),), needs=("drift",) if drift is not None else (),
        outputs=("MODEL_VERSION",), output_step="train", env=env_items({**registry_env, **drift_env}),
        **project_environment(descriptor, ("runtime",)), pipegen=pipegen_for(descriptor, "mlflow"),
        install_note="The project's runtime requirements and the project: the training command runs it. "
                     "pipegen with MLflow: `pipegen output set` and the registry.",
        timeout_minutes=60, secrets=model.secrets,
        # Pull requests never train: their code would register versions in the production
        # registry, with its credentials. A change reaches the registry once it is merged.
        run_when=RunWhen.NOT_PULL_REQUEST)
    metric_flags = [f"--metric {quote(_metric_spec(name, rule))}" for name, rule in model.metrics]
    promotion = "promoted in PROD" if descriptor.prod_without_approval else "promote after approval"
    # auto unless the descriptor says: a pull request sees the verdict without being blocked by it
    mode = gate_mode(descriptor, "model", "auto")
    gate = Job(
        id="model-gate", title="Model failgate", stage="qa",
        comment=f"Compares the candidate with the champion model: pass ({promotion}), keep "
                "(not better: no promotion, the release goes on) or fail.",
        steps=(Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=()),
               _guarded(Step("Model gate", shell_command(
                   f"pipegen gate model --mode {mode}", f"--model-name {quote(model.name)}",
                   '--candidate-version "$MODEL_VERSION"', f"--champion-alias {quote(model.champion_alias)}",
                   f"--on-first-model {model.on_first_model}", *metric_flags,
                   gate_report_flags("model") + drift_flag)), descriptor)),
        # The drift job's report comes along (fetched), so the gate waits for it directly.
        needs=("train", "drift") if drift is not None else ("train",), fetches=("drift",) if drift is not None else (),
        env=env_items({**registry_env, **output_env("MODEL_VERSION", "train")}),
        pipegen=pipegen_for(descriptor, "mlflow"),
        install_note="pipegen with MLflow only: the gate reads both versions' metrics from the registry; "
                     "not the project.", timeout_minutes=10, artifacts=(REPORT_DIR,),
        junit=(report_path("model.junit.xml"),), secrets=model.secrets, gate="model", gate_mode=mode)
    promote = Job(
        id="promote-model", title="Promote the model", stage="prod",
        comment=f"Moves the {model.champion_alias!r} alias to the gated candidate, unless another "
                "pipeline promoted in between.",
        steps=(_guarded(Step("Promote", shell_command(
            "pipegen model promote", f"--model-name {quote(model.name)}", '--candidate-version "$MODEL_VERSION"',
            f"--champion-alias {quote(model.champion_alias)}")), descriptor),),
        env=env_items({**registry_env, **output_env("MODEL_VERSION", "train")}),
        pipegen=pipegen_for(descriptor, "mlflow"),
        install_note="pipegen with MLflow only: promotion moves a registry alias; not the project.",
        timeout_minutes=10, secrets=model.secrets)
    return [train, gate], [promote]


def _metric_spec(name: str, rule) -> str:
    parts = [f"greater_is_better={str(rule.greater_is_better).lower()}"]
    for key in ("threshold", "min_absolute_change", "min_relative_change"):
        if (value := getattr(rule, key)) is not None:
            parts.append(f"{key}={number(value)}")
    return f"{name}:{','.join(parts)}"
