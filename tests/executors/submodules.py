"""TEST FIXTURE: a second local git repository made a git submodule of a fixture project, as a repository whose
tests read shared data from a submodule (tests/fixtures/adoption/submodule-data)."""
from __future__ import annotations

import subprocess
from pathlib import Path

RATES = "EUR,1.0\nUSD,1.1\nGBP,0.85\n"
# git refuses file:// submodule URLs unless told (protocol.file.allow=user): here a local bare repository
# stands in for the host of the shared data.
ALLOW_FILE_PROTOCOL = ("-c", "protocol.file.allow=always")
# The same, for the git that pipegen runs (its working copy fetches the submodule).
FILE_PROTOCOL = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.file.allow", "GIT_CONFIG_VALUE_0": "always"}


def _git(cwd: Path, *args: str) -> None:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@pipegen.invalid", "-c",
                           "commit.gpgsign=false", *ALLOW_FILE_PROTOCOL, *args],
                          cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {args}: {done.stderr}"


def add_rates_submodule(root: Path) -> Path:
    """Makes `rates-data.git` (a bare repository holding rates.csv) beside `root`'s origin and adds it to `root`
    as the submodule tests/data, by a URL relative to origin (as .gitmodules usually has it); not committed.
    Returns the bare repository."""
    bare = root.parent / "rates-data.git"
    source = root.parent / "rates-data"
    _git(root.parent, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    _git(root.parent, "init", "--quiet", "--initial-branch=main", str(source))
    (source / "rates.csv").write_text(RATES, encoding="utf-8")
    _git(source, "add", "rates.csv")
    _git(source, "commit", "--quiet", "-m", "shared rates")
    _git(source, "push", "--quiet", str(bare), "main")
    _git(root, "submodule", "--quiet", "add", "../rates-data.git", "tests/data")
    return bare
