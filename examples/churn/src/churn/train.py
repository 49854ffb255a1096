"""`python -m churn.train`: fit the classifier, log it to MLflow, register a version of
`churn-classifier`, and publish MODEL_VERSION for the pipeline's model gate.

  --degraded (or CHURN_DEGRADED=1) trains a deliberately worse model, to see the gate stop it.
  --no-publish trains and registers without publishing MODEL_VERSION (local experiments); otherwise
  a version that cannot be published is an error, so the train job fails where the problem is.
  MLFLOW_TRACKING_URI picks the server; without it MLflow's embedded sqlite:///mlflow.db is used.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from churn.data import Dataset, make_dataset, read_csv, write_csv
from churn.model import TrainingResult, train

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_MODEL_NAME = "churn-classifier"
OUTPUT_NAME = "MODEL_VERSION"
DEFAULT_DATA = Path("data/customers.csv")
# Where the run keeps the data it was trained on: the drift gate compares new data with the
# champion's snapshot (descriptor data.drift.reference_artifact).
SNAPSHOT_ARTIFACT_DIR = "data"
# Pinned here so logging the model does not spend seconds inferring them.
RUNTIME_REQUIREMENTS = ["scikit-learn>=1.3,<2", "numpy>=1.24,<3"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Flags, with environment fallbacks a CI job can set."""
    parser = argparse.ArgumentParser(prog="python -m churn.train", description=__doc__.splitlines()[0])
    parser.add_argument("--degraded", action="store_true", default=os.environ.get("CHURN_DEGRADED") == "1",
                        help="train a deliberately worse model (one weak feature, noisy labels)")
    parser.add_argument("--model-name", default=os.environ.get("CHURN_MODEL_NAME", DEFAULT_MODEL_NAME))
    parser.add_argument("--experiment", default="churn")
    parser.add_argument("--customers", type=int, default=2000, help="size of the generated data set")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=os.environ.get("CHURN_DATA"),
                        help=f"training data CSV (default: {DEFAULT_DATA} when present, else generated)")
    parser.add_argument("--no-publish", dest="publish", action="store_false",
                        help="do not publish MODEL_VERSION with `pipegen output set`")
    return parser.parse_args(argv)


def load_data(args: argparse.Namespace) -> tuple[Dataset, Path | None]:
    """The committed data set when there is one, else a generated one (no file)."""
    path = args.data or (DEFAULT_DATA if DEFAULT_DATA.is_file() else None)
    if path is not None:
        return read_csv(path), path
    return make_dataset(args.customers, args.seed), None


def log_and_register(result: TrainingResult, args: argparse.Namespace, dataset: Dataset,
                     data_path: Path | None) -> str:
    """Logs params, metrics, the data snapshot and the model in one run; returns the registered version."""
    import mlflow  # pylint: disable=import-outside-toplevel  # heavy: only when training
    import mlflow.sklearn  # pylint: disable=import-outside-toplevel

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI)
    mlflow.set_experiment(args.experiment)
    with mlflow.start_run(run_name="degraded" if args.degraded else "train"):
        mlflow.log_params({"features": ",".join(result.features), "customers": args.customers,
                           "seed": args.seed, "degraded": args.degraded})
        mlflow.log_metrics(result.metrics)
        with tempfile.TemporaryDirectory() as folder:
            snapshot = write_csv(dataset, Path(folder) / (data_path.name if data_path else "customers.csv"))
            mlflow.log_artifact(str(snapshot), artifact_path=SNAPSHOT_ARTIFACT_DIR)
        info = mlflow.sklearn.log_model(result.pipeline, name="model", registered_model_name=args.model_name,
                                        pip_requirements=RUNTIME_REQUIREMENTS)
    return str(info.registered_model_version)


def publish(version: str) -> bool:
    """MODEL_VERSION for later jobs, in the CI's native way: the `pipegen output set` command
    (pipegen lives in an environment of its own; only its command is on the job's PATH).
    False when it is missing or fails, so nothing could be published."""
    command = shutil.which("pipegen")
    if command is None:
        print(f"churn.train: cannot publish {OUTPUT_NAME}={version}: pipegen is not installed "
              "(pip install pipegen-ci), or pass --no-publish", file=sys.stderr)
        return False
    sys.stdout.flush()  # Azure reads the ##vso line pipegen prints: keep the order of the output
    return subprocess.run([command, "output", "set", OUTPUT_NAME, version], check=False).returncode == 0


def main(argv: Sequence[str] | None = None) -> int:
    """Train, log, register, publish; the version goes to stderr for humans."""
    args = parse_args(argv)
    dataset, data_path = load_data(args)
    result = train(dataset, degraded=args.degraded, seed=args.seed)
    version = log_and_register(result, args, dataset, data_path)
    metrics = ", ".join(f"{name}={value:.4f}" for name, value in sorted(result.metrics.items()))
    print(f"churn.train: {args.model_name} v{version} ({metrics})", file=sys.stderr)
    if args.publish and not publish(version):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
