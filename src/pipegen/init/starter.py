"""`pipegen init`: inspect a repository, render a starter pipegen.yaml, write it safely.

What the repository says about itself comes from pipegen.init.detect (one detector per question,
each saying where its answer came from); this module adds the git facts, chooses thresholds
the repository passes today, and renders the descriptor with a comment on every choice.
Nothing here guesses silently: what cannot be known (deploy commands, model metrics) is
written as a commented hint, never as an active value that would fail the first run.
"""
from __future__ import annotations

import configparser
import os
import re
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pipegen.descriptor.loader import UNCARRIABLE
from pipegen.errors import DescriptorError, UsageError
from pipegen.init.detect import Finding
from pipegen.init.detect.ci_competition import ExistingPipeline, Mainline
from pipegen.init.detect.ci_files import GENERATED, ci_files, existing_pipelines, other_ci
from pipegen.init.detect.install import install_commands
from pipegen.init.detect.layout import app_folder, source_packages, test_levels
from pipegen.init.detect.linters import configured_linters
from pipegen.init.detect.mlproject import Training, find_training, mlproject_install
from pipegen.init.detect.name import project_name, sanitise_project_name
from pipegen.init.detect.python_version import python_version as detect_python
from pipegen.init.detect.services import ServiceFinding, TestEnvironment, compose_services
from pipegen.init.detect.test_env import environment_of_tests
from pipegen.init.measure.lint_today import QUIET, LintToday, Progress, measure
from pipegen.paths import file_mode, read_bytes
from pipegen.project_files import is_package, read_toml, submodule_paths
from pipegen.scrub import map_strings
from pipegen.syntax import yaml_scalar

TARGETS = ("github", "gitlab", "azure", "jenkins")
DEFAULT_BRANCH = "main"

RUNTIME_REQUIREMENTS = ("requirements.txt",)
NO_TESTS = ("none found: the unit job fails until tests/ holds tests (a pipeline running no tests never passes); "
            "name the folder yours are in")
TEST_REQUIREMENTS = ("requirements-test.txt", "requirements_test.txt", "test-requirements.txt",
                     "requirements/test.txt")
DEV_REQUIREMENTS = ("requirements-dev.txt", "requirements_dev.txt", "dev-requirements.txt", "requirements/dev.txt")
# Coverage of the lines a change adds or edits: what every change must reach from day one.
DIFF_COVERAGE = 80

_SCP_LIKE_URL = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?!//)")
_IMAGE_NAME_JUNK = re.compile(r"[^a-z0-9]+")

__all__ = ["Finding", "Training", "sanitise_project_name"]


@dataclass(frozen=True)
class GitFacts:
    """What the git metadata says; every field is optional because a folder need not be a repo."""

    is_repo: bool = False
    remote_name: str | None = None
    remote_url: str | None = None
    default_branch: str = DEFAULT_BRANCH
    branch_source: str = "default"
    # Where changed lines are counted from: origin's mainline when this clone has it, else the
    # local mainline (a repository not pushed yet); `compare_why` says which, in the descriptor.
    compare_branch: str = f"origin/{DEFAULT_BRANCH}"
    compare_why: str = f"origin/{DEFAULT_BRANCH}, the default (not a git repository)"


@dataclass(frozen=True)
class Detection:  # pylint: disable=too-many-instance-attributes  # one field per detector, a plain record
    """Everything `pipegen init` learned about the repository."""

    root: Path
    name: Finding
    python: Finding
    targets: tuple[str, ...]
    targets_source: str
    git: GitFacts
    requirements: dict[str, str] = field(default_factory=dict)  # kind -> file
    source: tuple[str, ...] = ()
    source_why: str = ""
    tests: dict[str, str] = field(default_factory=dict)  # level -> folder
    unplaced_tests: tuple[str, ...] = ()  # test folders that fit no level (a second functional one)
    # The subfolder, not a package, holding the application and its tests (project/): they run from the root
    # with it on PYTHONPATH, as they import its code as top-level modules.
    app_folder: str | None = None
    install: Finding | None = None
    package: bool = False
    linters: tuple[str, ...] = ()
    linters_why: str = ""
    lint_today: dict[str, LintToday] = field(default_factory=dict)
    services: tuple[ServiceFinding, ...] = ()
    compose_file: str | None = None
    test_env: TestEnvironment = TestEnvironment()
    dockerfile: str | None = None
    training: Training | None = None
    dags: bool = False
    data_dir: bool = False
    ci_files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # platform -> files present
    # platform -> CI files pipegen did not write, each competing with pipegen's pipeline or kept beside it
    existing_ci: dict[str, tuple[ExistingPipeline, ...]] = field(default_factory=dict)
    other_ci: tuple[str, ...] = ()  # CI systems pipegen does not generate for
    submodules: tuple[str, ...] = ()  # git submodule paths .gitmodules names: every checkout fetches them

    @property
    def foreign_ci(self) -> dict[str, tuple[ExistingPipeline, ...]]:
        """platform -> the pipelines pipegen did not write that compete with its own."""
        return {target: competing for target, found in self.existing_ci.items()
                if (competing := tuple(pipeline for pipeline in found if pipeline.competes))}

    @property
    def kept_ci(self) -> tuple[ExistingPipeline, ...]:
        return tuple(pipeline for found in self.existing_ci.values() for pipeline in found if not pipeline.competes)

    @property
    def existing_ci_files(self) -> tuple[str, ...]:
        return tuple(path for target in TARGETS for path in self.ci_files.get(target, ()))

    @property
    def ratchet(self) -> bool:
        """Lint adopts by ratchet when a linter finds issues today or could not be measured."""
        return any(not self.lint_today.get(tool, LintToday(tool)).clean for tool in self.linters)


# --- git ------------------------------------------------------------------------------------

def remote_host(url: str) -> str | None:
    """The host of a git remote URL, in URL form (https://, ssh://) or scp form (git@host:path)."""
    url = url.strip()
    if "://" in url:
        try:
            return urlsplit(url).hostname
        except ValueError:
            return None
    if os.path.isabs(url) or url.startswith("."):
        return None  # a local path: no hosting platform
    match = _SCP_LIKE_URL.match(url)
    return match.group("host").lower() if match else None


def target_for_host(host: str | None) -> str | None:
    """The CI platform that comes with a git host, or None when the host says nothing."""
    if not host:
        return None
    host = host.lower()
    if host in ("dev.azure.com", "ssh.dev.azure.com") or host.endswith(".visualstudio.com") \
            or host.endswith(".dev.azure.com"):
        return "azure"
    if host == "gitlab.com" or "gitlab" in host:
        return "gitlab"
    # github.com, and GitHub Enterprise hosts that carry the name (github.example.com).
    if host == "github.com" or "github" in host:
        return "github"
    return None


def _pick_remote(remotes: dict[str, str]) -> tuple[str, str] | None:
    """origin when there is one (the convention for "where this repo lives"); otherwise the
    first remote, by name, whose host names a platform; otherwise the first by name."""
    if not remotes:
        return None
    if "origin" in remotes:
        return "origin", remotes["origin"]
    names = sorted(remotes)
    recognised = [name for name in names if target_for_host(remote_host(remotes[name]))]
    name = (recognised or names)[0]
    return name, remotes[name]


def _default_branch(repo) -> tuple[str, str]:
    """The branch CI should treat as mainline: origin/HEAD when the clone recorded it, else a
    local main or master that has commits, else main."""
    try:
        # pylint: disable-next=import-outside-toplevel  # git is imported only when init runs
        from git import SymbolicReference
        head = SymbolicReference(repo, "refs/remotes/origin/HEAD")
        return head.reference.remote_head, "origin/HEAD"
    except (ValueError, TypeError, OSError, AttributeError):
        pass
    try:
        local = {head.name for head in repo.heads}
    except (ValueError, OSError):
        local = set()
    for name in ("main", "master"):
        if name in local:
            return name, f"local branch {name}"
    return DEFAULT_BRANCH, "default"


def _remote_urls(repo) -> dict[str, str]:
    """name -> url for every remote that has one; a remote without a url, or a config
    gitpython cannot read, tells us nothing rather than stopping init."""
    urls = {}
    try:
        remotes = list(repo.remotes)
    except (ValueError, OSError, AttributeError, configparser.Error):
        return {}
    for remote in remotes:
        try:
            urls[remote.name] = remote.url
        except (ValueError, OSError, AttributeError, configparser.Error):
            continue
    return urls


def git_facts(root: Path) -> GitFacts:
    """Remote and mainline from the repository containing `root`; an empty GitFacts when
    `root` is not in a git repository or git is unavailable."""
    try:
        # pylint: disable-next=import-outside-toplevel  # keeps `pipegen --help` free of gitpython
        import git
    except ImportError:  # gitpython raises ImportError when no git executable is found
        return GitFacts()
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, OSError):
        return GitFacts()
    with repo:
        remotes = _remote_urls(repo)
        picked = _pick_remote(remotes)
        branch, branch_source = _default_branch(repo)
        compare, compare_why = _compare_branch(repo, branch, "origin" in remotes)
    return GitFacts(is_repo=True, remote_name=picked[0] if picked else None,
                    remote_url=picked[1] if picked else None, default_branch=branch, branch_source=branch_source,
                    compare_branch=compare, compare_why=compare_why)


def _has_commit(repo, ref: str) -> bool:
    try:
        repo.commit(ref)
    except Exception:  # pylint: disable=broad-exception-caught  # gitpython raises several kinds
        return False
    return True


def _compare_branch(repo, mainline: str, has_origin: bool) -> tuple[str, str]:
    """A compare branch that exists: origin's mainline when the clone has it, else the local one
    (the gates read a bare name as the local branch, else origin's: what a CI checkout holds)."""
    if _has_commit(repo, f"refs/remotes/origin/{mainline}"):
        return f"origin/{mainline}", f"origin/{mainline}, the remote's mainline."
    why = "origin has not been fetched or pushed to" if has_origin else "no remote yet"
    if not _has_commit(repo, f"refs/heads/{mainline}"):
        why += f", and {mainline} has no commit yet"
    return mainline, (f"{mainline}, the local mainline: this clone has no origin/{mainline} ({why}). In CI, "
                      f"whose checkout holds origin's branches, {mainline} is origin/{mainline}.")


def detect_targets(facts: GitFacts, ci_files: dict[str, str]) -> tuple[tuple[str, ...], str]:
    """Targets from the remote's host plus CI files already present.

    With no evidence at all (no remote, a self-hosted host we cannot name, no CI file) we
    list all four rather than guess one: every one of them validates and generates, the
    summary and the file's comment say it is a placeholder, and deleting three names is
    easier than discovering that a guess was wrong. `--target` overrides all of this."""
    found: list[str] = []
    reasons: list[str] = []
    if facts.remote_url is not None:
        host = remote_host(facts.remote_url)
        target = target_for_host(host)
        if target:
            found.append(target)
            reasons.append(f"git remote {facts.remote_name}: {host}")
    for target, name in ci_files.items():
        if target not in found:
            found.append(target)
            reasons.append(f"{name} present")
    if found:
        return tuple(t for t in TARGETS if t in found), "; ".join(reasons)
    if not facts.is_repo:
        why = "not a git repository"
    elif facts.remote_url is None:
        why = "no git remote"
    else:
        why = f"git remote {facts.remote_name} ({remote_host(facts.remote_url) or 'local path'}) names no platform"
    return TARGETS, f"{why}: all four listed, keep the ones you use"


# --- project --------------------------------------------------------------------------------

def image_name(project: str) -> str:
    """A container repository name (lowercase alphanumerics joined by single '-')."""
    return _IMAGE_NAME_JUNK.sub("-", project.lower()).strip("-") or "app"


def python_version(pyproject: dict, root: Path | None = None) -> Finding:
    """The project's Python (pipegen.init.detect.python_version), from `root`'s files and pyproject."""
    return detect_python(root or Path("/nonexistent-pipegen-root"), pyproject)


def find_requirements(root: Path) -> dict[str, str]:
    found = {}
    for kind, names in (("runtime", RUNTIME_REQUIREMENTS), ("test", TEST_REQUIREMENTS), ("dev", DEV_REQUIREMENTS)):
        name = next((name for name in names if (root / name).is_file()), None)
        if name:
            found[kind] = name
    return found


def find_dockerfile(root: Path) -> str | None:
    return "Dockerfile" if (root / "Dockerfile").is_file() else None


def inspect_repository(root: Path, targets: tuple[str, ...] = (), measure_lint: bool = True, *,
                       repository_code: bool = False, progress: Progress = QUIET) -> Detection:
    """Everything init writes, from the files under `root`; `targets` (from --target) wins over
    detection. `measure_lint`: run the configured linters on a throw-away copy of the code to choose
    thresholds (pipegen.init.measure); `repository_code`: with the repository's own plugins and hooks."""
    pyproject = read_toml(root / "pyproject.toml")
    facts = git_facts(root)
    present = ci_files(root)
    if targets:
        chosen, why = tuple(t for t in TARGETS if t in targets), "--target"
    else:
        chosen, why = detect_targets(facts, {target: files[0] for target, files in present.items()})
    source, source_why = source_packages(root, pyproject)
    levels, unplaced = test_levels(root)
    linters, linters_why = configured_linters(root, pyproject)
    services, compose = compose_services(root)
    used = services if set(levels) - {"unit"} else ()
    app = app_folder(root)
    requirements = find_requirements(root) or \
        ({kind: f"{app}/{path}" for kind, path in find_requirements(root / app).items()} if app else {})
    install = install_commands(root, pyproject)
    if install is None and not requirements:
        install = mlproject_install(root)
    python = detect_python(root, pyproject)
    return Detection(
        root=root, name=project_name(root, pyproject), python=python,
        targets=chosen, targets_source=why, git=facts, requirements=requirements,
        source=source, source_why=source_why, tests=levels, unplaced_tests=unplaced, app_folder=app,
        install=install, package=is_package(root),
        linters=linters, linters_why=linters_why,
        lint_today=measure(root, linters, source, repository_code=repository_code, progress=progress,
                           python=python.value)
        if measure_lint else {},
        services=used, compose_file=compose,
        test_env=_test_env(environment_of_tests(root, services, Mainline((facts.default_branch,))), used),
        dockerfile=find_dockerfile(root), training=find_training(root),
        dags=(root / "dags").is_dir(), data_dir=(root / "data").is_dir(),
        ci_files=present, existing_ci=_existing_ci(root, facts),
        other_ci=other_ci(root), submodules=submodule_paths(root))


def _test_env(found: TestEnvironment, used: tuple[ServiceFinding, ...]) -> TestEnvironment:
    """Values naming a service the descriptor does not run (only unit tests: no services) are left out."""
    provided = {f"${{{service.prefix}_" for service in used}
    kept = tuple((key, value) for key, value in found.env
                 if "${" not in value or any(prefix in value for prefix in provided))
    dropped = tuple((key, "names a service, and services run beside integration and functional tests only")
                    for key, value in found.env if (key, value) not in kept)
    return TestEnvironment(kept, found.sources, found.left_out + dropped, found.built, found.built_services)


def _existing_ci(root: Path, facts: GitFacts) -> dict[str, tuple[ExistingPipeline, ...]]:
    mainline = Mainline((facts.default_branch,))
    return {target: found for target in TARGETS if (found := existing_pipelines(root, target, mainline))}


# --- rendering ------------------------------------------------------------------------------

def commented(block: str) -> str:
    """A YAML block turned into comments; removing the leading '# ' gives the block back."""
    return "".join(f"# {line}\n" if line else "#\n" for line in block.rstrip("\n").split("\n"))


def model_block(detection: Detection) -> str:
    """The model section for a detected training entry point (written commented out by init)."""
    training = detection.training
    if training is None:
        raise ValueError("model_block needs a detected training entry point")
    return (
        "model:\n"
        f"  name: {yaml_scalar(detection.name.value)}  # registered model name in MLflow\n"
        f"  train: {yaml_scalar(training.command)}  # from {training.found}\n"
        "  tracking_uri_var: MLFLOW_TRACKING_URI  # a CI variable holding the tracking server URL\n"
        "  on_first_model: thresholds  # no champion yet: only the absolute thresholds apply\n"
        "  metrics:  # logged by the training run; a metric missing on the candidate fails the gate\n"
        "    accuracy: {greater_is_better: true, threshold: 0.8}  # a floor; add min_absolute_change: 0.005\n"
        "    # to demand a real improvement over the champion\n")


def environments_block(detection: Detection) -> str:
    """QA and PROD deployments of the image (written commented out: init cannot know your deploy)."""
    return (
        "environments:\n"
        "  qa:\n"
        "    deploy: ./deploy.sh qa \"$IMAGE_REF\"  # your command; $IMAGE_REF is the digest built in QA\n"
        "  prod:\n"
        "    deploy: ./deploy.sh prod \"$IMAGE_REF\"\n"
        "    approval: {approvers: [release-managers]}\n"
        f"    branch: {yaml_scalar(detection.git.default_branch)}  # PROD deploys only from the mainline\n")


def _flow(values) -> str:
    return "[" + ", ".join(yaml_scalar(str(value), flow=True) for value in values) + "]"


def _header(detection: Detection) -> list[str]:
    return [
        "# pipegen.yaml: one descriptor for your CI pipelines (TEST -> QA -> PROD).",
        "# Written by `pipegen init` from what it found in this repository; edit freely.",
        "# `pipegen validate` checks it, `pipegen generate` writes the pipeline files,",
        "# `pipegen schema` prints the JSON Schema for your editor.",
        "version: 1",
        "",
        "project:",
        f"  name: {yaml_scalar(detection.name.value)}  # from {detection.name.source}",
        f"  python: \"{detection.python.value}\"  # {detection.python.source}",
    ]


def _project_lines(detection: Detection) -> list[str]:
    lines = []
    if detection.requirements:
        lines.append("  requirements:  # installed with pip install -r, separated by purpose")
        lines += [f"    {kind}: {yaml_scalar(path)}" for kind, path in detection.requirements.items()]
    if detection.source:
        lines.append(f"  source: {_flow(detection.source)}  # {detection.source_why}: linted, measured by coverage")
    if detection.install is not None:
        lines.append(f"  install:  # {detection.install.source}; any commands, run in the job's Python")
        lines += [f"    - {yaml_scalar(command)}" for command in detection.install.value.splitlines()]
    elif not detection.requirements:
        lines.append("  # install: [\"python -m pip install -r requirements.txt\"]  # nothing found to install")
    if detection.submodules:
        lines.append(f"  # submodules: false  # .gitmodules names {_some(detection.submodules)}: every job's checkout "
                     "fetches the git submodules; uncomment if the jobs need none of them")
    return lines


def _some(paths: tuple[str, ...], shown: int = 3) -> str:
    return ", ".join(paths[:shown]) + (f" and {len(paths) - shown} more" if len(paths) > shown else "")


def _target_lines(detection: Detection) -> list[str]:
    lines = ["", f"# {detection.targets_source}", f"targets: {_flow(detection.targets)}"]
    for target in TARGETS:
        for pipeline in detection.foreign_ci.get(target, ()):
            lines.append(f"# {pipeline.path}: a {target} pipeline pipegen did not write that {pipeline.why}.")
            lines.append("#   Both would run on every push: move what it does that pipegen does not into a custom")
            lines.append("#   job (jobs:), then delete it; `pipegen generate` refuses to write beside it until then.")
        generated = GENERATED[target]
        if generated in detection.ci_files.get(target, ()) and not _written_by_pipegen(detection.root / generated):
            lines.append(f"# {generated}: not written by pipegen; `pipegen generate` replaces it only with "
                         "--force (keeping a backup): move what it does into this file first.")
    for pipeline in detection.kept_ci:
        lines.append(f"# {pipeline.path}: kept beside pipegen's pipeline: {pipeline.why}.")
    for path in detection.other_ci:
        lines.append(f"# {path}: another CI system; retire it once the pipegen pipeline runs.")
    return lines


def _written_by_pipegen(path: Path) -> bool:
    # pylint: disable-next=import-outside-toplevel
    from pipegen.init.detect.ci_files import written_by_pipegen
    return written_by_pipegen(path)


def _trigger_lines(detection: Detection) -> list[str]:
    branch = detection.git.default_branch
    lines = ["", "triggers:", f"  branches: [{yaml_scalar(branch)}]  # mainline: {detection.git.branch_source}",
             "  pull_requests: true", "  # schedule: \"0 3 * * 1\"  # a weekly run, cron in UTC"]
    if detection.data_dir:
        lines.append("  # data_paths: [\"data/**\"]  # data/ found: changes there would start retraining"
                     " (with a model block)")
    return lines


def _service_lines(detection: Detection) -> list[str]:
    if not detection.services:
        return []
    lines = [f"  services:  # from {detection.compose_file}: beside the integration and functional jobs; tests",
             "    # reach each one at $<NAME>_HOST and $<NAME>_PORT on every platform"]
    for service in detection.services:
        parts = [f"image: {yaml_scalar(service.image, flow=True)}"]
        if service.ports:
            parts.append("ports: [" + ", ".join(str(port) for port in service.ports) + "]")  # whole numbers
        if service.env:
            parts.append("env: {" + ", ".join(f"{key}: {yaml_scalar(value, flow=True)}"
                                              for key, value in service.env) + "}")
        lines.append(f"    {service.name}: {{{', '.join(parts)}}}")
    return lines


def _test_lines(detection: Detection) -> list[str]:
    if not detection.tests:
        # A pipeline that runs no tests would pass for the wrong reason: the unit job runs pytest on tests/,
        # which fails ("file or directory not found") until the tests are there or this names theirs.
        return ["", f"tests:  # {NO_TESTS}",
                "  unit: tests  # cheapest level first (unit, integration, functional), each stops the next on "
                "failure"]
    lines = ["", "tests:  # run cheapest first; a failing level stops the next; coverage adds up over all of them"]
    lines += [f"  {level}: {yaml_scalar(path)}" for level, path in detection.tests.items()]
    for path in detection.unplaced_tests:
        lines.append(f"  # {path} also found: one folder per level; merge it or run it from a custom job")
    return lines + _service_lines(detection) + _test_env_lines(detection)


def _test_env_lines(detection: Detection) -> list[str]:
    found = detection.test_env
    lines = []
    if found.built:
        names = ", ".join(f"{service} (build: {context})" for service, context in found.built)
        lines += [f"  # Built from this repository in {detection.compose_file}, not published images, so no CI "
                  f"services: {names}.",
                  "  # The tests run the code in the job itself; tests that call it over the network can start",
                  "  # it themselves (a fixture), or a custom job can build and run it."]
    for service, context in found.built_services:
        lines += [f"  # {service} (build: {context} in {detection.compose_file}) is a service built from this "
                  "repository: no registry holds",
                  "  # its image. Publish it and name it under services:, or use a stock image (postgres:16...)",
                  "  # that the tests (or a custom job) set up as its build does."]
    app = detection.app_folder if "PYTHONPATH" not in dict(found.env) else None
    if found.env:
        lines.append(f"  env:  # what the tests read, from {', '.join(found.sources)}; service hosts and ports are "
                     "where CI runs them")
    elif app:
        lines.append("  env:")
    if app:
        lines.append(f"    PYTHONPATH: {yaml_scalar(app)}  # the tests import {app}/'s code as top-level modules "
                     f"(as when run from {app}/)")
    lines += [f"    {key}: {yaml_scalar(value)}" for key, value in found.env]
    for key, why in found.left_out:
        lines.append(f"  # env {key} left out: {why}")
    return lines


def _lint_lines(detection: Detection) -> list[str]:
    """Thresholds the code meets today. A linter that finds nothing today keeps it at zero; one
    that finds issues (or could not be measured) is adopted by ratchet: no issue on a line a
    change adds or edits, so the count only goes down, without a clean-up first."""
    today = detection.lint_today
    figures = "; ".join(f"{tool}: {today[tool].why}" if tool in today else f"{tool}: not measured (--no-measure)"
                        for tool in detection.linters)
    lines = [f"  # Lint: {detection.linters_why}. Today: {figures}."]
    if detection.ratchet:
        lines += ["  # Ratchet: a change may add no issue on the lines it touches (the code's current issues",
                  "  # do not fail the pipeline); the bars below are what the code meets today, raise them as it",
                  "  # improves. Drop `ratchet` once every linter is at its bar.",
                  "  lint:",
                  f"    tools: {_flow(detection.linters)}",
                  "    ratchet: [changed-lines]"]
    else:
        lines.append(f"  lint: {_flow(detection.linters)}  # clean today: every linter is held at zero")
    for tool in detection.linters:
        measured = today.get(tool, LintToday(tool))
        if tool == "pylint" and measured.score is not None and measured.partial:
            # Not a bar the job is sure to meet: the ratchet holds the line until the first lint report says it.
            lines += textwrap.wrap(f"pylint: {{min_score: {measured.score_floor:g}}}  # today's score, "
                                   f"{measured.score:.2f}, {measured.partial}: set min_score from the first "
                                   "pipeline's lint report", 110, initial_indent="  # ", subsequent_indent="  #   ")
        elif tool == "pylint" and measured.score is not None:
            lines.append(f"  pylint: {{min_score: {measured.score_floor:g}}}  # today's score, "
                         f"{measured.score:.2f}, rounded down")
        elif tool != "pylint" and measured.clean:
            lines.append(f"  {tool}: {{max_issues: 0}}  # none today")
    return lines


def _quality_lines(detection: Detection) -> list[str]:
    lines = ["", "quality:", "  profile: default  # gates/default.yaml fills what this section leaves out"]
    compare = detection.git.compare_branch
    lines += ["  # Coverage over every test level together. init does not run your tests, so the total bar starts",
              "  # at 0: set `min` to the total the first pipeline reports. Changed lines must be covered from",
              "  # day one, so a change without tests fails.",
              *textwrap.wrap(f"Changed lines (coverage, the lint ratchet) count against {detection.git.compare_why}",
                             100, initial_indent="  # ", subsequent_indent="  # "),
              f"  coverage: {{min: 0, diff_min: {DIFF_COVERAGE}, compare_branch: {yaml_scalar(compare, flow=True)}}}"]
    lines += _lint_lines(detection)
    lines.append("  # sonar: {project_key: " + yaml_scalar(detection.name.value)
                 + "}  # with SONAR_HOST_URL and SONAR_TOKEN set in CI")
    return lines


def _image_lines(detection: Detection) -> list[str]:
    if not detection.dockerfile:
        return []
    return ["", f"# {detection.dockerfile} found: built once in QA, the same digest deployed to QA and PROD.",
            "# Set the REGISTRY variable in CI (and registry credentials as image.secrets).",
            "image:",
            f"  name: {yaml_scalar(image_name(detection.name.value))}",
            "  registry_var: REGISTRY",
            f"  dockerfile: {yaml_scalar(detection.dockerfile)}",
            "",
            "# Deployments are yours to write: uncomment and replace ./deploy.sh with your command.",
            *commented(environments_block(detection)).rstrip("\n").split("\n")]


def _model_lines(detection: Detection) -> list[str]:
    if detection.training is None:
        return []
    return ["", f"# {detection.training.found} found. The model failgate needs a training command that",
            "# registers a version in MLflow and publishes it: `pipegen output set MODEL_VERSION <version>`,",
            "# and metrics that run logs. Uncomment once both are true:",
            *commented(model_block(detection)).rstrip("\n").split("\n")]


def _dag_lines(detection: Detection) -> list[str]:
    if not detection.dags:
        return []
    return ["", "# Airflow DAGs found in dags/. pipegen does not deploy DAGs itself; a custom job can:",
            *commented("jobs:\n  - name: publish-dags\n    stage: qa\n"
                       "    run: ./publish-dags.sh qa  # your command that syncs dags/ to Airflow\n")
            .rstrip("\n").split("\n")]


def _carriable(text: str) -> str:
    """Text found in the repository as a descriptor can carry it: a character no pipeline file
    can (a control character in .python-version, an escape sequence in a name) is written as
    its visible escape, so init never writes a descriptor it would refuse."""
    return UNCARRIABLE.sub(lambda found: repr(found.group(0))[1:-1], text)


def render_descriptor(detection: Detection) -> str:
    """The starter descriptor as commented YAML (deterministic: same repository, same text)."""
    detection = map_strings(detection, _carriable)
    lines = [*_header(detection), *_project_lines(detection), *_target_lines(detection),
             *_trigger_lines(detection), *_test_lines(detection), *_quality_lines(detection),
             *_image_lines(detection), *_model_lines(detection), *_dag_lines(detection)]
    return "\n".join(lines) + "\n"


def check_rendered(text: str, output: Path) -> None:
    """Parses and plans the text init is about to write; a failure is init's bug, reported
    as one, so an invalid descriptor never reaches the disk."""
    # pylint: disable=import-outside-toplevel  # the plan is only needed when init writes
    from pipegen.descriptor.loader import parse_any
    from pipegen.descriptor.projects import ProjectSet
    from pipegen.plan import build_plan
    from pipegen.plan.projects import build_projects_plan
    try:
        parsed = parse_any(text, output)
        if isinstance(parsed, ProjectSet):
            build_projects_plan(parsed)
        else:
            build_plan(parsed)
    except DescriptorError as exc:
        raise UsageError("pipegen init produced a descriptor that does not validate (a bug in pipegen, "
                         f"please report it); nothing was written:\n{exc}") from None


# --- writing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class WriteOutcome:
    written: bool
    backup: Path | None = None


def _backup_path(output: Path) -> Path:
    """output.bak, or output.bak.1, .2 ... when earlier backups exist: a backup never replaces another."""
    candidate = output.with_name(output.name + ".bak")
    number = 1
    while candidate.exists():
        candidate = output.with_name(f"{output.name}.bak.{number}")
        number += 1
    return candidate


def write_descriptor(text: str, output: Path, force: bool) -> WriteOutcome:
    """Writes atomically (temp file in the same folder, then rename). Without `force` an
    existing file is never touched; with it, the old file is first copied to a backup."""
    if output.is_dir():
        raise UsageError(f"{output} is a directory; pass --output FILE")
    data = text.encode("utf-8")
    old = None
    if output.exists() or output.is_symlink():
        if not force:
            raise UsageError(f"{output} already exists; not overwriting it. Pass --force to replace it "
                             f"(the current file is then kept as {_backup_path(output).name}).")
        old = read_bytes(output)  # the one safe reader: refuses a FIFO or device instead of blocking on it
        if old == data:
            return WriteOutcome(written=False)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
        temp = Path(temp_name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, file_mode())
            backup = _place(temp, output, force, old)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return WriteOutcome(written=True, backup=backup)


def _place(temp: Path, output: Path, force: bool, old: bytes | None = None) -> Path | None:
    """Moves the finished temp file into place; returns the backup made, if any (of `old`,
    the replaced file's bytes as the safe reader read them)."""
    if not force:
        # A hard link creates the name only if it is still free: no window in which a file
        # created meanwhile could be overwritten. Filesystems without links fall back.
        try:
            os.link(temp, output)
            return None
        except FileExistsError:
            raise UsageError(f"{output} appeared while init ran; not overwriting it") from None
        except OSError:
            if output.exists():
                raise UsageError(f"{output} already exists; not overwriting it") from None
            os.replace(temp, output)
            return None
    backup = None
    if old is not None:
        backup = _backup_path(output)
        with backup.open("xb") as copy:  # a new file: never over another backup
            copy.write(old)
    os.replace(temp, output)
    return backup
