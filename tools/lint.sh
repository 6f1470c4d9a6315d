#!/usr/bin/env bash
# `npm run lint`: ESLint over the tree with the Nx module boundaries really enforced. Without a
# project graph @nx/enforce-module-boundaries prints "No cached ProjectGraph is available" and
# skips, so the graph is made first, and a run that still printed that line fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true
node=node_modules/.bin/node
[ -x "$node" ] || node=node
"$node" node_modules/nx/dist/bin/nx.js show projects >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$node" node_modules/eslint/bin/eslint.js --max-warnings=0 "$@" . 2>&1 | tee "$out" || status=$?
if grep -q 'No cached ProjectGraph' "$out"; then
  echo 'lint: the Nx project graph was missing, so the module boundaries were not checked' >&2
  exit 1
fi
exit "$status"
