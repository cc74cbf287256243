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
  summary+=("$(printf '%-9s %-7s %4ds' "$layer" "$result" "$seconds")")
done

echo
echo "=== layers"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
