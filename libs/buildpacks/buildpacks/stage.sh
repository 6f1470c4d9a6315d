#!/bin/bash
# The staging driver (Heroku buildpack contract), run inside the staging container as uid 2000:
#   /tmp/app     the source; becomes the droplet        /tmp/cache   this app's cache, kept between builds
#   /tmp/output  release.yml + buildpack (the result)   /tmp/env     ENV_DIR: one file per app variable
# Candidates come from PAAS_BUILDPACK_ORDER (newline-separated buildpack directories, set by the
# cell: operator buildpacks first, then the built-ins), else from the built-ins' `order` file.
# The first whose bin/detect exits 0 wins; with PAAS_BUILDPACK_NAMED=1 the single candidate is used
# without detection. Then bin/compile BUILD CACHE ENV_DIR and bin/release BUILD (optional).
# Exit 3: no buildpack detected. Any other failure: the compile's exit code, its reason on stderr.
set -euo pipefail
APP=/tmp/app CACHE=/tmp/cache OUT=/tmp/output BP_ROOT=$(cd "$(dirname "$0")" && pwd)
ENV_DIR=${PAAS_ENV_DIR:-/tmp/env}
[ -d "$ENV_DIR" ] || mkdir -p "$ENV_DIR"
mkdir -p "$OUT"

if [ -n "${PAAS_BUILDPACK_ORDER:-}" ]; then
  candidates=$PAAS_BUILDPACK_ORDER
else
  candidates=$(grep -v '^[[:space:]]*\(#\|$\)' "$BP_ROOT/order" | sed "s|^|$BP_ROOT/|")
fi

chosen="" detected=""
if [ "${PAAS_BUILDPACK_NAMED:-0}" = 1 ]; then
  chosen=$(head -n 1 <<<"$candidates")
  # A named buildpack is not asked whether it applies; its detect only lends its display name.
  detected=$("$chosen/bin/detect" "$APP" 2>/dev/null | head -n 1 || true)
  echo "-----> Using the $(basename "$chosen") buildpack (named by the app, detection skipped)"
else
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    if out=$("$dir/bin/detect" "$APP" 2>/dev/null); then chosen=$dir detected=$(head -n 1 <<<"$out"); break; fi
  done <<<"$candidates"
fi
if [ -z "$chosen" ]; then
  echo "no buildpack detected: add a package.json (a Node.js app), a Procfile with a 'web:' line naming the command that starts your app, or an index.html or public/ folder (a static site)" >&2
  exit 3
fi
name=$(basename "$chosen")
echo "-----> ${detected:-$name} app detected"
"$chosen/bin/compile" "$APP" "$CACHE" "$ENV_DIR"
if [ -x "$chosen/bin/release" ]; then
  "$chosen/bin/release" "$APP" > "$OUT/release.yml"
else
  echo "--- {}" > "$OUT/release.yml"
fi
echo "$name" > "$OUT/buildpack"
