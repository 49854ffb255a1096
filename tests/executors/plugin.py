"""Pytest fixtures shared by the gate, registry and executor tests (a plugin: tests/conftest.py loads it).

Each is a TEST FIXTURE standing in for what a CI platform provides around a pipeline:
- `mlflow_server`: a real `mlflow server` on loopback, one per session;
- `sonar_server`: the loopback Sonar API stand-in (tests/executors/sonar.py);
- `standin_bin`: a folder to put first on PATH, with the `docker` and `pysonar` stand-ins;
- `wheelhouse`: pipegen's wheel built once from this checkout, for jobs that `pip install pipegen-ci==X`;
- `example_repo`: an example copied into a fresh git repository whose `origin` (a bare repository) holds `main`.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from .mlflow_server import ServerDidNotStart, running_mlflow_server
from .sonar import FakeSonar, serve_sonar

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
STANDINS = Path(__file__).resolve().parent / "bin"
# pip's own find-links on this kind of machine; kept when the wheelhouse is added in front of it.
SYSTEM_FIND_LINKS = "/opt/wheels"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tracking URI of a running `mlflow server`; artifacts and database in a tmp dir."""
    try:
        with running_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as url:
            yield url
    except ServerDidNotStart as error:
        pytest.fail(str(error))


@pytest.fixture
def sonar_server() -> Iterator[FakeSonar]:
    """TEST FIXTURE: the Sonar API stand-in on a free loopback port; its `url` is the server URL."""
    yield from serve_sonar()


@pytest.fixture(scope="session")
def standin_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TEST FIXTURE: a folder holding the `docker` and `pysonar` stand-ins, to put first on PATH.
    A copy per session, so their default log (`docker.log` beside the script) stays out of the checkout."""
    folder = tmp_path_factory.mktemp("standin-bin")
    for script in STANDINS.iterdir():
        if script.is_file():
            shutil.copy2(script, folder / script.name)
            (folder / script.name).chmod(0o755)
    return folder


@dataclass(frozen=True)
class Wheelhouse:
    """pipegen's wheel (and, when asked, wheels of other requirements) in one folder."""

    path: Path
    pipegen_wheel: Path

    @property
    def pip_cache(self) -> Path:
        """One pip cache for every job, as a runner's shared cache: the user's own, already warm from
        installing pipegen's test extra (mlflow, scikit-learn, pylint... are in it)."""
        done = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True,
                              check=False)
        folder = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else ""
        return Path(folder) if folder else self.path.parent / f"{self.path.name}-pip-cache"

    @property
    def uv(self) -> str:
        """The test extra's uv."""
        from uv import find_uv_bin  # pylint: disable=import-outside-toplevel  # the test extra's uv

        return find_uv_bin()

    @property
    def uv_cache(self) -> Path:
        """One uv cache for every job, as a runner's restored cache: the user's own, already warm from
        installing pipegen's test extra with uv (mlflow, scikit-learn, pylint... are in it)."""
        done = subprocess.run([self.uv, "cache", "dir"], capture_output=True, text=True, check=False)
        folder = done.stdout.strip()
        return Path(folder) if done.returncode == 0 and folder else self.path.parent / f"{self.path.name}-uv-cache"

    @property
    def uv_bin(self) -> Path:
        """A folder holding only `uv` (the test extra's), to put on a job's PATH without the rest of
        the test venv."""
        folder = self.path.parent / f"{self.path.name}-uv-bin"
        folder.mkdir(exist_ok=True)
        try:
            (folder / "uv").symlink_to(self.uv)
        except FileExistsError:
            pass  # another worker made it
        return folder

    @property
    def uv_environment(self) -> dict[str, str]:
        """The job-python shim's uv (it makes each job's fresh venv) and the shared uv cache."""
        return {"PIPEGEN_TEST_UV": self.uv, "UV_CACHE_DIR": str(self.uv_cache)}

    @property
    def find_links(self) -> str:
        """A PIP_FIND_LINKS value: this folder first, then the machine's own find-links when it has one."""
        links = [str(self.path)]
        if Path(SYSTEM_FIND_LINKS).is_dir():
            links.append(SYSTEM_FIND_LINKS)
        return " ".join(links)


def shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str, fill: Callable[[Path], None]) -> Path:
    """A session folder that every xdist worker of this run shares, filled once by `fill`: the
    wheelhouse and the job-environment caches, so two workers do not build and install everything twice.
    Without xdist it is an ordinary session folder. Filling happens under a lock; a folder is complete
    once it exists (filled under another name, then renamed)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.is_dir():
            filling = root / f"shared-{name}.filling"
            shutil.rmtree(filling, ignore_errors=True)
            filling.mkdir()
            fill(filling)
            filling.rename(folder)
    return folder


def _build_wheel(folder: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(folder), str(ROOT)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # Without the build backend in this environment, let pip fetch it.
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder),
                               str(ROOT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"building pipegen's wheel failed:\n{done.stdout}\n{done.stderr}"
    # uv keeps a find-links wheel in its cache by folder and file name, never reading it again: every
    # build of version X is named pipegen_ci-X-*.whl, so each build goes into a folder named after its
    # contents, or the jobs would install whichever build of X the (user's) uv cache met first.
    (wheel,) = folder.glob("pipegen*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    (folder / digest).mkdir()
    wheel.rename(folder / digest / wheel.name)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """TEST FIXTURE: pipegen built once per test run as a wheel from this checkout. With PIP_FIND_LINKS set
    to `wheelhouse.find_links`, the jobs' unchanged `pip install pipegen-ci==X` installs this build."""
    folder = shared_folder(tmp_path_factory, "wheelhouse", _build_wheel)
    wheels = sorted(folder.glob("*/pipegen*.whl"))
    assert len(wheels) == 1, wheels
    return Wheelhouse(wheels[0].parent, wheels[0])


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)} failed in {cwd}:\n{done.stderr}"
    return done.stdout.strip()


def _example_files(name: str) -> list[str]:
    """The example's files as committed (tracked by git), relative to the example folder."""
    folder = EXAMPLES / name
    done = subprocess.run(["git", "ls-files", "-z", "--", "."], cwd=folder, capture_output=True, text=True,
                          check=False)
    if done.returncode == 0 and done.stdout:
        return [path for path in done.stdout.split("\0") if path and (folder / path).is_file()]
    ignored = {"__pycache__", ".venv", ".pytest_cache", "mlruns", ".scannerwork", "pipegen-reports"}
    return [str(path.relative_to(folder)) for path in folder.rglob("*")
            if path.is_file() and not ignored.intersection(path.relative_to(folder).parts)
            and not path.name.endswith((".pyc", ".db")) and ".egg-info" not in str(path)]


@dataclass
class ExampleRepo:
    """A working copy of an example on branch `main`, with `origin` (bare) holding `main`."""

    root: Path
    origin: Path

    def git(self, *args: str) -> str:
        return _git(self.root, *args)

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def write(self, files: dict[str, str | None]) -> None:
        """Writes (or, for None, deletes) files relative to the root."""
        for name, text in files.items():
            path = self.root / name
            if text is None:
                path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def commit(self, message: str, files: dict[str, str | None] | None = None) -> str:
        """Writes `files`, commits everything and returns the new commit's SHA."""
        self.write(files or {})
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.head

    def push(self, branch: str | None = None) -> None:
        """Pushes the current branch (or `branch`) to origin, as a developer's `git push` would."""
        target = branch or self.git("rev-parse", "--abbrev-ref", "HEAD")
        self.git("push", "--quiet", "origin", f"HEAD:refs/heads/{target}")
        self.git("fetch", "--quiet", "origin")

    def push_change(self, message: str, files: dict[str, str | None], branch: str | None = None) -> str:
        """Commits `files` (on `branch`, created from HEAD when new) and pushes it; returns the SHA."""
        if branch and branch != self.git("rev-parse", "--abbrev-ref", "HEAD"):
            self.git("checkout", "--quiet", "-B", branch)
        sha = self.commit(message, files)
        self.push()
        return sha


@pytest.fixture
def example_repo(tmp_path: Path) -> Callable[..., ExampleRepo]:
    """TEST FIXTURE: `example_repo("churn")` copies examples/churn (its committed files, pipelines included)
    into a fresh git repository on `main`, pushed to a bare `origin` (diff coverage fetches origin/main).
    `remote_url` adds a `gcl-origin` remote with that URL: gitlab-ci-local reads the project path from it."""
    def make(name: str, remote_url: str | None = None) -> ExampleRepo:
        root = tmp_path / name
        origin = tmp_path / f"{name}-origin.git"
        for relative in _example_files(name):
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(EXAMPLES / name / relative, root / relative)
        _git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
        _git(root.parent, "init", "--quiet", "--initial-branch=main", str(root))
        for key, value in (("user.name", "pipegen tests"), ("user.email", "tests@pipegen.invalid"),
                           ("commit.gpgsign", "false")):
            _git(root, "config", key, value)
        _git(root, "remote", "add", "origin", str(origin))
        if remote_url:
            _git(root, "remote", "add", "gcl-origin", remote_url)
        repo = ExampleRepo(root, origin)
        repo.commit(f"{name}: the example as committed")
        repo.push("main")
        _git(root, "remote", "set-head", "origin", "main")
        return repo
    return make


def forget_registered_model(tracking_uri: str, name: str) -> None:
    """Deletes `name` (its versions and aliases) from the registry at `tracking_uri`, if it is there: scenarios
    that run a descriptor's fixed model name on the session's one server start from an empty registry."""
    from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        client.delete_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise


def environment_without(*names: str) -> dict[str, str]:
    """os.environ minus `names` and every COVERAGE_* variable of a coverage run measuring the tests."""
    return {key: value for key, value in os.environ.items()
            if key not in names and not key.startswith("COVERAGE_")}
