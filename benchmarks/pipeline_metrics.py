"""How lean a generated pipeline is, read back from the files themselves, per platform:
`pip install` commands, how many of them install pipegen, the critical path (the
longest chain of jobs that wait for one another, counted in jobs), the waits no job
needs: (job, earlier job) pairs where the file makes a job wait for another that the
plan does not require before it (directly, through needs, or as the previous stage), and
the file's bytes per job (the benchmark's `generate` section prints it per graph shape and
size: it should stay flat as jobs are added).

    python benchmarks/pipeline_metrics.py examples/churn

Jenkins is read with the tree-sitter reader of the tests (pip install '.[test]').

With `--installs`, it also runs the example's jobs under `pipegen run`, once per installer (pip, then
uv: `settings.installer`), each first from empty caches (cold) and then again from the caches the first
run filled (warm), and prints each job's install time, the install share of the jobs' time (install
seconds over all their commands' seconds, as a CI bill counts them) and the cold pip/uv ratio:

    python benchmarks/pipeline_metrics.py examples/churn --installs [--job lint --job train ...]

The jobs find pipegen's wheel built from this checkout (PIP_FIND_LINKS) and an MLflow registry in a
SQLite file; the machine's own PIP_FIND_LINKS folders stay in use, for both installers alike.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PIP_INSTALL = re.compile(r"pip install(?:[^\n]*\\\n)*[^\n]*")


def _installs(texts) -> tuple[int, int]:
    commands = [match.group(0) for text in texts for match in PIP_INSTALL.finditer(text)]
    return len(commands), sum("pipegen" in command for command in commands)


def _closure(predecessors: dict[str, set[str]]) -> dict[str, set[str]]:
    @lru_cache(maxsize=None)
    def before(job: str) -> frozenset[str]:
        found = set(predecessors.get(job, ()))
        for other in predecessors.get(job, ()):
            found |= before(other)
        return frozenset(found)
    return {job: set(before(job)) for job in predecessors}


def _plan_id(name: str) -> str:
    return name.lower().replace("_", "-").removesuffix("-job")


def _unneeded_waits(predecessors: dict[str, set[str]], folder: Path) -> int:
    from pipegen.descriptor import load_descriptor  # pylint: disable=import-outside-toplevel
    from pipegen.plan import build_plan  # pylint: disable=import-outside-toplevel

    plan = build_plan(load_descriptor(folder / "pipegen.yaml"))
    required = _closure({job.id: set(plan.all_needs(job)) for job in plan.jobs})
    waits = _closure({_plan_id(job): {_plan_id(other) for other in before} for job, before in predecessors.items()})
    return sum(len(waits[job] - required[job]) for job in required if job in waits)


def _longest(predecessors: dict[str, set[str]]) -> int:
    @lru_cache(maxsize=None)
    def depth(job: str) -> int:
        return 1 + max((depth(before) for before in predecessors[job]), default=0)
    return max((depth(job) for job in predecessors), default=0)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def github(path: Path) -> tuple[int, int, int]:
    jobs = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]
    needs = {name: set([job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []))
             for name, job in jobs.items()}
    return (*_installs(_strings(jobs)), needs)


def gitlab(path: Path) -> tuple[int, int, int]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    stages = data.get("stages", ["build", "test", "deploy"])
    jobs = {name: job for name, job in data.items() if isinstance(job, dict) and "script" in job
            and not name.startswith(".")}
    needs = {}
    for name, job in jobs.items():
        if "needs" in job:
            needs[name] = {need if isinstance(need, str) else need["job"] for need in job["needs"]}
        else:  # without needs, a job waits for every job of the earlier stages
            rank = stages.index(job.get("stage", "test"))
            needs[name] = {other for other, item in jobs.items() if stages.index(item.get("stage", "test")) < rank}
    scripts = [text for job in jobs.values() for key in ("before_script", "script") for text in _strings(job.get(key))]
    return (*_installs(scripts), needs)


def azure(path: Path) -> tuple[int, int, int]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    needs: dict[str, set[str]] = {}
    stage_jobs = {stage["stage"]: [job.get("job") or job.get("deployment") for job in stage["jobs"]]
                  for stage in data["stages"]}
    previous = None
    for stage in data["stages"]:
        depends = stage.get("dependsOn", [previous] if previous else [])
        depends = [depends] if isinstance(depends, str) else depends
        waits = {job for other in depends for job in stage_jobs[other]}
        for job in stage["jobs"]:
            name = job.get("job") or job.get("deployment")
            own = job.get("dependsOn", [])
            needs[name] = waits | set([own] if isinstance(own, str) else own)
        previous = stage["stage"]
    return (*_installs(_strings(data["stages"])), needs)


def jenkins(path: Path) -> tuple[int, int, int]:
    sys.path.insert(0, str(ROOT / "tests" / "platforms"))
    from jenkins_structure import read_pipeline, sh_calls  # pylint: disable=import-outside-toplevel

    pipeline = read_pipeline(path.read_text(encoding="utf-8"))

    needs: dict[str, set[str]] = {}
    done: set[str] = set()  # every job of earlier top-level stages and layers
    for top in pipeline.stages:
        for layer in top.stages:
            for branch in layer.parallel or [layer]:
                chain: set[str] = set()
                for leaf in branch.leaves():
                    needs[leaf.name] = done | chain
                    chain.add(leaf.name)
            done = done | {leaf.name for leaf in layer.leaves()}
    scripts = [call.script for stage in pipeline.all_stages() for call in sh_calls(stage)]
    return (*_installs(scripts), needs)


PLATFORMS = {"github": (".github/workflows/pipegen.yml", github), "gitlab": (".gitlab-ci.yml", gitlab),
             "azure": ("azure-pipelines.yml", azure), "jenkins": ("Jenkinsfile", jenkins)}


# The churn jobs that run without a Docker daemon, a Sonar server or a deploy target: the TEST stage's
# checks and tests, then training and the model gate against a local registry.
INSTALL_JOBS = ("pipegen-check", "lint", "unit", "integration", "functional", "train", "model-gate")
INSTALLERS = ("pip", "uv")
# What a developer's shell may carry that a CI runner's environment would not.
_CLEARED = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "JENKINS_URL", "VIRTUAL_ENV", "PYTHONPATH",
            "UV_CACHE_DIR", "PIP_CACHE_DIR", "MLFLOW_TRACKING_URI")


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _project_copy(example: Path, installer: str, where: Path) -> Path:
    """The example in a fresh git repository, its descriptor set to `installer` and its files regenerated
    (the pipegen-check job fails on stale files)."""
    shutil.copytree(example, where, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", ".venv", "mlruns"))
    descriptor = where / "pipegen.yaml"
    descriptor.write_text(descriptor.read_text(encoding="utf-8") + f"settings: {{installer: {installer}}}\n",
                          encoding="utf-8")
    done = _run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], where)
    if done.returncode != 0:
        raise SystemExit(f"pipegen generate failed in {where}:\n{done.stderr}")
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.test", "commit", "-qm", "bench"]):
        _run(argv, where)
    return where


def _installs_in_one_run(project: Path, jobs: tuple[str, ...], env: dict[str, str]) -> dict:
    """`pipegen run` of `jobs`: per job (status, install seconds, all commands' seconds) and the run's wall time."""
    report = project.parent / f"{project.name}.json"
    argv = [sys.executable, "-m", "pipegen", "run", "--event", "push", "--branch", "main", "--parallel", "2",
            "--report-json", str(report), *(word for job in jobs for word in ("--job", job))]
    import time  # pylint: disable=import-outside-toplevel

    started = time.perf_counter()
    _run(argv, project, env)
    wall = time.perf_counter() - started
    rows = json.loads(report.read_text(encoding="utf-8"))["jobs"] if report.is_file() else []
    per_job = {}
    for row in rows:
        timings = row.get("timings") or []
        install = sum(timing["seconds"] for timing in timings if timing["kind"] == "install")
        per_job[row["id"]] = (row["status"], install, sum(timing["seconds"] for timing in timings))
    return {"jobs": per_job, "wall": wall}


def _build_wheel(folder: Path) -> None:
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder),
                 str(ROOT)], ROOT)
    if done.returncode != 0:
        raise SystemExit(f"building pipegen's wheel failed:\n{done.stderr}")


def measure_installs(example: Path, jobs: tuple[str, ...]) -> dict[str, dict]:
    """{"pip cold": run, "pip warm": run, "uv cold": run, "uv warm": run}, each from `_installs_in_one_run`."""
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="pipegen-installs-") as scratch:
        work = Path(scratch)
        _build_wheel(work / "wheels")
        env = {name: value for name, value in os.environ.items() if name not in _CLEARED}
        links = " ".join(filter(None, (str(work / "wheels"), os.environ.get("PIP_FIND_LINKS", ""))))
        env.update(PIP_FIND_LINKS=links, MLFLOW_DISABLE_TELEMETRY="true", PIP_DISABLE_PIP_VERSION_CHECK="1")
        for installer in INSTALLERS:
            caches = work / f"caches-{installer}"  # empty before the cold run, what it left for the warm one
            env.update(UV_CACHE_DIR=str(caches / "uv"), PIP_CACHE_DIR=str(caches / "pip"),
                       MLFLOW_TRACKING_URI=f"sqlite:///{work / f'registry-{installer}.db'}")
            for temperature in ("cold", "warm"):
                project = _project_copy(example, installer, work / f"{installer}-{temperature}")
                runs[f"{installer} {temperature}"] = _installs_in_one_run(project, jobs, env)
                print(f"  ran {installer} {temperature}: {runs[f'{installer} {temperature}']['wall']:.0f} s",
                      file=sys.stderr)
    return runs


def print_installs(runs: dict[str, dict]) -> None:
    names = list(runs)
    jobs = list(dict.fromkeys(job for run in runs.values() for job in run["jobs"]))
    print(f"  install seconds per job (status when not passed): {', '.join(names)}")
    print(f"  {'job':<14}" + "".join(f"{name:>12}" for name in names))
    for job in jobs:
        cells = []
        for name in names:
            status, install, _ = runs[name]["jobs"].get(job, ("not run", 0.0, 0.0))
            cells.append(f"{install:.1f}" + ("" if status == "passed" else f" {status[:4]}"))
        print(f"  {job:<14}" + "".join(f"{cell:>12}" for cell in cells))
    totals = {name: (sum(install for _, install, _ in run["jobs"].values()),
                     sum(total for _, _, total in run["jobs"].values())) for name, run in runs.items()}
    print(f"  {'all installs':<14}" + "".join(f"{totals[name][0]:>12.1f}" for name in names))
    print(f"  {'all commands':<14}" + "".join(f"{totals[name][1]:>12.1f}" for name in names))
    shares = [totals[name][0] / max(totals[name][1], 1e-9) for name in names]
    print(f"  {'install share':<14}" + "".join(f"{share:>12.0%}" for share in shares))
    print(f"  {'run wall (s)':<14}" + "".join(f"{runs[name]['wall']:>12.1f}" for name in names))
    if "pip cold" in totals and "uv cold" in totals:
        print(f"  cold installs, pip / uv: {totals['pip cold'][0] / max(totals['uv cold'][0], 1e-9):.1f}x")
    if "uv warm" in runs:
        slowest = max(runs["uv warm"]["jobs"].items(), key=lambda item: item[1][1], default=None)
        if slowest:
            print(f"  uv warm, slowest install: {slowest[0]} {slowest[1][1]:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "examples" / "churn"))
    parser.add_argument("--installs", action="store_true", help="run the jobs under pipegen run, pip vs uv")
    parser.add_argument("--job", action="append", help=f"with --installs: the jobs (default: {INSTALL_JOBS})")
    options = parser.parse_args()
    folder = Path(options.folder)
    print(f"{folder}:")
    print(f"  {'platform':<9} {'pip installs':>12} {'of pipegen':>10} {'critical path (jobs)':>21} "
          f"{'waits no job needs':>19} {'bytes per job':>14}")
    for name, (relative, read) in PLATFORMS.items():
        if (folder / relative).is_file():
            installs, pipegen, needs = read(folder / relative)
            # The file's size over its jobs: it should not grow with the number of jobs (a job that
            # lists every job before it would make the file grow with their square).
            per_job = (folder / relative).stat().st_size / max(1, len(needs))
            print(f"  {name:<9} {installs:>12} {pipegen:>10} {_longest(needs):>21} "
                  f"{_unneeded_waits(needs, folder):>19} {per_job:>14,.0f}")
    if options.installs:
        print_installs(measure_installs(folder.resolve(), tuple(options.job or INSTALL_JOBS)))


if __name__ == "__main__":
    main()
