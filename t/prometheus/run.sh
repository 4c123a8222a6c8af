#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The metrics with real Prometheus parts (Debian's "prometheus" package):
#   - `promtool check metrics` on what sender_domains_metrics serves;
#   - `promtool check rules` on conf-examples/prometheus/alerts.yml;
#   - a Prometheus server (loopback only, its own data directory, stopped
#     by pid) scrapes the endpoint and answers a PromQL query for
#     sender_domains_ses_calls_total after a known add, and loads the rules;
#   - the counters survive a reload, and after a restart the identities
#     gauge is counted again from the store.
# Runs its own nginx and SES simulator on free ports; prints
# "N passed, N failed" last and exits non-zero on a failure.
set -euo pipefail

. "$(dirname "$0")/../lib/sd-stack.sh"
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
prom=

for t in "$PROMETHEUS" "$PROMTOOL"; do
    if [ ! -x "$t" ]; then
        echo "prometheus: $t is missing: apt-get install prometheus" >&2
        exit 1
    fi
done

sd_stack_init prometheus
PROM_PORT=$(free_port)

cleanup() {
    [ -n "$prom" ] && kill "$prom" 2>/dev/null || true
    [ -f "$STATE/nginx.pid" ] && kill -QUIT "$(cat "$STATE/nginx.pid")" 2>/dev/null || true
    [ -n "$sim" ] && kill "$sim" 2>/dev/null || true
    [ -n "$prom" ] && for _ in $(seq 50); do kill -0 "$prom" 2>/dev/null || break; sleep 0.1; done
    sleep 0.3
    rm -rf "$STATE"
}
trap cleanup EXIT
trap "exit 1" INT TERM

sd_sim_start
sd_nginx_conf '    sender_domains_ses_rate 50;
    sender_domains_refresh_interval 1s;' '        location = /metrics {
            allow 127.0.0.1;
            deny all;
            sender_domains_metrics;
        }'
sd_nginx_start

H=(-H 'X-WS: acme' -H 'X-Role: admin' -H 'X-Plan: professional' -H 'Content-Type: application/json')
API=http://127.0.0.1:$PORT/api
METRICS=http://127.0.0.1:$PORT/metrics

metric() {      # metric 'name{labels}': its value in a fresh scrape
    { curl -s "$METRICS" || true; } | awk -v m="$1" '$1 == m { print $2 }'
}

create_ok='sender_domains_ses_calls_total{op="CreateEmailIdentity",outcome="ok"}'

check "before the add: CreateEmailIdentity ok is 0" '[ "$(metric "$create_ok")" = 0 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d '{"identity":"acme.com"}' "$API/")
check "add acme.com: 201 (got $code)" '[ "$code" = 201 ]'
check "after the add: CreateEmailIdentity ok is 1" '[ "$(metric "$create_ok")" = 1 ]'

# promtool's linter: format, HELP/TYPE, names, units, _total counters
curl -s "$METRICS" > "$STATE/metrics.txt"
if "$PROMTOOL" check metrics < "$STATE/metrics.txt" > "$STATE/promtool.out" 2>&1; then
    rc=0
else
    rc=$?
fi
check "promtool check metrics: no problem (exit $rc: $(head -c 300 "$STATE/promtool.out" | tr '\n' ' '))" \
      '[ "$rc" = 0 ] && [ ! -s "$STATE/promtool.out" ]'

"$PROMTOOL" check rules "$ROOT/conf-examples/prometheus/alerts.yml" > "$STATE/rules.out" 2>&1 \
    && rc=0 || rc=$?
check "promtool check rules conf-examples/prometheus/alerts.yml (exit $rc)" \
      '[ "$rc" = 0 ] && grep -q SUCCESS "$STATE/rules.out"'

# a real Prometheus server, loopback only, scraping every second
cat > "$STATE/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/conf-examples/prometheus/alerts.yml
scrape_configs:
  - job_name: sender_domains
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:$PORT']
CONF

"$PROMETHEUS" --config.file="$STATE/prometheus.yml" \
    --storage.tsdb.path="$STATE/prom-data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" \
    --log.level=warn > "$STATE/prometheus.log" 2>&1 &
prom=$!

query() {       # query 'PromQL': the first sample's value, or nothing
    { curl -s -G --data-urlencode "query=$1" \
          "http://127.0.0.1:$PROM_PORT/api/v1/query" || true; } \
        | /usr/bin/python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}

got=
for _ in $(seq 300); do          # at most 30 s
    got=$(query "$create_ok")
    [ "$got" = 1 ] && break
    sleep 0.1
done
check "Prometheus scraped the endpoint: PromQL $create_ok = 1 (got '$got')" '[ "$got" = 1 ]'

got=$(query 'up{job="sender_domains"}')
check "Prometheus: up{job=\"sender_domains\"} = 1 (got '$got')" '[ "$got" = 1 ]'

got=$(query 'sum(sender_domains_identities{kind="domain"})')
check "Prometheus: sum(sender_domains_identities{kind=\"domain\"}) = 1 (got '$got')" '[ "$got" = 1 ]'

rules=$(curl -s "http://127.0.0.1:$PROM_PORT/api/v1/rules" \
        | /usr/bin/python3 -c 'import json,sys
g = json.load(sys.stdin)["data"]["groups"]
print(sum(1 for x in g for r in x["rules"] if r.get("health") == "ok"))' 2>/dev/null || echo 0)
check "Prometheus loaded and evaluates the alert rules ($rules healthy)" '[ "$rules" -ge 5 ]'

kill "$prom"
for _ in $(seq 100); do kill -0 "$prom" 2>/dev/null || break; sleep 0.1; done
prom=

# a reload keeps the counters (same zone)
kill -HUP "$(cat "$STATE/nginx.pid")"
sleep 1
check "after a reload: CreateEmailIdentity ok is still 1" '[ "$(metric "$create_ok")" = 1 ]'

# a restart: counters start over, the identities are counted from the store
curl -s -o /dev/null "${H[@]}" -d '{"identity":"jo@acme.com"}' "$API/"
kill -QUIT "$(cat "$STATE/nginx.pid")"
for _ in $(seq 100); do [ -f "$STATE/nginx.pid" ] || break; sleep 0.1; done
sd_nginx_start

check "after a restart: CreateEmailIdentity ok is 0 again" '[ "$(metric "$create_ok")" = 0 ]'
d=$(metric 'sender_domains_identities{kind="domain",state="pending"}')
e=$(metric 'sender_domains_identities{kind="email",state="pending"}')
check "after a restart: the store's rows are counted (domain $d, email $e)" '[ "$d" = 1 ] && [ "$e" = 1 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
