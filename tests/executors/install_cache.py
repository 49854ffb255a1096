"""TEST FIXTURE (pipegen's executor tests only): a cache of job environments, keyed by the exact
`python -m pip install ...` a job runs, so that a scenario's fifth job installing MLflow takes
seconds instead of a minute.

A job's venv is still fresh and its own: the first job with a given install command runs pip for
real in an empty venv; the result is kept (hard-linked, read-only by convention) and later jobs
whose install command and requirement files are byte-for-byte the same start from a copy of it.
pip then runs the job's command as written anyway, so a requirement the copy lacks is installed
(or fails) exactly as it would have. The key covers the Python, the pip arguments, the content of
every requirements file they read (recursively) and the PIP_* settings that decide what is installed.
One exception: an install that names only requirement specifiers, directly or in requirements files
made of nothing else (`pipegen-ci[mlflow]==X`, `-r requirements.txt` listing `mlflow>=2.16,<4`; no
path, no editable, no URL) resolves to the same wheels from the session's unchanged indexes every
time, so a copy made for that very command is its result and pip is not run again (a line says so).
A requirements file with `-e .` is read from the working copy: pip always runs again for it.
A miss is first filled by uv (`prefill`, when $PIPEGEN_TEST_UV names it), then pip runs as written.

Used by the `python` shims: `python install_cache.py run VENV BASE_PYTHON -- ARGS...` creates
VENV when it does not exist (from the cache when the ARGS are a pip install seen before, else from
a copy of the session's first empty venv), then runs `VENV/bin/python ARGS...` and, after a
successful pip install, stores the result.

A job may also make a venv of its own (`python -m venv DIR`, as pipegen's jobs do for pipegen
itself): `python install_cache.py defer DIR BASE_PYTHON` stands for it. DIR/bin/python becomes a
stub whose first call does `run DIR BASE_PYTHON -- ARGS...`, so `DIR/bin/python -m pip install X`
is cached like any job's install. Only the plain form `python -m venv DIR` is deferred; the venv
is based on BASE_PYTHON, the interpreter `python -m venv` run in a venv would use.
"""
from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

PREFIX_FILE = "pipegen-seed-prefix"
DEFERRED_MARKER = "pipegen-deferred-venv"
EMPTY_VENV_KEY = "empty-venv"


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


# PIP_* settings that change how pip works, not what it installs: left out of the key, so the act and
# GitLab harnesses (whose environments differ in these) share entries.
NOT_IN_KEY = {"PIP_CACHE_DIR", "PIP_NO_CACHE_DIR", "PIP_DEFAULT_TIMEOUT", "PIP_TIMEOUT", "PIP_RETRIES",
              "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_REQUIRE_VIRTUALENV", "PIP_PROGRESS_BAR", "PIP_QUIET",
              "PIP_VERBOSE", "PIP_NO_INPUT", "PIP_CERT", "PIP_ROOT_USER_ACTION"}


def cache_key(base_python: str, args: list[str], cwd: Path) -> str | None:
    """The key of a `-m pip install ...` invocation, or None for anything else."""
    if args[:3] != ["-m", "pip", "install"]:
        return None
    digest = hashlib.sha256()
    version = subprocess.run([base_python, "-c", "import sys; print(sys.version)"], capture_output=True,
                             text=True, check=True).stdout
    settings = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("PIP_") and k not in NOT_IN_KEY)
    for part in (version, *args, *settings):
        digest.update(part.encode() + b"\0")
    for path in _requirement_files(args, cwd):
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _plain(spec: str) -> bool:
    """A requirement specifier that names a distribution (`name[extra]>=1`), not a path, URL or option."""
    return not (spec.startswith(("-", ".")) or "/" in spec or "@" in spec or os.path.exists(spec))


def self_contained(args: list[str], cwd: Path) -> bool:
    """True for `-m pip install [options] [-r FILE]... SPEC...` that names only plain requirement specifiers,
    directly or in requirements files made of them (no -c/-e, no path, no URL; the files' contents are
    in the key): nothing is read from the working copy but those files, so the same key means the same
    result."""
    if args[:3] != ["-m", "pip", "install"]:
        return False
    allowed_options = {"--quiet", "-q", "--upgrade", "-U", "--no-cache-dir", "--disable-pip-version-check"}
    words = iter(args[3:])
    specs: list[str] = []
    for word in words:
        if word in ("-r", "--requirement"):
            next(words, None)
        elif word.startswith("-"):
            if word not in allowed_options:
                return False
        else:
            specs.append(word)
    for path in _requirement_files(args, cwd):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#") and line.split()[0] not in ("-r", "--requirement"):
                specs.append(line)
    return bool(specs) and all(_plain(spec) for spec in specs)


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


def defer(venv: Path, base_python: str) -> None:
    """Stands for `python -m venv VENV`: VENV/bin/python (and python3) become stubs that create the
    venv on their first call (see the module's docstring)."""
    venv = venv.absolute()
    (venv / "bin").mkdir(parents=True)
    (venv / DEFERRED_MARKER).write_text("", encoding="utf-8")
    command = (base_python, str(Path(__file__).resolve()), "run", str(venv), base_python, "--")
    quoted = " ".join(shlex.quote(part) for part in command)
    for name in ("python", "python3"):
        stub = venv / "bin" / name
        stub.write_text(f'#!/bin/sh\nexec {quoted} "$@"\n', encoding="utf-8")
        stub.chmod(0o755)


def _create(cache: Path | None, key: str | None, venv: Path, base_python: str) -> bool:
    """Makes VENV; True when it came from the cache entry `key` (nothing new to store then)."""
    if cache and key and restore(cache, key, venv):
        return True
    if cache and restore(cache, EMPTY_VENV_KEY, venv):
        return False
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        store(cache, EMPTY_VENV_KEY, venv)
    return False


def prefill(venv: Path, args: list[str]) -> bool:
    """Pre-installs what `-m pip install ARGS` asks for with uv ($PIPEGEN_TEST_UV), which unpacks from its
    shared cache in seconds what pip takes a minute of CPU to install (mlflow's ~100 distributions). pip
    then runs the job's command as written and finds it satisfied, or installs what is missing: the result
    is still what the job's own command accepts. False (the venv as it was: empty) when uv is not set up,
    does not understand the arguments or cannot resolve them; pip alone does it all then."""
    uv = os.environ.get("PIPEGEN_TEST_UV", "")
    if not uv or args[:3] != ["-m", "pip", "install"] or not Path(uv).is_file():
        return False
    links = [word for link in os.environ.get("PIP_FIND_LINKS", "").split() for word in ("--find-links", link)]
    env = dict(os.environ)
    for pip_name, uv_name in (("PIP_INDEX_URL", "UV_INDEX_URL"), ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
                              ("PIP_CERT", "SSL_CERT_FILE")):
        if env.get(pip_name) and not env.get(uv_name):
            env[uv_name] = env[pip_name]
    done = subprocess.run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *links,
                           *args[3:]], env=env, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        print("install_cache (test fixture): pre-installed with uv; pip runs the job's command as written next",
              file=sys.stderr)
        return True
    print(f"install_cache (test fixture): uv could not pre-install ({done.stderr.strip().splitlines()[-1:]}); "
          "pip does it all", file=sys.stderr)
    shutil.rmtree(venv)
    return False


def run(venv: Path, base_python: str, args: list[str]) -> int:
    cache_dir = os.environ.get("PIPEGEN_TEST_INSTALL_CACHE", "")
    cache = Path(cache_dir) if cache_dir else None
    key = cache_key(base_python, args, Path.cwd()) if cache else None
    if (venv / DEFERRED_MARKER).is_file():
        shutil.rmtree(venv)
    fresh = False
    if not (venv / "bin" / "python").exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        fresh = not _create(cache, key, venv, base_python)
        if not fresh and key and self_contained(args, Path.cwd()):
            print(f"install_cache (test fixture): {' '.join(args[1:])} restored from this session's identical "
                  "install (the same specifiers and requirements files); pip not run again", file=sys.stderr)
            return 0
        if fresh and not prefill(venv, args):
            if not (venv / "bin" / "python").exists():
                _create(cache, None, venv, base_python)
    status = subprocess.run([str(venv / "bin" / "python"), *args], check=False).returncode
    if status == 0 and cache and key and fresh:
        store(cache, key, venv)
    return status


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "defer":
        defer(Path(argv[1]), argv[2])
        return 0
    if len(argv) < 4 or argv[0] != "run" or "--" not in argv:
        print("usage: install_cache.py run VENV BASE_PYTHON -- ARGS... | defer VENV BASE_PYTHON", file=sys.stderr)
        return 2
    separator = argv.index("--")
    venv, base_python = Path(argv[1]), argv[2]
    return run(venv, base_python, argv[separator + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
