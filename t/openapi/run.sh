#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Checks docs/openapi.yaml against the implementation:
#   1. installs the pinned tools (npm ci, from package-lock.json);
#   2. lints the document with Redocly (rules: t/openapi/redocly.yaml);
#   3. builds the module and runs the whole Test::Nginx suite with
#      TEST_NGINX_RESPONSE_LOG set, so every answer the suite receives is
#      logged (random port and server root: TEST_NGINX_RANDOMIZE=1);
#   4. validates every logged /api/ answer against the document
#      (t/openapi/validate.mjs).
# Exits non-zero if any step fails.
#
#   bash t/openapi/run.sh
#
# Environment: TEST_NGINX_BINARY (default /usr/sbin/nginx), PROVE_JOBS
# (default 1), SKIP_BUILD=1 (use the module already built),
# KEEP_LOG=path (keep the response log there), VALIDATE_VERBOSE=1.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
module="$root/build/nginx/objs/ngx_http_sender_domains_module.so"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

step() { printf '\n== %s\n' "$*"; }
failures=()

step "npm ci (t/openapi)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) \
    || { echo "run.sh: npm ci failed" >&2; exit 1; }

step "redocly lint docs/openapi.yaml"
if ! (cd "$here" && node_modules/.bin/redocly lint "$root/docs/openapi.yaml" \
          --config "$here/redocly.yaml" --format=stylish 2>&1 \
      | grep -v -e '[║╔╚]' ; exit "${PIPESTATUS[0]}"); then
    failures+=("redocly lint")
fi

if [ -z "${SKIP_BUILD:-}" ]; then
    step "make -f Makefile.dev build"
    make -C "$root" -f Makefile.dev build || { echo "run.sh: build failed" >&2; exit 1; }
fi
[ -f "$module" ] || { echo "run.sh: no module at $module" >&2; exit 1; }

log=${KEEP_LOG:-$(mktemp "${TMPDIR:-/tmp}/sd-openapi-responses.XXXXXX")}
: > "$log"
[ -n "${KEEP_LOG:-}" ] || trap 'rm -f "$log"' EXIT

step "prove -I t/lib t/ (answers logged to $log)"
if ! (cd "$root" && TEST_NGINX_RESPONSE_LOG="$log" TEST_NGINX_RANDOMIZE=1 \
        TEST_NGINX_BINARY="${TEST_NGINX_BINARY:-/usr/sbin/nginx}" \
        TEST_NGINX_LOAD_MODULES="$module" \
        prove -j "${PROVE_JOBS:-1}" -I t/lib t/); then
    failures+=("Test::Nginx suite")
fi

step "validate the suite's answers against docs/openapi.yaml"
if ! node "$here/validate.mjs" --openapi "$root/docs/openapi.yaml" --prefix /api "$log"; then
    failures+=("response validation")
fi

if [ ${#failures[@]} -ne 0 ]; then
    printf '\nrun.sh: FAILED: %s\n' "$(IFS=,; echo "${failures[*]}" | sed 's/,/, /g')"
    exit 1
fi
printf '\nrun.sh: all passed\n'
