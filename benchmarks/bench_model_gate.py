"""How much does `pipegen gate model` cost over the MLflow calls it cannot avoid?

In one run, on the same registry, this times:

- pipegen: `python -m pipegen gate model ...` (the CLI a CI step runs), and
- baseline: a minimal script with MlflowClient doing the same look-ups and writes (the
  champion alias, both versions, both runs, the same number of tags on the candidate),

each as a fresh process (what a CI job pays, mlflow's import included) and in-process
(warm: imports done, only the gate's own work), and prints the ratio pipegen / baseline.

    python benchmarks/bench_model_gate.py                         # embedded SQLite in a temp dir
    python benchmarks/bench_model_gate.py --tracking-uri http://127.0.0.1:5000   # a running server
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

METRICS = ("auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005",
           "log_loss:greater_is_better=false,min_relative_change=0.01")
# The tags pipegen writes for two metrics: verdict, baseline, alias, time, one per metric.
TAG_COUNT = 6

BASELINE_SCRIPT = '''
import sys
from mlflow.tracking import MlflowClient

uri, name, candidate = sys.argv[1:4]
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
champion = client.get_registered_model(name).aliases["champion"]
versions = [client.get_model_version(name, v) for v in (candidate, champion)]
metrics = [client.get_run(v.run_id).data.metrics for v in versions]
passed = metrics[0]["auc"] >= max(0.75, metrics[1]["auc"] + 0.005) and \\
    (metrics[1]["log_loss"] - metrics[0]["log_loss"]) / abs(metrics[1]["log_loss"]) >= 0.01
for index in range(int(sys.argv[4])):
    client.set_model_version_tag(name, candidate, f"bench.tag{index}", str(passed))
print("pass" if passed else "fail")
'''


def make_registry(uri: str) -> tuple[str, str]:
    """A registered model with a champion and a better candidate; returns (name, candidate)."""
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    experiment = client.get_experiment_by_name("pipegen-bench")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("pipegen-bench")
    client.create_registered_model(name)
    versions = []
    for auc, loss in ((0.80, 0.40), (0.82, 0.38)):
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "auc", auc)
        client.log_metric(run.info.run_id, "log_loss", loss)
        versions.append(str(client.create_model_version(name, f"runs:/{run.info.run_id}/model",
                                                        run.info.run_id).version))
    client.set_registered_model_alias(name, "champion", versions[0])
    return name, versions[1]


def gate_args(uri: str, name: str, candidate: str) -> list[str]:
    args = ["gate", "model", "--tracking-uri", uri, "--model-name", name, "--candidate-version", candidate]
    for metric in METRICS:
        args += ["--metric", metric]
    return args


def timed(action: Callable[[], None], repeats: int) -> list[float]:
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    return durations


def run_process(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed ({done.returncode}): {' '.join(argv[:4])}...\n"
                         f"{done.stdout}{done.stderr}")


def run_pipegen_in_process(args: list[str]) -> None:
    from pipegen.cli import main as pipegen_main  # pylint: disable=import-outside-toplevel

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            pipegen_main(args)
        except SystemExit as exited:
            if exited.code not in (0, None):
                raise SystemExit(f"pipegen gate model exited {exited.code}") from exited


def run_baseline_in_process(uri: str, name: str, candidate: str) -> None:
    argv = sys.argv
    sys.argv = ["baseline", uri, name, candidate, str(TAG_COUNT)]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(BASELINE_SCRIPT, "baseline", "exec"), {})  # pylint: disable=exec-used
    finally:
        sys.argv = argv


def report(label: str, pipegen: list[float], baseline: list[float]) -> None:
    ours, theirs = statistics.median(pipegen), statistics.median(baseline)
    print(f"{label:<12} pipegen {ours * 1000:8.1f} ms   baseline {theirs * 1000:8.1f} ms   "
          f"ratio {ours / theirs:5.2f}x   (medians of {len(pipegen)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="a running MLflow server (default: SQLite in a temp dir)")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    with tempfile.TemporaryDirectory(prefix="pipegen-bench-") as scratch:
        workdir = Path(scratch)
        os.chdir(workdir)  # MLflow's default artifact root is relative: keep it in the temp dir
        uri = options.tracking_uri or f"sqlite:///{workdir / 'mlflow.db'}"
        name, candidate = make_registry(uri)
        env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
        print(f"registry {uri}, model {name}, candidate v{candidate}")

        cold_pipegen = timed(lambda: run_process([sys.executable, "-m", "pipegen", *gate_args(uri, name, candidate)],
                                                 env, workdir), options.repeats)
        cold_baseline = timed(lambda: run_process([sys.executable, "-c", BASELINE_SCRIPT, uri, name, candidate,
                                                   str(TAG_COUNT)], env, workdir), options.repeats)
        run_pipegen_in_process(gate_args(uri, name, candidate))  # warm-up: imports, connections
        run_baseline_in_process(uri, name, candidate)
        warm_pipegen = timed(lambda: run_pipegen_in_process(gate_args(uri, name, candidate)), options.repeats)
        warm_baseline = timed(lambda: run_baseline_in_process(uri, name, candidate), options.repeats)

    report("process", cold_pipegen, cold_baseline)
    report("in-process", warm_pipegen, warm_baseline)


if __name__ == "__main__":
    main()
