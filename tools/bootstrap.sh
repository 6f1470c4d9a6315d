#!/usr/bin/env bash
# Installs whatever the platform needs and is missing, then builds. Idempotent: when everything
# is in place it only checks and returns within seconds. Used by both `npm start` and `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    log "the platform runs containers (runc, netns, iptables) and needs root: run as root or install sudo"; exit 1
  fi
fi

# 1. System packages: binary to look for -> Debian package that brings it.
declare -A need=(
  [runc]=runc [redis-server]=redis-server [git]=git [iptables]=iptables [ip]=iproute2
  [setpriv]=util-linux [tar]=tar [curl]=curl [mkfs.ext4]=e2fsprogs [losetup]=mount [nsenter]=util-linux
  [chromium]=chromium  # the dashboard's browser tests drive it headless (playwright-core, no browser download)
)
missing=()
for bin in "${!need[@]}"; do command -v "$bin" >/dev/null 2>&1 || missing+=("${need[$bin]}"); done
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then missing+=(postgresql); fi
if [ ! -x /usr/lib/git-core/git-http-backend ]; then missing+=(git); fi
# The static buildpack serves sites with the stack's nginx (the stack is this host's /usr).
if [ ! -x /usr/sbin/nginx ]; then missing+=(nginx); fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged services; the platform runs its own private ones instead.
  for svc in redis-server postgresql nginx; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
  done
fi

# 2. npm dependencies (with the machine's npm; the project itself then runs on the Node 24 from node_modules).
stamp=node_modules/.paas-install-stamp
lock_sum=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -x node_modules/.bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi
case "$(node_modules/.bin/node --version 2>/dev/null)" in
  v24.*) ;;
  *) log "node_modules/.bin/node is not Node 24: remove node_modules and run again"; exit 1 ;;
esac
export PATH="$PWD/node_modules/.bin:$PATH"

# 3. Prisma client, regenerated only when the schema changed. The schema engine binary is not
#    used: migrations are plain SQL applied by the controller's migrator (see docs/architecture.md).
schema=apps/controller/prisma/schema.prisma
gen_stamp=apps/controller/src/generated/.schema-sum
schema_sum=$(sha256sum "$schema" | cut -d' ' -f1)
if [ "$(cat "$gen_stamp" 2>/dev/null)" != "$schema_sum" ]; then
  log "generating the Prisma client"
  (cd apps/controller && PRISMA_SCHEMA_ENGINE_BINARY=/bin/false DATABASE_URL=postgresql://unused@127.0.0.1/unused \
    prisma generate --no-hints >/dev/null)
  echo "$schema_sum" > "$gen_stamp"
fi

# 4. Build (incremental: a no-op when nothing changed).
log "building"
tsc -b tsconfig.json
# tsc writes a new file without the execute bit: `npx paas` (node_modules/.bin/paas) needs it.
chmod +x apps/cli/dist/main.js
# npm ci links a workspace's bin only when its target exists, and apps/cli/dist is built after it.
[ -e node_modules/.bin/paas ] || ln -sfn ../@paas/cli/dist/main.js node_modules/.bin/paas

# 5. The dashboard's production build (Vite, into apps/dashboard/dist, served by the controller at /),
#    redone only when its sources, the libraries it bundles or the lockfile changed.
dash_stamp=apps/dashboard/dist/.source-sum
dash_sum=$( (find apps/dashboard/src apps/dashboard/public libs/contracts/src libs/api-client/src -type f ! -name '*.spec.ts' -print0 | sort -z | xargs -0 sha256sum; \
  sha256sum apps/dashboard/index.html apps/dashboard/vite.config.mts apps/dashboard/package.json package-lock.json) | sha256sum | cut -d' ' -f1)
if [ ! -f apps/dashboard/dist/index.html ] || [ "$(cat "$dash_stamp" 2>/dev/null)" != "$dash_sum" ]; then
  log "building the dashboard"
  npm run --silent build -w apps/dashboard -- --logLevel warn
  echo "$dash_sum" > "$dash_stamp"
fi
