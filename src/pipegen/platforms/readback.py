"""One neutral model of what a generated pipeline *does*, whichever platform's file it was read
from: jobs, their stage, what each waits for, on which events each runs, approvals and
environments, outputs produced and read, what each step can read from the CI's secret and
variable stores, timeouts, the cancel policy and the gate commands with their thresholds.

Each platform's reader (`pipegen.platforms.<platform>.reader`) turns a generated file into a
`PipelineView`; `from_plan` derives the view the plan promises. The parity test compares them
(`pipegen.platforms.differences` lists what a platform forces to differ) and `pipegen diff`
compares two views of the same platform.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipegen.ci import PROJECT_VARIABLE  # the literal every project's job carries
from pipegen.platforms.approvals import approvers_of

if TYPE_CHECKING:  # the plan's modules stay off the path of `pipegen diff` (views of files only)
    from pipegen.plan import Plan, RunWhen

# The situations a pipeline is started in. "release" is the branch PROD deploys from (the prod
# environment's branch, else the first trigger branch); "other" is a feature branch.
PUSH_RELEASE = "push:release"
PUSH_OTHER = "push:other"
PULL_REQUEST = "pull-request"  # into a trigger branch
PULL_REQUEST_OTHER = "pull-request:other"  # into a branch the triggers do not name
SCHEDULE = "schedule"
MANUAL_RELEASE = "manual:release"
MANUAL_OTHER = "manual:other"
EVENTS = (PUSH_RELEASE, PUSH_OTHER, PULL_REQUEST, PULL_REQUEST_OTHER, SCHEDULE, MANUAL_RELEASE, MANUAL_OTHER)
PULL_REQUESTS = frozenset({PULL_REQUEST, PULL_REQUEST_OTHER})
EVENT_WORDS = {PUSH_RELEASE: "pushes to the release branch", PUSH_OTHER: "pushes to other branches",
               PULL_REQUEST: "pull requests", PULL_REQUEST_OTHER: "pull requests into other branches",
               SCHEDULE: "the schedule", MANUAL_RELEASE: "manual runs of the release "
               "branch", MANUAL_OTHER: "manual runs of other branches"}
OTHER_BRANCH = "feature/other"  # the branch readers evaluate "other branch" conditions with

_GATE = re.compile(r"pipegen gate (\w+)((?:\\\n|[^\n])*)")
_REPORT_FLAGS = {"--junit", "--markdown", "--report-json", "--report", "--report-task", "--pylint-report",
                 "--flake8-report"}


@dataclass(frozen=True)
class StepView:
    title: str
    reads: frozenset[str]  # env names the step can read from the CI's secret and variable stores
    secrets: frozenset[str] | None = None  # those of them that are secrets; None: the file does not say


@dataclass(frozen=True)
class GateView:
    name: str  # coverage | lint | sonar | model | ...
    thresholds: tuple[tuple[str, str], ...]  # flag -> value, report paths left out
    mode: str = "enforce"  # enforce | dry-run | auto (report-only on pull requests)


@dataclass(frozen=True)
class JobView:  # pylint: disable=too-many-instance-attributes  # one field per question a reviewer asks
    id: str
    stage: str
    after: AbstractSet[str]  # every job that must finish first, transitively (a `Reach` when read back)
    events: frozenset[str]  # the EVENTS this job runs on
    environment: str | None = None
    approval: bool = False  # runs only after a human approved (here or in a job it waits for)
    asks_approval: bool = False  # a human is asked right before this job
    outputs: frozenset[str] = frozenset()
    inputs: frozenset[tuple[str, str]] = frozenset()  # (output name, producer job) the job reads as $NAME
    visible_outputs: frozenset[tuple[str, str]] = frozenset()  # every (name, producer) the job can see
    secrets: frozenset[str] | None = frozenset()  # secret env names; None: the platform does not scope them
    steps: tuple[StepView, ...] = ()
    timeout_minutes: int | None = None
    gates: tuple[GateView, ...] = ()
    applies: frozenset[str] = frozenset()  # what the job changes in an environment, and how (APPLY_*)
    # The git submodules the job's checkout fetches: SUBMODULES_RECURSIVE, SUBMODULES_TOP_LEVEL, or None.
    submodules: str | None = None
    project: str | None = None  # several projects in one repository: the project the job works for
    # Who can request a short-lived OIDC token: the clouds (azure, aws, gcp) this job logs in to with
    # one; TOKEN_UNUSED when the job may request a token the file does not use for a known login.
    oidc: frozenset[str] = frozenset()
    attests: bool = False  # attests the build provenance of the image it built
    verifies: bool = False  # verifies the image's provenance attestation before it deploys it


TOKEN_UNUSED = "id-token"


def project_of(env: object) -> str | None:
    """The project a job works for, from its environment (GitHub `env:`, GitLab `variables:`)."""
    value = env.get(PROJECT_VARIABLE) if isinstance(env, dict) else None
    if isinstance(value, dict):  # GitLab's {value: ..., expand: false}
        value = value.get("value")
    return str(value) if value is not None else None


SUBMODULES_RECURSIVE = "recursive"  # and the submodules' own submodules
SUBMODULES_TOP_LEVEL = "top-level"  # those .gitmodules names, not theirs


def checkout_submodules(value: object) -> str | None:
    """A checkout's `submodules` setting (GitHub's actions/checkout input, Azure's checkout step): `recursive`,
    `true` (one level), else none."""
    text = str(value).lower()
    return SUBMODULES_RECURSIVE if text == "recursive" else SUBMODULES_TOP_LEVEL if text == "true" else None


@dataclass(frozen=True)
class PipelineView:
    platform: str
    jobs: dict[str, JobView] = field(default_factory=dict)
    events: frozenset[str] = frozenset()  # the events that start the pipeline at all
    release_branch: str = "main"
    schedule: str | None = None  # cron, in UTC
    cancel_superseded: frozenset[str] = frozenset()  # events whose superseded runs are cancelled
    release_runs: str = "queue"  # a release-branch push while an earlier run waits: queue | parallel | abort
    # (environment, who approves) for each approval the file relies on; None: the file does not say
    approvers: tuple[tuple[str, str], ...] | None = None
    notes: tuple[str, ...] = ()  # what the reader could not interpret

    def job(self, job_id: str) -> JobView:
        return self.jobs[job_id]


# ---------------------------------------------------------------------------- shared helpers


class ConditionError(ValueError):
    """A condition in a pipeline file that the reader cannot evaluate."""


class Expression:
    """The boolean part of the CI condition languages (GitHub `if:`, GitLab `rules: if:`):
    string literals, /patterns/, names resolved by `lookup`, ==, !=, =~, !~, !, &&, || and
    parentheses. `pattern` tokenizes: groups `str`, `re`, `op` and `word`."""

    def __init__(self, text: str, lookup, pattern: re.Pattern):
        self.lookup = lookup
        self.tokens: list[tuple[str, str]] = []
        position, text = 0, text.strip()
        while position < len(text):
            match = pattern.match(text, position)
            if not match or match.end() == position:
                raise ConditionError(f"cannot read the condition {text!r}")
            kind = match.lastgroup or "op"
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
            while position < len(text) and text[position].isspace():
                position += 1
        self.position = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ConditionError("a condition ends too early")
        self.position += 1
        return self.tokens[self.position - 1]

    def value(self) -> object:
        result = self._binary(0)
        if self.position != len(self.tokens):
            raise ConditionError(f"cannot read a condition: unexpected {self._peek()!r}")
        return result

    _LEVELS = (("||",), ("&&",), ("==", "!=", "=~", "!~"))

    def _binary(self, level: int) -> object:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while self._peek() in self._LEVELS[level]:
            operator = self._take()[1]
            right = self._binary(level + 1)
            left = {"||": lambda: left or right, "&&": lambda: left and right,
                    "==": lambda: left == right, "!=": lambda: left != right,
                    "=~": lambda: _regex_match(left, right), "!~": lambda: not _regex_match(left, right)}[operator]()
        return left

    def _unary(self) -> object:
        if self._peek() == "!":
            self._take()
            return not self._unary()
        if self._peek() == "(":
            self._take()
            inner = self._binary(0)
            if self._take()[1] != ")":
                raise ConditionError("unbalanced parentheses in a condition")
            return inner
        kind, text = self._take()
        if kind == "str":
            quote = text[0]
            return text[1:-1].replace(quote * 2, quote) if quote == "'" else text[1:-1].replace('\\"', '"')
        if kind == "re":
            try:
                return re.compile(text[1:-1])
            except re.error as exc:
                raise ConditionError(f"cannot read the pattern {text}: {exc}") from None
        if kind != "word":
            raise ConditionError(f"cannot read a condition: unexpected {text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        return self.lookup(text)


def _regex_match(value: object, pattern: object) -> bool:
    if not isinstance(pattern, re.Pattern):
        raise ConditionError("=~ needs a /pattern/ on its right")
    return value is not None and pattern.search(str(value)) is not None


class Numbering:
    """Job names to bit positions, shared by every `Reach` of the views compared together (both
    sides of `pipegen diff` use one), so comparing two sets is a few machine-word operations."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def bit(self, name: str) -> int:
        position = self.index.get(name)
        if position is None:
            position = self.index[name] = len(self.names)
            self.names.append(name)
        return 1 << position

    def bits(self, names: Iterable[str]) -> int:
        if isinstance(names, Reach) and names.numbering is self:
            return names.bits
        found = 0
        for name in names:
            found |= self.bit(name)
        return found

    def reach(self, names: Iterable[str]) -> Reach:
        return Reach(self.bits(names), self)


class Reach(AbstractSet):
    """An immutable set of job names held as bits of a `Numbering`: what a job waits for,
    transitively, is most of the pipeline for most jobs, so plain sets would hold the square of
    the jobs; these hold one bit per job and combine without visiting their members."""

    __slots__ = ("bits", "numbering")

    def __init__(self, bits: int, numbering: Numbering):
        self.bits, self.numbering = bits, numbering

    def __contains__(self, name: object) -> bool:
        position = self.numbering.index.get(name) if isinstance(name, str) else None
        return position is not None and bool(self.bits >> position & 1)

    def __iter__(self) -> Iterator[str]:
        names = self.numbering.names
        digits = bin(self.bits)[:1:-1]  # bit 0 first
        position = digits.find("1")
        while position >= 0:
            yield names[position]
            position = digits.find("1", position + 1)

    def __len__(self) -> int:
        return self.bits.bit_count()

    def __bool__(self) -> bool:
        return self.bits != 0

    def _other(self, other: object) -> int | None:
        if isinstance(other, Reach) and other.numbering is self.numbering:
            return other.bits
        if isinstance(other, AbstractSet):
            return self.numbering.bits(other)
        return None

    def __and__(self, other: object):
        bits = self._other(other)
        return NotImplemented if bits is None else Reach(self.bits & bits, self.numbering)

    __rand__ = __and__

    def __or__(self, other: object):
        bits = self._other(other)
        return NotImplemented if bits is None else Reach(self.bits | bits, self.numbering)

    __ror__ = __or__

    def __sub__(self, other: object):
        bits = self._other(other)
        return NotImplemented if bits is None else Reach(self.bits & ~bits, self.numbering)

    def __rsub__(self, other: object):
        bits = self._other(other)
        return NotImplemented if bits is None else Reach(bits & ~self.bits, self.numbering)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Reach) and other.numbering is self.numbering:
            return self.bits == other.bits
        return AbstractSet.__eq__(self, other)

    def __le__(self, other: object) -> bool:
        bits = self._other(other)
        if bits is None:
            return NotImplemented
        return not self.bits & ~bits if isinstance(other, Reach) else AbstractSet.__le__(self, other)

    __hash__ = AbstractSet._hash

    def __repr__(self) -> str:
        return f"Reach({sorted(self)!r})"


def closure(direct: Mapping[str, Iterable[str]], numbering: Numbering | None = None) -> dict[str, Reach]:
    """Transitive predecessors from direct ones (unknown names are kept, cycles tolerated), each
    job's set the OR of its needs' sets: no walk per job, no recursion."""
    numbering = numbering or Numbering()
    done: dict[str, int] = {}
    for root in direct:
        if root in done:
            continue
        on_path = {root}
        stack = [(root, iter(direct.get(root, ())))]
        while stack:
            node, needs = stack[-1]
            for need in needs:
                if need not in done and need not in on_path:
                    on_path.add(need)
                    stack.append((need, iter(direct.get(need, ()))))
                    break
            else:
                stack.pop()
                on_path.discard(node)
                found = 0
                for need in direct.get(node, ()):
                    found |= numbering.bit(need) | done.get(need, 0)  # a need on the path: a cycle
                done[node] = found
    return {node: Reach(bits, numbering) for node, bits in done.items()}


def gates_in(script: str) -> tuple[GateView, ...]:
    """The `pipegen gate` commands of a shell script, with their threshold flags."""
    found = []
    for match in _GATE.finditer(script):
        try:
            words = shlex.split(match.group(2).replace("\\\n", " "), comments=False, posix=True)
        except ValueError:  # unbalanced quotes: read the words as written
            words = match.group(2).split()
        thresholds: list[tuple[str, str]] = []
        mode = "enforce"
        index = 0
        while index < len(words):
            word = words[index]
            if not word.startswith("--"):
                index += 1
                continue
            flag, _, inline = word.partition("=")
            value = inline if inline else (words[index + 1] if index + 1 < len(words)
                                           and not words[index + 1].startswith("--") else "")
            index += 1 if inline or not value else 2
            if flag == "--mode":
                mode = value
            elif flag not in _REPORT_FLAGS:
                thresholds.append((flag.lstrip("-"), value))
        found.append(GateView(match.group(1), tuple(sorted(thresholds)), mode))
    return tuple(found)


APPLY_TERRAFORM_SEALED = "terraform apply of the saved plan, checked against its seal"
APPLY_TERRAFORM_UNCHECKED = "terraform apply of a saved plan nobody checked"
APPLY_TERRAFORM_UNSAVED = "terraform apply without a saved plan"
APPLY_KUBERNETES = "kubernetes manifests"
APPLY_DAGS = "airflow DAGs"
# Applies whose change nobody reviewed: not the plan the plan job summarised and sealed.
UNREVIEWED = frozenset({APPLY_TERRAFORM_UNCHECKED, APPLY_TERRAFORM_UNSAVED})
_TERRAFORM_APPLY = re.compile(r"\bterraform(?:[ \t]+-chdir=\S+)?[ \t]+apply\b([^\n;&|]*)")
_KUBERNETES_APPLY = re.compile(r"\bpipegen deploy kubernetes apply\b"
                               r"|\bkubectl\b[^\n]*?[ \t](?:apply|rollout restart)\b")


def applies_in(script: str) -> frozenset[str]:
    """What a job's script changes in an environment: Terraform (and whether it applies the saved
    plan whose seal it checked first), Kubernetes manifests, an Airflow DAG folder."""
    text = script.replace("\\\n", " ")
    found = set()
    checked = "pipegen deploy terraform verify" in text
    for match in _TERRAFORM_APPLY.finditer(text):
        words = match.group(1).split()
        saved = bool(words) and not words[-1].startswith("-") and "-auto-approve" not in words
        found.add(APPLY_TERRAFORM_UNSAVED if not saved else
                  APPLY_TERRAFORM_SEALED if checked else APPLY_TERRAFORM_UNCHECKED)
    if _KUBERNETES_APPLY.search(text):
        found.add(APPLY_KUBERNETES)
    if "pipegen deploy airflow sync" in text:
        found.add(APPLY_DAGS)
    return frozenset(found)


def release_branch(plan: Plan) -> str:
    prod = next((job.branch for job in plan.jobs if job.stage == "prod" and job.branch), None)
    return prod or (plan.triggers.branches[0] if plan.triggers.branches else "main")


def event_branch(event: str, release: str) -> str | None:
    """The branch a run of `event` builds (None for a pull request's merge ref)."""
    if event in PULL_REQUESTS:
        return None
    return OTHER_BRANCH if event.endswith(":other") else release


# ---------------------------------------------------------------------------- the plan's view


def pipeline_events(plan: Plan) -> frozenset[str]:
    events = {MANUAL_RELEASE, MANUAL_OTHER}
    release = release_branch(plan)
    if release in plan.triggers.branches:
        events.add(PUSH_RELEASE)
    if plan.triggers.pull_requests:
        events.add(PULL_REQUEST)
    if plan.triggers.schedule:
        events.add(SCHEDULE)
    return frozenset(events)


def _job_events(plan: Plan, run_when: RunWhen, branch: str | None, events: frozenset[str]) -> frozenset[str]:
    from pipegen.plan import RunWhen  # pylint: disable=import-outside-toplevel,redefined-outer-name  # see top

    release = release_branch(plan)
    if run_when is RunWhen.ALWAYS:
        return events
    if run_when is RunWhen.NOT_PULL_REQUEST:
        return events - PULL_REQUESTS
    if run_when is RunWhen.PULL_REQUEST:
        return events & PULL_REQUESTS
    return frozenset(event for event in events if event not in PULL_REQUESTS and event_branch(event, release) == branch)


def from_plan(plan: Plan, platform: str = "plan") -> PipelineView:
    """What every platform's file should do, derived from the plan (for a platform that selects each
    project's jobs natively, without the change-selection job: see pipegen.plan.projects)."""
    # pylint: disable-next=import-outside-toplevel  # the plan's modules: only views of plans need them
    from pipegen.plan import EnvKind
    from pipegen.plan.projects import native_selection  # pylint: disable=import-outside-toplevel

    plan = native_selection(plan, platform)
    events = pipeline_events(plan)
    direct = {job.id: plan.all_needs(job) for job in plan.jobs}
    numbering = Numbering()
    after = closure(direct, numbering)
    approval_jobs = numbering.reach(job.id for job in plan.jobs if job.approval is not None)
    jobs: dict[str, JobView] = {}
    for job in plan.jobs:
        secret_names = frozenset(name for name, value in job.env if value.kind is EnvKind.SECRET)
        store_names = frozenset(name for name, value in job.env if value.kind in (EnvKind.SECRET, EnvKind.VARIABLE))
        steps = tuple(StepView(step.title, reads, reads & secret_names) for step in job.steps
                      for reads in [frozenset(store_names if step.reads is None else store_names & set(step.reads))])
        asks = job.id in approval_jobs and not approval_jobs & after[job.id]
        jobs[job.id] = JobView(
            id=job.id, stage=job.stage, after=after[job.id],
            events=_job_events(plan, job.run_when, job.branch, events), environment=job.environment,
            approval=job.id in approval_jobs or bool(approval_jobs & after[job.id]), asks_approval=asks,
            outputs=frozenset(job.outputs), inputs=frozenset(job.inputs), visible_outputs=frozenset(job.inputs),
            secrets=secret_names, steps=steps, timeout_minutes=job.timeout_minutes,
            gates=tuple(gate for step in job.steps for gate in gates_in(step.run)),
            applies=applies_in("\n".join(step.run for step in job.steps)),
            submodules=SUBMODULES_RECURSIVE if plan.submodules else None,
            oidc=frozenset({job.identity.cloud}) if job.identity else frozenset(),
            attests=job.attests, verifies=job.verifies is not None, project=job.project)
    return PipelineView(platform=platform, jobs=jobs, events=events, release_branch=release_branch(plan),
                        schedule=plan.triggers.schedule, cancel_superseded=frozenset({PULL_REQUEST}) & events,
                        approvers=approvers_of(plan))
