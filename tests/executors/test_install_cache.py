"""The executor tests' job-environment cache (install_cache.py, a TEST FIXTURE itself): what a job's
`python -m pip install` gets from it must be what pip alone would give, only sooner. Real pip and uv,
offline: the one wheel they install is the pysonar stand-in, from a find-links folder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from run.conftest import PYSONAR_STANDIN_VERSION, build_pysonar_standin_wheel

from . import install_cache
from .plugin import environment_without

INSTALL = ["-m", "pip", "install", "--no-index", f"pysonar=={PYSONAR_STANDIN_VERSION}"]


@pytest.fixture(name="cache_env")
def fixture_cache_env(tmp_path: Path, wheelhouse) -> dict[str, str]:
    links = tmp_path / "links"
    links.mkdir()
    build_pysonar_standin_wheel(links)
    env = environment_without("PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV")
    env.update(PIPEGEN_TEST_INSTALL_CACHE=str(tmp_path / "cache"), PIP_FIND_LINKS=str(links),
               PIP_DISABLE_PIP_VERSION_CHECK="1", **wheelhouse.uv_environment)
    env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")  # this test's own: it checks what uv fetched
    return env


def _run(venv: Path, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, install_cache.__file__, "run", str(venv), sys.executable, "--", *args],
                          env=env, cwd=cwd, capture_output=True, text=True, check=False)


def _installed(venv: Path) -> str:
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_a_miss_is_filled_by_uv_then_pip_runs_the_command_and_the_result_is_stored(cache_env, tmp_path):
    first = _run(tmp_path / "job-1", INSTALL, cache_env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "pre-installed with uv" in first.stderr
    assert f"pysonar=={PYSONAR_STANDIN_VERSION}" in _installed(tmp_path / "job-1")
    assert list((tmp_path / "uv-cache").iterdir()), "uv did the unpacking"
    stored = [entry.name for entry in (tmp_path / "cache").iterdir() if (entry / "bin" / "pysonar").is_file()]
    assert len(stored) == 1 and stored[0] != install_cache.EMPTY_VENV_KEY, stored

    # The same command again starts from the stored result: uv is not needed, pip still runs.
    second = _run(tmp_path / "job-2", INSTALL, cache_env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "pre-installed with uv" not in second.stderr
    assert f"pysonar=={PYSONAR_STANDIN_VERSION}" in _installed(tmp_path / "job-2")
    script = (tmp_path / "job-2" / "bin" / "pysonar").read_text(encoding="utf-8")
    assert str(tmp_path / "job-2") in script and str(tmp_path / "job-1") not in script  # relocated


def test_arguments_uv_does_not_take_leave_the_whole_install_to_pip(cache_env, tmp_path):
    args = [*INSTALL[:3], "--progress-bar", "off", *INSTALL[3:]]
    done = _run(tmp_path / "job", args, cache_env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "uv could not pre-install" in done.stderr and "pip does it all" in done.stderr
    assert f"pysonar=={PYSONAR_STANDIN_VERSION}" in _installed(tmp_path / "job")


def test_a_failing_install_fails_the_job_and_is_not_stored(cache_env, tmp_path):
    args = [*INSTALL[:4], "pysonar==0.0.0-does-not-exist"]
    done = _run(tmp_path / "job", args, cache_env, tmp_path)
    assert done.returncode != 0
    assert sorted(entry.name for entry in (tmp_path / "cache").iterdir()) == [install_cache.EMPTY_VENV_KEY]


def test_the_key_ignores_how_pip_works_but_not_what_it_installs(tmp_path, monkeypatch):
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    base = install_cache.cache_key(sys.executable, INSTALL, tmp_path)
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "999")
    assert install_cache.cache_key(sys.executable, INSTALL, tmp_path) == base
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.example.test/simple")
    assert install_cache.cache_key(sys.executable, INSTALL, tmp_path) != base


def test_only_plain_specifiers_count_as_self_contained(tmp_path):
    (tmp_path / "plain.txt").write_text("# tools\nmlflow>=2.16,<4  # tracking\n", encoding="utf-8")
    (tmp_path / "editable.txt").write_text("-r plain.txt\n-e .\n", encoding="utf-8")
    assert install_cache.self_contained(["-m", "pip", "install", "-q", "-r", "plain.txt", "pylint"], tmp_path)
    assert not install_cache.self_contained(["-m", "pip", "install", "-r", "editable.txt"], tmp_path)
    assert not install_cache.self_contained(["-m", "pip", "install", "./dist/x.whl"], tmp_path)
    assert not install_cache.self_contained(["-m", "pip", "install", "--index-url", "https://x", "a"], tmp_path)
