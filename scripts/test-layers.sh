#!/usr/bin/env bash
# Runs the test layers (all of them, or those named as arguments), times each one,
# and ends with one line: "N passed, N failed". Exits non-zero if a layer failed.
set -uo pipefail

cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

ALL_LAYERS=(lint jest pytest ui-tests package)
if [ "$#" -gt 0 ]; then LAYERS=("$@"); else LAYERS=("${ALL_LAYERS[@]}"); fi

layer_lint() {
  jlpm lint:check &&
    python scripts/check-layers.py &&
    ruff check jupyterlab_collab_exec scripts bench examples ui-tests &&
    ruff format --check jupyterlab_collab_exec scripts bench examples ui-tests &&
    mypy
}

layer_jest() {
  jlpm jest --ci
}

layer_pytest() {
  python -m pytest -q -p no:cacheprovider
}

layer_ui_tests() {
  (cd ui-tests && CI=true jlpm playwright test)
}

# What a layer says besides passed or failed: for ui-tests, the counts of Playwright's
# report, flaky tests (failed once, passed on the retry) among them.
details_ui_tests() {
  python - ui-tests/test-results/results.json <<'PY'
import json, sys
try:
    stats = json.load(open(sys.argv[1]))["stats"]
except (OSError, ValueError, KeyError):
    sys.exit(0)
print(
    f"{stats.get('expected', 0)} passed, {stats.get('unexpected', 0)} failed,"
    f" {stats.get('flaky', 0)} flaky, {stats.get('skipped', 0)} skipped"
)
PY
}

layer_package() {
  ./scripts/check-package.sh
}

passed=0
failed=0
summary=()
for layer in "${LAYERS[@]}"; do
  function_name="layer_${layer//-/_}"
  if ! declare -F "$function_name" >/dev/null; then
    echo "Unknown layer: $layer (known: ${ALL_LAYERS[*]})" >&2
    exit 2
  fi
  echo "=== $layer"
  start=$(date +%s)
  if "$function_name"; then
    result=passed
    passed=$((passed + 1))
  else
    result=FAILED
    failed=$((failed + 1))
  fi
  seconds=$(($(date +%s) - start))
  details=""
  if declare -F "details_${layer//-/_}" >/dev/null; then
    details=$("details_${layer//-/_}")
  fi
  summary+=("$(printf '%-9s %-7s %4ds  %s' "$layer" "$result" "$seconds" "$details")")
done

echo
echo "=== layers"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
