"""The schedule of a local run: needs first, independent jobs in parallel (shown one line per
job, or every line of output prefixed with its job with --verbose: see pipegen.run.console), a
job whose need failed skipped, approvals asked once per environment, and a summary (job,
status, duration) at the end, with the failing jobs' last lines."""
from __future__ import annotations

import shutil
import sys
import tempfile
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from pipegen.errors import EXIT_FAILED, EXIT_OK, EvaluationError, UsageError
from pipegen.gates.compare_branch import find_base
from pipegen.plan import Job, Plan
from pipegen.plan.projects import changed_output
from pipegen.run import workspace
from pipegen.run.commands import job_commands
from pipegen.run.console import Console, failure_tails
from pipegen.run.executor import JobContext, JobResult, execute, missing_values, stop_all
from pipegen.run.selection import Event, Selection, select, trigger_notes
from pipegen.run.state import State
from pipegen.run.venv import interpreter

Confirm = Callable[[str], bool]
CHANGED_LINES_GATES = ("coverage", "lint")  # the gates that count changed lines against a compare branch


@dataclass(frozen=True)
class RunOptions:  # pylint: disable=too-many-instance-attributes  # one field per command-line option
    event: Event = Event.PUSH
    branch: str | None = None  # default: the repository's current branch
    stages: tuple[str, ...] = ()
    job_ids: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()  # --project: these projects' jobs and what they need
    approve: bool = False
    interactive: bool = False  # a terminal can answer approval prompts
    parallel: int = 1
    dry_run: bool = False
    keep: bool = False  # keep the working copies and venvs
    venv_cache: Path | None = None  # seed job venvs from earlier ones with the same install inputs
    uv: str | None = None  # the uv the jobs' install lines find on PATH (None: they install the pinned one)
    services: tuple[tuple[str, str, int], ...] = ()  # --service NAME=HOST:PORT: where a service runs here
    verbose: bool = False  # stream every job's output (default: one line per job, the failing jobs' tails)
    live: bool = False  # a terminal: the jobs' lines are redrawn in place


# A job whose project the change selection left out counts as done, as a skipped job does on CI.
UNCHANGED = "unchanged"
PASSING = ("passed", UNCHANGED)


@dataclass
class Prepared:
    """Everything decided before the first job starts."""

    plan: Plan
    selection: Selection
    event: Event
    branch: str
    root: Path  # the repository
    project_dir: Path  # the descriptor's folder
    state: State
    python: str  # the interpreter job venvs are made with
    notes: list[str] = field(default_factory=list)

    @property
    def run_ids(self) -> set[str]:
        return {job.id for job in self.selection.run}

    def waits_for(self, job: Job) -> tuple[str, ...]:
        """The needs this run must finish first: explicit ones and, for a stage's entry
        jobs, the whole previous stage, as every CI orders them."""
        return tuple(need for need in self.plan.all_needs(job) if need in self.run_ids)


def _approval_key(job: Job) -> str:
    return job.environment or job.stage


def prepare(plan: Plan, descriptor_path: Path, options: RunOptions, environ: Mapping[str, str]) -> Prepared:
    """Selects the jobs and checks, before anything runs, that they can: their secrets and
    variables are set, and needs outside this run passed in an earlier one."""
    project_dir = descriptor_path.resolve().parent
    root = workspace.repository_root(project_dir)
    branch = options.branch or workspace.current_branch(root)
    selection = select(plan, options.event, branch, options.stages, options.job_ids, options.projects)
    state = State.load(project_dir)
    python, python_note = interpreter(plan.python)
    prepared = Prepared(plan, selection, options.event, branch, root, project_dir, state, python,
                        trigger_notes(plan, options.event, branch) + ([python_note] if python_note else []))
    left_out = {job.id for job in selection.left_out}
    unmet = []
    commit = workspace.head_commit(root)
    for job in selection.run:
        for need in job.needs:  # explicit needs carry outputs and order; stage order alone does not
            if need not in left_out:
                continue
            if not state.passed(need):
                earlier = state.jobs.get(need)
                unmet.append(f"{job.id} needs {need}, which is not part of this run and "
                             + (f"{earlier.status} in the last run" if earlier else "has not run here yet"))
            elif state.jobs[need].commit and state.jobs[need].commit != commit:
                prepared.notes.append(f"{job.id} uses {need} from an earlier run at commit "
                                      f"{state.jobs[need].commit[:12]} (HEAD is {commit[:12]})")
    if unmet:
        raise UsageError("cannot run the selected jobs:\n  " + "\n  ".join(unmet)
                         + "\nrun those jobs first (pipegen run keeps their outputs in .pipegen/run/), "
                           "or select them too (--stage/--job)")
    prepared.notes += service_notes(selection.run, options.services)
    prepared.notes += compare_branch_notes(selection.run, root, branch)
    if not options.dry_run:
        missing = missing_values(selection.run, environ)
        if missing:
            raise UsageError("these values are read from your environment and are not set:\n  "
                             + "\n  ".join(missing) + "\nexport them (as the CI would provide them) and run again")
    stage_ids = {job.stage for job in selection.run}
    skipped_stages = sorted({job.stage for job in selection.left_out} - stage_ids)
    if selection.left_out and (options.stages or options.job_ids):
        prepared.notes.append(f"not part of this run: {', '.join(job.id for job in selection.left_out)}"
                              + (f" (stages {', '.join(skipped_stages)})" if skipped_stages else ""))
    return prepared


def service_notes(jobs: tuple[Job, ...], overrides: tuple[tuple[str, str, int], ...]) -> list[str]:
    """Where each service the selected jobs use is expected: a local run starts no containers
    (CI does), so the user runs them, at the address the jobs read or one given with --service."""
    used: dict[str, list[Job]] = {}
    for job in jobs:
        for service in job.services:
            used.setdefault(service.name, []).append(job)
    known = {service.name for job in jobs for service in job.services}
    unknown = sorted({name for name, _, _ in overrides} - known)
    if unknown:
        raise UsageError(f"--service {', '.join(unknown)}: no selected job uses such a service"
                         + (f" (they use {', '.join(sorted(known))})" if known else " (none uses any)"))
    given = {name: (host, port) for name, host, port in overrides}
    notes = []
    for name, users in used.items():
        service = next(s for s in users[0].services if s.name == name)
        if name in given:
            where = f"{given[name][0]}:{given[name][1]} (--service)"
        else:
            where = "localhost" + (f":{service.ports[0]}" if service.ports else "")
        notes.append(f"service {name} ({service.image}): pipegen run starts no containers; "
                     f"{', '.join(job.id for job in users)} reach it at {where} as ${service.env_prefix}_HOST"
                     + (f"/${service.env_prefix}_PORT" if service.ports or name in given else "")
                     + ("" if name in given else f"; run it there, or give --service {name}=HOST:PORT"))
    return notes


def compare_branch_notes(jobs: tuple[Job, ...], root: Path, branch: str) -> list[str]:
    """What the changed-lines gates of the selected jobs will compare with, when it is not the
    compare branch as named (no remote: the local mainline; building the compare branch itself:
    nothing committed is changed) or when there is none (those gates will exit 3). The same rule
    as the gates, in the repository the jobs' copies are made from."""
    notes = []
    gated = [job for job in jobs if job.compare_branch and job.gate in CHANGED_LINES_GATES]
    for compare in sorted({job.compare_branch for job in gated}):
        users = ", ".join(job.id for job in gated if job.compare_branch == compare)
        try:
            base = find_base(compare, root, {"PIPEGEN_BRANCH": branch})
        except EvaluationError as exc:
            notes.append(f"changed lines ({users}): {exc}; those gates will exit 3")
            continue
        if base.note:
            notes.append(f"changed lines ({users}): {base.note}")
    return notes


def service_environment(job: Job, overrides: tuple[tuple[str, str, int], ...]) -> dict[str, str]:
    """<NAME>_HOST/_PORT for the job's services that --service points elsewhere."""
    given = {name: (host, port) for name, host, port in overrides}
    env = {}
    for service in job.services:
        if service.name in given:
            env[f"{service.env_prefix}_HOST"], port = given[service.name]
            env[f"{service.env_prefix}_PORT"] = str(port)
    return env


def describe(prepared: Prepared) -> dict[str, Any]:
    """What a run would do, job by job, with the exact commands (for --dry-run)."""
    jobs = []
    reasons = {job.id: why for job, why in prepared.selection.not_for_event}
    for job in prepared.plan.jobs:
        if job.id in prepared.run_ids:
            status = "would run"
        elif job.id in reasons:
            status = f"not run: {reasons[job.id]}"
        else:
            status = "not selected"
        jobs.append({"id": job.id, "stage": job.stage, "status": status,
                     "waits_for": list(prepared.waits_for(job)),
                     "approval": _approval_key(job) if job.approval is not None else None,
                     "commands": [command.as_dict() for command in job_commands(job)]})
    return {"event": prepared.event.value, "branch": prepared.branch, "jobs": jobs}


class Runner:  # pylint: disable=too-many-instance-attributes  # the state of one schedule
    def __init__(self, prepared: Prepared, options: RunOptions, environ: Mapping[str, str], console: Console,
                 confirm: Confirm):
        self.prepared = prepared
        self.options = options
        self.environ = environ
        self.console = console
        self.confirm = confirm
        self.results: dict[str, JobResult] = {}
        self.approvals: dict[str, bool] = {}
        self.outputs: dict[str, dict[str, str]] = {
            job_id: dict(record.outputs) for job_id, record in prepared.state.jobs.items() if record.status == "passed"}
        self.commit = workspace.head_commit(prepared.root)

    def _approved(self, job: Job) -> bool:
        """Asked once per environment, when its first job is ready and nothing else runs."""
        key = _approval_key(job)
        if key not in self.approvals:
            approval = job.approval
            assert approval is not None
            jobs = [other.id for other in self.prepared.selection.run
                    if other.approval is not None and _approval_key(other) == key]
            who = f" (approvers: {', '.join(approval.approvers)})" if approval.approvers else ""
            if self.options.approve:
                self.console.say(f"pipegen run: {key} approved with --approve{who}: {', '.join(jobs)}")
                self.approvals[key] = True
            elif self.options.interactive:
                self.console.pause()
                try:
                    self.approvals[key] = self.confirm(f"{key} needs approval{who} to run {', '.join(jobs)}. Approve?")
                finally:
                    self.console.resume()
            else:
                self.approvals[key] = False
            if not self.approvals[key]:
                self.console.say(f"pipegen run: {key} is not approved: {', '.join(jobs)} will not run"
                                 + ("" if self.options.interactive else
                                    " (no terminal to ask on; give the approval with --approve)"))
        return self.approvals[key]

    def _blocked_by(self, job: Job) -> str | None:
        if job.always:  # runs after failures too, as on CI (the gate report)
            return None
        for need in self.prepared.waits_for(job):
            if self.results[need].status not in PASSING:
                return need
        return None

    def _unchanged(self, job: Job) -> str | None:
        """Why `job` does not run: its project did not change (the change selection's output says so)."""
        selector = self.prepared.plan.selector
        if job.project is None or selector is None or selector not in self.results:
            return None
        if self.outputs.get(selector, {}).get(changed_output(job.project)) == "false":
            return f"{job.project} did not change"
        return None

    def _workdir(self, job: Job, scratch: Path) -> Path:
        return (scratch / job.id / "repo" / workspace.relative_workdir(self.prepared.root, self.prepared.project_dir)
                / (job.folder or ""))

    def _context(self, job: Job, scratch: Path) -> JobContext:
        job_dir = scratch / job.id
        workspace.copy_for_job(scratch / "snapshot", job_dir / "repo")
        workdir = self._workdir(job, scratch)
        for producer in job.fetches:  # files an earlier job handed over (coverage.xml for Sonar)
            handed = scratch / "handover" / producer
            if not handed.is_dir() and producer not in self.prepared.run_ids:
                handed = self.prepared.state.handover(producer)  # from the run where it passed, as CI keeps them
            if handed.is_dir():
                shutil.copytree(handed, workdir, dirs_exist_ok=True)
            else:
                self.console.note(job.id, f"note: {producer} did not run here: its files are not handed over")
        return JobContext(plan=self.prepared.plan, job=job, workdir=workdir, job_dir=job_dir,
                          python=self.prepared.python, environ=self.environ, outputs=self.outputs,
                          event=self.prepared.event.value, branch=self.prepared.branch,
                          log=self.prepared.state.logs() / f"{job.id}.log", venv_cache=self.options.venv_cache,
                          uv=self.options.uv,
                          extra_env=service_environment(job, self.options.services))

    def _hand_over(self, job: Job, scratch: Path) -> None:
        """The files a passed job hands over, for this run's later jobs and for later runs."""
        kept = self.prepared.state.handover(job.id)
        if job.hands_over:
            shutil.rmtree(kept, ignore_errors=True)
        _copy_out(self._workdir(job, scratch), job.hands_over, (scratch / "handover" / job.id, kept))

    def _keep_artifacts(self, job: Job, scratch: Path) -> None:
        """What CI keeps as the job's artifacts (reports, the SBOM), also after a failure, as CI does."""
        kept = self.prepared.state.artifacts(job.id)
        shutil.rmtree(kept, ignore_errors=True)
        _copy_out(self._workdir(job, scratch), tuple(dict.fromkeys((*job.artifacts, *job.junit))), (kept,))

    def _start(self, pool: ThreadPoolExecutor, job: Job, scratch: Path) -> Future:
        self.console.started(job.id, f"{job.stage}: {job.title}")

        def body() -> JobResult:
            try:
                context = self._context(job, scratch)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # the job's failure, not a crash
                return JobResult(job.id, "failed", message=f"could not prepare its working copy: {exc}")
            return execute(context, self.console.emit, self.console.step)
        return pool.submit(body)

    def _settle(self, pending: list[Job]) -> list[Job]:
        """Resolves jobs that will not run (a need failed, approval refused); returns the
        ones ready to start, in plan order."""
        ready = []
        for job in list(pending):
            waits = self.prepared.waits_for(job)
            if not all(need in self.results for need in waits):
                continue
            unchanged = self._unchanged(job)
            if unchanged is not None:
                pending.remove(job)
                self.results[job.id] = JobResult(job.id, UNCHANGED, message=unchanged)
                self.console.finished(job.id, UNCHANGED, message=unchanged)
                continue
            blocker = self._blocked_by(job)
            if blocker is not None:
                pending.remove(job)
                self.results[job.id] = JobResult(job.id, "skipped", message=f"{blocker} did not pass")
                self.console.finished(job.id, "skipped", message=f"{blocker} did not pass")
                continue
            ready.append(job)
        return ready

    def run(self, scratch: Path) -> dict[str, JobResult]:
        workspace.make_snapshot(self.prepared.root, scratch / "snapshot", self.prepared.plan.submodules)
        pending = list(self.prepared.selection.run)
        running: dict[Future, Job] = {}
        limit = max(1, self.options.parallel)
        with ThreadPoolExecutor(max_workers=limit) as pool:
            try:
                self._schedule(pool, pending, running, limit, scratch)
            except KeyboardInterrupt:
                stop_all()
                raise
        return self.results

    def _schedule(self, pool: ThreadPoolExecutor, pending: list[Job], running: dict[Future, Job], limit: int,
                  scratch: Path) -> None:
        while pending or running:
            started = len(pending)
            for job in self._settle(pending):
                if len(running) >= limit:
                    break
                if job.approval is not None:
                    key = _approval_key(job)
                    if key not in self.approvals:
                        if running:
                            continue  # ask on a quiet terminal, once the running jobs are done
                        self._approved(job)
                    if not self.approvals[key]:
                        pending.remove(job)
                        self.results[job.id] = JobResult(job.id, "refused", message=f"{key} was not approved")
                        self.console.finished(job.id, "refused", message=f"{key} was not approved")
                        continue
                pending.remove(job)
                running[self._start(pool, job, scratch)] = job
            if not running:
                if len(pending) == started:  # unreachable: every need is pending, running or done
                    raise RuntimeError(f"pipegen run: no job can start: {[job.id for job in pending]}")
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                result = future.result()
                self.results[job.id] = result
                if result.status == "passed":
                    self.outputs[job.id] = result.outputs
                    self._hand_over(job, scratch)
                self._keep_artifacts(job, scratch)
                self.console.finished(job.id, result.status, result.duration, result.message)


def _copy_out(workdir: Path, relatives: tuple[str, ...], folders: tuple[Path, ...]) -> None:
    """Each of the job's files or folders `relatives` (paths in its working copy) into every one of
    `folders`, at the same relative path."""
    for relative in relatives:
        source = workdir / relative
        if source.is_symlink():
            continue  # a link the job made is not a file it keeps (it could lead anywhere)
        for folder in folders:
            target = folder / relative
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
            elif source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def exit_code(results: Mapping[str, JobResult]) -> int:
    return EXIT_OK if all(result.status in PASSING for result in results.values()) else EXIT_FAILED


def summary(prepared: Prepared, results: Mapping[str, JobResult], code: int) -> dict[str, Any]:
    rows = []
    reasons = {job.id: why for job, why in prepared.selection.not_for_event}
    for job in prepared.plan.jobs:
        if job.id in results:
            result = results[job.id]
            rows.append({"id": job.id, "stage": job.stage, "status": result.status,
                         "duration": round(result.duration, 1), "exit_code": result.exit_code,
                         "message": result.message, "outputs": result.outputs, "timings": result.timings})
        elif job.id in reasons:
            rows.append({"id": job.id, "stage": job.stage, "status": "not run", "duration": 0.0,
                         "exit_code": None, "message": reasons[job.id], "outputs": {}})
    return {"event": prepared.event.value, "branch": prepared.branch, "exit_code": code, "jobs": rows}


def render_summary(report: dict[str, Any]) -> str:
    rows = [("job", "stage", "status", "duration", "")]
    rows += [(row["id"], row["stage"], row["status"], f"{row['duration']:.1f}s", row["message"])
             for row in report["jobs"]]
    widths = [max(len(row[index]) for row in rows) for index in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + ("  " + row[4] if row[4] else "")
             for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def run(plan: Plan, descriptor_path: Path, options: RunOptions, environ: Mapping[str, str],
        stream: TextIO = sys.stdout, confirm: Confirm | None = None) -> tuple[int, dict[str, Any]]:
    """Runs the selected part of the plan; returns (exit code, summary). Raises UsageError
    (exit 2) when the run cannot start."""
    prepared = prepare(plan, descriptor_path, options, environ)
    console = Console(stream, verbose=options.verbose, live=options.live)
    console.width = max((len(job.id) for job in prepared.selection.run), default=0)
    for note in prepared.notes:
        console.say(f"pipegen run: note: {note}")
    if options.dry_run:
        return EXIT_OK, describe(prepared)
    runner = Runner(prepared, options, environ, console, confirm or (lambda _question: False))
    shutil.rmtree(prepared.state.logs(), ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix="pipegen-run-"))
    console.start([(job.id, job.stage) for job in prepared.selection.run])
    try:
        results = runner.run(scratch)
        console.stop(erase=True)  # the summary below says the same
    finally:
        console.stop()  # interrupted: the block stays as it was
        if options.keep:
            console.say(f"pipegen run: working copies and venvs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    for job_id, result in results.items():
        prepared.state.record(job_id, result.status, result.outputs, runner.commit)
    prepared.state.save()
    code = exit_code(results)
    report = summary(prepared, results, code)
    prepared.state.write_summary(report)
    console.say("")
    console.say(render_summary(report))
    failed = [(job_id, result.message or "failed") for job_id, result in results.items() if result.status == "failed"]
    for line in failure_tails(failed, prepared.state.logs(), show_tail=not options.verbose):
        console.say(line)
    return code, report
