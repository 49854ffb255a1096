"""Which of the CI pipelines already in a repository compete with the one pipegen writes.

A pipeline competes when it runs on the events and branches pipegen's runs on (a push to the
mainline, a pull request into it) and does what pipegen's TEST stage does (tests, linters): both
would run on every push and report twice. Everything else is kept beside pipegen's pipeline and
listed as kept, with the reason: a release (tags, `release` events), a scheduled-only run, label
sync or triage (`pull_request_target`, `issues`, `label`), a run filtered to paths outside the
code (docs/**), a downstream pipeline (GitHub `workflow_run`/`workflow_call`, Azure pipeline
resources, Jenkins `upstream`), and a pipeline that runs no tests or linters (docs, deploy).
Files are read, never run; what cannot be read competes (the cautious answer)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from pipegen.descriptor.yaml_positions import load_bounded
from pipegen.project_files import read_text

# Commands that run tests or linters: what pipegen's TEST stage does.
_CHECKS = re.compile(r"\b(?:pytest|py\.test|tox|nox|unittest|coverage|flake8|pylint|ruff|mypy|pre-commit|"
                     r"make\s+(?:test|tests|lint|check)|hatch\s+(?:run\s+)?test|pdm\s+(?:run\s+)?test)\b"
                     r"|(?:^|[\s/])tests?[\w.-]*\.sh\b", re.IGNORECASE | re.MULTILINE)
# Files a change to the code touches; a path filter that reaches none of them is about something else.
_CODE_SAMPLES = ("x.py", "pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "tox.ini")
_NOT_CODE = {"docs", "doc", "documentation", "site", "examples", "notebooks"}  # a Sphinx conf.py is not the code
_DOWNSTREAM_EVENTS = {"workflow_run": "runs after another workflow (workflow_run)",
                      "workflow_call": "a reusable workflow: it runs when another workflow calls it"}
_TRIAGE_EVENTS = ("pull_request_target", "issues", "issue_comment", "label", "discussion")


@dataclass(frozen=True)
class ExistingPipeline:
    """One CI file pipegen did not write, and whether it competes with pipegen's (and why)."""

    path: str
    competes: bool
    why: str


@dataclass(frozen=True)
class Mainline:
    """The events pipegen's pipeline runs on: pushes to these branches, pull requests or not."""

    branches: tuple[str, ...] = ("main",)
    pull_requests: bool = True


# Lines about documentation or benchmarks: `tox -e docs` or `pytest --codspeed` duplicate no pipegen job.
_ELSEWHERE = re.compile(r"\b(?:docs?|sphinx|mkdocs|benchmarks?|codspeed|asv)\b", re.IGNORECASE)


def runs_checks(text: str) -> bool:
    """Whether the text runs tests or linters, leaving aside lines that build docs or run benchmarks."""
    return any(_CHECKS.search(line) for line in text.splitlines() if not _ELSEWHERE.search(line))


def path_glob(pattern: str) -> re.Pattern:
    """GitHub's and Azure's path/branch filter glob: `*` within one segment, `**` across them."""
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out) + r"\Z")


def _matches(patterns, value: str) -> bool:
    return any(path_glob(str(pattern).removeprefix("refs/heads/")).match(value) for pattern in patterns
               if not str(pattern).startswith("!"))


def _code_paths(root: Path) -> list[str]:
    """Sample paths a code change touches: root files and Python files in each top-level folder."""
    samples = list(_CODE_SAMPLES)
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and child.name.lower() not in _NOT_CODE:
                samples += [f"{child.name}/x.py", f"{child.name}/a/x.py", f"{child.name}/a/b/x.py"]
    return samples


def _reaches_code(root: Path, include, exclude=()) -> bool:
    samples = _code_paths(root)
    included = [path for path in samples if not include or _matches(include, path)]
    return any(not _matches(exclude, path) for path in included)


def _hits(mainline: Mainline, include, exclude) -> list[str]:
    """The mainline branches a branch filter lets through (no include list: every branch)."""
    return [branch for branch in mainline.branches
            if (not include or _matches(include, branch)) and not _matches(exclude, branch)]


def _read(root: Path, relative: str) -> tuple[str, dict | None]:
    """(the file's text, its YAML mapping or None when it is not one)."""
    text = read_text(root / relative)
    try:
        data = load_bounded(text)
    except yaml.YAMLError:
        data = None
    return text, data if isinstance(data, dict) else None


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- GitHub Actions ---------------------------------------------------------------------------

def _github_events(data: dict) -> dict:
    raw = data.get("on", data.get("True", data.get(True)))  # YAML 1.1 reads a bare `on` as true
    if isinstance(raw, str):
        return {raw: {}}
    if isinstance(raw, list):
        return {str(event): {} for event in raw}
    return {str(event): spec if isinstance(spec, dict) else {} for event, spec in raw.items()} \
        if isinstance(raw, dict) else {}


def _github_branch_event(root: Path, event: str, spec: dict, mainline: Mainline) -> str | None:
    """Why a push or pull_request filter lets a mainline change through, or None when it does not."""
    branches, ignored = _as_list(spec.get("branches")), _as_list(spec.get("branches-ignore"))
    if event == "push" and spec.get("tags") is not None and not branches and not ignored:
        return None  # tags only: a release
    hit = _hits(mainline, branches, ignored)
    if not hit:
        return None
    if not _reaches_code(root, _as_list(spec.get("paths")), _as_list(spec.get("paths-ignore"))):
        return None
    return f"{'push to' if event == 'push' else 'pull requests into'} {', '.join(hit)}"


def github_workflow(root: Path, relative: str, mainline: Mainline) -> ExistingPipeline:
    text, data = _read(root, relative)
    if data is None:
        return ExistingPipeline(relative, True, "not readable as a workflow: treated as competing")
    events = _github_events(data)
    same = [why for event in ("push", "pull_request") if event in events
            and (event == "push" or mainline.pull_requests)
            and (why := _github_branch_event(root, event, events[event], mainline))]
    if same and runs_checks(text):
        return ExistingPipeline(relative, True, f"runs tests or linters on {' and '.join(same)}, as pipegen's does")
    return ExistingPipeline(relative, False, _github_kept_reason(events, same))


def _github_kept_reason(events: dict, same: list[str]) -> str:
    if same:
        return f"runs on {' and '.join(same)} but runs no tests or linters (docs, build or deploy)"
    names = set(events)
    triage = sorted(names & set(_TRIAGE_EVENTS))
    reasons = [(event in names, why) for event, why in _DOWNSTREAM_EVENTS.items()] + [
        ("release" in names or ("push" in names and events["push"].get("tags") is not None),
         "a release workflow (release events or tags)"),
        (bool(names) and names <= {"schedule", "workflow_dispatch"}, "runs on a schedule or by hand only"),
        (bool(triage), f"labels or triage ({', '.join(triage)})"),
        (bool(names & {"push", "pull_request"}), "its branch or path filters leave the mainline's code changes out"),
    ]
    return next((why for applies, why in reasons if applies),
                f"runs on other events ({', '.join(sorted(names)) or 'none'})")


# --- Azure Pipelines --------------------------------------------------------------------------

def _azure_filter(root: Path, spec, mainline: Mainline, what: str) -> str | None:
    """Why an Azure `trigger`/`pr` lets a mainline change through (absent means every branch)."""
    if spec == "none" or spec is False:
        return None
    if spec is None or spec is True:
        return f"{what} every branch (no {what.split()[0]} filter)"
    if isinstance(spec, list):
        spec = {"branches": {"include": spec}}
    if not isinstance(spec, dict):
        return None
    branches = spec.get("branches") if isinstance(spec.get("branches"), dict) else {}
    include, exclude = _as_list(branches.get("include")), _as_list(branches.get("exclude"))
    if not include and spec.get("tags") is not None:
        return None
    hit = _hits(mainline, include, exclude)
    paths = spec.get("paths") if isinstance(spec.get("paths"), dict) else {}
    if not hit or not _reaches_code(root, _as_list(paths.get("include")), _as_list(paths.get("exclude"))):
        return None
    return f"{what} {', '.join(hit)}"


def azure_pipeline(root: Path, relative: str, mainline: Mainline) -> ExistingPipeline:
    text, data = _read(root, relative)
    if data is None:
        return ExistingPipeline(relative, True, "not readable as a pipeline: treated as competing")
    if not any(key in data for key in ("trigger", "pr", "schedules", "resources", "pool", "stages", "jobs", "steps")):
        return ExistingPipeline(relative, False, "not a pipeline (a template or variables file)")
    if "parameters" in data and not any(key in data for key in ("trigger", "pr", "pool")):
        return ExistingPipeline(relative, False, "a template other pipelines include")
    return _azure_triggers(root, relative, data, text, mainline)


def _azure_triggers(root: Path, relative: str, data: dict, text: str, mainline: Mainline) -> ExistingPipeline:
    same = [why for key, what in (("trigger", "push to"), ("pr", "pull requests into"))
            if (key == "trigger" or mainline.pull_requests)
            and (why := _azure_filter(root, data.get(key), mainline, what))]
    if same and runs_checks(text):
        return ExistingPipeline(relative, True, f"runs tests or linters on {' and '.join(same)}, as pipegen's does")
    if same:
        return ExistingPipeline(relative, False, f"runs on {' and '.join(same)} but runs no tests or linters")
    resources = data.get("resources") if isinstance(data.get("resources"), dict) else {}
    if resources.get("pipelines"):
        return ExistingPipeline(relative, False, "runs after another pipeline (resources.pipelines)")
    if data.get("schedules"):
        return ExistingPipeline(relative, False, "runs on a schedule only")
    return ExistingPipeline(relative, False, "its triggers leave the mainline's code changes out (tags, "
                                             "other branches or paths, or none)")


# --- Jenkins -----------------------------------------------------------------------

def jenkins_file(root: Path, relative: str) -> ExistingPipeline:
    """A Jenkinsfile other than the one at the root: only a Jenkins job set up for it runs it."""
    text = read_text(root / relative)
    if re.search(r"\bupstream\s*\(", text):
        return ExistingPipeline(relative, False, "runs after another job (triggers { upstream })")
    if re.search(r"\bcron\s*\(", text) and not runs_checks(text):
        return ExistingPipeline(relative, False, "runs on a schedule (triggers { cron })")
    return ExistingPipeline(relative, False, "runs only from a Jenkins job configured for this file; a "
                                             "multibranch pipeline runs the root Jenkinsfile pipegen writes")


def jenkins_candidates(root: Path) -> list[str]:
    found = [path.name for path in sorted(root.glob("Jenkinsfile?*")) if path.is_file()]
    found += [f"jenkins/{path.name}" for path in sorted((root / "jenkins").glob("*"))
              if path.is_file() and fnmatchcase(path.name.lower(), "*jenkinsfile*")] \
        if (root / "jenkins").is_dir() else []
    return found
