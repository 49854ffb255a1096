"""Parity: a platform's file, read back, against the plan's view, allowing only the
differences `pipegen.platforms.differences` lists. Returns readable mismatches (empty: the
file does what the plan says)."""
from __future__ import annotations

from collections.abc import Set as AbstractSet

from pipegen.platforms import readback as rb
from pipegen.platforms.differences import (
    GATE_OUTPUTS_IN_REPORT,
    IGNORED,
    OMITTED_AFTER_APPROVAL,
    SAME_STAGE_SUPERSET,
    SUBSET,
    SUPERSET,
    rule,
)

_JOB_ASPECTS = ("stage", "after", "events", "environment", "approval", "asks_approval", "outputs", "inputs",
                "visible_outputs", "secrets", "timeout_minutes", "gates", "applies", "submodules", "oidc",
                "attests", "verifies")


def _relation(platform: str, aspect: str, expected, actual) -> str | None:
    """None when `actual` is acceptable, else what is wrong."""
    allowed = rule(platform, aspect)
    if allowed == IGNORED or expected == actual:
        return None
    if allowed == SUPERSET and isinstance(actual, AbstractSet) and expected <= actual:
        return None
    if allowed == SUBSET and isinstance(actual, AbstractSet) and actual <= expected:
        return None
    if isinstance(expected, AbstractSet) and isinstance(actual, AbstractSet):
        return f"missing {sorted(expected - actual)}, extra {sorted(actual - expected)}"
    return f"plan {expected!r}, file {actual!r}"


def _steps(platform: str, job_id: str, expected: rb.JobView, actual: rb.JobView) -> list[str]:
    if rule(platform, "steps") == IGNORED:
        return []
    problems = []
    planned = {step.title: step for step in expected.steps}
    for step in actual.steps:
        want = planned.get(step.title)
        where = f"{job_id}, step {step.title!r}"
        if want is None:
            if step.secrets:
                problems.append(f"{where}: a step the plan does not have reads secrets {sorted(step.secrets)}")
            continue
        if step.secrets is not None and step.secrets != want.secrets:
            problems.append(f"{where}: secrets {sorted(step.secrets)}, plan {sorted(want.secrets or ())}")
        if problem := _relation(platform, "steps.reads", want.reads, step.reads):
            problems.append(f"{where}: reads: {problem}")
    missing = set(planned) - {step.title for step in actual.steps}
    if missing:
        problems.append(f"{job_id}: steps missing: {sorted(missing)}")
    return problems


def _gate_outputs_in_report(platform: str, expected: rb.PipelineView, want: rb.JobView,
                            found: frozenset[tuple[str, str]]) -> bool:
    """The report job sees, besides what the plan says, only outputs of jobs that run a gate."""
    if rule(platform, "visible_outputs") != GATE_OUTPUTS_IN_REPORT or want.stage != "report":
        return False
    extra = found - want.visible_outputs
    return want.visible_outputs <= found and all(
        producer in expected.jobs and expected.jobs[producer].gates for _, producer in extra)


def compare(expected: rb.PipelineView, actual: rb.PipelineView) -> list[str]:
    platform = actual.platform
    problems = []
    for aspect in ("events", "schedule", "cancel_superseded", "approvers"):
        if problem := _relation(platform, aspect, getattr(expected, aspect), getattr(actual, aspect)):
            problems.append(f"pipeline {aspect}: {problem}")
    wanted_runs = rule(platform, "release_runs")
    if actual.release_runs == "abort" or (wanted_runs and actual.release_runs != wanted_runs):
        problems.append(f"pipeline release_runs: {actual.release_runs!r}, expected {wanted_runs or 'no abort'!r}")
    for job_id in sorted(set(expected.jobs) ^ set(actual.jobs)):
        problems.append(f"job {job_id}: {'missing from the file' if job_id in expected.jobs else 'not in the plan'}")
    pipeline_events = actual.events if rule(platform, "events") == SUPERSET else expected.events
    for job_id in sorted(set(expected.jobs) & set(actual.jobs)):
        want, got = expected.jobs[job_id], actual.jobs[job_id]
        for aspect in _JOB_ASPECTS:
            wanted, found = getattr(want, aspect), getattr(got, aspect)
            if aspect == "events" and rule(platform, "events") == SUPERSET:
                # Extra events only where the platform starts runs the plan does not have.
                extra = found - wanted
                if not extra <= pipeline_events - expected.events or not wanted <= found:
                    problems.append(f"{job_id}.events: missing {sorted(wanted - found)}, extra {sorted(extra)}")
                continue
            if aspect == "after" and rule(platform, aspect) == SAME_STAGE_SUPERSET:
                # Extra waits only on jobs of the job's own stage (layers), never across stages.
                extra = {other for other in found - wanted if other not in expected.jobs
                         or expected.jobs[other].stage != want.stage}
                if extra or not wanted <= found:
                    problems.append(f"{job_id}.after: missing {sorted(wanted - found)}, extra {sorted(extra)}")
                continue
            problem = None if aspect == "secrets" and found is None else _relation(platform, aspect, wanted, found)
            if (problem and aspect == "environment" and found is None and got.approval and not got.asks_approval
                    and rule(platform, aspect) == OMITTED_AFTER_APPROVAL):
                problem = None
            if problem and aspect == "visible_outputs" and _gate_outputs_in_report(platform, expected, want, found):
                problem = None
            if problem is None:
                continue
            problems.append(f"{job_id}.{aspect}: {problem}")
        problems += _steps(platform, job_id, want, got)
        unwired = want.inputs - got.visible_outputs
        if unwired and rule(platform, "visible_outputs") != IGNORED:
            problems.append(f"{job_id}: reads {sorted(unwired)} but the file does not hand them over")
    return problems
