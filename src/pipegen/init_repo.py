"""`pipegen init`: inspect a repository, render a starter pipegen.yaml, write it safely.

Detection is a set of small functions, each answering one question from files on disk
(or the git config) and saying where its answer came from, so the command can print it.
Nothing here guesses silently: what cannot be known (deploy commands, model metrics) is
written as a commented hint, never as an active value that would fail the first run.
"""
from __future__ import annotations

import configparser
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pipegen.errors import DescriptorError, UsageError
from pipegen.paths import file_mode, inside, read_bytes, read_text
from pipegen.syntax import yaml_scalar

TARGETS = ("github", "gitlab", "azure", "jenkins")
DEFAULT_PYTHON = "3.11"
DEFAULT_BRANCH = "main"

RUNTIME_REQUIREMENTS = ("requirements.txt",)
TEST_REQUIREMENTS = ("requirements-test.txt", "requirements_test.txt", "test-requirements.txt")
DEV_REQUIREMENTS = ("requirements-dev.txt", "requirements_dev.txt", "dev-requirements.txt")
TEST_LEVELS = ("unit", "integration", "functional")

# CI files already in the repository are evidence of the platform in use. `pipegen generate`
# writes to these same names, so the summary also warns about them.
CI_FILES = {
    "github": ".github/workflows",
    "gitlab": ".gitlab-ci.yml",
    "azure": "azure-pipelines.yml",
    "jenkins": "Jenkinsfile",
}

_SCP_LIKE_URL = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?!//)")
_PYTHON_LOWER_BOUND = re.compile(r"^\s*(?:>=|~=|==|\^|~)\s*3\.(?P<minor>\d{1,2})(?:\.[\d*]+)*\s*$")
_PYTHON_UPPER_BOUND = re.compile(r"^\s*(?:<|<=|!=)\s*\d+(?:\.[\d*]+)*\s*$")
_IMAGE_NAME_JUNK = re.compile(r"[^a-z0-9]+")
_PROJECT_NAME_JUNK = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Finding:
    """One detected value and where it came from (printed by the command, used as a comment)."""

    value: str
    source: str


@dataclass(frozen=True)
class GitFacts:
    """What the git metadata says; every field is optional because a folder need not be a repo."""

    is_repo: bool = False
    remote_name: str | None = None
    remote_url: str | None = None
    default_branch: str = DEFAULT_BRANCH
    branch_source: str = "default"


@dataclass(frozen=True)
class Training:
    """A training entry point found on disk, and the command that would run it in CI."""

    command: str
    found: str


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
    source: str | None = None
    tests: dict[str, str] = field(default_factory=dict)  # level -> folder
    dockerfile: str | None = None
    training: Training | None = None
    dags: bool = False
    data_dir: bool = False
    existing_ci_files: tuple[str, ...] = ()


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
    return GitFacts(is_repo=True, remote_name=picked[0] if picked else None,
                    remote_url=picked[1] if picked else None, default_branch=branch, branch_source=branch_source)


def existing_ci_files(root: Path) -> dict[str, str]:
    """target -> CI file or folder already present in the repository."""
    found = {}
    for target, name in CI_FILES.items():
        path = root / name
        if path.is_file() or (path.is_dir() and any(path.glob("*.y*ml"))):
            found[target] = name
    return found


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

def read_pyproject(root: Path) -> dict:
    """pyproject.toml as a dict; {} when absent, unreadable, or tomllib is missing (Python 3.10)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        # pylint: disable-next=import-outside-toplevel  # Python 3.11+; 3.10 falls back to folder name
        import tomllib
    except ImportError:
        return {}
    try:
        # Not through a symlink out of the repository (its content ends up in the descriptor).
        return tomllib.loads(read_text(inside(root, "pyproject.toml")))
    except (UsageError, tomllib.TOMLDecodeError):
        return {}


def sanitise_project_name(text: str) -> str:
    """Letters, digits, '.', '_' and '-' only (PEP 508 names already are); never empty."""
    name = _PROJECT_NAME_JUNK.sub("-", text.strip()).strip("-._")
    return name or "project"


def image_name(project: str) -> str:
    """A container repository name (lowercase alphanumerics joined by single '-')."""
    return _IMAGE_NAME_JUNK.sub("-", project.lower()).strip("-") or "app"


def project_name(root: Path, pyproject: dict) -> Finding:
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else {}
    poetry = pyproject.get("tool", {}).get("poetry", {}) if isinstance(pyproject.get("tool"), dict) else {}
    for declared, where in ((project.get("name"), "pyproject.toml [project]"),
                            (poetry.get("name") if isinstance(poetry, dict) else None,
                             "pyproject.toml [tool.poetry]")):
        if isinstance(declared, str) and declared.strip():
            return Finding(sanitise_project_name(declared), where)
    return Finding(sanitise_project_name(root.resolve().name), "the folder name")


def python_version(pyproject: dict) -> Finding:
    """The lower bound of requires-python when it is one clear 3.x bound, else the default."""
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else {}
    spec = project.get("requires-python")
    if not isinstance(spec, str):
        poetry = pyproject.get("tool", {}).get("poetry", {}) if isinstance(pyproject.get("tool"), dict) else {}
        deps = poetry.get("dependencies", {}) if isinstance(poetry, dict) else {}
        spec = deps.get("python") if isinstance(deps, dict) else None
    if not isinstance(spec, str):
        return Finding(DEFAULT_PYTHON, "default")
    lower = [m.group("minor") for part in spec.split(",") if (m := _PYTHON_LOWER_BOUND.match(part))]
    others = [part for part in spec.split(",") if not _PYTHON_LOWER_BOUND.match(part)
              and not _PYTHON_UPPER_BOUND.match(part)]
    if len(lower) == 1 and not others:
        return Finding(f"3.{int(lower[0])}", f"requires-python {spec.strip()}")
    return Finding(DEFAULT_PYTHON, f"default (requires-python {spec.strip()!r} has no single lower bound)")


def find_requirements(root: Path) -> dict[str, str]:
    found = {}
    for kind, names in (("runtime", RUNTIME_REQUIREMENTS), ("test", TEST_REQUIREMENTS), ("dev", DEV_REQUIREMENTS)):
        name = next((name for name in names if (root / name).is_file()), None)
        if name:
            found[kind] = name
    return found


def find_source(root: Path) -> str | None:
    return "src" if (root / "src").is_dir() else None


def find_tests(root: Path) -> dict[str, str]:
    """tests/unit|integration|functional; a bare tests/ (or test/) folder counts as unit."""
    levels = {level: f"tests/{level}" for level in TEST_LEVELS if (root / "tests" / level).is_dir()}
    if levels:
        return levels
    for folder in ("tests", "test"):
        if (root / folder).is_dir():
            return {"unit": folder}
    return {}


def find_dockerfile(root: Path) -> str | None:
    return "Dockerfile" if (root / "Dockerfile").is_file() else None


def find_training(root: Path) -> Training | None:
    """MLproject (run through MLflow), else train.py at the root, else src/<package>/train.py."""
    if (root / "MLproject").is_file():
        return Training("mlflow run .", "MLproject")
    if (root / "train.py").is_file():
        return Training("python train.py", "train.py")
    for script in sorted((root / "src").glob("*/train.py")) if (root / "src").is_dir() else ():
        package = script.parent.name
        if package.isidentifier():
            return Training(f"PYTHONPATH=src python -m {package}.train", f"src/{package}/train.py")
    return None


def inspect_repository(root: Path, targets: tuple[str, ...] = ()) -> Detection:
    """Everything init writes, from the files under `root`; `targets` (from --target) wins over detection."""
    pyproject = read_pyproject(root)
    facts = git_facts(root)
    ci_files = existing_ci_files(root)
    if targets:
        chosen, why = tuple(t for t in TARGETS if t in targets), "--target"
    else:
        chosen, why = detect_targets(facts, ci_files)
    return Detection(
        root=root, name=project_name(root, pyproject), python=python_version(pyproject),
        targets=chosen, targets_source=why, git=facts, requirements=find_requirements(root),
        source=find_source(root), tests=find_tests(root), dockerfile=find_dockerfile(root),
        training=find_training(root), dags=(root / "dags").is_dir(), data_dir=(root / "data").is_dir(),
        existing_ci_files=tuple(ci_files[t] for t in TARGETS if t in ci_files))


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


def _flow(values: list[str]) -> str:
    return "[" + ", ".join(yaml_scalar(value, flow=True) for value in values) + "]"


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
    else:
        lines.append("  # requirements: {runtime: requirements.txt, test: requirements-test.txt}"
                     "  # none found; CI installs these files")
    if detection.source:
        lines.append(f"  source: {yaml_scalar(detection.source)}  # linted and measured by coverage")
    return lines


def _target_lines(detection: Detection) -> list[str]:
    lines = ["", f"# {detection.targets_source}"]
    lines.append(f"targets: {_flow(list(detection.targets))}")
    for name in detection.existing_ci_files:
        lines.append(f"# note: {name} exists; `pipegen generate` writes its pipeline there "
                     "(it refuses to replace yours without --force)")
    return lines


def _trigger_lines(detection: Detection) -> list[str]:
    branch = detection.git.default_branch
    lines = ["", "triggers:", f"  branches: [{yaml_scalar(branch)}]  # mainline: {detection.git.branch_source}",
             "  pull_requests: true", "  # schedule: \"0 3 * * 1\"  # a weekly run, cron in UTC"]
    if detection.data_dir:
        lines.append("  # data_paths: [\"data/**\"]  # data/ found: changes there would start retraining"
                     " (with a model block)")
    return lines


def _test_lines(detection: Detection) -> list[str]:
    if not detection.tests:
        return ["", "# tests: {unit: tests/unit, integration: tests/integration}"
                    "  # none found; cheapest level first, each stops the next on failure"]
    lines = ["", "tests:  # run cheapest first; a failing level stops the next"]
    lines += [f"  {level}: {yaml_scalar(path)}" for level, path in detection.tests.items()]
    return lines


def _quality_lines(detection: Detection) -> list[str]:
    lines = ["", "quality:",
             "  profile: default  # gates/default.yaml: coverage 80 (total and changed lines), pylint 8.0, flake8 0"]
    if detection.git.default_branch != "main":
        # The coverage gate compares changed lines with origin/main unless told otherwise.
        lines.append(f"  coverage: {{compare_branch: {yaml_scalar('origin/' + detection.git.default_branch)}}}")
    else:
        lines.append("  # coverage: {min: 80, diff_min: 90}  # override the profile here")
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


def render_descriptor(detection: Detection) -> str:
    """The starter descriptor as commented YAML (deterministic: same repository, same text)."""
    lines = [*_header(detection), *_project_lines(detection), *_target_lines(detection),
             *_trigger_lines(detection), *_test_lines(detection), *_quality_lines(detection),
             *_image_lines(detection), *_model_lines(detection), *_dag_lines(detection)]
    return "\n".join(lines) + "\n"


def check_rendered(text: str, output: Path) -> None:
    """Parses and plans the text init is about to write; a failure is init's bug, reported
    as one, so an invalid descriptor never reaches the disk."""
    # pylint: disable=import-outside-toplevel  # the plan is only needed when init writes
    from pipegen.descriptor.loader import parse_descriptor
    from pipegen.plan import build_plan
    try:
        build_plan(parse_descriptor(text, output))
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
    if output.exists() or output.is_symlink():
        if not force:
            raise UsageError(f"{output} already exists; not overwriting it. Pass --force to replace it "
                             f"(the current file is then kept as {_backup_path(output).name}).")
        if read_bytes(output) == data:  # refuses a FIFO or device instead of blocking on it
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
            backup = _place(temp, output, force)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return WriteOutcome(written=True, backup=backup)


def _place(temp: Path, output: Path, force: bool) -> Path | None:
    """Moves the finished temp file into place; returns the backup made, if any."""
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
    if output.exists():
        backup = _backup_path(output)
        with output.open("rb") as old, backup.open("xb") as copy:
            copy.write(old.read())
    os.replace(temp, output)
    return backup
