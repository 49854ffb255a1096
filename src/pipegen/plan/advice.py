"""Advice on a valid plan: things that build but are almost always a mistake, said by `validate`
as located warnings (exit 0).

A job sees the outputs of the jobs it needs directly and those it names in `inputs:` (each
platform shows a job only its direct needs' outputs). A custom job whose command reads `$NAME`
of an output it will not see would run with NAME unset."""
from __future__ import annotations

import re

from pipegen.descriptor.model import Descriptor
from pipegen.errors import Problem
from pipegen.plan.model import EnvKind, Plan

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def read_variables(command: str) -> set[str]:
    """The shell variable names `command` expands ($NAME, ${NAME}, ${NAME:-…})."""
    return {braced or bare for braced, bare in _VARIABLE.findall(command)}


def unseen_outputs(descriptor: Descriptor, plan: Plan) -> list[Problem]:
    """A located warning per custom job and output it reads in `run` without seeing it."""
    producers = {name: job.id for job in plan.jobs for name in job.outputs}
    warnings = []
    for index, custom in enumerate(descriptor.jobs):
        job = plan.job(custom.name)
        seen = {name for name, value in job.env if value.kind is EnvKind.OUTPUT} | set(job.outputs)
        for name in sorted(read_variables(custom.run) & set(producers) - seen - {name for name, _ in job.env}):
            warnings.append(descriptor.problem(
                ("jobs", index, "run"),
                f"warning: job {custom.name!r} reads ${name}, an output of {producers[name]!r} that it does not "
                f"see: a job sees the outputs of the jobs it needs directly; add {name} to its inputs"))
    return warnings
