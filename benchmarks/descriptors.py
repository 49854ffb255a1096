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
