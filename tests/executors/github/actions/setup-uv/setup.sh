#!/usr/bin/env bash
# TEST FIXTURE: the body of the astral-sh/setup-uv stand-in (see action.yml beside it).
set -euo pipefail
: "${ACT_STANDIN_UV_BIN:?the act tests pass the folder of the test extra uv as ACT_STANDIN_UV_BIN}"
found="$("$ACT_STANDIN_UV_BIN/uv" --version | cut -d' ' -f2)"
if [ "$found" != "$WANTED" ]; then
  echo "::warning::setup-uv stand-in (test fixture): the workflow pins uv $WANTED; the test extra's $found runs"
fi
echo "$ACT_STANDIN_UV_BIN" >> "$GITHUB_PATH"
if [ "$ENABLE_CACHE" != false ] && [ -n "${ACT_STANDIN_UV_CACHE:-}" ]; then
  echo "UV_CACHE_DIR=$ACT_STANDIN_UV_CACHE" >> "$GITHUB_ENV"
fi
echo "setup-uv stand-in (test fixture): uv $found on PATH; cache: ${ENABLE_CACHE}"
