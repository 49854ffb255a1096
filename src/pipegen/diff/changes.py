"""What a change to one platform's pipeline file means, in a reviewer's words: two
`PipelineView`s of the same platform in, a list of `Change`s out. A change is *risky* when it
weakens an approval, a gate or a branch restriction, or widens a secret's reach."""
from __future__ import annotations

from dataclasses import dataclass, replace

from pipegen.platforms import readback as rb

# Widening a job to these events loosens a branch restriction.
_LOOSE_EVENTS = frozenset({rb.PULL_REQUEST, rb.PULL_REQUEST_OTHER, rb.PUSH_OTHER, rb.MANUAL_OTHER})
# Threshold flags, their words, and which way is stricter (+1: higher is stricter).
_THRESHOLDS = {
    ("coverage", "min"): ("coverage minimum", 1),
    ("coverage", "diff-min"): ("coverage minimum on changed lines", 1),
    ("lint", "min-score"): ("pylint score minimum", 1),
    ("lint", "max-issues"): ("flake8 maximum issues", -1),
}


@dataclass(frozen=True)
class Change:
    text: str
    risky: bool
    kind: str  # approval | gate | branches | secrets | needs | outputs | jobs | timeouts | triggers


def _events(events: frozenset[str]) -> str:
    return ", ".join(rb.EVENT_WORDS[event] for event in rb.EVENTS if event in events)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _gate_changes(job: str, old: rb.JobView, new: rb.JobView) -> list[Change]:
    changes = []
    before = {gate.name: gate for gate in old.gates}
    after = {gate.name: gate for gate in new.gates}
    for name in sorted(set(before) - set(after)):
        changes.append(Change(f"{job} no longer runs the {name} gate", True, "gate"))
    for name in sorted(set(after) - set(before)):
        changes.append(Change(f"{job} now runs the {name} gate", False, "gate"))
    for name in sorted(set(before) & set(after)):
        was, now = before[name], after[name]
        if was.mode != now.mode:
            weaker = now.mode != "enforce"
            changes.append(Change(f"{name} gate mode {was.mode} → {now.mode}", weaker, "gate"))
        old_flags, new_flags = dict(was.thresholds), dict(now.thresholds)
        for flag in sorted(set(old_flags) | set(new_flags)):
            if old_flags.get(flag) == new_flags.get(flag) and flag != "metric":
                continue
            words, direction = _THRESHOLDS.get((name, flag), (f"{name} --{flag}", 0))
            if flag == "metric":
                old_rules = sorted(value for key, value in was.thresholds if key == flag)
                new_rules = sorted(value for key, value in now.thresholds if key == flag)
                if old_rules != new_rules:
                    changes.append(Change(f"{name} gate rules {'; '.join(old_rules) or 'none'} → "
                                          f"{'; '.join(new_rules) or 'none'}", True, "gate"))
                continue
            old_value, new_value = old_flags.get(flag), new_flags.get(flag)
            if old_value is None or new_value is None:
                shown = ["not set" if value is None else value or "set" for value in (old_value, new_value)]
                changes.append(Change(f"{words}: {shown[0]} → {shown[1]}",
                                      new_value is None or flag == "allow-no-gate", "gate"))
                continue
            old_number, new_number = _number(old_value), _number(new_value)
            weaker = (direction != 0 and old_number is not None and new_number is not None
                      and (new_number - old_number) * direction < 0)
            changes.append(Change(f"{words} {old_value} → {new_value}", weaker, "gate"))
    return changes


def _secret_changes(job: str, old: rb.JobView, new: rb.JobView) -> list[Change]:
    changes = []
    if old.secrets is not None and new.secrets is not None:
        for name in sorted(new.secrets - old.secrets):
            changes.append(Change(f"{name} is now readable by job {job}", True, "secrets"))
        for name in sorted(old.secrets - new.secrets):
            changes.append(Change(f"{name} is no longer readable by job {job}", False, "secrets"))
    before = {step.title: step for step in old.steps}
    for step in new.steps:
        was = before.get(step.title)
        widened = step.reads - (was.reads if was else frozenset())
        if old.secrets is not None and new.secrets is not None:
            widened &= (step.secrets or frozenset()) - (new.secrets - old.secrets)
        for name in sorted(widened):
            changes.append(Change(f"{name} is now readable by step {step.title!r} of job {job}", True, "secrets"))
    return changes


def _apply_changes(job: str, old: rb.JobView, new: rb.JobView) -> list[Change]:
    """A job that would now apply something nobody reviewed (not the sealed saved plan) is risky."""
    changes = []
    for what in sorted(new.applies - old.applies):
        if what in rb.UNREVIEWED:
            changes.append(Change(f"{job} would apply without review: {what}", True, "approval"))
        else:
            changes.append(Change(f"{job} now applies {what}", False, "approval"))
    for what in sorted(old.applies - new.applies):
        if what not in rb.UNREVIEWED and not new.applies & rb.UNREVIEWED:
            changes.append(Change(f"{job} no longer applies {what}", False, "approval"))
    return changes


def _token_changes(job: str, old: rb.JobView, new: rb.JobView) -> list[Change]:
    """A job that may now request an OIDC token (or one for another cloud) reaches a cloud it did
    not; one whose token loses its environment widens the token's subject to any run of the branch."""
    changes = [Change(f"{job} can now request an OIDC token ({cloud})", True, "secrets")
               for cloud in sorted(new.oidc - old.oidc)]
    changes += [Change(f"{job} no longer requests an OIDC token ({cloud})", False, "secrets")
                for cloud in sorted(old.oidc - new.oidc)]
    for what, was, now in (("attests the image's build provenance", old.attests, new.attests),
                           ("verifies the image's provenance before deploying", old.verifies, new.verifies)):
        if was != now:
            changes.append(Change(f"{job} {'now' if now else 'no longer'} {what}", was, "approval"))
    if new.oidc and old.environment is not None and new.environment != old.environment:
        changes.append(Change(f"{job}'s OIDC token subject widened: environment {old.environment} → "
                              f"{new.environment or 'any run of the branch'}", True, "secrets"))
    return changes


def job_changes(job: str, old: rb.JobView, new: rb.JobView) -> list[Change]:
    changes = _apply_changes(job, old, new) + _token_changes(job, old, new)
    if old.approval and not new.approval:
        changes.append(Change(f"{job} lost its approval", True, "approval"))
    elif new.approval and not old.approval:
        changes.append(Change(f"{job} now waits for an approval", False, "approval"))
    if new.asks_approval and not old.asks_approval and new.approval and old.approval:
        changes.append(Change(f"reviewers are now asked again before {job}", False, "approval"))
    if old.environment != new.environment:
        changes.append(Change(f"{job} environment {old.environment or 'none'} → {new.environment or 'none'}",
                              old.environment is not None and new.environment is None, "approval"))
    widened, narrowed = new.events - old.events, old.events - new.events
    if widened:
        changes.append(Change(f"{job} now runs on {_events(widened)}", bool(widened & _LOOSE_EVENTS), "branches"))
    if narrowed:
        changes.append(Change(f"{job} no longer runs on {_events(narrowed)}", bool(new.gates or old.gates),
                              "branches"))
    changes += _gate_changes(job, old, new)
    changes += _secret_changes(job, old, new)
    for name, producer in sorted(old.inputs - new.inputs):
        changes.append(Change(f"{job} no longer reads {name} from {producer}", False, "outputs"))
    for name, producer in sorted(new.inputs - old.inputs):
        changes.append(Change(f"{job} now reads {name} from {producer}", False, "outputs"))
    if old.timeout_minutes != new.timeout_minutes:
        changes.append(Change(f"{job} timeout {old.timeout_minutes} → {new.timeout_minutes} minutes", False,
                              "timeouts"))
    return changes


def _wait_changes(old: rb.PipelineView, new: rb.PipelineView) -> list[Change]:
    """`X no longer waits for Y`, said once: not again for the jobs after X that lost Y with it.
    What each job waits for is compared as bits of one numbering; the work grows with the jobs
    and with the waits that changed, not with every job's waits."""
    common = sorted(set(old.jobs) & set(new.jobs))
    numbering = _shared_numbering(old, new)
    before = {job: numbering.bits(old.jobs[job].after) for job in common}
    now = {job: numbering.bits(new.jobs[job].after) for job in common}
    in_new = numbering.bits(new.jobs)
    lost = {job: before[job] & ~now[job] & in_new for job in common}
    gained = {job: now[job] & ~before[job] for job in common}
    lost_by, gained_by = _holders(lost, numbering), _holders(gained, numbering)
    changes = []
    for job in common:
        for upstream in sorted(_names(lost[job], numbering)):
            if now[job] & lost_by[upstream]:  # a job it still waits for lost it too
                continue
            weakens = bool(old.jobs[upstream].gates) or old.jobs[upstream].approval
            changes.append(Change(f"{job} no longer waits for {upstream}", weakens, "needs"))
        for upstream in sorted(_names(gained[job], numbering)):
            if now[job] & gained_by[upstream]:
                continue
            changes.append(Change(f"{job} now waits for {upstream}", False, "needs"))
    return changes


def _shared_numbering(old: rb.PipelineView, new: rb.PipelineView) -> rb.Numbering:
    """The numbering both views' wait sets use (views read for one comparison share one)."""
    numberings = {id(job.after.numbering): job.after.numbering
                  for view in (old, new) for job in view.jobs.values() if isinstance(job.after, rb.Reach)}
    return next(iter(numberings.values())) if len(numberings) == 1 else rb.Numbering()


def _names(bits: int, numbering: rb.Numbering) -> list[str]:
    return list(rb.Reach(bits, numbering)) if bits else []


def _holders(changed: dict[str, int], numbering: rb.Numbering) -> dict[str, int]:
    """For each job named in a change, the jobs whose change names it (as bits)."""
    holders: dict[str, int] = {}
    for job, bits in changed.items():
        for upstream in _names(bits, numbering):
            holders[upstream] = holders.get(upstream, 0) | numbering.bit(job)
    return holders


def _stage_approval(old: rb.PipelineView, new: rb.PipelineView, changes: list[Change]) -> list[Change]:
    """Every approved job of a stage losing it is said as the stage losing it (with several projects
    in one repository, per project: "churn's PROD lost its approval")."""
    for project, stage in sorted({(job.project or "", job.stage) for job in old.jobs.values()}):
        approved = [name for name, job in old.jobs.items()
                    if job.stage == stage and (job.project or "") == project and job.approval]
        lost = [name for name in approved if name in new.jobs and not new.jobs[name].approval]
        if approved and len(lost) == len(approved):
            texts = {f"{name} lost its approval" for name in lost}
            changes = [change for change in changes if change.text not in texts]
            owner = f"{project}'s " if project else ""
            changes.insert(0, Change(f"{owner}{stage.upper()} lost its approval", True, "approval"))
    return changes


def _approver_changes(old: rb.PipelineView, new: rb.PipelineView) -> list[Change]:
    """Who approves each environment, where both files say it (a lost approval is said per stage)."""
    if old.approvers is None or new.approvers is None:
        return []
    before, after = dict(old.approvers), dict(new.approvers)
    return [Change(f"{name.upper()} approvers {before[name]} → {after[name]}", True, "approval")
            for name in sorted(set(before) & set(after)) if before[name] != after[name]]


_Askers = tuple[rb.Numbering, list[tuple[frozenset[str], frozenset[str], int]]]


def _askers(view: rb.PipelineView) -> _Askers:
    """The jobs that ask for an approval, grouped by the events they run on (a pipeline has a few
    such groups): the numbering of the view's wait sets, and per group (events, names, their bits)."""
    groups: dict[frozenset[str], set[str]] = {}
    for name, job in view.jobs.items():
        if job.asks_approval:
            groups.setdefault(job.events, set()).add(name)
    numbering = _shared_numbering(view, view)
    return numbering, [(events, frozenset(names), numbering.bits(names)) for events, names in groups.items()]


def _waits_for_an_approval(job: rb.JobView, askers: _Askers) -> bool:
    """Whether the job really waits for a human: it asks, or a job it waits for asks on an event
    both run on. The report job runs after PROD's jobs, but on pull requests only, where they never run.
    What the job waits for meets each group of askers in one operation on bits (no walk of its waits)."""
    if not job.approval or job.asks_approval:
        return job.approval
    numbering, groups = askers
    waits_for_one = False
    for events, names, bits in groups:
        meets = (bool(job.after.bits & bits) if isinstance(job.after, rb.Reach) and job.after.numbering is numbering
                 else not names.isdisjoint(job.after))
        if meets and job.events & events:
            return True
        waits_for_one = waits_for_one or meets
    return not waits_for_one


def _practical(view: rb.PipelineView) -> rb.PipelineView:
    askers = _askers(view)
    jobs = {name: job if _waits_for_an_approval(job, askers) == job.approval else replace(job, approval=False)
            for name, job in view.jobs.items()}
    return replace(view, jobs=jobs)


def pipeline_changes(old: rb.PipelineView, new: rb.PipelineView) -> list[Change]:
    old, new = _practical(old), _practical(new)
    changes = []
    if new.events - old.events:
        widened = new.events - old.events
        changes.append(Change(f"the pipeline now starts on {_events(widened)}", bool(widened & _LOOSE_EVENTS),
                              "triggers"))
    if old.events - new.events:
        changes.append(Change(f"the pipeline no longer starts on {_events(old.events - new.events)}", False,
                              "triggers"))
    if old.schedule != new.schedule:
        changes.append(Change(f"schedule {old.schedule or 'none'} → {new.schedule or 'none'}", False, "triggers"))
    changes += _approver_changes(old, new)
    if old.cancel_superseded != new.cancel_superseded:
        for events, now in ((new.cancel_superseded - old.cancel_superseded, "now"),
                            (old.cancel_superseded - new.cancel_superseded, "no longer")):
            if events:
                # Cancelling a release-branch run can cut a deployment off halfway.
                changes.append(Change(f"superseded runs of {_events(events)} are {now} cancelled",
                                      now == "now" and rb.PUSH_RELEASE in events, "triggers"))
    if old.release_runs != new.release_runs:
        changes.append(Change(f"a push to {new.release_branch} while a run waits: {old.release_runs} → "
                              f"{new.release_runs}", new.release_runs == "abort", "triggers"))
    for job in sorted(set(old.jobs) - set(new.jobs)):
        gates = ", ".join(gate.name for gate in old.jobs[job].gates)
        changes.append(Change(f"job {job} removed" + (f" (it ran the {gates} gate)" if gates else ""),
                              bool(gates) or old.jobs[job].asks_approval, "jobs"))
    for job in sorted(set(new.jobs) - set(old.jobs)):
        added = new.jobs[job]
        risky = bool(added.secrets) or bool(added.events & _LOOSE_EVENTS and added.environment)
        changes.append(Change(f"job {job} added", risky, "jobs"))
        changes += [Change(f"{job} can request an OIDC token ({cloud})", True, "secrets")
                    for cloud in sorted(added.oidc)]
        for what in sorted(added.applies & rb.UNREVIEWED):
            changes.append(Change(f"{job} would apply without review: {what}", True, "approval"))
    changes += _wait_changes(old, new)
    for job in sorted(set(old.jobs) & set(new.jobs)):
        changes += job_changes(job, old.jobs[job], new.jobs[job])
    return _stage_approval(old, new, changes)
