#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/tls.sh: TLS to etcd with client certificates (issue 18, "TLS
# and client certificates"; docs/cluster.md "The etcd client").
#
# One etcd member serving clients over TLS only, with --client-cert-auth
# (t/cluster/lib.sh, CL_TLS=1: a throw-away CA, the member's certificate
# for 127.0.0.1, a client certificate, made with openssl), and nginx nodes
# with the module, each in its own folder, its workers not root (when run
# as root) while the key is root's, mode 0600, in a folder only root may
# enter:
#
#   1. "good": the CA and the client certificate: it reaches etcd, an add
#      answers 201 and its row is in etcd (read with etcdctl and the
#      certificates); no TLS error in its log;
#   2. "nocert": the CA, no client certificate: etcd refuses it; writes
#      answer 503 cluster_unavailable, the log says why at error level
#      (a TLS failure naming the endpoint, "client certificate: none"),
#      once, without a byte of a key; after a reload with the client
#      certificate added, writes go through;
#   3. "wrongca": another CA: it refuses etcd's certificate; 503 and an
#      error line naming the endpoint and the CA file;
#   4. sender-domains-cluster-import against the TLS member: with --cacert, --cert,
#      --key it imports node "good"'s store under another prefix (etcdctl
#      shows the row); without --cert, or with the other CA: exit 1 and a
#      TLS error naming the endpoint; --cert without --key: refused.
#
# Everything is stopped by pid; bounded (< 60 s).
# make -f Makefile.dev cluster-tls builds what it needs and runs this.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/sd-stack.sh"
. "$HERE/lib.sh"

IMPORT_TOOL=${IMPORT_TOOL:-$ROOT/build/tools/sender-domains-cluster-import}
[ -x "$IMPORT_TOOL" ] || { echo "FAIL - $IMPORT_TOOL: make -f Makefile.dev cluster-import-tool"; exit 1; }
[ -f "$MODULE" ] || { echo "FAIL - $MODULE: make -f Makefile.dev build"; exit 1; }
command -v etcdctl >/dev/null || { echo "FAIL - etcdctl: make -f Makefile.dev deps-cluster"; exit 1; }

sd_stack_init tls
BASE=$STATE
CL_TRAPPED=1
CL_TLS=1
NODES="good nocert wrongca"

cleanup() {
    local rc=$? n
    for n in $NODES; do
        sd_nginx_stop "$BASE/$n/nginx.pid" || true
        if [ $rc != 0 ] && [ -f "$BASE/$n/logs/error.log" ]; then
            echo "# $n: error.log (last warnings and errors):"
            grep -E '\[(warn|error|crit|alert|emerg)\]' "$BASE/$n/logs/error.log" | tail -5 | sed 's/^/#   /'
        fi
    done
    [ -n "${sim:-}" ] && kill "$sim" 2>/dev/null
    (exit $rc); cl_cleanup
    rm -rf "$BASE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# node NAME 'TLS LINES': its folder, port and config (sd-stack.sh's, with
# the cluster directives); sets PORT_<NAME>
node_conf() {
    local n=$1 port
    mkdir -p "$BASE/$n/logs"
    chmod 755 "$BASE/$n"
    port=$(free_port)
    eval "PORT_$n=$port"
    STATE=$BASE/$n SD_PORT=$port sd_nginx_conf "    sender_domains_ses_rate 500;
    sender_domains_cluster etcd $EP;
    sender_domains_cluster_prefix /tls/;
    sender_domains_cluster_node $n;
$2"
    STATE=$BASE
}

node_start() {
    "$NGINX_BIN" -p "$BASE/$1" -c "$BASE/$1/nginx.conf"
}

# api NODE METHOD PATH WS [BODY]: prints the status, the body in $BASE/resp
api() {
    local port
    eval "port=\$PORT_$1"
    curl -s -m 10 -o "$BASE/resp" -D "$BASE/hdr" -w '%{http_code}' -X "$2" \
         -H "X-WS: $4" -H 'X-Role: admin' -H 'X-Plan: professional' \
         -H 'Content-Type: application/json' ${5:+--data-binary "$5"} \
         "http://127.0.0.1:$port/api$3"
}

# the node answers a read that is not stale: it has reached etcd
reached() {
    [ "$(api "$1" GET / nd-ready)" = 200 ] \
        && grep -qi '^x-sender-domains-revision:' "$BASE/hdr" \
        && ! grep -qi '^x-sender-domains-stale:' "$BASE/hdr"
}

# until SECONDS 'condition': polls every 0.2 s
until_ok() {
    local deadline=$((SECONDS + $1))
    until eval "$2"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

log_of() {
    printf '%s/%s/logs/error.log' "$BASE" "$1"
}

# refused NODE 'WHAT': node NODE's TLS failure is logged at error level
# (within 10 s); sets LOG (its log) and line (the first such line)
refused() {
    LOG=$(log_of "$1")
    check "node $1: $2, at error level (within 10 s)" \
        'until_ok 10 "grep -q \"\\[error\\].*TLS failed\" \"$LOG\""'
    line=$(grep '\[error\].*TLS failed' "$LOG" | head -1)
    echo "#   ${line#*\[error\] }" | cut -c1-400
}

# write_503 NODE WS NAME: an add through it answers 503 cluster_unavailable
write_503() {
    local code
    code=$(api "$1" POST / "$2" "{\"identity\":\"$3\"}")
    check "a write on node $1: 503 cluster_unavailable with Retry-After ($code)" \
        '[ "$code" = 503 ] && grep -q "\"cluster_unavailable\"" "$BASE/resp" \
         && grep -qi "^retry-after:" "$BASE/hdr"'
}

no_key_in_log() {
    check "no key material in node $1's log" \
        '! grep -q "PRIVATE KEY" "$(log_of '"$1"')" && ! grep -qF "$KEYLINE" "$(log_of '"$1"')"'
}

# a line of the client key's base64 (none of it may reach a log)
KEYLINE=

cl_start 1
EP=$(cl_endpoints)
T=$CL_TLS_DIR
KEYLINE=$(sed -n 2p "$T/client.key" | cut -c1-24)
TLS_GOOD="    sender_domains_cluster_ssl_trusted_certificate $T/ca.crt;
    sender_domains_cluster_ssl_certificate $T/client.crt;
    sender_domains_cluster_ssl_certificate_key $T/client.key;"
cl_tls_ca "$BASE/other"
sd_sim_start

# ---- 1. the right CA and client certificate ----
node_conf good "$TLS_GOOD"
check "nginx -t accepts the TLS directives" \
    '"$NGINX_BIN" -t -p "$BASE/good" -c "$BASE/good/nginx.conf" 2>/dev/null'
node_start good
check "node good reaches etcd over TLS with its client certificate (within 15 s)" \
    'until_ok 15 "reached good"'
if [ "$(id -u)" = 0 ]; then
    workers=$(ps -o user= --ppid "$(cat "$BASE/good/nginx.pid")" | sort -u | tr '\n' ' ')
    check "its workers are not root ($workers) and the key is root's, mode 600, in a folder of mode $(stat -c %a "$CL_DIR")" \
        '[ -n "$workers" ] && ! grep -qw root <<<"$workers" \
         && [ "$(stat -c %U:%a "$T/client.key")" = root:600 ] \
         && [ "$(stat -c %a "$CL_DIR")" = 700 ]'
fi
code=$(api good POST / wsA '{"identity":"acme.example"}')
check "an add through node good: 201 ($code)" '[ "$code" = 201 ]'
row=$(cl_etcdctl get /tls/rows/wsA/acme.example --print-value-only 2>&1)
check "the row is in etcd (etcdctl with the certificates)" \
    'grep -q "\"acme.example\"" <<<"$row" || { echo "# $row"; false; }'
check "and its claim" \
    '[ "$(cl_etcdctl get /tls/claims/example.acme. --print-value-only)" = wsA ]'
check "etcdctl without the client certificate is refused (the member asks for one)" \
    '! ETCDCTL_API=3 timeout 10 etcdctl --endpoints "$EP" --cacert "$T/ca.crt" \
        --dial-timeout 2s --command-timeout 3s get /tls/claims/example.acme. >/dev/null 2>&1'
check "no TLS error in node good's log" '! grep -q "TLS failed" "$(log_of good)"'

# ---- 2. no client certificate ----
node_conf nocert "    sender_domains_cluster_ssl_trusted_certificate $T/ca.crt;"
node_start nocert
refused nocert "etcd's refusal of the node is logged"
check "the line names the endpoint, the etcd call, the CA file and 'client certificate: none'" \
    'grep -qF "on $EP: TLS failed" <<<"$line" && grep -q "etcd /v3/[a-z/]* on" <<<"$line" \
     && grep -qF "trusted CAs: \"$T/ca.crt\"" <<<"$line" && grep -q "client certificate: none" <<<"$line"'
sleep 2
write_503 nocert wsB beta.example
check "nothing of it reached etcd" \
    '[ -z "$(cl_etcdctl get /tls/rows/wsB/beta.example --print-value-only)" ] \
     && [ -z "$(cl_etcdctl get /tls/nodes/nocert --print-value-only)" ]'
n=$(grep -c '\[error\].*TLS failed' "$LOG")
r=$(grep -c 'TLS failed' "$LOG")
check "said at error level once per worker at most (2 workers), not per retry ($n error lines, $r in all)" \
    '[ "$n" -ge 1 ] && [ "$n" -le 2 ] && [ "$r" -gt "$n" ]'
no_key_in_log nocert

# the fix: the client certificate added, a reload reads the files
node_conf nocert "$TLS_GOOD"
kill -HUP "$(cat "$BASE/nocert/nginx.pid")"
check "after a reload with the client certificate: node nocert reaches etcd (within 15 s)" \
    'until_ok 15 "reached nocert"'
code=$(api nocert POST / wsB '{"identity":"beta.example"}')
check "and takes the write: 201 ($code), in etcd" \
    '[ "$code" = 201 ] && cl_etcdctl get /tls/rows/wsB/beta.example --print-value-only | grep -q beta.example'

# ---- 3. a CA that did not sign etcd's certificate ----
node_conf wrongca "    sender_domains_cluster_ssl_trusted_certificate $BASE/other/ca.crt;
    sender_domains_cluster_ssl_certificate $T/client.crt;
    sender_domains_cluster_ssl_certificate_key $T/client.key;"
node_start wrongca
refused wrongca "its refusal of etcd's certificate is logged"
check "the line names the endpoint, the verification failure and the CA file" \
    'grep -qF "on $EP: TLS failed" <<<"$line" && grep -qi "certificate" <<<"$line" \
     && grep -qF "trusted CAs: \"$BASE/other/ca.crt\"" <<<"$line"'
write_503 wrongca wsC gamma.example
no_key_in_log wrongca

# ---- 4. the import tool over TLS ----
check "node good stops" 'sd_nginx_stop "$BASE/good/nginx.pid"'
DB=$BASE/good/senders.mdb
out=$("$IMPORT_TOOL" --db "$DB" --endpoints "$EP" --prefix /tls-copy/ \
        --cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
check "sender-domains-cluster-import with --cacert, --cert, --key: exit 0, every row imported" \
    '[ $rc = 0 ] && grep -Eq "^([0-9]+) rows: \1 imported, 0 already there, 0 conflicts" <<<"$out"'
check "etcdctl shows it under the new prefix" \
    'cl_etcdctl get /tls-copy/rows/wsA/acme.example --print-value-only | grep -q "\"acme.example\""'
out=$("$IMPORT_TOOL" --db "$DB" --endpoints "$EP" --prefix /tls-copy/ \
        --cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key" 2>&1); rc=$?
check "again: every row already there" \
    '[ $rc = 0 ] && grep -Eq "^([0-9]+) rows: 0 imported, \1 already there" <<<"$out"'
out=$("$IMPORT_TOOL" --db "$DB" --endpoints "$EP" --prefix /tls-2/ --cacert "$T/ca.crt" 2>&1); rc=$?
echo "$out" | head -2 | sed 's/^/#   /'
check "without --cert: exit 1, a TLS error naming the endpoint" \
    '[ $rc = 1 ] && grep -qF "$EP/v3/kv/txn: " <<<"$out" && grep -qi "ssl\|certificate" <<<"$out"'
out=$("$IMPORT_TOOL" --db "$DB" --endpoints "$EP" --prefix /tls-2/ --cacert "$BASE/other/ca.crt" \
        --cert "$T/client.crt" --key "$T/client.key" 2>&1); rc=$?
echo "$out" | head -1 | sed 's/^/#   /'
check "with another CA: exit 1, etcd's certificate refused" \
    '[ $rc = 1 ] && grep -qi "certificate" <<<"$out"'
out=$("$IMPORT_TOOL" --db "$DB" --endpoints "$EP" --cert "$T/client.crt" 2>&1); rc=$?
check "--cert without --key: refused" '[ $rc = 1 ] && grep -q "go together" <<<"$out"'
out=$("$IMPORT_TOOL" --db "$DB" --endpoints "$EP" --cert "$T/client.crt" --key "$T/server.key" 2>&1); rc=$?
check "a key that is not the certificate's: refused before any call" \
    '[ $rc = 1 ] && grep -q "does not match" <<<"$out"'
check "nothing went to /tls-2/" '[ -z "$(cl_etcdctl get /tls-2/ --prefix --keys-only)" ]'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
