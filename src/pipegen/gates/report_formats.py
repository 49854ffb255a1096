"""How pipelines ask the linters to write their reports, shared by the plan (which writes the
commands) and the lint gate (which reads the reports), so the two cannot drift apart."""
from __future__ import annotations

# flake8: the default format behind a marker of pipegen's own. A repository's `format =` (wemake...),
# `show-source`, `statistics` or `count` settings then add lines the gate leaves aside instead of
# changing the lines it counts.
FLAKE8_FORMAT = "%(path)s:%(row)d:%(col)d: %(code)s %(text)s"
FLAKE8_MARKER = "pipegen-flake8:"

# For pylint, import errors say which packages the environment pylint runs in lacks (init's, a lint job's),
# not how good the code is; the test jobs import the code for real. Without this, the score init
# measured where pipegen runs would not be the score the lint job computes.
PYLINT_ARGS = ("--disable=import-error",)

# ruff never fixes where pipegen runs it: a `fix = true` in the repository's settings would rewrite the
# files (a user's, when init measures) and the fixable issues would never be counted by the gate.
RUFF_ARGS = ("--no-fix",)
