"""How lean a generated pipeline is, read back from the files themselves, per platform:
`pip install` commands, how many of them install pipegen, the critical path (the
longest chain of jobs that wait for one another, counted in jobs), the waits no job
needs: (job, earlier job) pairs where the file makes a job wait for another that the
plan does not require before it (directly, through needs, or as the previous stage), and
the file's bytes per job (the benchmark's `generate` section prints it per graph shape and
size: it should stay flat as jobs are added).

    python benchmarks/pipeline_metrics.py examples/churn

Jenkins is read with the tree-sitter reader of the tests (pip install '.[test]').

With `--installs`, it also runs the example's jobs once per installer (pip, then uv:
`settings.installer`), each first from empty caches (cold) and then again from the caches the first run
filled (warm), under `pipegen run` and under gitlab-ci-local (`--executor` picks one), and prints each
job's install time, the install share of the jobs' time (install seconds over all their commands'
seconds, as a CI bill counts them) and the cold pip/uv ratio:

    python benchmarks/pipeline_metrics.py examples/churn --installs [--job lint --job train ...]

The jobs find pipegen's wheel built from this checkout (PIP_FIND_LINKS) and an MLflow registry in a
SQLite file; the machine's own PIP_FIND_LINKS folders stay in use, for both installers alike. The
gitlab-ci-local runs use the test suite's harness (tests/executors), so they need the test extra and
gitlab-ci-local in .tools (see the README's test command).
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
import time
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


def _plan_jobs(folder: Path, wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The jobs of `wanted` that the example's plan has (examples/minimal has no lint or train)."""
    from pipegen.descriptor import load_descriptor  # pylint: disable=import-outside-toplevel
    from pipegen.plan import build_plan  # pylint: disable=import-outside-toplevel

    ids = {job.id for job in build_plan(load_descriptor(folder / "pipegen.yaml")).jobs}
    return tuple(job for job in wanted if job in ids)


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
# checks and tests, the drift gate, then training and the model gate against a local registry.
INSTALL_JOBS = ("pipegen-check", "lint", "unit", "integration", "functional", "drift", "train", "model-gate")
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
    started = time.perf_counter()
    done = _run(argv, project, env)
    wall = time.perf_counter() - started
    if done.returncode != 0:  # a failed job's install time would mislead: show why
        print(f"  pipegen run exited {done.returncode} in {project}:\n{done.stderr[-3000:]}", file=sys.stderr)
    rows = json.loads(report.read_text(encoding="utf-8"))["jobs"] if report.is_file() else []
    per_job = {}
    for row in rows:
        timings = row.get("timings") or []
        install = sum(timing["seconds"] for timing in timings if timing["kind"] == "install")
        per_job[row["id"]] = (row["status"], install, sum(timing["seconds"] for timing in timings))
    return {"jobs": per_job, "wall": wall}


def _build_wheel(folder: Path) -> None:
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder),
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


# gitlab-ci-local --timestamps: "[12:00:01  2.06 s] lint $ set -eu # collapsed multi-line command".
TIMESTAMPED = re.compile(r"^\[\d\d:\d\d:\d\d +([\d.]+) (ns|μs|ms|s|min|h)\] (\S+) +(\$|finished in) ?")
SECONDS_PER = {"ns": 1e-9, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}


def gitlab_job_timings(output: str, pipeline: dict) -> dict[str, tuple[float, float]]:
    """(install seconds, all commands' seconds) per job from gitlab-ci-local's timestamped output: the job's
    `before_script` commands are its installs (pipegen's GitLab jobs install there and only there), the
    `script` its work. Each command runs from its `$` line to the next one (or to "finished in")."""
    marks: dict[str, list[float]] = {}
    for line in output.splitlines():
        if match := TIMESTAMPED.match(line):
            marks.setdefault(match.group(3), []).append(float(match.group(1)) * SECONDS_PER[match.group(2)])
    default = pipeline.get("default") or {}
    timings = {}
    for job, times in marks.items():
        before = (pipeline.get(job) or {}).get("before_script", default.get("before_script", []))
        if len(times) < 2:
            continue
        # times: one per command, then "finished in" (the job's whole duration).
        install = times[min(len(before), len(times) - 1)] - times[0]
        timings[job] = (install, times[-1] - times[0])
    return timings


def _gitlab_repository(project: Path, work: Path):
    """`project` (a git repository) with the bare `origin` and the `gcl-origin` URL the test harness expects."""
    from tests.executors.plugin import ExampleRepo  # pylint: disable=import-outside-toplevel

    origin = work / f"{project.name}-origin.git"
    _run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], work)
    for argv in (["git", "remote", "add", "origin", str(origin)],
                 ["git", "remote", "add", "gcl-origin", f"https://gitlab.example.test/bench/{project.name}.git"],
                 ["git", "push", "-q", "origin", "HEAD:refs/heads/main"], ["git", "fetch", "-q", "origin"],
                 ["git", "remote", "set-head", "origin", "main"]):
        _run(argv, project)
    with (project / ".git" / "info" / "exclude").open("a", encoding="utf-8") as handle:
        handle.write("/.gitlab-ci-local/\n")
    return ExampleRepo(project, origin)


def measure_installs_gitlab(example: Path, jobs: tuple[str, ...]) -> dict[str, dict]:
    """The same four runs as `measure_installs`, each a gitlab-ci-local pipeline of `jobs` (shell executor,
    through the test suite's harness: each job gets a fresh venv in place of the python image)."""
    sys.path.insert(0, str(ROOT))
    # pylint: disable=import-outside-toplevel
    from tests.executors.gitlab_ci_local import GitlabCiLocal
    from tests.executors.plugin import STANDINS, Wheelhouse, _build_wheel as build_digest_named_wheel

    runs: dict[str, dict] = {}
    os.environ["GCL_TIMESTAMPS"] = "true"  # gitlab-ci-local reads its options from GCL_* too
    with tempfile.TemporaryDirectory(prefix="pipegen-installs-gitlab-") as scratch:
        work = Path(scratch)
        (work / "wheels").mkdir()
        build_digest_named_wheel(work / "wheels")
        (wheel,) = (work / "wheels").glob("*/pipegen*.whl")
        wheelhouse = Wheelhouse(wheel.parent, wheel)
        shutil.copytree(STANDINS, work / "standins")
        for installer in INSTALLERS:
            caches = work / f"caches-{installer}"
            variables = {"UV_CACHE_DIR": str(caches / "uv"), "PIP_CACHE_DIR": str(caches / "pip"),
                         "MLFLOW_TRACKING_URI": f"sqlite:///{work / f'registry-{installer}.db'}"}
            for temperature in ("cold", "warm"):
                project = _project_copy(example, installer, work / f"{installer}-{temperature}")
                gitlab = GitlabCiLocal(_gitlab_repository(project, work), wheelhouse, work / "standins",
                                       work / f"gcl-{installer}-{temperature}", variables)
                gitlab.work.mkdir()
                started = time.perf_counter()
                ran = gitlab.run("push", jobs=jobs)
                wall = time.perf_counter() - started
                if ran.returncode != 0:
                    print(f"  gitlab-ci-local exited {ran.returncode} in {project}:\n{ran.output[-3000:]}",
                          file=sys.stderr)
                pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text(encoding="utf-8"))
                timings = gitlab_job_timings(ran.output, pipeline)
                runs[f"{installer} {temperature}"] = {
                    "jobs": {job: ("passed" if status == "PASS" else status.lower(), *timings.get(job, (0.0, 0.0)))
                             for job, status in ran.statuses.items()},
                    "wall": wall}
                print(f"  ran gitlab-ci-local {installer} {temperature}: {wall:.0f} s", file=sys.stderr)
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
    parser.add_argument("--executor", action="append", choices=["pipegen-run", "gitlab-ci-local"],
                        help="with --installs: where the jobs run (default: both)")
    options = parser.parse_args()
    options.executor = options.executor or ["pipegen-run", "gitlab-ci-local"]
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
        jobs = _plan_jobs(folder, tuple(options.job or INSTALL_JOBS))
        if "pipegen-run" in options.executor:
            print("  under pipegen run:")
            print_installs(measure_installs(folder.resolve(), jobs))
        if "gitlab-ci-local" in options.executor:
            print("  under gitlab-ci-local:")
            print_installs(measure_installs_gitlab(folder.resolve(), jobs))


if __name__ == "__main__":
    main()
