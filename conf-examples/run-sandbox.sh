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

# Real DNS: Knot DNS (Debian's knot) on a loopback port, with a
# configuration database so that the simulator adds a zone for each domain
# (the one under $STATE/knot, state and zone files kept across runs)
: "${KNOT_PORT:=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
knot=$STATE/knot
mkdir -p "$knot/zones" "$knot/db"
cat > "$knot/knot.conf" <<KNOT
server:
    rundir: "$knot"
    listen: 127.0.0.1@$KNOT_PORT
database:
    storage: "$knot/db"
control:
    listen: "$knot/knot.sock"
log:
  - target: "$knot/knot.log"
    any: info
template:
  - id: default
    storage: "$knot/zones"
    file: "%s.zone"
    journal-content: none
    zonefile-sync: -1
KNOT
zones=$(cd "$knot/zones" && ls -- *.zone 2>/dev/null | sed 's/\.zone$//' || true)
if [ -n "$zones" ]; then
    { echo "zone:"; for z in $zones; do echo "  - domain: $z"; done; } >> "$knot/knot.conf"
fi
rm -rf "$knot/confdb"
/usr/sbin/knotc -C "$knot/confdb" conf-import "$knot/knot.conf" > "$knot/import.log" 2>&1 \
    || { cat "$knot/import.log"; exit 1; }
/usr/sbin/knotd -C "$knot/confdb" > "$knot/knotd.out" 2>&1 &
knotd=$!

sed -e "s#@MODULE@#$MODULE#g" -e "s#@STATE@#$STATE#g" -e "s#@ROOT@#$ROOT#g" \
    -e "s#@PORT@#$PORT#g" -e "s#@SES_PORT@#$SES_PORT#g" \
    -e "s#@KNOT_PORT@#$KNOT_PORT#g" \
    "$ROOT/conf-examples/sandbox.conf" > "$conf"

"$PYTHON" "$ROOT/t/ses-sim/ses_sim.py" --port "$SES_PORT" --knot "$knot" \
    --state-file "$STATE/ses-sim.json" > "$STATE/ses-sim.log" 2>&1 &
sim=$!

cleanup() {
    kill "$sim" "$knotd" 2>/dev/null || true
    wait "$sim" "$knotd" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 50); do
    /usr/sbin/knotc -s "$knot/knot.sock" status > /dev/null 2>&1 && break
    kill -0 "$knotd" 2>/dev/null || { cat "$knot/knotd.out" "$knot/knot.log"; exit 1; }
    sleep 0.1
done

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
  DNS (Knot, the records the simulator publishes): 127.0.0.1:$KNOT_PORT
                                (kdig @127.0.0.1 -p $KNOT_PORT acme.com SOA)
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
