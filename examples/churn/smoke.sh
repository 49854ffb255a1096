#!/usr/bin/env bash
# Smoke test after a deploy. With SMOKE_URL set, the deployed service must answer on
# ${SMOKE_URL}/health; without it (this example has no cluster) the package must import
# and a freshly trained model must score generated customers.
set -euo pipefail

if [ -n "${SMOKE_URL:-}" ]; then
  curl --fail --silent --show-error --max-time 10 --retry 3 --retry-connrefused "${SMOKE_URL%/}/health"
  echo
  echo "smoke.sh: ${SMOKE_URL} is healthy"
  exit 0
fi

python - <<'PY'
from churn.data import make_dataset
from churn.model import train

result = train(make_dataset(400, seed=1))
assert result.metrics["auc"] > 0.7, result.metrics
print(f"smoke.sh: churn scores customers (auc={result.metrics['auc']:.3f})")
PY
