#!/usr/bin/env bash
# TEST FIXTURE: the body of the actions/checkout stand-in (see action.yml beside it).
set -euo pipefail
: "${ACT_STANDIN_ORIGIN:?the act tests pass the bare origin repository as ACT_STANDIN_ORIGIN}"
cd "$GITHUB_WORKSPACE"
git init --quiet .
git remote add origin "file://$ACT_STANDIN_ORIGIN"
case "$GITHUB_REF" in
  refs/heads/*) local_ref="refs/remotes/origin/${GITHUB_REF#refs/heads/}" ;;
  refs/pull/*) local_ref="refs/remotes/pull/${GITHUB_REF#refs/pull/}" ;;
  *) local_ref="refs/remotes/origin/checkout" ;;
esac
if [ "$FETCH_DEPTH" = "0" ]; then
  git fetch --quiet --prune origin '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*'
  git update-ref "$local_ref" "$GITHUB_SHA"
else
  git fetch --quiet --no-tags --depth="$FETCH_DEPTH" origin "+$GITHUB_SHA:$local_ref"
fi
case "$GITHUB_REF" in
  refs/heads/*) git checkout --quiet --force -B "${GITHUB_REF#refs/heads/}" "$GITHUB_SHA" ;;
  *) git checkout --quiet --force --detach "$GITHUB_SHA" ;;
esac
case "$SUBMODULES" in
  true|recursive)
    update=(submodule update --init --force)
    if [ "$SUBMODULES" = recursive ]; then update+=(--recursive); fi
    if [ "$FETCH_DEPTH" != "0" ]; then update+=(--depth="$FETCH_DEPTH"); fi
    # The tests' submodule repositories are local folders standing in for a host: git clones file:// submodule
    # URLs only when told (protocol.file.allow).
    git -c protocol.file.allow=always "${update[@]}"
    echo "checkout stand-in (test fixture): submodules $(git submodule status --recursive | awk '{print $2}' | xargs)"
    ;;
esac
echo "checkout stand-in (test fixture): $(git rev-parse HEAD) at $GITHUB_WORKSPACE, fetch-depth $FETCH_DEPTH"
