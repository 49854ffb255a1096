"""How init measures today's lint (pipegen.init.measure): what the throw-away copy holds, the settings
handed to the linters without the code-running ones, pipegen's own linter environment and what init
says when it cannot make one, and the progress it shows."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers import make_repo, run_pipegen
from pipegen.gates import lint
from pipegen.init.measure import environment
from pipegen.init.measure.configs import flake8_settings, pylint_settings
from pipegen.init.measure.lint_today import Progress, measure
from pipegen.init.measure.workspace import copy_for_linting, listing


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


# --- the throw-away copy ---------------------------------------------------------------------------

LAYOUT = {"pyproject.toml": "", "setup.cfg": "", "README.md": "", "backend/setup.cfg": "", "backend/app/a.py": "",
          "backend/app/sub/b.py": "", "backend/other/c.py": "", "docs/conf.py": "", ".venv/lib/x.py": "",
          "backend/app/__pycache__/a.cpython-311.pyc": "", "notes/ignored.py": ""}


def test_the_copy_holds_the_linted_folders_and_the_settings_on_the_way_up(tmp_path: Path) -> None:
    root = write(make_repo(tmp_path / "repo"), {**LAYOUT, ".gitignore": "notes/\n__pycache__/\n"})
    assert listing(root, ("backend/app",)) == [
        ".gitignore", "README.md", "backend/app/a.py", "backend/app/sub/b.py", "backend/setup.cfg", "pyproject.toml",
        "setup.cfg"]
    everything = listing(root, ())
    assert "docs/conf.py" in everything and "backend/other/c.py" in everything
    # git's ignores hold, and an untracked environment is not code CI would lint
    assert not [name for name in everything if name.startswith((".venv/", "notes/")) or "__pycache__" in name]


def test_outside_git_a_walk_leaves_environments_and_caches_aside(tmp_path: Path) -> None:
    root = write(tmp_path / "plain", LAYOUT)
    (root / "env").mkdir()
    (root / "env" / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    (root / "env" / "lib.py").write_text("", encoding="utf-8")
    everything = listing(root, ())
    assert "notes/ignored.py" in everything and "backend/app/sub/b.py" in everything  # no .gitignore here
    assert not [name for name in everything if name.startswith((".venv/", "env/")) or "__pycache__" in name]


def test_a_symlink_out_of_the_repository_is_not_copied(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'x'\n", encoding="utf-8")
    root = write(make_repo(tmp_path / "repo"), {"pkg/a.py": "A = 1\n"})
    (root / "pkg" / "leak.py").symlink_to(secret)
    (root / "pkg" / "alias.py").symlink_to(root / "pkg" / "a.py")
    copy = tmp_path / "copy"
    assert copy_for_linting(root, ("pkg",), copy) == 2
    assert not (copy / "pkg" / "leak.py").exists()
    assert (copy / "pkg" / "alias.py").read_text(encoding="utf-8") == "A = 1\n"  # a regular file in the copy


# --- settings without the code-running ones --------------------------------------------------------

def test_pylint_settings_from_pyproject_keep_everything_but_code(tmp_path: Path) -> None:
    root = write(tmp_path, {"pyproject.toml": (
        '[tool.pylint.main]\ninit-hook = "import evil"\n'
        'load-plugins = ["mine.checker", "pylint.extensions.docparams"]\n'
        'extension-pkg-allow-list = ["native"]\njobs = 2\n\n[tool.pylint.format]\nmax-line-length = 99\n'
        '[tool.pylint."messages control"]\ndisable = ["C0114", "R0903"]\ngood-names = "i,\\"odd\\u007f"\n')})
    (tmp_path / "out").mkdir()
    settings = pylint_settings(root, tmp_path / "out")
    assert settings.source == "pyproject.toml"
    assert settings.left_out == ("init-hook", "load-plugins mine.checker", "extension-pkg-allow-list")
    written = tomllib.loads(settings.path.read_text(encoding="utf-8"))["tool"]["pylint"]["main"]
    assert written == {"load-plugins": "pylint.extensions.docparams", "jobs": "2", "max-line-length": "99",
                       "disable": "C0114,R0903", "good-names": 'i,"odd\x7f'}  # as pylint reads them: text


def test_pylint_settings_follow_pylints_order_and_read_ini_as_pylint_does(tmp_path: Path) -> None:
    root = write(tmp_path, {
        ".pylintrc": "[MAIN]\ninit-hook='import evil'\n[FORMAT]\nmax-line-length=88  ; inline comment\n"
                     "msg-template=100%%\n",
        "pyproject.toml": "[tool.pylint.format]\nmax-line-length = 1\n",
        "setup.cfg": "[pylint.format]\nmax-line-length = 2\n"})
    (tmp_path / "out").mkdir()
    settings = pylint_settings(root, tmp_path / "out")
    assert (settings.source, settings.left_out) == (".pylintrc", ("init-hook",))
    written = tomllib.loads(settings.path.read_text(encoding="utf-8"))["tool"]["pylint"]["main"]
    assert written == {"max-line-length": "88", "msg-template": "100%"}
    (root / ".pylintrc").unlink()
    (root / "pyproject.toml").write_text("[tool.ruff]\n", encoding="utf-8")  # no pylint table: the next file
    assert pylint_settings(root, tmp_path / "out").source == "setup.cfg"


def test_no_pylint_settings_is_an_empty_rcfile(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    settings = pylint_settings(tmp_path, tmp_path / "out")
    assert settings.source == "" and tomllib.loads(settings.path.read_text(encoding="utf-8")) == {
        "tool": {"pylint": {"main": {}}}}


def test_flake8_settings_without_local_plugins_beside_the_original(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "setup.cfg": "[metadata]\nname = x\n",  # no flake8 section: flake8 looks further
        "tox.ini": "[flake8]\nmax-line-length = 100\nexclude =\n    build,\n    .git\noutput-file = x.txt\n"
                   "[flake8:local-plugins]\nextension =\n    X = mine:Plugin\npaths = ./tools\n"})
    settings = flake8_settings(root)
    assert (settings.path, settings.source, settings.left_out) == (
        root / ".pipegen-flake8.cfg", "tox.ini", ("[flake8:local-plugins]",))
    text = settings.path.read_text(encoding="utf-8")
    assert "local-plugins" not in text and "output-file" not in text and "max-line-length = 100" in text
    assert "build," in text and ".git" in text
    (root / "tox.ini").unlink()
    assert flake8_settings(root).path is None


# --- pipegen's linter environment ------------------------------------------------------------------

def test_the_environment_holds_the_lint_jobs_versions_and_is_made_once() -> None:
    made: list[str] = []
    linters = environment.ensure(on_make=made.append)
    again = environment.ensure(on_make=made.append)
    assert again == linters and len(made) <= 1  # made at most once (it may be there from an earlier run)
    versions = subprocess.run([str(linters.python), "-I", "-m", "ruff", "--version"], capture_output=True,
                              text=True, check=True).stdout
    assert versions.split()[-1] == linters.versions["ruff"]
    assert set(linters.versions) == {"ruff", "pylint", "flake8"}
    assert not (linters.python.parent.parent.parent / ".making").exists()


def test_an_incomplete_environment_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path / "cache"))
    broken = environment.folder()
    broken.mkdir(parents=True)
    (broken / "half-written").write_text("", encoding="utf-8")
    made: list[str] = []
    linters = environment.ensure(on_make=made.append)
    assert made and linters.python.parent.parent == broken
    assert not (broken / "half-written").exists()
    assert [path.name for path in broken.parent.iterdir()] == [broken.name]  # no temporary folder left


def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No network and nothing cached: uv and pip can install nothing."""
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)


def project(tmp_path: Path) -> Path:
    return write(make_repo(tmp_path / "proj"), {
        "pyproject.toml": "[project]\nname = 'proj'\nversion = '1'\n[tool.ruff]\nline-length = 99\n"
                          "[tool.pylint.main]\njobs = 1\n",
        "src/proj/__init__.py": "", "src/proj/core.py": "import os\n"})


def test_offline_init_says_in_one_line_per_linter_how_to_measure(tmp_path, monkeypatch, capsys) -> None:
    offline(monkeypatch, tmp_path)
    root = project(tmp_path)
    result = run_pipegen(capsys, "init", "--path", str(root))
    assert result.exit_code == 0, result.err
    today = [line.split(None, 2)[2] for line in result.out.splitlines() if line.startswith("  lint today")]
    assert len(today) == 2
    ruff, pylint = today
    assert ruff.startswith("ruff not measured: pipegen could not make its linter environment (uv pip install: ")
    assert ruff.endswith("; to measure by hand: uvx --from 'ruff>=0.5,<1' ruff check --no-fix src/proj")
    assert pylint.endswith("to measure by hand: uvx --from 'pylint>=3.2,<5' pylint --disable=import-error src/proj")
    assert "pylint pylint" not in result.out
    assert "failed (" in result.err  # the attempt was shown as it happened
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert "ratchet: [changed-lines]" in text  # not measured: adopted by ratchet, green on day one


def test_without_uv_venv_and_pip_are_tried_and_the_hint_uses_pip(tmp_path, monkeypatch) -> None:
    offline(monkeypatch, tmp_path)
    monkeypatch.setattr(environment, "find_uv", lambda environ: None)
    found = measure(project(tmp_path), ("ruff",), ("src/proj",))
    assert found["ruff"].issues is None
    assert "(pip install: " in found["ruff"].why
    assert found["ruff"].why.endswith("to measure by hand: python -m pip install 'ruff>=0.5,<1' && "
                                      "python -m ruff check --no-fix src/proj")


def test_an_unwritable_cache_is_said_not_raised(tmp_path, monkeypatch) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path / "file" / "cache"))
    found = measure(project(tmp_path), ("flake8",), ())
    assert "cannot write" in found["flake8"].why and "to measure by hand: " in found["flake8"].why


class Recorded(Progress):
    def __init__(self) -> None:
        self.lines: list[str] = [""]

    def begin(self, text: str) -> None:
        self.lines[-1] += text

    def end(self, text: str) -> None:
        self.lines[-1] += f" {text}"
        self.lines.append("")


def test_progress_names_each_step_as_it_starts_and_how_it_ended(tmp_path) -> None:
    progress = Recorded()
    found = measure(project(tmp_path), ("ruff", "pylint"), ("src/proj",), progress=progress)
    lines = [line for line in progress.lines if line]
    assert lines[-3].startswith("  copying the files the linters read to a throw-away folder") and \
        " 3 files (" in lines[-3]
    assert lines[-2].startswith("  ruff ... 1 issue (") and lines[-1].startswith("  pylint ... 2 messages, score ")
    assert found["ruff"].issues == 1 and found["pylint"].issues == 2


def test_repository_code_mode_needs_the_linters_where_pipegen_runs(tmp_path, monkeypatch) -> None:
    real = __import__("importlib.util").util.find_spec
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == "flake8" else real(name, *a))
    found = measure(project(tmp_path), ("flake8", "ruff"), ("src/proj",), repository_code=True)
    assert found["flake8"].why == (f"not measured: not installed for {sys.executable} (--run-repository-code "
                                   "measures with the linters installed there): python -m pip install 'flake8>=7,<8'")
    assert found["ruff"].issues == 1


# --- measuring what the lint job will count ---------------------------------------------------------

ADOPTION = Path(__file__).resolve().parents[1] / "fixtures" / "adoption"


def test_the_environment_is_made_for_the_projects_python_and_again_when_a_week_old(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path / "cache"))
    current = environment.current_python()
    linters = environment.ensure(python=current)
    assert linters.python_version == current and environment.folder(current).name.startswith(f"py{current}-")
    assert environment.ensure(python=current) == linters  # fresh: used as it is
    record = environment.folder(current) / environment.RECORD
    aged = {**json.loads(record.read_text(encoding="utf-8")), "made": linters.made - 8 * 86400}
    record.write_text(json.dumps(aged), encoding="utf-8")
    made: list[str] = []
    again = environment.ensure(on_make=made.append, python=current)
    assert made and again.made > aged["made"]  # a week old: made again with today's versions
    record.write_text(json.dumps({**aged, "made": again.made - 8 * 86400}), encoding="utf-8")
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    kept = environment.ensure(python=current)  # offline: last week's linters measure better than none
    assert kept.versions == again.versions and kept.python == again.python


def copied(shape: str, tmp_path: Path) -> Path:
    root = make_repo(tmp_path / shape)
    shutil.copytree(ADOPTION / shape, root, dirs_exist_ok=True)
    return root


def test_a_score_measured_on_the_standard_library_alone_is_the_bar(tmp_path) -> None:
    root = copied("pylint-stdlib", tmp_path)
    found = measure(root, ("pylint",), ("src/ledgermath",), python="3.11")["pylint"]
    assert found.partial == "" and found.score is not None and found.score < 10
    assert found.issues == 2 and not found.clean
    result = subprocess.run([sys.executable, "-m", "pipegen", "init", "--target", "gitlab"], cwd=root,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    descriptor = yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))
    assert descriptor["quality"]["pylint"] == {"min_score": found.score_floor}


def test_a_score_measured_without_the_dependencies_the_job_installs_is_no_bar(tmp_path) -> None:
    root = copied("lint-deps", tmp_path)
    found = measure(root, ("pylint",), ("src/tomlconf",), python="3.11")["pylint"]
    assert found.partial == ("measured without tomli_w, which the lint job installs (pylint may find more "
                             "through it there)")
    result = subprocess.run([sys.executable, "-m", "pipegen", "init", "--target", "gitlab"], cwd=root,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"{found.partial}: no min_score yet" in result.stdout
    descriptor = yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))
    assert "pylint" not in descriptor["quality"] and descriptor["quality"]["lint"]["ratchet"] == ["changed-lines"]
    assert f"# pylint: {{min_score: {found.score_floor:g}}}" in (root / "pipegen.yaml").read_text(encoding="utf-8")


def test_pylint_is_told_the_projects_python_when_its_own_is_another(tmp_path, monkeypatch) -> None:
    """Without that Python to be found, the linters run on pipegen's own, and pylint reads as the project's."""
    told: list[tuple[str, ...]] = []
    run_pylint = lint.run_pylint

    def recording(paths, args, **kwargs):
        told.append(tuple(args))
        return run_pylint(paths, args, **kwargs)
    monkeypatch.setattr(lint, "run_pylint", recording)
    own = environment.ensure()
    monkeypatch.setattr(environment, "ensure", lambda on_make=None, python=None: own)
    other = "3.10" if own.python_version != "3.10" else "3.12"
    progress = Recorded()
    found = measure(project(tmp_path), ("pylint",), ("src/proj",), python=other, progress=progress)
    assert f"--py-version={other}" in told[0] and found["pylint"].score is not None
    assert f"on Python {own.python_version} (pylint told {other}: no Python {other} found)" in "".join(progress.lines)
