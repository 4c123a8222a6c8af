#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A binary upgrade (USR2, WINCH, QUIT) under load: no failed resolve, no
# lost row, no stale lock, and the new workers take the refresher lease.
# Runs its own nginx and SES simulator on free ports; prints
# "N passed, N failed" last and exits non-zero on a failure.
set -euo pipefail

. "$(dirname "$0")/../lib/sd-stack.sh"
sd_stack_init upgrade

cleanup() {
    for f in "$STATE"/nginx.pid "$STATE"/nginx.pid.oldbin; do
        [ -f "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null || true
    done
    [ -n "${sim:-}" ] && kill "$sim" 2>/dev/null || true
    [ -n "${load1:-}" ] && kill "$load1" "$load2" 2>/dev/null || true
    sleep 0.5
    rm -rf "$STATE"
}
trap cleanup EXIT
trap "exit 1" INT TERM

sd_sim_start
sd_nginx_conf '    sender_domains_ses_rate 200;
    # one workspace adds in a loop here: no per-workspace limit
    sender_domains_max_identities 0;
    sender_domains_refresh_interval 1s;'
sd_nginx_start

H=(-H 'X-WS: acme' -H 'X-Role: admin' -H 'X-Plan: professional' -H 'Content-Type: application/json')
API=http://127.0.0.1:$PORT/api

curl -s "${H[@]}" -d '{"identity":"acme.com"}' "$API/" > /dev/null
curl -s -X POST -d '{"identity":"acme.com"}' "http://127.0.0.1:$SES_PORT/_sim/dns/publish" > /dev/null
curl -s -X POST "${H[@]}" "$API/acme.com/refresh" > /dev/null

# resolve in a loop; add in a loop: both count what fails
(
    ok=0 failed=0
    end=$((SECONDS + 8))
    while [ $SECONDS -lt $end ]; do
        if curl -s -m 5 "${H[@]}" "$API/resolve?from=r%40acme.com" | grep -q '"source":"domain"'; then
            ok=$((ok + 1))
        else
            failed=$((failed + 1))
        fi
    done
    echo "$ok $failed" > "$STATE/resolve.count"
) &
load1=$!

(
    n=0
    : > "$STATE/added"
    end=$((SECONDS + 8))
    while [ $SECONDS -lt $end ]; do
        code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "${H[@]}" \
               -d "{\"identity\":\"u$n.example\"}" "$API/")
        [ "$code" = 201 ] && echo "u$n.example" >> "$STATE/added"
        n=$((n + 1))
    done
) &
load2=$!

sleep 2
old=$(cat "$STATE/nginx.pid")
kill -USR2 "$old"
for _ in $(seq 50); do [ -f "$STATE/nginx.pid.oldbin" ] && break; sleep 0.1; done
check "a new master started (nginx.pid.oldbin)" '[ -f "$STATE/nginx.pid.oldbin" ]'
sleep 1
kill -WINCH "$old"
sleep 1.5
kill -QUIT "$old"

wait "$load1" "$load2"
load1= load2=

read -r rok rfailed < "$STATE/resolve.count"
check "resolves during the upgrade: $rok ok, $rfailed failed" '[ "$rok" -gt 0 ] && [ "$rfailed" -eq 0 ]'

lost=0
while read -r id; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" "$API/$id")
    [ "$code" = 200 ] || lost=$((lost + 1))
done < "$STATE/added"
check "rows added during the upgrade: $(wc -l < "$STATE/added"), lost $lost" '[ -s "$STATE/added" ] && [ "$lost" -eq 0 ]'

code=$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d '{"identity":"after.example"}' "$API/")
check "a write after the upgrade (no stale lock): $code" '[ "$code" = 201 ]'

check "the old master is gone" '! kill -0 "$old" 2>/dev/null'

sleep 2.5
new_leader=$(grep -o 'worker [0-9]* runs the refresher' "$STATE/logs/error.log" \
             | tail -1 | awk '{print $2}' || true)
check "a new worker runs the refresher ($new_leader)" '[ -n "$new_leader" ] && kill -0 "$new_leader" 2>/dev/null'
check "no alert or crash in the error log" '! grep -E "\[alert\]|\[emerg\]|exited on signal" "$STATE/logs/error.log"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
