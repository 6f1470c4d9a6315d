#!/bin/bash
# Runs inside the staging container. Tries the buildpacks in the order of `order`, first whose
# bin/detect succeeds wins, then runs its bin/compile and bin/release (the Heroku contract).
# /tmp/app: the source (becomes the droplet), /tmp/cache: kept between builds, /tmp/output: results.
set -euo pipefail
APP=/tmp/app CACHE=/tmp/cache OUT=/tmp/output ENV_DIR=/tmp/env BP_ROOT=$(dirname "$0")
mkdir -p "$ENV_DIR"
chosen=""
while read -r name; do
  [ -n "$name" ] || continue
  if detected=$("$BP_ROOT/$name/bin/detect" "$APP" 2>/dev/null); then chosen=$name; break; fi
done < "$BP_ROOT/order"
if [ -z "$chosen" ]; then
  echo "no buildpack detected: add a package.json (a Node.js app) or a Procfile with a 'web:' line naming the command that starts your app" >&2
  exit 3
fi
echo "-----> ${detected:-$chosen} app detected"
"$BP_ROOT/$chosen/bin/compile" "$APP" "$CACHE" "$ENV_DIR"
"$BP_ROOT/$chosen/bin/release" "$APP" > "$OUT/release.yml"
echo "$chosen" > "$OUT/buildpack"
