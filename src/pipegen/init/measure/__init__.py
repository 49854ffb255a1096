"""How `pipegen init` measures today's lint without touching or running the repository.

Harmless by construction, not by care: the linters never see the repository itself, only a
throw-away copy of the files they read (`workspace`), so whatever a repository's settings make
them write (ruff's `fix = true`, caches, reports) lands in the copy. They run from an
environment pipegen makes and caches, holding the versions the lint job installs and nothing
else (`environment`), in Python's isolated mode (no working directory or PYTHONPATH on the
module path, so a `flake8.py` in the repository is not the flake8 that runs), and with the
settings that would run repository code left out of their configuration (`configs`: pylint's
`init-hook` and `load-plugins`, flake8's local plugins). `--run-repository-code` is the one way
to measure with those, and says so.
"""
