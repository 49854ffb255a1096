"""pipegen's benchmarks, in one run: medians of interleaved child processes, with ratios
against a baseline measured in the same rounds.

Sections (all by default; pick with --only):
  cli       `pipegen --help`, validate, generate, check on the churn example, against the
            interpreter floor `python -c "import yaml, jinja2, click"`
  scale     generate (all four targets) at 10/100/500/1,000/2,000 custom jobs, chained and fanned;
            validate on one chain of 300/1,200/4,800 needs (linear, no recursion limit)
  coverage  `pipegen gate coverage` with changed lines (--diff-min) on 3 MB and 300 MB Cobertura
            reports, against --no-diff; time and peak RSS (300 MB only with --big or PIPEGEN_BENCH_BIG=1)
  model     `pipegen gate model` against a minimal MlflowClient script (benchmarks/bench_model_gate.py)

    python benchmarks/bench.py                       # this interpreter (e.g. .venv/bin/python)
    python benchmarks/bench.py --wheel               # build a wheel, install it in a temp venv (the issue's setup)
    python benchmarks/bench.py --python /tmp/old/bin/python   # another installation, e.g. a release, to compare
    python benchmarks/bench.py --only coverage --big
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
from descriptors import ROOT, chain_descriptor, scaled_descriptor  # noqa: E402
from harness import interleave, ratio_table, run_child  # noqa: E402

SCALES = (10, 100, 500, 1000, 2000)
CHAIN_LENGTHS = (300, 1200, 4800)  # 4,800 needs deep: far past Python's default recursion limit
FLOOR = "import yaml, jinja2, click"


def wheel_python(scratch: Path) -> str:
    """A temp venv with pipegen installed from a freshly built wheel (not editable)."""
    dist = scratch / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
                   check=True)
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    wheel = next(dist.glob("*.whl"))
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], check=True)
    return python


def warm(python: str, repo: Path) -> None:
    """One run first, so one-time caches (bytecode, compiled templates) are in place, as on
    any machine that ran pipegen once."""
    run_child([python, "-m", "pipegen", "generate", "--force"], cwd=repo, ok_codes=(0, 1))


def _installations(python: str, before: str | None) -> list[tuple[str, str]]:
    """(label prefix, interpreter): this one, and the `--before` one when given."""
    return [("", python)] + ([("before: ", before)] if before else [])


def cli_section(python: str, scratch: Path, rounds: int, before: str | None = None) -> None:
    commands: dict[str, dict] = {"floor: import yaml, jinja2, click": {"argv": [python, "-c", FLOOR]}}
    for prefix, interpreter in _installations(python, before):
        repo = scratch / f"churn{'-before' if prefix else ''}"
        shutil.copytree(ROOT / "examples" / "churn", repo)
        warm(interpreter, repo)
        pipegen = [interpreter, "-m", "pipegen"]
        commands.update({
            f"{prefix}pipegen --help": {"argv": [*pipegen, "--help"]},
            f"{prefix}pipegen validate": {"argv": [*pipegen, "validate"], "cwd": repo},
            f"{prefix}pipegen generate": {"argv": [*pipegen, "generate"], "cwd": repo, "ok_codes": (0, 1)},
            f"{prefix}pipegen check": {"argv": [*pipegen, "check"], "cwd": repo, "ok_codes": (0, 1)},
        })
    series = interleave(commands, rounds)
    print(f"\n## cli: the churn example ({rounds} interleaved rounds; CPU = user + system of the child)")
    print(ratio_table(series, "floor: import yaml, jinja2, click"))


def scale_section(python: str, scratch: Path, rounds: int, before: str | None = None, scales=SCALES) -> None:
    commands = {}
    for prefix, interpreter in _installations(python, before):
        for jobs in scales:
            repo = scratch / f"scale-{jobs}{'-before' if prefix else ''}"
            repo.mkdir()
            (repo / "pipegen.yaml").write_text(scaled_descriptor(jobs), encoding="utf-8")
            warm(interpreter, repo)
            commands[f"{prefix}{jobs}"] = {"argv": [interpreter, "-m", "pipegen", "generate", "--force"],
                                           "cwd": repo}
    series = interleave(commands, rounds)
    print(f"\n## scale: generate, all four targets ({rounds} interleaved rounds)")
    for prefix, _ in _installations(python, before):
        first = series[f"{prefix}{scales[0]}"].median()
        print(f"  {prefix + 'custom jobs':>19} {'median CPU ms':>14} {'ms per extra job':>17} {'output KiB':>11}")
        for jobs in scales:
            cpu = series[f"{prefix}{jobs}"].median()
            size = sum(path.stat().st_size for path in (scratch / f"scale-{jobs}").rglob("*")
                       if path.is_file() and path.name != "pipegen.yaml") / 1024
            extra = f"{(cpu - first) * 1000 / (jobs - scales[0]):17.3f}" if jobs != scales[0] else f"{'-':>17}"
            print(f"  {jobs:>19} {cpu * 1000:14.1f} {extra} {size:11.0f}")
    chain_section(python, scratch, rounds, before)


def chain_section(python: str, scratch: Path, rounds: int, before: str | None = None,
                  lengths=CHAIN_LENGTHS) -> None:
    """`validate` on one long chain of needs: linear, and no recursion limit at any length."""
    commands = {}
    for prefix, interpreter in _installations(python, before):
        for jobs in lengths:
            repo = scratch / f"chain-{jobs}{'-before' if prefix else ''}"
            repo.mkdir()
            (repo / "pipegen.yaml").write_text(chain_descriptor(jobs), encoding="utf-8")
            (repo / "tests" / "unit").mkdir(parents=True)
            commands[f"{prefix}{jobs}"] = {"argv": [interpreter, "-m", "pipegen", "validate"], "cwd": repo}
    series = interleave(commands, rounds)
    print(f"\n## chain: validate one chain of needs ({rounds} interleaved rounds)")
    for prefix, _ in _installations(python, before):
        first = series[f"{prefix}{lengths[0]}"].median()
        print(f"  {prefix + 'jobs in the chain':>25} {'median CPU ms':>14} {'ms per extra job':>17}")
        for jobs in lengths:
            cpu = series[f"{prefix}{jobs}"].median()
            extra = f"{(cpu - first) * 1000 / (jobs - lengths[0]):17.3f}" if jobs != lengths[0] else f"{'-':>17}"
            print(f"  {jobs:>25} {cpu * 1000:14.1f} {extra}")


def coverage_section(python: str, scratch: Path, rounds: int, big: bool, before: str | None = None) -> None:
    from coverage_reports import make_repo  # pylint: disable=import-outside-toplevel

    sizes = [("3 MB", 3)] + ([("300 MB", 300)] if big else [])
    for label, megabytes in sizes:
        started = time.perf_counter()
        repo = make_repo(scratch / f"coverage-{megabytes}", megabytes)
        print(f"\n## coverage: a {label} Cobertura report with one changed file "
              f"(made in {time.perf_counter() - started:.0f} s; {rounds if megabytes < 100 else 1} rounds)")
        commands = {}
        for prefix, interpreter in _installations(python, before):
            gate = [interpreter, "-m", "pipegen", "gate", "coverage", "--report", "coverage.xml", "--min", "50"]
            commands.update({
                f"{prefix}gate coverage --no-diff": {"argv": [*gate, "--no-diff"], "cwd": repo},
                f"{prefix}gate coverage --diff-min 80": {
                    "argv": [*gate, "--diff-min", "80", "--compare-branch", "main"], "cwd": repo, "ok_codes": (0, 1)},
            })
        series = interleave(commands, rounds if megabytes < 100 else 1)
        print(ratio_table(series, "gate coverage --no-diff"))


def model_section(python: str, rounds: int) -> None:
    import bench_model_gate as model  # pylint: disable=import-outside-toplevel

    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    check = subprocess.run([python, "-c", "import mlflow"], capture_output=True, check=False)
    if check.returncode:
        print("\n## model: skipped (mlflow is not installed for this interpreter; pip install 'pipegen[mlflow]')")
        return
    with tempfile.TemporaryDirectory(prefix="pipegen-bench-model-") as folder:
        workdir = Path(folder)
        previous = Path.cwd()
        os.chdir(workdir)  # MLflow's default artifact root is relative: keep it in the temp dir
        try:
            uri = f"sqlite:///{workdir / 'mlflow.db'}"
            name, candidate = model.make_registry(uri)
            series = interleave({
                "minimal MlflowClient script": {"argv": [python, "-c", model.BASELINE_SCRIPT, uri, name, candidate,
                                                         str(model.TAG_COUNT)], "cwd": workdir, "env": env},
                "pipegen gate model": {"argv": [python, "-m", "pipegen", *model.gate_args(uri, name, candidate)],
                                       "cwd": workdir, "env": env},
            }, rounds)
        finally:
            os.chdir(previous)
    print(f"\n## model: gate model against a minimal MlflowClient script (SQLite registry; {rounds} rounds)")
    print(ratio_table(series, "minimal MlflowClient script"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=["cli", "scale", "coverage", "model"])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--wheel", action="store_true", help="install a built wheel in a temp venv and time that")
    parser.add_argument("--python", help="time the pipegen installed for this interpreter instead")
    parser.add_argument("--before", help="also time the pipegen of this interpreter (e.g. a venv with the "
                                         "previous release), interleaved, rows labelled 'before:'")
    parser.add_argument("--big", action="store_true", default=os.environ.get("PIPEGEN_BENCH_BIG") == "1",
                        help="also the 300 MB coverage report (minutes, ~600 MB of disk)")
    options = parser.parse_args()
    sections = options.only or ["cli", "scale", "coverage", "model"]
    with tempfile.TemporaryDirectory(prefix="pipegen-bench-") as folder:
        scratch = Path(folder)
        python = wheel_python(scratch) if options.wheel else (options.python or sys.executable)
        print(f"# pipegen benchmarks, {time.strftime('%Y-%m-%d')}, {platform.machine()} "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, "
              f"{'wheel in a temp venv' if options.wheel else python}")
        print(f"# load average at start: {_load()} (the machine may be shared: compare ratios within a run)")
        if "cli" in sections:
            cli_section(python, scratch, options.rounds, options.before)
        if "scale" in sections:
            scale_section(python, scratch, max(3, options.rounds // 3), options.before)
        if "coverage" in sections:
            coverage_section(python, scratch, max(3, options.rounds // 3), options.big, options.before)
        if "model" in sections:
            model_section(python, max(3, options.rounds // 3))
        print(f"\n# load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


if __name__ == "__main__":
    main()
