#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Starts the sandbox in the foreground: the SES simulator, then nginx with
# conf-examples/sandbox.conf.  Ctrl-C stops both.  Called by
# `make -f Makefile.dev run` with ROOT, MODULE, NGINX, PORT, SES_PORT, STATE.
set -euo pipefail

: "${ROOT:?}" "${MODULE:?}" "${NGINX_BIN:=/usr/sbin/nginx}" "${PORT:=8080}"
: "${SES_PORT:=8081}" "${STATE:=$ROOT/.sandbox}" "${PYTHON:=/usr/bin/python3}"

mkdir -p "$STATE"
conf="$STATE/nginx.conf"

sed -e "s#@MODULE@#$MODULE#g" -e "s#@STATE@#$STATE#g" -e "s#@ROOT@#$ROOT#g" \
    -e "s#@PORT@#$PORT#g" -e "s#@SES_PORT@#$SES_PORT#g" \
    "$ROOT/conf-examples/sandbox.conf" > "$conf"

"$PYTHON" "$ROOT/t/ses-sim/ses_sim.py" --port "$SES_PORT" \
    --state-file "$STATE/ses-sim.json" > "$STATE/ses-sim.log" 2>&1 &
sim=$!

cleanup() {
    kill "$sim" 2>/dev/null || true
    wait "$sim" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 50); do
    grep -q listening "$STATE/ses-sim.log" 2>/dev/null && break
    kill -0 "$sim" 2>/dev/null || { cat "$STATE/ses-sim.log"; exit 1; }
    sleep 0.1
done

"$NGINX_BIN" -t -q -p "$STATE" -c "$conf"

cat <<MSG

  Custom Sender Domains sandbox

  The card (Account Settings):  http://127.0.0.1:$PORT/settings/
  The API:                      http://127.0.0.1:$PORT/api/sender-domains/
  SES simulator:                http://127.0.0.1:$SES_PORT/  (control: /_sim/)
  State (LMDB, logs):           $STATE

  Try:
    curl -s http://127.0.0.1:$PORT/api/sender-domains/
    curl -s -H 'Content-Type: application/json' \\
         -d '{"identity":"acme.com","type":"domain"}' \\
         http://127.0.0.1:$PORT/api/sender-domains/
    curl -s -X POST -d '{"identity":"acme.com"}' \\
         http://127.0.0.1:$SES_PORT/_sim/dns/publish
    curl -s "http://127.0.0.1:$PORT/api/sender-domains/resolve?from=reports%40acme.com"

  Act as someone else with headers X-Sandbox-Workspace, X-Sandbox-Role
  (admin|member|service), X-Sandbox-Plan, X-Sandbox-Trial-Ends.
  Ctrl-C stops nginx and the simulator.

MSG

# nginx in the foreground; Ctrl-C reaches it (and the trap stops the sim)
"$NGINX_BIN" -p "$STATE" -c "$conf" &
ngx=$!
trap 'kill -QUIT $ngx 2>/dev/null; wait $ngx 2>/dev/null; cleanup' INT TERM
wait "$ngx"
