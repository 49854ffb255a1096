"""`pipegen init` is harmless by construction: it changes no file but the descriptor it writes, whatever
the repository's settings make its linters do (ruff `fix = true`, caches), and it runs none of the
repository's code (a shadowing `flake8.py`, pylint's init-hook and plugins, flake8's local plugins and
entry points, setup.py, conftest.py) unless `--run-repository-code` asks it to, which then does.

Every fixture of tests/fixtures/adoption is inspected in a real git repository with the linters really
measuring; every planted vector writes a marker file outside the repository when it runs."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import run_pipegen

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adoption"
SHAPES = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir())
PAST = 1_500_000_000  # every file's mtime before init, so that any rewrite shows


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {args}: {done.stderr}"
    return done.stdout


def committed(source: Path | None, root: Path) -> Path:
    """`source` copied to `root` (or `root` as it is), committed in a new git repository, mtimes in the past."""
    if source is not None:
        shutil.copytree(source, root)
    git(root, "init", "--quiet", "--initial-branch=main")
    for key, value in (("user.name", "t"), ("user.email", "t@pipegen.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "as the team has it")
    for folder, _, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, (PAST, PAST), follow_symlinks=False)
    return root


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder of the work tree (not .git): kind, mtime, content digest."""
    found = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if not (folder == str(root) and name == ".git")]
        for name in folders:
            found[os.path.relpath(Path(folder) / name, root)] = ("folder",)
        for name in files:
            path = Path(folder) / name
            status = path.lstat()
            found[os.path.relpath(path, root)] = ("file", status.st_mtime_ns,
                                                  hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def status(root: Path) -> list[str]:
    return sorted(git(root, "status", "--porcelain", "--ignored").splitlines())


def init(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed `pipegen` command, as a user runs it in the repository."""
    command = Path(sys.executable).parent / "pipegen"
    return subprocess.run([str(command), "init", "--target", "gitlab", *args], cwd=root, capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("options", [(), ("--run-repository-code",)], ids=["default", "run-repository-code"])
@pytest.mark.parametrize("shape", SHAPES)
def test_init_changes_no_file_but_the_descriptor(tmp_path: Path, shape: str, options: tuple[str, ...]) -> None:
    root = committed(FIXTURES / shape, tmp_path / shape)
    before, git_before = snapshot(root), status(root)
    assert git_before == []

    done = init(root, *options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not measured" not in done.stdout, done.stdout  # the linters really ran

    after = snapshot(root)
    added = {name: entry for name, entry in after.items() if name not in before}
    assert set(added) == {"pipegen.yaml"}, added
    assert {name: after.get(name) for name in before} == before  # nothing else created, changed or removed
    assert status(root) == ["?? pipegen.yaml"]


def test_a_fixable_issue_is_counted_not_fixed_when_ruff_says_fix(tmp_path: Path) -> None:
    """The ruff-fix fixture has two fixable issues today (an unsorted import block, a getattr with a
    constant): init counts both, so the descriptor adopts ruff by ratchet, and the file keeps them."""
    root = committed(FIXTURES / "ruff-fix", tmp_path / "ruff-fix")
    source = (root / "src" / "unitconv" / "length.py").read_bytes()
    done = init(root)
    assert done.returncode == 0, done.stderr
    assert "ruff 2 issues" in done.stdout
    descriptor = yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))
    assert descriptor["quality"]["lint"] == {"tools": ["ruff"], "ratchet": ["changed-lines"]}
    assert (root / "src" / "unitconv" / "length.py").read_bytes() == source


# --- code the repository could make init run -----------------------------------------------------

def marker_code(markers: Path, name: str) -> str:
    return f"import pathlib; pathlib.Path({str(markers / name)!r}).write_text('ran')\n"


SHADOWS = ("flake8", "pylint", "ruff", "coverage", "pycodestyle", "pyflakes", "astroid", "sitecustomize",
           "usercustomize", "setup", "conftest", "noxfile")


def plant_shadows(root: Path, markers: Path) -> None:
    """Modules named like the tools (and the files Python, pytest and nox would run), at the root, in
    tests/, and in a folder the caller puts on PYTHONPATH."""
    for name in SHADOWS:
        (root / f"{name}.py").write_text(marker_code(markers, f"root-{name}"), encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "conftest.py").write_text(marker_code(markers, "tests-conftest"), encoding="utf-8")
    (root / "tools").mkdir()
    for name in ("flake8", "pylint", "ruff", "pycodestyle", "astroid"):
        (root / "tools" / f"{name}.py").write_text(marker_code(markers, f"path-{name}"), encoding="utf-8")
    (root / "src" / "shadowed").mkdir(parents=True)
    (root / "src" / "shadowed" / "__init__.py").write_text('"""A package whose folder holds a pylint.py."""\n',
                                                           encoding="utf-8")
    (root / "src" / "shadowed" / "core.py").write_text("import os\n\n\ndef f( x ):\n    return x\n", encoding="utf-8")
    (root / "src" / "pylint.py").write_text(marker_code(markers, "src-pylint"), encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shadowed"\nversion = "1"\n\n[tool.ruff]\nline-length = 100\n\n'
        '[tool.pylint.format]\nmax-line-length = 100\n', encoding="utf-8")
    (root / ".flake8").write_text("[flake8]\nmax-line-length = 100\n", encoding="utf-8")


def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plant) -> tuple[Path, Path, dict[str, tuple]]:
    """(a committed repository `plant` filled, the folder its vectors write markers to, its snapshot), with the
    repository's tools/ folder on PYTHONPATH, as a developer's shell may have it."""
    markers, root = tmp_path / "markers", tmp_path / "repo"
    markers.mkdir()
    root.mkdir()
    plant(root, markers)
    committed(None, root)
    monkeypatch.setenv("PYTHONPATH", str(root / "tools"))
    return root, markers, snapshot(root)


def test_the_planted_shadows_would_run_under_python_m(tmp_path: Path) -> None:
    """The vectors are real: `python -m TOOL` with the repository as working directory runs the shadow."""
    markers, root = tmp_path / "markers", tmp_path / "repo"
    markers.mkdir()
    root.mkdir()
    plant_shadows(root, markers)
    for tool in ("flake8", "pylint", "ruff"):
        subprocess.run([sys.executable, "-m", tool, "--version"], cwd=root, capture_output=True, check=False)
    assert sorted(path.name for path in markers.iterdir()) == ["root-flake8", "root-pylint", "root-ruff"]


def test_init_runs_no_shadowing_module_and_measures_with_the_real_tools(tmp_path: Path, monkeypatch) -> None:
    root, markers, before = planted(tmp_path, monkeypatch, plant_shadows)

    done = init(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(markers.iterdir()) == []
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    descriptor = yaml.safe_load(text)
    assert descriptor["quality"]["lint"]["tools"] == ["ruff", "pylint", "flake8"]
    # The real linters measured src/shadowed (a shadow prints nothing a gate could parse): F401; unused-import,
    # bad whitespace and missing docstrings; F401, E201, E202.
    assert "Today: ruff: 1 issue; pylint: 3 messages, score 0.00; flake8: 3 issues." in text
    assert {name: entry for name, entry in snapshot(root).items() if name != "pipegen.yaml"} == before


PLUGIN = '''{marker}

class Plugin:
    """A flake8 plugin that finds nothing."""
    name = "{name}"
    version = "1"

    def __init__(self, tree):
        self.tree = tree

    def run(self):
        return iter(())
'''
PYLINT_PLUGIN = '''{marker}

def register(linter):
    """A pylint plugin that registers nothing."""
'''


def plant_hooks(root: Path, markers: Path, layout: str) -> None:
    """pylint's init-hook and a plugin of the repository's, flake8's local plugins, and a flake8 plugin the
    repository installs (an entry point of a distribution on PYTHONPATH, as an editable install would be)."""
    hook = (f"import os, pathlib, sys; pathlib.Path({str(markers / 'pylint-init-hook')!r}).write_text('ran'); "
            "sys.path.insert(0, os.getcwd())")
    (root / "repo_pylint_plugin.py").write_text(
        PYLINT_PLUGIN.format(marker=marker_code(markers, "pylint-load-plugins")), encoding="utf-8")
    (root / "tools").mkdir()
    (root / "tools" / "repo_flake8_plugin.py").write_text(
        PLUGIN.format(marker=marker_code(markers, "flake8-local-plugins"), name="local"), encoding="utf-8")
    (root / "tools" / "repo_ep.py").write_text(
        PLUGIN.format(marker=marker_code(markers, "flake8-entry-point"), name="repo-ep"), encoding="utf-8")
    dist = root / "tools" / "repo_ep-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: repo-ep\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[flake8.extension]\nPGY = repo_ep:Plugin\n", encoding="utf-8")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text('"""app."""\n', encoding="utf-8")
    (root / "app" / "core.py").write_text('"""core."""\nimport os\n', encoding="utf-8")
    (root / "setup.py").write_text(marker_code(markers, "setup-py") + "from setuptools import setup\nsetup()\n",
                                   encoding="utf-8")
    local_plugins = "[flake8:local-plugins]\nextension =\n    PGX = repo_flake8_plugin:Plugin\npaths = ./tools\n"
    if layout == "pyproject":
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "app"\nversion = "1"\n\n[tool.pylint.main]\ninit-hook = {hook!r}\n'
            'load-plugins = ["repo_pylint_plugin", "pylint.extensions.docparams"]\n', encoding="utf-8")
        (root / "setup.cfg").write_text(f"[flake8]\nmax-line-length = 100\n\n{local_plugins}", encoding="utf-8")
    else:
        (root / ".pylintrc").write_text(f"[MAIN]\ninit-hook={hook.replace('%', '%%')}\n"
                                        "load-plugins=repo_pylint_plugin\n", encoding="utf-8")
        (root / ".flake8").write_text(f"[flake8]\nmax-line-length = 100\n\n{local_plugins}", encoding="utf-8")


@pytest.mark.parametrize("layout", ["pyproject", "rcfiles"])
def test_init_runs_no_plugin_or_hook_the_repository_configures(tmp_path: Path, monkeypatch, layout: str) -> None:
    root, markers, before = planted(tmp_path, monkeypatch, lambda root, markers: plant_hooks(root, markers, layout))

    done = init(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(markers.iterdir()) == []
    assert "--run-repository-code uses them" in done.stdout  # says what it left out, and how to have it
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert "load-plugins repo_pylint_plugin" in text and "init-hook" in text and "[flake8:local-plugins]" in text
    assert "pylint.extensions.docparams" not in text  # pylint's own extension is pylint's code: kept
    assert {name: entry for name, entry in snapshot(root).items() if name != "pipegen.yaml"} == before

    forced = init(root, "--force", "--run-repository-code")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert sorted(path.name for path in markers.iterdir()) == [
        "flake8-entry-point", "flake8-local-plugins", "pylint-init-hook", "pylint-load-plugins"]
    assert "setup-py" not in os.listdir(markers)  # setup.py is read, never run, even then
    assert "not measured" not in forced.stdout and "could not measure" not in forced.stdout, forced.stdout
    assert {name: entry for name, entry in snapshot(root).items()
            if not name.startswith("pipegen.yaml")} == before  # still only the descriptor (and its backup)


def test_the_option_says_it_runs_repository_code(capsys) -> None:
    result = run_pipegen(capsys, "init", "--help")
    assert result.exit_code == 0
    text = " ".join(result.out.split())
    assert "--run-repository-code Measure with the repository's own linter plugins and hooks" in text
    assert "This RUNS CODE FROM THE REPOSITORY" in text
