"""pipegen's benchmarks, in one run: medians of interleaved child processes, with ratios
against a baseline measured in the same rounds.

Sections (all by default; pick with --only):
  cli       `pipegen --help`, validate, generate, check on the churn example, against the
            interpreter floor `python -c "import yaml, jinja2, click"`
  scale     generate (all four targets) for each graph shape (benchmarks/descriptors.py SHAPES:
            chained, fan-out/fan-in groups, PROD-heavy, output-heavy, late outputs, env-heavy, deep
            chain, wide stages) at 100/500/2,000 custom jobs: CPU, CPU per extra job in each range, output bytes per job;
            validate on one chain of 300/1,200/4,800 needs (linear, no recursion limit)
  diff      `pipegen diff` at 1,000 and 10,000 jobs against the floor of parsing the same files
  drift     `pipegen gate drift` on two 50 MB CSVs (500 MB with --big) against a plain pyarrow +
            SciPy script on the same columns (benchmarks/drift_data.py): CPU and peak RSS
  coverage  `pipegen gate coverage` with changed lines (--diff-min) on 3 MB and 300 MB Cobertura
            reports, against --no-diff; time and peak RSS (300 MB only with --big or PIPEGEN_BENCH_BIG=1)
  model     `pipegen gate model` against a minimal MlflowClient script (benchmarks/bench_model_gate.py)

    python benchmarks/bench.py                       # this interpreter (e.g. .venv/bin/python)
    python benchmarks/bench.py --wheel               # build a wheel, install it in a temp venv (the issue's setup)
    python benchmarks/bench.py --python /tmp/old/bin/python   # another installation, e.g. a release, to compare
    python benchmarks/bench.py --only coverage --big
    python benchmarks/bench.py --only scale --only diff --only drift --before /tmp/main/bin/python

The last lines print each goal of the scale, diff and drift sections with its figure.
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
from descriptors import ROOT, SHAPES, chain_descriptor, diff_descriptor  # noqa: E402
from harness import interleave, ratio_table, run_child  # noqa: E402

SCALES = (100, 500, 2000)
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
    # The extras the diff (tree-sitter) and drift (SciPy, pyarrow) sections need.
    subprocess.run([python, "-m", "pip", "install", "-q", f"{wheel}[diff,drift]"], check=True)
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


GENERATED = ".github .gitlab-ci.yml azure-pipelines.yml Jenkinsfile"


def _fresh_generate(interpreter: str) -> list[str]:
    """`pipegen generate` into a folder emptied of earlier output (rm's share of the CPU is tiny),
    so every run writes every file and none is read back first."""
    return ["sh", "-c", f'rm -rf {GENERATED} && exec "$0" -m pipegen generate', interpreter]


def _descriptor_repo(repo: Path, descriptor: str) -> Path:
    repo.mkdir()
    (repo / "pipegen.yaml").write_text(descriptor, encoding="utf-8")
    return repo


def _output_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and path.name != "pipegen.yaml")


def scale_section(python: str, scratch: Path, rounds: int, before: str | None = None, scales=SCALES) -> list[str]:
    """generate, all four targets, for each graph shape at 100/500/2,000 custom jobs: CPU, the
    CPU per extra job in the 100-500 and 500-2,000 ranges (a flat cost per job has a ratio near
    1; goal <= 1.5) and the output per job. Returns the summary lines."""
    summary = []
    for shape, make in SHAPES.items():
        commands = {}
        for prefix, interpreter in _installations(python, before):
            for jobs in scales:
                repo = _descriptor_repo(scratch / f"{shape}-{jobs}{'-before' if prefix else ''}", make(jobs))
                run_child(_fresh_generate(interpreter), cwd=repo)  # warm: bytecode, compiled templates
                commands[f"{prefix}{jobs}"] = {"argv": _fresh_generate(interpreter), "cwd": repo}
        after = interleave({label: kwargs for label, kwargs in commands.items() if not label.startswith("before")},
                           rounds)
        # The previous installation once per size: some shapes take it minutes (quadratic paths).
        series = {**after, **interleave({label: kwargs for label, kwargs in commands.items()
                                         if label.startswith("before")}, 1)}
        print(f"\n## generate, {shape} ({rounds} interleaved rounds; before: 1 round)")
        print(f"  {'installation':<13} {'jobs':>5} {'median CPU ms':>14} {'ms per extra job':>17} "
              f"{'output KiB':>11} {'bytes per job':>14}")
        for prefix, _ in _installations(python, before):
            cpu = {jobs: series[f"{prefix}{jobs}"].median() for jobs in scales}
            sizes = {jobs: _output_bytes(scratch / f"{shape}-{jobs}{'-before' if prefix else ''}") for jobs in scales}
            for low, jobs in zip((None, *scales), scales):
                extra = f"{(cpu[jobs] - cpu[low]) * 1000 / (jobs - low):17.3f}" if low else f"{'-':>17}"
                print(f"  {prefix.rstrip(': ') or 'this':<13} {jobs:>5} {cpu[jobs] * 1000:14.1f} {extra} "
                      f"{sizes[jobs] / 1024:11.0f} {sizes[jobs] / jobs:14,.0f}")
            first, middle, last = scales[0], scales[len(scales) // 2], scales[-1]
            low_rate = (cpu[middle] - cpu[first]) / (middle - first)
            high_rate = (cpu[last] - cpu[middle]) / (last - middle)
            ratio = high_rate / low_rate if low_rate > 0 else float("inf")
            summary.append(f"  generate {shape:<13} {prefix.rstrip(': ') or 'this':<7} {last:,} jobs "
                           f"{cpu[last] * 1000:7.0f} ms CPU (goal < 1000: {'ok' if cpu[last] < 1 else 'MISSED'}); "
                           f"per extra job {middle}-{last} / {first}-{middle}: {ratio:4.2f} "
                           f"(goal <= 1.5: {'ok' if ratio <= 1.5 else 'MISSED'}); "
                           f"output per job {sizes[last] / last:,.0f} B at {last:,} vs {sizes[first] / first:,.0f} B "
                           f"at {first} ({sizes[last] / last / (sizes[first] / first):4.2f}x)")
    chain_section(python, scratch, rounds, before)
    return summary


def chain_section(python: str, scratch: Path, rounds: int, before: str | None = None,
                  lengths=CHAIN_LENGTHS) -> None:
    """`validate` on one long chain of needs: linear, and no recursion limit at any length."""
    commands = {}
    for prefix, interpreter in _installations(python, before):
        for jobs in lengths:
            repo = _descriptor_repo(scratch / f"chain-{jobs}{'-before' if prefix else ''}", chain_descriptor(jobs))
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


DIFF_SIZES = (1000, 10000)
# Descriptors past 10,000 jobs pass the loader's node cap: the benchmark's setup lifts it.
_GENERATE_UNCAPPED = ("import sys; import pipegen.descriptor.yaml_positions as limits; limits.MAX_NODES = 10 ** 7; "
                      "from pipegen.cli import main; sys.argv = ['pipegen', 'generate', *sys.argv[1:]]; main()")
# The floor of `pipegen diff`: parsing both sides' files (PyYAML's C loader, tree-sitter), nothing else.
_PARSE_FLOOR = """
import gc, subprocess, sys, yaml, tree_sitter, tree_sitter_groovy
gc.disable()  # as pipegen diff reads: the trees hold no cycles
groovy = tree_sitter.Parser(tree_sitter.Language(tree_sitter_groovy.language()))
for ref in ("HEAD", None):
    for path in (".github/workflows/pipegen.yml", ".gitlab-ci.yml", "azure-pipelines.yml", "Jenkinsfile"):
        text = (subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, check=True).stdout
                if ref else open(path, "rb").read())
        if path == "Jenkinsfile":
            groovy.parse(text)
        else:
            yaml.load(text, Loader=yaml.CBaseLoader if "github" in path else yaml.CSafeLoader)
"""


# How many processes `pipegen diff` reads the files with in a repository: the command's own decision.
_DIFF_WORKERS = """
from pathlib import Path
from pipegen.diff import compare, sources
repo = sources.open_repo(Path("."))
print(compare.worker_count(sources.files_at(repo, sources.resolve(repo, "HEAD")), sources.files_at(repo, None)))
"""


def _diff_workers(python: str, repo: Path) -> int:
    return int(subprocess.run([python, "-c", _DIFF_WORKERS], cwd=repo, check=True, capture_output=True,
                              text=True).stdout)


def _diff_repo(repo: Path, jobs: int, python: str) -> Path:
    """A repository whose last commit has the files for `jobs` jobs with PROD approved, and
    whose working tree has them without the approval."""
    (repo / "tests" / "unit").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "bench@example.com")
    git("config", "user.name", "bench")
    for approval, force in ((True, []), (False, ["--force"])):
        (repo / "pipegen.yaml").write_text(diff_descriptor(jobs, approval), encoding="utf-8")
        subprocess.run([python, "-c", _GENERATE_UNCAPPED, *force], cwd=repo, check=True, capture_output=True)
        if approval:
            git("add", "-A")
            git("commit", "-qm", "base")
    return repo


def diff_section(python: str, scratch: Path, rounds: int, before: str | None = None,
                 sizes=DIFF_SIZES) -> list[str]:
    """`pipegen diff` (PROD's approval removed, every file changed) at 1,000 and 10,000 jobs, with
    the floor of parsing the same files (both versions, each in full: the ratio shows what reading
    only what changed saves); the previous installation at each size, once."""
    commands = {}
    for jobs in sizes:
        repo = _diff_repo(scratch / f"diff-{jobs}", jobs, python)
        commands[f"parse the files, {jobs:,} jobs"] = {"argv": [python, "-c", _PARSE_FLOOR], "cwd": repo}
        commands[f"pipegen diff, {jobs:,} jobs"] = {"argv": [python, "-m", "pipegen", "diff", "--base", "HEAD"],
                                                    "cwd": repo}
    series = interleave(commands, rounds)
    for jobs in sizes if before else ():
        series[f"before: pipegen diff, {jobs:,} jobs"] = interleave({"before": {
            "argv": [before, "-m", "pipegen", "diff", "--base", "HEAD"], "cwd": scratch / f"diff-{jobs}"}},
            1)["before"]
    print(f"\n## diff: PROD's approval removed ({rounds} interleaved rounds; before: 1 round)")
    print(ratio_table(series, f"parse the files, {sizes[0]:,} jobs"))
    workers = {jobs: _diff_workers(python, scratch / f"diff-{jobs}") for jobs in sizes}
    print("  workers reading the platforms' files: " + ", ".join(
        f"{count} at {jobs:,} jobs" for jobs, count in workers.items()) + f" ({os.cpu_count()} cores)")
    small, large = (series[f"pipegen diff, {jobs:,} jobs"].median() for jobs in sizes)
    floor = series[f"parse the files, {sizes[-1]:,} jobs"].median()
    per_job = (large / sizes[-1]) / (small / sizes[0])
    wall = series[f"pipegen diff, {sizes[-1]:,} jobs"].median("wall")
    was = (f"; before {series[f'before: pipegen diff, {sizes[-1]:,} jobs'].median():.1f} s "
           f"({series[f'before: pipegen diff, {sizes[-1]:,} jobs'].median() / large:.1f}x)" if before else "")
    floor_wall = series[f"parse the files, {sizes[-1]:,} jobs"].median("wall")
    return [f"  diff {sizes[-1]:,} jobs {wall:6.1f} s wall (goal < 5 s: {'ok' if wall < 5 else 'MISSED'}), "
            f"{large:.1f} s CPU in {workers[sizes[-1]]} worker(s); {large / floor:4.2f}x the CPU and "
            f"{wall / floor_wall:4.2f}x the wall time of parsing both versions' files in full in one process "
            f"({floor:.1f} s CPU, {floor_wall:.1f} s wall); CPU per job at {sizes[-1]:,} / at {sizes[0]:,}: "
            f"{per_job:4.2f} (linear: 1){was}"]


def drift_section(python: str, scratch: Path, rounds: int, big: bool) -> list[str]:
    """`pipegen gate drift` on five columns of two CSVs (ids and timestamps with as many categories
    as rows, amounts, ages, segments; three untested text columns), against the floor: a plain
    script loading the same columns with pyarrow and running SciPy's tests. No `--before` here:
    a reader that counts each category with a scan of the column takes hours on these files."""
    import drift_data  # pylint: disable=import-outside-toplevel

    megabytes = 500 if big else 50
    started = time.perf_counter()
    reference = drift_data.make_csv(scratch / "reference.csv", megabytes, seed=1)
    current = drift_data.make_csv(scratch / "current.csv", megabytes, seed=2, shift=3.0)
    print(f"\n## drift: two {megabytes} MB CSVs (made in {time.perf_counter() - started:.0f} s; "
          f"{rounds} interleaved rounds)")
    commands = {
        "floor: pyarrow + SciPy script": {"argv": [python, "-c", drift_data.FLOOR_SCRIPT, str(reference),
                                                   str(current)]},
        "pipegen gate drift": {"argv": [python, "-m", "pipegen", *drift_data.gate_args(reference, current)],
                               "ok_codes": (0, 1)},
    }
    series = interleave(commands, rounds)
    print(ratio_table(series, "floor: pyarrow + SciPy script"))
    gate, floor = series["pipegen gate drift"], series["floor: pyarrow + SciPy script"]
    cpu, memory = gate.median() / floor.median(), gate.median("rss_mib") / floor.median("rss_mib")
    return [f"  drift {megabytes} MB CSVs: CPU {cpu:4.2f}x the floor, peak RSS {memory:4.2f}x "
            f"({gate.median('rss_mib'):.0f} MiB; goal <= 2: {'ok' if max(cpu, memory) <= 2 else 'MISSED'})"]


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
    # The warm-up run writes the bytecode an installed pipegen has (pip compiles it at install); a shell
    # that forbids writing it would have every timed run compile pipegen's modules again (~0.2 s).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=["cli", "scale", "diff", "drift", "coverage", "model"])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--wheel", action="store_true", help="install a built wheel in a temp venv and time that")
    parser.add_argument("--python", help="time the pipegen installed for this interpreter instead")
    parser.add_argument("--before", help="also time the pipegen of this interpreter (e.g. a venv with the "
                                         "previous release), interleaved, rows labelled 'before:'")
    parser.add_argument("--big", action="store_true", default=os.environ.get("PIPEGEN_BENCH_BIG") == "1",
                        help="also the 300 MB coverage report and 500 MB drift CSVs (minutes, ~1.6 GB of disk)")
    options = parser.parse_args()
    sections = options.only or ["cli", "scale", "diff", "drift", "coverage", "model"]
    goals: list[str] = []
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
            goals += scale_section(python, scratch, max(3, options.rounds // 3), options.before)
        if "diff" in sections:
            goals += diff_section(python, scratch, max(3, options.rounds // 3), options.before)
        if "drift" in sections:
            goals += drift_section(python, scratch, max(3, options.rounds // 3), options.big)
        if "coverage" in sections:
            coverage_section(python, scratch, max(3, options.rounds // 3), options.big, options.before)
        if "model" in sections:
            model_section(python, max(3, options.rounds // 3))
        if goals:
            print("\n# goals (issue 21: linear and bounded), medians of this run")
            print("\n".join(goals))
        print(f"\n# load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


if __name__ == "__main__":
    main()
