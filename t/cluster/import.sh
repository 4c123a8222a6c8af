#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/import.sh: a single-node store into etcd with sender-domains-cluster-import,
# and the guard of a cluster node on a store never imported (issue 18,
# docs/cluster.md "Migration and backup").
#
#   1. a single-node nginx makes a store: 4 identity rows of 3 workspaces
#      (one address under its workspace's own domain: the nested claim) and
#      a legacy sender; it is stopped and the store copied three times;
#   2. --dry-run writes nothing; the import puts every row and claim into
#      etcd (a range read shows them) and marks the store imported; a second
#      import finds everything "already there" and leaves etcd's revision
#      as it was; etcd unreachable: exit 1;
#   3. another workspace's claim put into etcd first: that row is reported
#      CONFLICT with its holder, the others imported, exit 2, not marked;
#   4. the guard: a cluster-mode node on an un-imported copy logs the error
#      with the import command, keeps serving its rows, refuses writes
#      (503), joins nothing; the import run beside it; the node then reads
#      the cluster, still has every row, resolves the legacy sender, and
#      takes writes.
#
# One etcd member (t/cluster/lib.sh), nginx with the module and the SES
# simulator (t/lib/sd-stack.sh); everything stopped by pid; < 60 s.
# make -f Makefile.dev cluster-import builds the tool and runs this.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/sd-stack.sh"
. "$HERE/lib.sh"

IMPORT_TOOL=${IMPORT_TOOL:-$ROOT/build/tools/sender-domains-cluster-import}
[ -x "$IMPORT_TOOL" ] || { echo "FAIL - $IMPORT_TOOL: make -f Makefile.dev cluster-import-tool"; exit 1; }
[ -f "$MODULE" ] || { echo "FAIL - $MODULE: make -f Makefile.dev build"; exit 1; }

sd_stack_init import
SD_MAIN=
[ "$(id -u)" = 0 ] && SD_MAIN="user root;"     # the tool and nginx share the lock file
CL_TRAPPED=1

cleanup() {
    local rc=$?
    sd_nginx_stop "$STATE/single.pid" || true
    sd_nginx_stop "$STATE/node.pid" || true
    [ -n "${sim:-}" ] && kill "$sim" 2>/dev/null
    if [ $rc != 0 ] && [ -f "$STATE/logs/error.log" ]; then
        grep -E 'emerg|alert|crit|\[error\]' "$STATE/logs/error.log" | tail -5 | sed 's/^/# /'
    fi
    (exit $rc); cl_cleanup
    rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# api PORT METHOD PATH WS ROLE [BODY]: prints the status, the body in $STATE/resp
api() {
    curl -s -m 10 -o "$STATE/resp" -w '%{http_code}' -X "$2" \
         -H "X-WS: $4" -H "X-Role: $5" -H 'X-Plan: professional' \
         -H 'Content-Type: application/json' ${6:+--data-binary "$6"} \
         "http://127.0.0.1:$1/api$3"
}

# etcd_range PREFIX: "key value" lines of every key under PREFIX; the
# header's revision in $STATE/rev
etcd_range() {
    local body
    body=$("$CL_PY" -c 'import base64, json, sys
k = sys.argv[1].encode(); e = k[:-1] + bytes([k[-1] + 1])
print(json.dumps({"key": base64.b64encode(k).decode(), "range_end": base64.b64encode(e).decode()}))' "$1")
    cl_post kv/range "$body" | "$CL_PY" -c 'import base64, json, sys
j = json.load(sys.stdin)
open(sys.argv[1], "w").write(j["header"]["revision"])
for kv in j.get("kvs", []):
    print(base64.b64decode(kv["key"]).decode(), base64.b64decode(kv.get("value", "")).decode())' "$STATE/rev"
}

# until SECONDS 'condition': polls every 0.2 s
until_ok() {
    local deadline=$((SECONDS + $1))
    until eval "$2"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

# ---- 1. a single-node store ----
cl_start 1
EP=$(cl_endpoints)
sd_sim_start

SD_CONF=$STATE/single.conf SD_PID=$STATE/single.pid SD_DB=$STATE/single.mdb \
    sd_nginx_conf '    sender_domains_ses_rate 500;'
"$NGINX_BIN" -p "$STATE" -c "$STATE/single.conf"
until_ok 10 'curl -s -o /dev/null "http://127.0.0.1:$PORT/api/"'

made=""
for add in 'wsA acme.com' 'wsA reports@acme.com' 'wsB beta.example' 'wsC gamma.example'; do
    set -- $add
    made="$made $(api "$PORT" POST / "$1" admin "{\"identity\":\"$2\"}")"
done
made="$made $(api "$PORT" PUT /legacy wsA service '[{"address":"news@legacy.example"}]')"
check "a single-node nginx made 4 identity rows and a legacy sender ($made)" \
    '[ "$made" = " 201 201 201 201 200" ]'
check "the single-node nginx stops" 'sd_nginx_stop "$STATE/single.pid"'
for c in s1 s2 s3; do cp "$STATE/single.mdb" "$STATE/$c.mdb"; done

# ---- 2. import, idempotent, unreachable ----
out=$("$IMPORT_TOOL" --db "$STATE/s1.mdb" --endpoints "$EP" --prefix /p1/ --dry-run); rc=$?
check "--dry-run: exit 0, 5 rows to import, nothing in etcd" \
    '[ $rc = 0 ] && grep -q "5 rows: 5 to import" <<<"$out" && [ -z "$(etcd_range /p1/)" ] || { echo "$out"; false; }'

out=$("$IMPORT_TOOL" --db "$STATE/s1.mdb" --endpoints "$EP" --prefix /p1/); rc=$?
echo "$out" | sed 's/^/#   /'
check "the import: exit 0, 5 rows imported, the store marked" \
    '[ $rc = 0 ] && grep -q "5 rows: 5 imported, 0 already there, 0 conflicts" <<<"$out" \
     && grep -q "marked imported" <<<"$out"'
keys=$(etcd_range /p1/)
rev1=$(cat "$STATE/rev")
echo "$keys" | cut -c1-100 | sed 's/^/#   etcd: /'
check "etcd holds the 4 rows, the legacy row and their 5 claims" \
    '[ "$(wc -l <<<"$keys")" = 10 ] \
     && grep -qx "/p1/claims/com.acme. wsA" <<<"$keys" \
     && grep -qx "/p1/claims/com.acme.@reports wsA" <<<"$keys" \
     && grep -qx "/p1/claims/example.gamma. wsC" <<<"$keys" \
     && grep -qx "/p1/claims/example.legacy.@news wsA" <<<"$keys" \
     && grep -q "^/p1/rows/wsB/beta.example {" <<<"$keys" \
     && grep -q "^/p1/legacy/rows/wsA/news@legacy.example {" <<<"$keys"'
check "the rows in etcd are the store's JSON (acme.com's names itself)" \
    'grep "^/p1/rows/wsA/acme.com " <<<"$keys" | grep -q "\"acme.com\""'

out=$("$IMPORT_TOOL" --db "$STATE/s1.mdb" --endpoints "$EP" --prefix /p1/); rc=$?
etcd_range /p1/ >/dev/null
check "a second import: exit 0, every row already there, etcd unchanged (revision $rev1)" \
    '[ $rc = 0 ] && grep -q "5 rows: 0 imported, 5 already there" <<<"$out" \
     && [ "$(grep -c "^already there" <<<"$out")" = 5 ] && [ "$(cat "$STATE/rev")" = "$rev1" ]'

out=$("$IMPORT_TOOL" --db "$STATE/s1.mdb" --endpoints "http://127.0.0.1:$(free_port)" --prefix /p1/ 2>&1); rc=$?
check "etcd unreachable: exit 1, said so" '[ $rc = 1 ] && grep -q "unreachable" <<<"$out"'

# ---- 3. a conflict ----
cl_put /p2/claims/example.gamma. wsOther
out=$("$IMPORT_TOOL" --db "$STATE/s2.mdb" --endpoints "$EP" --prefix /p2/); rc=$?
echo "$out" | sed 's/^/#   /'
check "a name another workspace holds in etcd: CONFLICT with the holder, exit 2, the rest imported" \
    '[ $rc = 2 ] && grep -q "^CONFLICT .* \"wsC\" gamma.example: held by workspace \"wsOther\" (claim on gamma.example)" <<<"$out" \
     && grep -q "5 rows: 4 imported, 0 already there, 1 conflicts" <<<"$out"'
check "the conflict is not forced: the claim stays wsOther's, no row for wsC" \
    '[ "$(cl_get /p2/claims/example.gamma.)" = wsOther ] && ! cl_get /p2/rows/wsC/gamma.example >/dev/null'
check "a store with a conflict is not marked imported" \
    '! grep -q "marked imported" <<<"${out%not marked*}"'

# ---- 4. the guard ----
SD_CONF=$STATE/node.conf SD_PID=$STATE/node.pid SD_DB=$STATE/s3.mdb \
    sd_nginx_conf "    sender_domains_ses_rate 500;
    sender_domains_cluster etcd ${EP//,/ };
    sender_domains_cluster_prefix /p3/;
    sender_domains_cluster_node n3;"
"$NGINX_BIN" -p "$STATE" -c "$STATE/node.conf"
LOG=$STATE/logs/error.log
check "the cluster node on the un-imported store logs the error with the import command" \
    'until_ok 10 "grep -q \"does not join the cluster\" \"$LOG\""'
grep -o 'node "n3" does not join.*' "$LOG" | head -1 | cut -c1-400 | sed 's/^/#   /'
check "once, at error level, with the command" \
    '[ "$(grep -c "does not join the cluster" "$LOG")" = 1 ] \
     && grep "does not join the cluster" "$LOG" | grep -q "\[error\].*sender-domains-cluster-import --db $STATE/s3.mdb --endpoints $EP --prefix /p3/"'
sleep 2
code=$(api "$PORT" GET / wsA member)
check "it keeps its rows and serves them (GET / of wsA: $code)" \
    '[ "$code" = 200 ] && grep -q "\"reports@acme.com\"" "$STATE/resp" && grep -q "\"news@legacy.example\"" "$STATE/resp"'
code=$(api "$PORT" POST / wsD admin '{"identity":"delta.example"}')
check "writes answer 503 cluster_unavailable ($code)" \
    '[ "$code" = 503 ] && grep -q cluster_unavailable "$STATE/resp"'
check "nothing of it reached etcd (no row, no node key)" '[ -z "$(etcd_range /p3/)" ]'
check "the store was not read from the cluster" '! grep -q "reading the cluster.s rows under" "$LOG"'

out=$("$IMPORT_TOOL" --db "$STATE/s3.mdb" --endpoints "$EP" --prefix /p3/); rc=$?
check "the import beside the waiting node: exit 0, 5 imported" \
    '[ $rc = 0 ] && grep -q "5 rows: 5 imported" <<<"$out"'
check "the node then reads the cluster (within 10 s)" \
    'until_ok 10 "grep -q \"the store holds the cluster.s rows\" \"$LOG\""'
code=$(api "$PORT" GET / wsA member)
check "every row is still there (GET / of wsA: $code)" \
    '[ "$code" = 200 ] && grep -q "\"acme.com\"" "$STATE/resp" && grep -q "\"reports@acme.com\"" "$STATE/resp" && grep -q "\"news@legacy.example\"" "$STATE/resp"'
code=$(api "$PORT" GET '/resolve?from=news@legacy.example' wsA service)
check "the legacy sender resolves ($code)" \
    '[ "$code" = 200 ] && grep -q "\"source\":\"legacy\"" "$STATE/resp"'
check "writes are taken again (POST delta.example: 201 within 10 s)" \
    'until_ok 10 "[ \"\$(api $PORT POST / wsD admin \"{\\\"identity\\\":\\\"delta.example\\\"}\")\" = 201 ]"'
check "and reach etcd" 'until_ok 5 "cl_get /p3/rows/wsD/delta.example >/dev/null"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
