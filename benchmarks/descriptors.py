"""Descriptors for the benchmarks: the churn example plus N custom jobs, chained and
fanned across the three stages (each job needs the previous one of its stage, every
tenth one also needs a hub job of the stage before, and some publish and read outputs)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHURN = ROOT / "examples" / "churn" / "pipegen.yaml"
STAGES = ("test", "qa", "prod")


def scaled_descriptor(jobs: int) -> str:
    """The churn descriptor with `jobs` extra custom jobs (YAML text). In each stage the
    first job is a hub; every fifth job fans out from the hub, the others chain on the job
    before; every tenth also needs the hub of the stage before; some publish an output
    that a later job reads. The generated files grow linearly with `jobs`."""
    base = CHURN.read_text(encoding="utf-8")
    lines = [base.rstrip("\n")]
    per_stage = max(1, -(-jobs // len(STAGES)))
    hubs: dict[str, str] = {}
    previous = ""
    for index in range(jobs):
        stage = STAGES[index // per_stage]
        position = index % per_stage
        name = f"job-{index:05d}"
        needs = []
        if position:
            needs.append(hubs[stage] if position % 5 == 0 else previous)
        rank = STAGES.index(stage)
        if index % 10 == 0 and rank:
            needs.append(hubs[STAGES[rank - 1]])
        lines.append(f"  - name: {name}")
        lines.append(f"    stage: {stage}")
        if needs:
            lines.append(f"    needs: [{', '.join(dict.fromkeys(needs))}]")
        lines.append(f"    run: ./step.sh {index} \"$HOME\"")
        if index % 50 == 0:
            lines.append(f"    outputs: [OUT_{index}]")
        elif index % 50 == 7 and index > 50:
            lines.append(f"    inputs: [OUT_{(index // 50) * 50}]")
        previous = name
        hubs.setdefault(stage, name)
    return "\n".join(lines) + "\n"


def chain_descriptor(jobs: int) -> str:
    """A minimal descriptor with one chain of `jobs` custom jobs in TEST."""
    lines = ["version: 1", "project: {name: chain}", "targets: [github, gitlab, azure, jenkins]",
             "tests: {unit: tests/unit}", "jobs:"]
    for index in range(jobs):
        lines.append(f"  - name: step-{index}")
        lines.append("    stage: test")
        if index:
            lines.append(f"    needs: [step-{index - 1}]")
        lines.append(f"    run: echo {index}")
    return "\n".join(lines) + "\n"


def _job_lines(name: str, stage: str, needs: list[str], index: int, outputs: tuple[str, ...] = (),
               inputs: tuple[str, ...] = ()) -> list[str]:
    lines = [f"  - name: {name}", f"    stage: {stage}"]
    if needs:
        lines.append(f"    needs: [{', '.join(dict.fromkeys(needs))}]")
    lines.append(f"    run: ./step.sh {index} \"$HOME\"")
    if outputs:
        lines.append(f"    outputs: [{', '.join(outputs)}]")
    if inputs:
        lines.append(f"    inputs: [{', '.join(inputs)}]")
    return lines


def _stage(index: int, jobs: int, prod_share: float) -> str:
    """Stages in job order: the last `prod_share` of the jobs in PROD, the rest halved between TEST and QA."""
    prod_from = jobs - int(jobs * prod_share)
    return "prod" if index >= prod_from else ("test" if index < prod_from // 2 else "qa")


def _with_jobs(needs_of, jobs: int, prod_share: float = 0.2, output_every: int = 25, read_after: int = 10,
               outputs_from: int = 0) -> str:
    """The churn descriptor plus `jobs` custom jobs: `needs_of(index, names)` gives each job's
    needs; every `output_every`-th job from `outputs_from` on publishes an output that the job
    `read_after` later reads."""
    lines = [CHURN.read_text(encoding="utf-8").rstrip("\n")]
    names = [f"job-{index:05d}" for index in range(jobs)]
    readers: dict[int, str] = {}
    for index, name in enumerate(names):
        publishes = index >= outputs_from and index % output_every == 0 and index + read_after < jobs
        outputs = (f"OUT_{index}",) if publishes else ()
        if outputs:
            readers[index + read_after] = outputs[0]
        inputs = (readers[index],) if index in readers else ()
        lines += _job_lines(name, _stage(index, jobs, prod_share), needs_of(index, names), index, outputs, inputs)
    return "\n".join(lines) + "\n"


def _env_heavy(jobs: int) -> str:
    """The churn descriptor plus `jobs` custom jobs in short chains, each reading a secret, a CI
    variable and a literal of its own, its command written plain (`./step.sh N`, no quoting)."""
    lines = [CHURN.read_text(encoding="utf-8").rstrip("\n")]
    names = [f"job-{index:05d}" for index in range(jobs)]
    for index, name in enumerate(names):
        lines += [f"  - name: {name}", f"    stage: {_stage(index, jobs, 0.2)}"]
        if index % 7:
            lines.append(f"    needs: [{names[index - 1]}]")
        lines += [f"    run: ./step.sh {index}", f"    secrets: [SECRET_{index}]", f"    variables: [VAR_{index}]",
                  f"    env: {{LITERAL_{index}: value-{index}}}"]
    return "\n".join(lines) + "\n"


def _group_needs(index: int, names: list[str]) -> list[str]:
    """Groups of ten: a head (needing the tail before), eight jobs that need the head, a tail needing the eight."""
    position = index % 10
    if position == 0:
        return [names[index - 1]] if index else []
    if position < 9:
        return [names[index - position]]
    return names[index - 8:index]


def _chain_needs(index: int, names: list[str]) -> list[str]:
    return [names[index - 1]] if index else []


def _no_needs(index: int, names: list[str]) -> list[str]:  # pylint: disable=unused-argument
    return []


# Graph shapes for `generate` at scale, each the churn descriptor plus N custom jobs (bench.py
# times each at several N: a cost that grows faster than the jobs shows up in "ms per extra job").
SHAPES = {
    # chained and fanned per stage, some outputs read later (the first scale benchmark)
    "chained": scaled_descriptor,
    # fan-out/fan-in groups of ten chained one after the other, a fifth in PROD, every 25th
    # job publishes an output read ten jobs later
    "groups": lambda jobs: _with_jobs(_group_needs, jobs),
    # the same groups, four fifths of them in PROD (one approved environment)
    "prod-heavy": lambda jobs: _with_jobs(_group_needs, jobs, prod_share=0.8),
    # the same groups, every other job publishes an output read three jobs later
    "output-heavy": lambda jobs: _with_jobs(_group_needs, jobs, output_every=2, read_after=3),
    # the same, but only the second half publishes: the jobs that install pipegen come late
    # (a job's install cache is looked up among the earlier jobs')
    "late-outputs": lambda jobs: _with_jobs(_group_needs, jobs, output_every=2, read_after=3, outputs_from=jobs // 2),
    # short chains, every job with its own secret, CI variable and literal, commands written plain
    "env-heavy": _env_heavy,
    # one chain of needs through the three stages
    "deep-chain": lambda jobs: _with_jobs(_chain_needs, jobs),
    # no needs at all: every stage as wide as it gets
    "wide-stages": lambda jobs: _with_jobs(_no_needs, jobs),
}


def diff_descriptor(jobs: int, approval: bool = True) -> str:
    """A minimal project with one chain of `jobs` custom jobs through TEST, QA and PROD; PROD
    approved (or not: the change `pipegen diff` explains in the benchmark)."""
    lines = ["version: 1", "project: {name: chain}", "targets: [github, gitlab, azure, jenkins]",
             "tests: {unit: tests/unit}", "environments:", "  prod:", "    branch: main"]
    if approval:
        lines.append("    approval: {approvers: [release-managers]}")
    lines.append("jobs:")
    for index in range(jobs):
        lines += _job_lines(f"step-{index}", _stage(index, jobs, 1 / 3), [f"step-{index - 1}"] if index else [],
                            index)
    return "\n".join(lines) + "\n"
