#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Status-change webhooks end to end: nginx with the module, the SES
# simulator and a receiver that verifies every request with the Standard
# Webhooks reference implementation (receiver.mjs).  Checks: signed events
# for an add and for the refresher's verification, in order; retries after
# failures with the same webhook-id; events queued while the receiver is
# down and nginx restarts; SIGKILL during a delivery (sent again, same id);
# a full queue drops the oldest with a warn line and a counter; the retry
# schedule (sender_domains_webhook_retry, short values): waits that double
# up to the cap, the give-up time, then the event dropped with a warn line
# and a counter, while other identities' and workspaces' events flow and
# the refused identity's later event waits its turn; a receiver holding one
# identity's events unanswered does not hold the others; its checks at
# nginx -t.
# Prints "N passed, N failed" last and exits non-zero on a failure.
set -euo pipefail

. "$(dirname "$0")/../lib/sd-stack.sh"
sd_stack_init webhooks
recv=
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
RECV_PORT=$(free_port)

nginx_stop() {
    local pid
    [ -f "$STATE/nginx.pid" ] || return 0
    pid=$(cat "$STATE/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

cleanup() {
    nginx_stop
    [ -n "$recv" ] && kill "$recv" 2>/dev/null || true
    [ -n "$sim" ] && kill "$sim" 2>/dev/null || true
    sleep 0.3
    if [ -n "${KEEP:-}" ]; then echo "state kept in $STATE"; else rm -rf "$STATE"; fi
}
trap cleanup EXIT
trap "exit 1" INT TERM

receiver_start() {
    node "$ROOT/t/webhooks/receiver.mjs" "$RECV_PORT" "$SECRET" "$STATE/received.jsonl" \
        > "$STATE/receiver.out" 2>&1 &
    recv=$!
    for _ in $(seq 50); do grep -q listening "$STATE/receiver.out" 2>/dev/null && break; sleep 0.1; done
}

receiver_stop() {
    kill "$recv" 2>/dev/null || true
    wait "$recv" 2>/dev/null || true
    recv=
}

mode() { curl -s -o /dev/null -d "$1" "http://127.0.0.1:$RECV_PORT/_mode"; }

# received 'jq-like python expression over the list of entries "e"'
received() {
    /usr/bin/python3 - "$STATE/received.jsonl" "$1" <<'PY'
import json, sys
try:
    e = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    e = []
print(eval(sys.argv[2]))
PY
}

wait_for() {    # wait_for SECONDS 'python expression true when done'
    local end=$((SECONDS + $1))
    while [ $SECONDS -lt "$end" ]; do
        [ "$(received "$2")" = True ] && return 0
        sleep 0.2
    done
    return 1
}

printf '%s\n' "$SECRET" > "$STATE/webhook.secret"

# write_conf 'MORE HTTP LINES'
write_conf() {
    sd_nginx_conf "    sender_domains_ses_rate 50;
    sender_domains_refresh_interval 1s;
    sender_domains_webhook http://127.0.0.1:$RECV_PORT/hook $STATE/webhook.secret;
    $1" '        location = /metrics {
            sender_domains_metrics;
        }'
}

H=(-H 'X-WS: acme' -H 'X-Role: admin' -H 'X-Plan: professional' -H 'Content-Type: application/json')
API=http://127.0.0.1:$PORT/api
add() { curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d "{\"identity\":\"$1\"}" "$API/"; }
metric() { { curl -s "http://127.0.0.1:$PORT/metrics" || true; } | awk -v m="$1" '$1 == m { print $2 }'; }

sd_sim_start
receiver_start
write_conf ""
sd_nginx_start

# 1. an add, then the refresher sees the records published: signed, in order
code=$(add acme.com)
check "add acme.com: 201 (got $code)" '[ "$code" = 201 ]'
check "identity.added for acme.com arrives, signature verified by standardwebhooks" \
      'wait_for 20 "any(x[\"type\"] == \"identity.added\" and x[\"identity\"] == \"acme.com\" and x[\"verified\"] for x in e)"'
curl -s -o /dev/null -X POST -d '{"identity":"acme.com"}' "http://127.0.0.1:$SES_PORT/_sim/dns/publish"
check "identity.verified for acme.com arrives without any poll of the API" \
      'wait_for 30 "any(x[\"type\"] == \"identity.verified\" and x[\"identity\"] == \"acme.com\" for x in e)"'
check "every request verified; webhook-id equals the body's id" \
      '[ "$(received "all(x[\"verified\"] and x[\"id\"] == x[\"body_id\"] for x in e)")" = True ]'
check "in order: event numbers only go up ($(received "[x['id'] for x in e]"))" \
      '[ "$(received "[int(x[\"id\"][4:]) for x in e] == sorted(int(x[\"id\"][4:]) for x in e)")" = True ]'

# 2. the receiver fails twice: the same event again, same webhook-id
mode '{"fail":2}'
code=$(add beta.example)
check "add beta.example: 201" '[ "$code" = 201 ]'
check "identity.added for beta.example: 500, 500, then delivered, one webhook-id (5 s, 10 s backoff)" \
      'wait_for 40 "[x[\"status\"] for x in e if x[\"type\"] == \"identity.added\" and x[\"identity\"] == \"beta.example\"] == [500, 500, 204] and len(set(x[\"id\"] for x in e if x[\"type\"] == \"identity.added\" and x[\"identity\"] == \"beta.example\")) == 1"'
f=$(metric 'sender_domains_webhooks_total{outcome="failed"}')
check "sender_domains_webhooks_total{outcome=\"failed\"} counts the 2 failures (got $f)" '[ "${f:-0}" -ge 2 ]'
grep -q 'webhook evt_[0-9]* to "http://127.0.0.1:[0-9]*/hook" failed (answered, HTTP 500); retried in 5 s' "$STATE/logs/error.log" \
    && rc=0 || rc=1
check "a warn line for the failed attempt" '[ "$rc" = 0 ]'

# a dropped connection is retried too (by libcurl at once when the
# connection was a kept-alive one, else after the backoff)
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ] && [ "$(metric sender_domains_webhook_queue_events)" != 0 ]; do sleep 0.2; done
mode '{"drop":1}'
code=$(add drop.example)
check "add drop.example: 201" '[ "$code" = 201 ]'
check "identity.added for drop.example: connection dropped, then delivered with the same webhook-id" \
      'wait_for 30 "[x[\"status\"] for x in e if x[\"type\"] == \"identity.added\" and x[\"identity\"] == \"drop.example\"] == [\"dropped\", 204] and len(set(x[\"id\"] for x in e if x[\"identity\"] == \"drop.example\" and x[\"type\"] == \"identity.added\")) == 1"'

# 3. the receiver down, nginx restarted: nothing is lost
sleep 1
receiver_stop
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${H[@]}" "$API/beta.example")
check "delete beta.example while the receiver is down: 204 (got $code)" '[ "$code" = 204 ]'
q=$(metric 'sender_domains_webhook_queue_events')
check "the event waits in the queue (sender_domains_webhook_queue_events $q)" '[ "${q:-0}" -ge 1 ]'
nginx_stop
sd_nginx_start
receiver_start
check "after the restart identity.removed for beta.example arrives" \
      'wait_for 40 "any(x[\"type\"] == \"identity.removed\" and x[\"identity\"] == \"beta.example\" and x[\"status\"] == 204 for x in e)"'

# 4. SIGKILL while a delivery is in flight: sent again with the same id
mode '{"hang":true}'
code=$(add gamma.example)
check "add gamma.example: 201" '[ "$code" = 201 ]'
wait_for 20 "any(x['identity'] == 'gamma.example' and x['status'] == 'held' for x in e)" || true
gid=$(received "[x['id'] for x in e if x['identity'] == 'gamma.example' and x['status'] == 'held'][0]")
master=$(cat "$STATE/nginx.pid")
workers=$(pgrep -P "$master" || true)
kill -9 "$master" $workers 2>/dev/null || true
rm -f "$STATE/nginx.pid"
sleep 0.5
mode '{"hang":false}'
sd_nginx_start
check "after SIGKILL the held event $gid is delivered again, same webhook-id" \
      'wait_for 40 "any(x[\"id\"] == \"$gid\" and x[\"status\"] == 204 for x in e)"'

# 5. a full queue: the oldest undelivered events are dropped, counted, warned
nginx_stop
receiver_stop
write_conf "sender_domains_webhook_queue 2;"
sd_nginx_start
codes=
for d in d1.example d2.example d3.example; do codes="$codes $(add "$d")"; done
d=$(metric 'sender_domains_webhooks_total{outcome="dropped_full"}')
q=$(metric 'sender_domains_webhook_queue_events')
check "queue of 2: events dropped (dropped_full $d), 2 kept ($q)" '[ "${d:-0}" -ge 1 ] && [ "$q" = 2 ]'
grep -q 'the webhook queue is full: [0-9]* oldest undelivered events dropped' "$STATE/logs/error.log" \
    && rc=0 || rc=1
check "a warn line says the queue was full" '[ "$rc" = 0 ]'
check "a full queue never fails the API: the adds answered$codes" '[ "$codes" = " 201 201 201" ]'

# 6. the retry schedule, shortened: 2 s doubling up to 8 s, given up 30 s
#    after the event was made (the defaults, 5 s, 1 h and 72 h, are the
#    same rule: t/unit/test_events.c).  Meanwhile the refused identity
#    holds back only its own later events: another identity's and another
#    workspace's events keep arriving (no head-of-line blocking)
nginx_stop
receiver_start
write_conf "sender_domains_webhook_retry 2s 8s 30s;"
sd_nginx_start
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ] && [ "$(metric sender_domains_webhook_queue_events)" != 0 ]; do sleep 0.2; done
x0=$(metric 'sender_domains_webhooks_total{outcome="expired"}')
mode '{"failIdentity":"retry.example"}'
code=$(add retry.example)
sleep 1
code="$code $(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${H[@]}" "$API/retry.example")"
code="$code $(add after.example)"
code="$code $(curl -s -o /dev/null -w '%{http_code}' -H 'X-WS: globex' -H 'X-Role: admin' \
              -H 'X-Plan: professional' -H 'Content-Type: application/json' \
              -d '{"identity":"globex.example"}' "$API/")"
check "add retry.example, delete it, add after.example, workspace globex adds globex.example: 201 204 201 201 (got $code)" \
      '[ "$code" = "201 204 201 201" ]'
check "while retry.example's event is refused, after.example's and workspace globex's identity.added arrive" \
      'wait_for 20 "all(any(x[\"type\"] == \"identity.added\" and x[\"identity\"] == d and x[\"status\"] == 204 for x in e) for d in (\"after.example\", \"globex.example\"))"'
rid=$(received "[x['id'] for x in e if x['identity'] == 'retry.example' and x['type'] == 'identity.added'][0]")
check "$rid is given up after 6 attempts" \
      'wait_for 40 "len([x for x in e if x[\"id\"] == \"$rid\"]) == 6"'
check "they arrived while $rid was still being retried (before its last attempt)" \
      '[ "$(received "max(x[\"at\"] for x in e if x[\"identity\"] in (\"after.example\", \"globex.example\")) < max(x[\"at\"] for x in e if x[\"id\"] == \"$rid\")")" = True ]'
mode '{"failIdentity":null}'
at=$(received "' '.join(str(x['at']) for x in e if x['id'] == '$rid')")
gaps=$(/usr/bin/python3 -c 'import sys; t=[int(v) for v in sys.argv[1:]]; print(" ".join("%.1f" % ((b - a) / 1000) for a, b in zip(t, t[1:])))' $at)
span=$(/usr/bin/python3 -c 'import sys; t=[int(v) for v in sys.argv[1:]]; print("%.1f" % ((t[-1] - t[0]) / 1000))' $at)
check "$rid tried 6 times, 500 each ($(received "[x['status'] for x in e if x['id'] == '$rid']"))" \
      '[ "$(received "[x[\"status\"] for x in e if x[\"id\"] == \"$rid\"] == [500] * 6")" = True ]'
check "the waits double, then stop growing at the 8 s cap: 2 4 8 8 8, the last ending at the give-up time (got $gaps)" \
      '/usr/bin/python3 -c "import sys; g=[float(v) for v in sys.argv[1:]]; sys.exit(not (len(g) == 5 and all(w - 1.1 <= x <= w + 1.6 for x, w in zip(g, [2, 4, 8, 8, 8]))))" $gaps'
check "the last attempt is made at the 30 s give-up time (first to last: $span s)" \
      '/usr/bin/python3 -c "import sys; sys.exit(not 28.5 <= float(sys.argv[1]) <= 31.6)" $span'
check "retry.example's identity.removed arrives after its identity.added was given up" \
      'wait_for 30 "any(x[\"type\"] == \"identity.removed\" and x[\"identity\"] == \"retry.example\" and x[\"status\"] == 204 for x in e)"'
check "in order per identity: identity.removed was not sent before identity.added's last attempt" \
      '[ "$(received "min(x[\"at\"] for x in e if x[\"identity\"] == \"retry.example\" and x[\"type\"] == \"identity.removed\") >= max(x[\"at\"] for x in e if x[\"id\"] == \"$rid\")")" = True ]'
x1=$(metric 'sender_domains_webhooks_total{outcome="expired"}')
check "sender_domains_webhooks_total{outcome=\"expired\"} counts it (${x0:-0} -> ${x1:-0})" \
      '[ "$(( ${x1:-0} - ${x0:-0} ))" -ge 1 ]'
grep -q "webhook $rid to \"http://127.0.0.1:[0-9]*/hook\" dropped after 6 attempts in 30 s (answered, HTTP 500)" \
    "$STATE/logs/error.log" && rc=0 || rc=1
check "a warn line says $rid was dropped after 6 attempts in 30 s" '[ "$rc" = 0 ]'
code=$(add later.example)
check "a later event flows: identity.added for later.example delivered (add: $code)" \
      'wait_for 60 "any(x[\"type\"] == \"identity.added\" and x[\"identity\"] == \"later.example\" and x[\"status\"] == 204 for x in e)"'

# 7. a receiver that never answers one identity's events (each attempt
#    waits out the 10 s timeout): other identities' events still arrive
#    at once, in another of the URL's request slots
mode '{"hangIdentity":"hang.example"}'
code=$(add hang.example)
check "while hang.example's identity.added is held unanswered by the receiver" \
      'wait_for 10 "any(x[\"identity\"] == \"hang.example\" and x[\"status\"] == \"held\" for x in e)"'
code="$code $(add flow.example)"
check "add hang.example, flow.example: 201 201 (got $code)" '[ "$code" = "201 201" ]'
check "... flow.example's identity.added arrives within 5 s, not after the 10 s timeout" \
      'wait_for 5 "any(x[\"identity\"] == \"flow.example\" and x[\"type\"] == \"identity.added\" and x[\"status\"] == 204 for x in e)"'
mode '{"hangIdentity":null}'

# the directive is checked at nginx -t
nginx_t() {
    write_conf "sender_domains_webhook_retry $1;"
    "$NGINX_BIN" -t -p "$STATE" -c "$STATE/nginx.conf" > "$STATE/t.out" 2>&1
}
nginx_t "5s 1h 72h" && rc=0 || rc=1
check "nginx -t accepts sender_domains_webhook_retry 5s 1h 72h" '[ "$rc" = 0 ]'
for bad in "0s 1h 72h" "10s 5s 72h" "1m 1h 30s" "5ms 1h 72h" "5s 1h"; do
    nginx_t "$bad" && rc=0 || rc=1
    check "nginx -t refuses sender_domains_webhook_retry $bad: $(grep -o 'emerg\] .*' "$STATE/t.out" | head -1)" '[ "$rc" = 1 ]'
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
