#!/usr/bin/env bash
# TEST FIXTURE: the body of the actions/setup-python stand-in (see action.yml beside it).
set -euo pipefail
: "${ACT_STANDIN_PYTHONS:?the act tests pass a folder of python<version> links as ACT_STANDIN_PYTHONS}"
interpreter="$ACT_STANDIN_PYTHONS/python$WANTED"
if [ ! -x "$interpreter" ]; then
  echo "::error::setup-python stand-in (test fixture): no Python $WANTED in $ACT_STANDIN_PYTHONS"
  exit 1
fi
venv="$RUNNER_TEMP/setup-python-venv"
rm -rf "$venv"
"$interpreter" -m venv "$venv"
echo "$venv/bin" >> "$GITHUB_PATH"
if [ -n "${ACT_STANDIN_TOOLS:-}" ]; then
  echo "$ACT_STANDIN_TOOLS" >> "$GITHUB_PATH"  # later lines come first on PATH
fi
echo "pythonLocation=$venv" >> "$GITHUB_ENV"
echo "python-version=$("$venv/bin/python" -c 'import platform; print(platform.python_version())')" >> "$GITHUB_OUTPUT"
echo "python-path=$venv/bin/python" >> "$GITHUB_OUTPUT"
echo "setup-python stand-in (test fixture): fresh venv $venv from $(readlink -f "$interpreter")"
