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
import sys
from typing import Sequence

from churn.data import make_dataset
from churn.model import TrainingResult, train

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_MODEL_NAME = "churn-classifier"
OUTPUT_NAME = "MODEL_VERSION"
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
    parser.add_argument("--no-publish", dest="publish", action="store_false",
                        help="do not publish MODEL_VERSION with `pipegen output set`")
    return parser.parse_args(argv)


def log_and_register(result: TrainingResult, args: argparse.Namespace) -> str:
    """Logs params, metrics and the model in one run; returns the registered version."""
    import mlflow  # pylint: disable=import-outside-toplevel  # heavy: only when training
    import mlflow.sklearn  # pylint: disable=import-outside-toplevel

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI)
    mlflow.set_experiment(args.experiment)
    with mlflow.start_run(run_name="degraded" if args.degraded else "train"):
        mlflow.log_params({"features": ",".join(result.features), "customers": args.customers,
                           "seed": args.seed, "degraded": args.degraded})
        mlflow.log_metrics(result.metrics)
        info = mlflow.sklearn.log_model(result.pipeline, name="model", registered_model_name=args.model_name,
                                        pip_requirements=RUNTIME_REQUIREMENTS)
    return str(info.registered_model_version)


def publish(version: str) -> bool:
    """MODEL_VERSION for later jobs, in the CI's native way (pipegen output set); False when
    pipegen is not installed, so nothing could be published."""
    try:
        from pipegen.outputs import set_output  # pylint: disable=import-outside-toplevel
    except ImportError:
        print(f"churn.train: cannot publish {OUTPUT_NAME}={version}: pipegen is not installed "
              "(pip install pipegen-ci), or pass --no-publish", file=sys.stderr)
        return False
    set_output(OUTPUT_NAME, version, sys.stdout)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Train, log, register, publish; the version goes to stderr for humans."""
    args = parse_args(argv)
    result = train(make_dataset(args.customers, args.seed), degraded=args.degraded, seed=args.seed)
    version = log_and_register(result, args)
    metrics = ", ".join(f"{name}={value:.4f}" for name, value in sorted(result.metrics.items()))
    print(f"churn.train: {args.model_name} v{version} ({metrics})", file=sys.stderr)
    if args.publish and not publish(version):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
