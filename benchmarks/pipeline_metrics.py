"""How lean a generated pipeline is, read back from the files themselves, per platform:
`pip install` commands, how many of them install pipegen, the critical path (the
longest chain of jobs that wait for one another, counted in jobs), the waits no job
needs: (job, earlier job) pairs where the file makes a job wait for another that the
plan does not require before it (directly, through needs, or as the previous stage), and
the file's bytes per job (the benchmark's `generate` section prints it per graph shape and
size: it should stay flat as jobs are added).

    python benchmarks/pipeline_metrics.py examples/churn

Jenkins is read with the tree-sitter reader of the tests (pip install '.[test]').
"""
from __future__ import annotations

import re
import sys
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


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "examples" / "churn")
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


if __name__ == "__main__":
    main()
