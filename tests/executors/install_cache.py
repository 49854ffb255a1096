"""TEST FIXTURE (pipegen's executor tests only): a cache of job environments, keyed by the exact
`python -m pip install ...` a job runs, so that a scenario's fifth job installing MLflow takes
seconds instead of a minute.

A job's venv is still fresh and its own: the first job with a given install command runs pip for
real in an empty venv; the result is kept (hard-linked, read-only by convention) and later jobs
whose install command and requirement files are byte-for-byte the same start from a copy of it.
pip then runs the job's command as written anyway, so a requirement the copy lacks is installed
(or fails) exactly as it would have. The key covers the Python, the pip arguments, the content of
every requirements file they read (recursively) and the PIP_* settings.

Used by the `python` shims: `python install_cache.py run VENV BASE_PYTHON -- ARGS...` creates
VENV when it does not exist (from the cache when the ARGS are a pip install seen before), then
runs `VENV/bin/python ARGS...` and, after a successful pip install, stores the result.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

PREFIX_FILE = "pipegen-seed-prefix"


def _requirement_files(args: list[str], cwd: Path) -> list[Path]:
    files: list[Path] = []
    pending = [cwd / args[index + 1] for index, arg in enumerate(args[:-1]) if arg in ("-r", "--requirement")]
    while pending:
        path = pending.pop()
        if path in files or not path.is_file():
            continue
        files.append(path)
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("-r", "--requirement"):
                pending.append(path.parent / words[1])
    return files


def cache_key(base_python: str, args: list[str], cwd: Path) -> str | None:
    """The key of a `-m pip install ...` invocation, or None for anything else."""
    if args[:3] != ["-m", "pip", "install"]:
        return None
    digest = hashlib.sha256()
    version = subprocess.run([base_python, "-c", "import sys; print(sys.version)"], capture_output=True,
                             text=True, check=True).stdout
    for part in (version, *args, *sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("PIP_"))):
        digest.update(part.encode() + b"\0")
    for path in _requirement_files(args, cwd):
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _relocate(venv: Path, old_prefix: str) -> None:
    """Points a copied venv's scripts at itself. Files are replaced, not rewritten in place: the
    copy shares its inodes with the cache."""
    new_prefix = str(venv)
    for path in [*(venv / "bin").iterdir(), venv / "pyvenv.cfg"]:
        if path.is_symlink() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if old_prefix in text:
            mode = path.stat().st_mode
            path.unlink()
            path.write_text(text.replace(old_prefix, new_prefix), encoding="utf-8")
            path.chmod(mode)


def restore(cache: Path, key: str, venv: Path) -> bool:
    seed = cache / key
    if not (seed / PREFIX_FILE).is_file():
        return False
    subprocess.run(["cp", "-al", str(seed), str(venv)], check=True)
    _relocate(venv, (seed / PREFIX_FILE).read_text(encoding="utf-8"))
    (venv / PREFIX_FILE).unlink()
    return True


def store(cache: Path, key: str, venv: Path) -> None:
    if (cache / key).exists():
        return
    temporary = cache / f"{key}.{os.getpid()}.tmp"
    subprocess.run(["cp", "-al", str(venv), str(temporary)], check=True)
    (temporary / PREFIX_FILE).write_text(str(venv), encoding="utf-8")
    try:
        temporary.rename(cache / key)
    except OSError:  # another job stored the same key first
        shutil.rmtree(temporary, ignore_errors=True)


def run(venv: Path, base_python: str, args: list[str]) -> int:
    cache = Path(os.environ.get("PIPEGEN_TEST_INSTALL_CACHE", ""))
    key = cache_key(base_python, args, Path.cwd()) if cache.name else None
    created = not (venv / "bin" / "python").exists()
    if created:
        venv.parent.mkdir(parents=True, exist_ok=True)
        if not (key and restore(cache, key, venv)):
            subprocess.run([base_python, "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
            created = True
        else:
            created = False  # started from the cache: nothing new to store
    status = subprocess.run([str(venv / "bin" / "python"), *args], check=False).returncode
    if status == 0 and key and created:
        cache.mkdir(parents=True, exist_ok=True)
        store(cache, key, venv)
    return status


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[0] != "run" or "--" not in argv:
        print("usage: install_cache.py run VENV BASE_PYTHON -- ARGS...", file=sys.stderr)
        return 2
    separator = argv.index("--")
    venv, base_python = Path(argv[1]), argv[2]
    return run(venv, base_python, argv[separator + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
