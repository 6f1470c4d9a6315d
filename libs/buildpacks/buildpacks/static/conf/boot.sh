#!/bin/sh
# Starts the site's nginx (written by the static buildpack): fills in $PORT and the paths, then
# runs the stack's nginx in the foreground as the app's user. Temp files and the pid live under
# $TMPDIR/nginx; the error log goes to stderr, the access log to stdout.
set -eu
app=$(cd "$(dirname "$0")/.." && pwd)
run=${TMPDIR:-/tmp}/nginx
: "${PORT:?PORT is not set}"
rm -rf "$run"
mkdir -p "$run"
sed -e "s|__PORT__|$PORT|g" -e "s|__APP__|$app|g" -e "s|__RUN__|$run|g" "$app/.nginx/nginx.conf" > "$run/nginx.conf"
exec /usr/sbin/nginx -p "$run" -c "$run/nginx.conf" -e stderr
