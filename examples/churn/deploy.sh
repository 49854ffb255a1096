#!/usr/bin/env bash
# Deploys the churn image to an environment: ./deploy.sh ENV IMAGE_REF
#   ENV        test | qa | prod
#   IMAGE_REF  the image built once in QA, by digest (name@sha256:...) or by tag (name:tag)
# This example has no cluster: it checks its arguments and prints what it would roll out.
# Replace the last block with your real rollout (kubectl set image, helm upgrade, ...).
set -euo pipefail

usage() {
  echo "usage: $0 ENV IMAGE_REF   (ENV: test|qa|prod; IMAGE_REF: name@sha256:<64 hex> or name:tag)" >&2
  exit 2
}

[ "$#" -eq 2 ] || usage
environment="$1"
image_ref="$2"

case "$environment" in
  test|qa|prod) ;;
  *) echo "deploy.sh: unknown environment '$environment'" >&2; usage ;;
esac

digest_pattern='^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$'
tag_pattern='^[a-z0-9][a-z0-9._/:-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
if [[ "$image_ref" =~ $digest_pattern ]]; then
  pinned="by digest"
elif [[ "$image_ref" =~ $tag_pattern ]]; then
  if [ "$environment" = "prod" ]; then
    echo "deploy.sh: prod deploys only an image pinned by digest (name@sha256:...), got '$image_ref'" >&2
    exit 2
  fi
  pinned="by tag"
else
  echo "deploy.sh: '$image_ref' is not an image reference" >&2
  usage
fi

echo "deploy.sh: would deploy ${image_ref} (${pinned}) to ${environment}"
echo "deploy.sh: no cluster is configured for this example; nothing was changed"
