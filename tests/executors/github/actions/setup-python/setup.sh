#!/usr/bin/env bash
# TEST FIXTURE: the body of the actions/setup-python stand-in (see action.yml beside it).
set -euo pipefail
: "${ACT_STANDIN_PYTHONS:?the act tests pass a folder of python<version> links as ACT_STANDIN_PYTHONS}"
: "${ACT_STANDIN_JOB_PYTHON:?the act tests pass the shared python shim folder as ACT_STANDIN_JOB_PYTHON}"
interpreter="$ACT_STANDIN_PYTHONS/python$WANTED"
if [ ! -x "$interpreter" ]; then
  echo "::error::setup-python stand-in (test fixture): no Python $WANTED in $ACT_STANDIN_PYTHONS"
  exit 1
fi
venv="$RUNNER_TEMP/setup-python-venv"
rm -rf "$venv"
# The job's first `python` call creates the venv from $interpreter (the shared shim, see action.yml).
{
  echo "PIPEGEN_TEST_JOB_VENV=$venv"
  echo "PIPEGEN_TEST_BASE_PYTHON=$interpreter"
  echo "pythonLocation=$venv"
} >> "$GITHUB_ENV"
# Later lines come first on PATH: tool stand-ins, the shim (every `python` call goes through it), the venv.
{
  echo "$venv/bin"
  echo "$ACT_STANDIN_JOB_PYTHON"
  if [ -n "${ACT_STANDIN_TOOLS:-}" ]; then echo "$ACT_STANDIN_TOOLS"; fi
} >> "$GITHUB_PATH"
echo "python-version=$("$interpreter" -c 'import platform; print(platform.python_version())')" >> "$GITHUB_OUTPUT"
echo "python-path=$venv/bin/python" >> "$GITHUB_OUTPUT"
echo "setup-python stand-in (test fixture): $(readlink -f "$interpreter"); the job's venv $venv is made fresh" \
     "by its first python call"
