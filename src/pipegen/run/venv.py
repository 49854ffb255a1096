"""A fresh venv per job, made with the plan's Python when this machine has it."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping

from pipegen.errors import EvaluationError, PipegenError
from pipegen.paths import read_bytes


def interpreter(version: str) -> tuple[str, str | None]:
    """(python executable, a note when it is not the plan's version): `python<version>`
    from PATH, else the Python running pipegen."""
    found = shutil.which(f"python{version}")
    # A version manager's shim can be on PATH for a version it does not select: it must run.
    if found and subprocess.run([found, "-c", ""], capture_output=True, check=False).returncode == 0:
        return found, None
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    if current == version:
        return sys.executable, None
    return sys.executable, (f"python{version} is not on PATH: job venvs use this Python ({current}, "
                            f"{sys.executable}) instead")


def find_uv(environ: Mapping[str, str]) -> str | None:
    """The uv jobs install with (the install lines take the one on PATH before installing the pinned
    one): uv on the caller's PATH, else beside the Python running pipegen (`pip install uv` in its venv)."""
    found = shutil.which("uv", path=environ.get("PATH", os.defpath))
    if found:
        return str(Path(found).resolve())
    beside = Path(sys.executable).parent / "uv"
    return str(beside.resolve()) if beside.is_file() and os.access(beside, os.X_OK) else None


# pip's environment settings and the uv setting that means the same (the generated install lines
# map the index ones the same way: pipegen.plan.install).
_SAME_SETTING = (("PIP_INDEX_URL", "UV_INDEX_URL"), ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
                 ("PIP_NO_INDEX", "UV_NO_INDEX"), ("PIP_CERT", "SSL_CERT_FILE"))


def uv_environment(env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(the environment uv runs in, `--find-links` arguments): `env`, with pip's settings given to uv."""
    uv_env = dict(env)
    for pip_name, uv_name in _SAME_SETTING:
        if uv_env.get(pip_name) and not uv_env.get(uv_name):
            uv_env[uv_name] = uv_env[pip_name]
    if uv_env.get("UV_NO_INDEX", "").lower() in ("0", "false", "no", "off"):
        uv_env.pop("UV_NO_INDEX")
    links = [word for link in env.get("PIP_FIND_LINKS", "").split() for word in ("--find-links", link)]
    return uv_env, links


def create(python: str, path: Path) -> Path:
    done = subprocess.run([python, "-m", "venv", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EvaluationError(f"could not create a venv with {python}: {done.stderr.strip() or done.stdout.strip()}")
    return path


def bin_dir(path: Path) -> Path:
    return path / ("Scripts" if sys.platform == "win32" else "bin")


# ---------------------------------------------------------------------------- the opt-in seed cache
#
# `--venv-cache DIR`: a job's venv starts as hard links to a venv an earlier job made with the
# same Python and the same install inputs; the job's install command then runs in it as usual
# (pip finds its requirements installed and reinstalls editable projects), so what the job gets
# is what that command installs, minus the minutes of unpacking. Python never rewrites installed
# files in place (pip replaces them, .pyc files are written anew), so the links stay shared safely.

_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
_INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)\s*=?\s*(\S+)")


def _project_file(path: Path) -> bytes | None:
    """A file of the job's working copy through the one safe reader (pipegen.paths); None when
    it is absent or refused (a FIFO, a link out of the copy, an include of /etc/...)."""
    try:
        return read_bytes(path)
    except PipegenError:
        return None


def _requirement_files(workdir: Path, names: tuple[str, ...]) -> list[tuple[Path, bytes]]:
    """The requirement files and every file they include (-r/-c), once each, with their bytes."""
    found: list[tuple[Path, bytes]] = []
    queue = [workdir / name for name in names]
    while queue:
        path = queue.pop(0)
        if any(path == seen for seen, _ in found) or (data := _project_file(path)) is None:
            continue
        found.append((path, data))
        for line in data.decode("utf-8", errors="replace").splitlines():
            if match := _INCLUDE.match(line):
                queue.append(path.parent / match.group(1))
    return found


def cache_key(python: str, install_commands: tuple[str, ...], requirements: tuple[str, ...], workdir: Path) -> str:
    digest = hashlib.sha256()
    for part in (python, *install_commands):
        digest.update(part.encode() + b"\0")
    files = _requirement_files(workdir, requirements)
    files += [(workdir / name, data) for name in _PROJECT_FILES if (data := _project_file(workdir / name)) is not None]
    for path, data in files:
        digest.update(os.path.relpath(path, workdir).encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:24]


def pipegen_venv(job_venv: Path) -> Path:
    """Where a job's install puts pipegen's own venv when the job's venv is active (plan.PIPEGEN_HOME)."""
    return job_venv / "pipegen" / "venv"


def pipegen_cache_key(python: str, requirement: str, index_var: str | None, needs_python: bool) -> str:
    """The seed of pipegen's own venv: the same in every job that installs the same pipegen."""
    digest = hashlib.sha256()
    for part in ("pipegen", python, requirement, index_var or "", str(needs_python)):
        digest.update(part.encode() + b"\0")
    return "pipegen-" + digest.hexdigest()[:24]


def _relink_prefix(venv: Path, old: str) -> None:
    """Scripts and activation files name the venv's own path: point them at the new one
    (written as new files, so the cached copy keeps its own). The same for a venv kept inside
    it (pipegen's own, `$VIRTUAL_ENV/pipegen/venv`, which the job's install made)."""
    candidates: list[Path] = []
    for root in (venv, *(cfg.parent for cfg in venv.glob("*/*/pyvenv.cfg"))):
        candidates += [path for path in bin_dir(root).iterdir() if path.is_file() and not path.is_symlink()]
        candidates.append(root / "pyvenv.cfg")
    for path in candidates:
        data = path.read_bytes()
        if old.encode() not in data or b"\0" in data[:1024]:
            continue
        mode = path.stat().st_mode
        path.unlink()
        path.write_bytes(data.replace(old.encode(), str(venv).encode()))
        path.chmod(mode)


def seed_from_cache(cache: Path, key: str, venv: Path) -> bool:
    """True when `venv` was made from the cached one for `key`."""
    seed = cache / key
    if not (seed / "venv").is_dir() or not (seed / "prefix").is_file():
        return False
    done = subprocess.run(["cp", "-al", str(seed / "venv"), str(venv)], capture_output=True, check=False)
    if done.returncode != 0:  # another file system: no hard links, a fresh venv instead
        shutil.rmtree(venv, ignore_errors=True)
        return False
    _relink_prefix(venv, (seed / "prefix").read_text(encoding="utf-8"))
    return True


def store_in_cache(cache: Path, key: str, venv: Path) -> None:
    """Keeps `venv` (just installed) as the seed for `key`, unless one is there already."""
    if (cache / key).exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
    done = subprocess.run(["cp", "-al", str(venv), str(staging / "venv")], capture_output=True, check=False)
    if done.returncode == 0:
        (staging / "prefix").write_text(str(venv), encoding="utf-8")
        try:
            staging.rename(cache / key)
            return
        except OSError:
            pass  # another job stored the same key first
    shutil.rmtree(staging, ignore_errors=True)
