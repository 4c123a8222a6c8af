#!/bin/bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/nodes_test.sh: cluster mode end to end (issue 18): 3 etcd
# members (lib.sh), 3 nginx nodes with the module and one SES simulator
# (nodes.sh), and the issue's cases, in one run on one cluster, each on
# its own workspaces and names:
#
#   propagate  a domain verified through A is seen on B and C (GET, resolve;
#              the time measured), a sender name changed on A too
#   anynode    one workspace's day (add, records, refresh, sender name, an
#              address under its domain, another workspace refused, a
#              single address resent and verified, legacy senders set,
#              listed, resolved and migrated, deletes), each request
#              through another node than the one before
#   race       CL_RACES rounds (100): the same name added by wsA through A
#              and wsB through B at once: one 201, one 409 already_registered
#   delete     DELETE on B removes a row added on A (GET, resolve on A);
#              another workspace can then add the name through C
#   converge   a node SIGSTOPped (CL_PAUSE, 11 s: longer than the lease
#              TTL) while others write, then resumed: every node's rows
#              (managed and legacy) equal etcd's range read; a node
#              stopped, etcd compacted past its revision, restarted: the
#              same (resync), and it resolves a legacy sender set meanwhile
#   member     the etcd leader SIGKILLed under a stream of adds: writes
#              resume after the election, every 201 is in etcd and on B
#   outage     every etcd member killed: writes answer 503
#              cluster_unavailable with Retry-After, nothing stored;
#              resolve keeps answering on A and B; etcd back: writes
#              succeed again and reach B, every node equals etcd
#   held       a PATCH and a DELETE sent the moment every member is killed
#              (the nodes have not noticed yet): each answers 503
#              cluster_unavailable, a JSON error, Retry-After; etcd back:
#              every node equals etcd
#   reload     adds sent through A for 1.5 s from its SIGHUP: all 201
#   expired    a domain added by wsT1 through A with a 3 s claim, the
#              refresher's leader SIGSTOPped (its sweep would release the
#              claim itself): before its second wsT2's add under it is 409;
#              after it wsT2's adds through the other nodes (a name under
#              it, a domain over another) are 201,
#              wsT1's rows turn failed (claim_expired) on every node and
#              etcd's claims are wsT2's; a verified domain past 3 s still
#              gives 409
#   legacy     CL_LEGACY rounds (30): a PUT /legacy of ops@lgN.example by
#              wsQ1 through A and an add of lgN.example by wsQ2 through B at
#              once: exactly one succeeds (200 / 201), the other is 409
#              already_registered, and etcd's claims are the winner's
#              alone; the last round's winner resolves on every node
#   refresher  background SES polls come from one node only (the
#              simulator's call log, one AWS key per node); that node
#              killed: another polls within TAKEOVER (20 s: TTL 10 s + slack)
#   quota      sender_domains_max_identities 3 (reload), 12 adds of one
#              workspace through the 3 nodes at once: exactly 3 answer 201
#              and etcd holds 3 rows of it
#   budget     every node's rate lowered to 6 (reload) and adds sent to all
#              3 at once: the SES calls in any 4 s stay within what one
#              token bucket of 6/s allows (6*4 + 6 + 3)
#   metrics    each node's /metrics: reachable 1, live nodes 3, one leader
#              among the three, an empty outbox once answered, the applied
#              revision at etcd's; then (in outage) reachable 0 while etcd
#              is away
#   fairness   on A, workspace wsFA floods PATCHes (FAIR_THREADS clients
#              for FAIR_SECS) while wsFB makes 20 paced PATCHes: wsFB's
#              answers do not wait behind wsFA's queue (at most 2 of 20
#              over FAIR_MS), and every wsFA write acknowledged is in etcd
#   backlog    on A, wsK sends PATCHes and drops each connection (8
#              clients, 4 s): A's outbox stays at the cap of 256 (plus the
#              writes in flight), wsK's own answered writes get 429, wsL's
#              all 200; the outbox drains after
#   webhooks   a webhook URL on every node (a receiver that records each
#              request): domains added and verified through A, B and C give
#              each expected event once, every webhook-id distinct and
#              naming the node that made it, added before verified, all
#              delivered by the leader (its delivered counter, the others'
#              0); then the receiver answers 500, events made through every
#              node wait in etcd, the leader is SIGKILLed, the receiver
#              heals: a new leader delivers every one of them
#   final      every live node's rows equal etcd's range read
#
#   bash t/cluster/nodes_test.sh [case...]      (make -f Makefile.dev cluster)
#   ND_CLUSTER=0 bash t/cluster/nodes_test.sh   the nodes without the cluster
#                                               directives: the cases fail
#
# TAP-like "ok N - ..." / "not ok N - ..." lines with the reason; exits
# non-zero when any fails.  Bounded: every wait has a limit; ~2-3 minutes.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/nodes.sh"

CASES=${*:-propagate metrics anynode race delete converge member outage held reload expired legacy refresher quota budget fairness backlog webhooks final}
CL_RACES=${CL_RACES:-100}
CL_LEGACY=${CL_LEGACY:-30}
CL_PAUSE=${CL_PAUSE:-11}    # seconds a node stays SIGSTOPped (converge)
TAKEOVER=${TAKEOVER:-20}    # seconds for the refresher to move after a kill
CHECK=("$ND_PY" "$HERE/nodes_check.py")
# every workspace the cases use (the convergence check reads them all)
ALL_WS=wsW,wsP,wsQ,wsN,wsX,wsA,wsB,wsD,wsE,wsC1,wsC2,wsM,wsO,wsH,wsL,wsR,wsG,wsT1,wsT2,wsT3,wsQ1,wsQ2,wsQ3,wsFA,wsFB,wsK,wsL
FAIR_THREADS=${FAIR_THREADS:-32}
FAIR_SECS=${FAIR_SECS:-5}
FAIR_MS=${FAIR_MS:-100}
BACKLOG_THREADS=${BACKLOG_THREADS:-8}

say() { cl_log "$*"; }

# how long a change made on one node may take to show on another: 10 s,
# less once one did not show (a broken cluster fails fast)
W=10

# t_within LIMIT MESSAGE REASON CMD...: ok when CMD succeeds within LIMIT
# seconds (the time is printed); otherwise not ok with REASON (a command
# line, run then: the state that was seen) and later waits get 3 s
t_within() {
    local limit=$1 msg=$2 why=$3 ms
    shift 3
    if ms=$(nd_wait_ms "$limit" "$@"); then
        t_ok "$msg ($ms ms)"
    else
        t_fail "$msg" "$(eval "printf '%s' \"$why\"") after $limit s"
        W=3
    fi
}

# node $1 answers 200 for GET /$3 of workspace $2
seen_on() { nd_api "$1" GET "/$3" '' "$2"; [ "$ND_CODE" = 200 ]; }
# the status of GET /$3 of workspace $2 on node $1 now
code_on() { nd_api "$1" GET "/$3" '' "$2"; printf '%s' "$ND_CODE"; }
gone_on() { nd_api "$1" GET "/$3" '' "$2"; [ "$ND_CODE" = 404 ]; }
# node $1's resolve of address $3 for workspace $2 starts with $4
resolves_as() { case $(nd_resolve "$1" "$2" "$3") in "$4"*) return 0 ;; esac; return 1; }
# the last answer in one line: status line, Retry-After, body
nd_answer() {
    printf '%s %s %s' "$(printf '%s\n' "$ND_HDR" | head -1)" \
        "$(printf '%s\n' "$ND_HDR" | grep -i '^retry-after')" "${ND_BODY:0:300}"
}
err_code() { printf '%s' "$ND_BODY" | grep -o '"code":"[a-z_]*"' | head -1 | cut -d'"' -f4; }
# node $1's workers are none of the pids $2 (a reload finished)
new_workers() {
    local p
    for p in $(nd_workers "$1"); do
        [[ " $2 " == *" $p "* ]] && return 1
    done
    [ -n "$(nd_workers "$1")" ]
}
lines_ge() { [ "$(wc -l <"$1")" -ge "$2" ]; }
now() { date +%s.%N | cut -c1-14; }

rows_equal() {
    local ports= i
    for ((i = 1; i <= ND_N; i++)); do
        nd_alive "$i" && ports="$ports ${ND_PORT[$i]}"
    done
    "${CHECK[@]}" rows "$(cl_url 1)" "$ND_PREFIX" "$ALL_WS" $ports >"$CL_DIR/rows.diff" 2>&1
}
rows_diff() { tr '\n' ';' <"$CL_DIR/rows.diff"; }

case_propagate() {
    local ms

    say "propagate: a domain verified through A, seen on B and C"
    if ! nd_add_verified 1 wsP prop.example; then
        t_fail "propagate: add and verify prop.example through A" "$ND_CODE $ND_BODY"
        return
    fi
    t_ok "propagate: prop.example added and verified through A"
    t_within $W "propagate: B answers GET /prop.example" \
        'B answers $(code_on 2 wsP prop.example)' seen_on 2 wsP prop.example
    t_within $W "propagate: B resolves reports@prop.example with the domain" \
        'B: $(nd_resolve 2 wsP reports@prop.example)' resolves_as 2 wsP reports@prop.example domain
    t_within $W "propagate: C resolves it too" \
        'C: $(nd_resolve 3 wsP reports@prop.example)' resolves_as 3 wsP reports@prop.example domain

    nd_api 1 PATCH /prop.example '{"sender_name":"Prop Reports"}' wsP
    if [ "$ND_CODE" != 200 ]; then
        t_fail "propagate: PATCH the sender name on A" "$ND_CODE $ND_BODY"
        return
    fi
    t_within $W "propagate: B's From header has the name set on A" \
        'B: $(nd_resolve 2 wsP reports@prop.example)' resolves_as 2 wsP reports@prop.example 'domain Prop Reports <'
}

# one racer: node $1, workspace $2, name $3 -> "code error_code" in $4
race_one() {
    nd_api "$1" POST / "{\"identity\":\"$3\"}" "$2"
    printf '%s %s\n' "$ND_CODE" "$(err_code)" >"$4"
}

# the help page's behaviours, each step through another node: whichever
# node a request reaches, the cluster answers as one node would
kind_on() { nd_api "$1" GET "/$3" '' "$2"; [ "$ND_CODE" = 200 ] && [ "$(nd_field "j.get('kind')")" = "$4" ]; }
listed_on() { nd_api "$1" GET / '' "$2"; [ "$ND_CODE" = 200 ] && printf '%s' "$ND_BODY" | grep -q "\"identity\":\"$3\""; }

case_anynode() {
    local ms dkim

    say "anynode: one workspace's day, each request through another node"
    nd_api 1 POST / '{"identity":"any.example","type":"domain"}' wsN
    t_is "$ND_CODE" 201 "anynode: add any.example through A" "answer: $(nd_answer)"
    dkim=$(nd_field "' '.join(sorted(r['name'] for r in j.get('dns_records', []) if r.get('type') == 'CNAME'))")
    [ "$(wc -w <<<"$dkim")" -ge 3 ] \
        || t_fail "anynode: A's answer shows 3 DKIM CNAME records" "records: '$dkim'"
    t_within $W "anynode: B shows any.example with the same $(wc -w <<<"$dkim") DKIM records" \
        'B: $(code_on 2 wsN any.example)' same_records 2 wsN any.example "$dkim"
    nd_sim POST /dns/publish '{"identity":"any.example"}' >/dev/null
    nd_api 3 POST /any.example/refresh '' wsN
    t_is "$ND_CODE $(nd_field "j.get('verified_for_sending')")" "200 True" \
        "anynode: refresh through C: verified" "answer: $(nd_answer)"
    nd_api 2 PATCH /any.example '{"sender_name":"Any Reports"}' wsN
    t_is "$ND_CODE" 200 "anynode: PATCH the sender name through B" "answer: $(nd_answer)"
    t_within $W "anynode: A resolves reports@any.example with B's name" \
        'A: $(nd_resolve 1 wsN reports@any.example)' resolves_as 1 wsN reports@any.example 'domain Any Reports <reports@any.example>'

    # an address under the workspace's own domain, and another workspace's
    nd_api 3 POST / '{"identity":"billing@any.example","type":"email"}' wsN
    t_is "$ND_CODE" 201 "anynode: add billing@any.example (under its own domain) through C" "answer: $(nd_answer)"
    nd_api 1 POST / '{"identity":"billing2@any.example","type":"email"}' wsX
    t_is "$ND_CODE $(err_code)" "409 already_registered" \
        "anynode: another workspace cannot add an address under any.example (through A)" "answer: $(nd_answer)"
    nd_api 2 POST / '{"identity":"sub.any.example","type":"domain"}' wsX
    t_is "$ND_CODE $(err_code)" "409 already_registered" \
        "anynode: nor a subdomain of it (through B)" "answer: $(nd_answer)"

    # a single address: added on A, resent on B, clicked, refreshed on C
    nd_api 1 POST / '{"identity":"me@solo.example","type":"email"}' wsN
    t_is "$ND_CODE" 201 "anynode: add me@solo.example through A" "answer: $(nd_answer)"
    t_within $W "anynode: B sees me@solo.example" \
        'B answers $(code_on 2 wsN me@solo.example)' seen_on 2 wsN me@solo.example
    nd_api 2 POST /me@solo.example/resend-verification '' wsN
    t_is "$ND_CODE" 200 "anynode: resend its verification email through B" "answer: $(nd_answer)"
    nd_sim POST /click '{"identity":"me@solo.example"}' >/dev/null
    nd_api 3 POST /me@solo.example/refresh '' wsN
    t_is "$ND_CODE $(nd_field "j.get('verified_for_sending')")" "200 True" \
        "anynode: clicked, refreshed through C: verified" "answer: $(nd_answer)"
    t_within $W "anynode: A resolves me@solo.example as the address" \
        'A: $(nd_resolve 1 wsN me@solo.example)' resolves_as 1 wsN me@solo.example 'address '

    # legacy senders: set on B, listed on C, resolved on A, migrated on C
    nd_api 2 PUT /legacy '[{"address":"old@legacy.example","sender_name":"Old"}]' wsN service
    t_is "$ND_CODE" 200 "anynode: PUT /legacy through B" "answer: $(nd_answer)"
    t_within $W "anynode: C lists old@legacy.example" \
        'C: $(code_on 3 wsN old@legacy.example)' listed_on 3 wsN old@legacy.example
    t_within $W "anynode: A resolves old@legacy.example as legacy" \
        'A: $(nd_resolve 1 wsN old@legacy.example)' resolves_as 1 wsN old@legacy.example 'legacy Old <old@legacy.example>'
    nd_api 3 POST /old@legacy.example/migrate '' wsN
    t_is "$ND_CODE $(nd_field "j.get('kind')")" "200 managed" \
        "anynode: migrate it through C" "answer: $(nd_answer)"
    t_within $W "anynode: B shows it managed" \
        'B: $(code_on 2 wsN old@legacy.example)' kind_on 2 wsN old@legacy.example managed
    t_within $W "anynode: A still resolves it (legacy until verified)" \
        'A: $(nd_resolve 1 wsN old@legacy.example)' resolves_as 1 wsN old@legacy.example 'legacy Old <old@legacy.example>'
    # the sync job drops the legacy sender: the migrated row keeps the
    # claim (another workspace still cannot add it); once that goes, it is free
    nd_api 1 PUT /legacy '[]' wsN service
    t_is "$ND_CODE" 200 "anynode: PUT /legacy [] through A" "answer: $(nd_answer)"
    sleep 0.5
    nd_api 2 POST / '{"identity":"old@legacy.example","type":"email"}' wsX
    t_is "$ND_CODE $(err_code)" "409 already_registered" \
        "anynode: the migrated row still holds old@legacy.example (wsX's add through B)" "answer: $(nd_answer)"
    nd_api 3 DELETE /old@legacy.example '' wsN
    t_is "$ND_CODE" 204 "anynode: DELETE the migrated old@legacy.example through C" "answer: $(nd_answer)"
    nd_api 2 POST / '{"identity":"old@legacy.example","type":"email"}' wsX
    t_is "$ND_CODE" 201 "anynode: then wsX adds old@legacy.example through B" "answer: $(nd_answer)"

    # removed on B: gone on A and C, and free for another workspace
    nd_api 2 DELETE /billing@any.example '' wsN
    t_is "$ND_CODE" 204 "anynode: DELETE billing@any.example through B" "answer: $(nd_answer)"
    t_within $W "anynode: C answers 404 for it" \
        'C answers $(code_on 3 wsN billing@any.example)' gone_on 3 wsN billing@any.example
    nd_api 1 DELETE /me@solo.example '' wsN
    t_is "$ND_CODE" 204 "anynode: DELETE me@solo.example through A" "answer: $(nd_answer)"
    t_within $W "anynode: B resolves me@solo.example with the default sender" \
        'B: $(nd_resolve 2 wsN me@solo.example)' resolves_as 2 wsN me@solo.example fallback
    nd_api 3 POST / '{"identity":"me@solo.example","type":"email"}' wsX
    t_is "$ND_CODE" 201 "anynode: another workspace adds me@solo.example through C" "answer: $(nd_answer)"
}
# node $1's GET /$3 of workspace $2 shows the CNAME names $4
same_records() {
    nd_api "$1" GET "/$3" '' "$2"
    [ "$ND_CODE" = 200 ] || return 1
    [ "$(nd_field "' '.join(sorted(r['name'] for r in j.get('dns_records', []) if r.get('type') == 'CNAME'))")" = "$4" ]
}

case_race() {
    local r dom a b good=0 bad=0 both=0 t0=$SECONDS f=$CL_DIR/race

    say "race: $CL_RACES rounds of one name added by wsA through A and wsB through B at once"
    for ((r = 1; r <= CL_RACES; r++)); do
        dom=race$r.example
        race_one 1 wsA "$dom" "$f.a" &
        a=$!
        race_one 2 wsB "$dom" "$f.b" &
        b=$!
        wait "$a" "$b"
        case "$(sort "$f.a" "$f.b" | tr '\n' ' ')" in
        "201  409 already_registered ")
            good=$((good + 1)) ;;
        "201  201  ")
            both=$((both + 1)); bad=$((bad + 1))
            [ $bad -le 3 ] && say "round $r: both got 201" ;;
        *)
            bad=$((bad + 1))
            [ $bad -le 3 ] && say "round $r: A: $(cat "$f.a"), B: $(cat "$f.b")" ;;
        esac
    done
    [ $good = "$CL_RACES" ] \
        && t_ok "race: $CL_RACES of $CL_RACES rounds gave one 201 and one 409 already_registered ($((SECONDS - t0)) s)" \
        || t_fail "race: each round gives one 201 and one 409 already_registered" \
                  "$good of $CL_RACES rounds did; $both gave two 201s"
}

case_delete() {
    local ms

    say "delete: added through A, deleted through B"
    if ! nd_add_verified 1 wsD del.example; then
        t_fail "delete: add and verify del.example through A" "$ND_CODE $ND_BODY"
        return
    fi
    if ! nd_wait_ms $W seen_on 2 wsD del.example >/dev/null; then
        t_fail "delete: B sees del.example added on A" "B answers $(code_on 2 wsD del.example) after $W s"
        W=3
    fi
    nd_api 2 DELETE /del.example '' wsD
    if [ "$ND_CODE" != 204 ]; then
        t_fail "delete: DELETE /del.example through B answers 204" "$ND_CODE $ND_BODY"
        return
    fi
    t_ok "delete: DELETE /del.example through B answers 204"
    t_within $W "delete: A answers 404 for it" \
        'A answers $(code_on 1 wsD del.example)' gone_on 1 wsD del.example
    t_within $W "delete: A's resolve falls back to the default sender" \
        'A: $(nd_resolve 1 wsD reports@del.example)' resolves_as 1 wsD reports@del.example fallback
    nd_api 3 POST / '{"identity":"del.example"}' wsE
    t_is "$ND_CODE $(err_code)" "201 " "delete: the name is free: wsE adds del.example through C" \
        "answer: $(nd_answer)"
}

case_converge() {
    local ms rev stopped

    say "converge: C stopped (SIGSTOP) for $CL_PAUSE s while A and B write"
    nd_stop 3
    stopped=$SECONDS
    nd_api 1 POST / '{"identity":"conv1.example"}' wsC1
    [ "$ND_CODE" = 201 ] || t_fail "converge: add conv1.example through A" "$ND_CODE $ND_BODY"
    nd_api 1 POST / '{"identity":"conv2.example"}' wsC1
    nd_api 2 POST / '{"identity":"ann@conv3.example","sender_name":"Ann"}' wsC2
    [ "$ND_CODE" = 201 ] || t_fail "converge: add ann@conv3.example through B" "$ND_CODE $ND_BODY"
    nd_wait_ms $W seen_on 2 wsC1 conv1.example >/dev/null || W=3
    nd_api 2 PATCH /conv1.example '{"sender_name":"Conv One"}' wsC1
    [ "$ND_CODE" = 200 ] || t_fail "converge: PATCH conv1.example through B (added on A)" "$ND_CODE $ND_BODY"
    nd_api 1 DELETE /conv2.example '' wsC1
    [ "$ND_CODE" = 204 ] || t_fail "converge: DELETE conv2.example through A" "$ND_CODE $ND_BODY"
    nd_api 1 PUT /legacy '[{"address":"ops@legacy-c.example","sender_name":"Ops"},{"address":"news@legacy-c.example"}]' wsC2 service
    [ "$ND_CODE" = 200 ] || t_fail "converge: PUT /legacy (2 senders) through A" "$ND_CODE $ND_BODY"
    # stopped longer than the lease TTL (10 s): C's lease and node key expire
    while [ $SECONDS -lt $((stopped + CL_PAUSE)) ]; do sleep 0.5; done
    nd_cont 3
    t_within $((W * 3)) "converge: after SIGCONT every node's rows equal etcd's range read" \
        '$(rows_diff)' rows_equal

    say "converge: C stopped, writes, etcd compacted past C's revision, C started again"
    nd_term 3
    nd_api 1 POST / '{"identity":"conv4.example"}' wsC1
    nd_api 2 DELETE /ann@conv3.example '' wsC2
    nd_api 1 PATCH /conv1.example '{"sender_name":"Conv Uno"}' wsC1
    nd_api 2 PUT /legacy '[{"address":"ops@legacy-c.example","sender_name":"Ops Team"}]' wsC2 service
    [ "$ND_CODE" = 200 ] || t_fail "converge: PUT /legacy (1 sender) through B" "$ND_CODE $ND_BODY"
    rev=$(cl_post kv/range "{\"key\":\"$(cl_b64 x)\"}" | cl_json "j['header']['revision']")
    if cl_post kv/compaction "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null; then
        say "etcd compacted at revision $rev"
    else
        t_fail "converge: compact etcd" "no member answered /v3/kv/compaction"
    fi
    nd_spawn 3
    t_within $((W * 3)) "converge: C restarted after a compaction: every node's rows equal etcd's" \
        '$(rows_diff)' rows_equal
    resolves_as 3 wsC2 ops@legacy-c.example 'legacy Ops Team <' \
        && t_ok "converge: C resolves the legacy sender as set through B" \
        || t_fail "converge: C resolves the legacy sender as set through B" \
                  "C: $(nd_resolve 3 wsC2 ops@legacy-c.example)"
}

case_member() {
    local f=$CL_DIR/member n=24 leader pid killed_at acked after lost=0 other=0 dom code

    say "member: the etcd leader SIGKILLed under a stream of adds through A"
    (
        for ((k = 1; k <= n; k++)); do
            nd_api 1 POST / "{\"identity\":\"mem$k.example\"}" wsM
            printf '%s %s %s %s\n' "$k" "$(nd_ms)" "$ND_CODE" "$(err_code)"
        done
    ) >"$f" &
    pid=$!
    cl_until 20 "no add answered before the kill" lines_ge "$f" 6
    leader=$(cl_leader) || { t_fail "member: find etcd's leader" "no leader"; wait "$pid"; return; }
    killed_at=$(nd_ms)
    cl_kill "$leader"
    wait "$pid"
    acked=$(awk '$3 == 201' "$f" | wc -l)
    after=$(awk -v t="$killed_at" '$3 == 201 && $2 > t' "$f" | wc -l)
    other=$(awk '$3 != 201 && !($3 == 503 && $4 == "cluster_unavailable")' "$f" | wc -l)
    [ "$after" -gt 0 ] \
        && t_ok "member: adds succeed after the leader m$leader was killed ($after of $acked 201s after the kill)" \
        || t_fail "member: adds succeed after the leader was killed" "$(tail -3 "$f" | tr '\n' ';')"
    t_is "$other" 0 "member: every answer is 201 or 503 cluster_unavailable"
    while read -r k _ code _; do
        [ "$code" = 201 ] || continue
        dom=mem$k.example
        v=$(cl_get "${ND_PREFIX}rows/wsM/$dom") || { lost=$((lost + 1)); continue; }
        nd_wait_ms $W seen_on 2 wsM "$dom" >/dev/null || { lost=$((lost + 1)); W=1; }
    done <"$f"
    t_is "$lost" 0 "member: every acknowledged add ($acked) is in etcd and on B"
    cl_restart "$leader"
}

# the metric $2 of every live node, "name=value" each, in one line
metric_all() {
    local i
    for ((i = 1; i <= ND_N; i++)); do
        nd_alive "$i" && printf '%s=%s ' "$(nd_name "$i")" "$(nd_metric "$i" "$1")"
    done
}
# every live node's metric $1 is $2
metric_all_is() {
    local i
    for ((i = 1; i <= ND_N; i++)); do
        nd_alive "$i" || continue
        [ "$(nd_metric "$i" "$1")" = "$2" ] || return 1
    done
}
leaders() {
    local i n=0
    for ((i = 1; i <= ND_N; i++)); do
        nd_alive "$i" && [ "$(nd_metric "$i" sender_domains_cluster_leader)" = 1 ] && n=$((n + 1))
    done
    printf '%s' "$n"
}
one_leader() { [ "$(leaders)" = 1 ]; }
# node $1 has applied etcd's revision $2 or later
applied_ge() {
    local v
    v=$(nd_metric "$1" sender_domains_cluster_applied_revision)
    [ -n "$v" ] && [ "$v" -ge "$2" ]
}

case_metrics() {
    local ms rev

    say "metrics: what each node's /metrics says of the cluster"
    t_within $W "metrics: every node says it reaches etcd" \
        '$(metric_all sender_domains_cluster_reachable)' metric_all_is sender_domains_cluster_reachable 1
    t_within $W "metrics: every node counts 3 live nodes" \
        '$(metric_all sender_domains_cluster_live_nodes)' metric_all_is sender_domains_cluster_live_nodes 3
    t_within $W "metrics: exactly one node is the leader" \
        '$(metric_all sender_domains_cluster_leader)' one_leader
    nd_api 1 PATCH /prop.example '{"sender_name":"Metrics"}' wsP
    t_is "$ND_CODE" 200 "metrics: a PATCH through A answers 200" "answer: $(nd_answer)"
    t_is "$(nd_metric 1 sender_domains_cluster_outbox_entries)" 0 \
        "metrics: A's outbox is empty once the PATCH is answered"
    # the revision etcd wrote the PATCHed row at
    rev=$(cl_post kv/range "{\"key\":\"$(cl_b64 "${ND_PREFIX}rows/wsP/prop.example")\"}" \
          | cl_json "(j.get('kvs') or [{}])[0].get('mod_revision')")
    t_within $W "metrics: B's applied revision reaches the row's ($rev)" \
        'B: $(nd_metric 2 sender_domains_cluster_applied_revision)' applied_ge 2 "$rev"
    # the exposition stays valid with the cluster's families (the
    # prometheus target installs promtool; make test runs it first)
    if command -v promtool >/dev/null 2>&1; then
        curl -s -m 5 "$(nd_url 1)/metrics" >"$CL_DIR/metrics.txt"
        promtool check metrics <"$CL_DIR/metrics.txt" >"$CL_DIR/promtool.out" 2>&1
        t_is "$?" 0 "metrics: promtool check metrics accepts A's /metrics" \
            "$(head -3 "$CL_DIR/promtool.out" | tr '\n' ';')"
    else
        say "metrics: promtool is not installed: its check is skipped"
    fi
}

case_outage() {
    local i ms t0 retry

    say "outage: every etcd member killed"
    nd_add_verified 1 wsO out.example \
        || t_fail "outage: add and verify out.example through A" "$ND_CODE $ND_BODY"
    nd_wait_ms $W resolves_as 2 wsO reports@out.example domain >/dev/null
    for ((i = 1; i <= CL_N; i++)); do
        cl_alive "$i" && cl_kill "$i"
    done

    t0=$(nd_ms)
    nd_api 1 POST / '{"identity":"out2.example"}' wsO
    retry=$(printf '%s\n' "$ND_HDR" | sed -n 's/^[Rr]etry-[Aa]fter: *//p')
    t_is "$ND_CODE $(err_code)" "503 cluster_unavailable" \
        "outage: POST through A answers 503 cluster_unavailable ($(($(nd_ms) - t0)) ms)" \
        "answer: $(nd_answer)"
    [ -n "$retry" ] && t_ok "outage: with Retry-After: $retry" \
                    || t_fail "outage: the 503 has a Retry-After header" "headers: $(echo $ND_HDR)"
    nd_api 1 GET /out2.example '' wsO
    t_is "$ND_CODE" 404 "outage: nothing was stored for the refused add" \
        "answer: $(nd_answer)"
    nd_api 2 PATCH /out.example '{"sender_name":"Out"}' wsO
    t_is "$ND_CODE $(err_code)" "503 cluster_unavailable" "outage: PATCH through B answers 503 cluster_unavailable" \
        "answer: $(nd_answer)"
    nd_api 3 DELETE /out.example '' wsO
    t_is "$ND_CODE $(err_code)" "503 cluster_unavailable" "outage: DELETE through C answers 503 cluster_unavailable" \
        "answer: $(nd_answer)"
    t_within $W "outage: every node's metrics say etcd is out of reach" \
        '$(metric_all sender_domains_cluster_reachable)' metric_all_is sender_domains_cluster_reachable 0
    # once the node knows, a write is refused before anything is tried
    nd_api 1 PATCH /out.example '{"sender_name":"Out"}' wsO
    grep -q 'a write of workspace "wsO" refused: the cluster (etcd) is out of reach' "${ND_DIR[1]}/error.log" \
        && t_ok "outage: A's error log names the workspace whose write was refused" \
        || t_fail "outage: A's error log names the workspace whose write was refused" \
                  "$(grep 'refused' "${ND_DIR[1]}/error.log" | tail -1)"
    for i in 1 2; do
        resolves_as "$i" wsO reports@out.example domain \
            && t_ok "outage: $(nd_name "$i") still resolves reports@out.example with the domain" \
            || t_fail "outage: $(nd_name "$i") still resolves reports@out.example with the domain" \
                      "$(nd_resolve "$i" wsO reports@out.example)"
    done

    say "outage: etcd started again"
    for ((i = 1; i <= CL_N; i++)); do
        cl_spawn "$i" existing
    done
    cl_wait_healthy $(seq 1 "$CL_N")
    t0=$(nd_ms)
    add_when_back 1 wsO out2.example
    t_is "$ND_CODE" 201 "outage: etcd back: the add through A succeeds ($(($(nd_ms) - t0)) ms after etcd was healthy)" \
        "answer: $(nd_answer)"
    t_within $W "outage: B sees it" \
        'B answers $(code_on 2 wsO out2.example)' seen_on 2 wsO out2.example
    t_within $((W * 3)) "outage: every node's rows equal etcd's again" \
        '$(rows_diff)' rows_equal
}

# node $1: METHOD $2 PATH $3 BODY $4 of workspace $5 -> file $6: one line
# "status code retry-after" and the answer (nd_answer) on the next
answer_to() {
    nd_api "$1" "$2" "$3" "$4" "$5"
    printf '%s %s %s\n%s\n' "$ND_CODE" "$(err_code)" \
        "$(printf '%s\n' "$ND_HDR" | sed -n 's/^[Rr]etry-[Aa]fter: *//p')" "$(nd_answer)" >"$6"
}

case_held() {
    local i a b f=$CL_DIR/held

    say "held: writes sent the moment etcd dies, before the nodes noticed"
    nd_add_verified 1 wsH held.example \
        || t_fail "held: add and verify held.example through A" "$(nd_answer)"
    nd_api 1 POST / '{"identity":"held2.example"}' wsH
    nd_wait_ms $W seen_on 3 wsH held2.example >/dev/null
    nd_wait_ms $W seen_on 2 wsH held.example >/dev/null
    for ((i = 1; i <= CL_N; i++)); do
        cl_alive "$i" && kill -KILL "${CL_PID[$i]}"
    done
    answer_to 2 PATCH /held.example '{"sender_name":"Held"}' wsH "$f.patch" &
    a=$!
    answer_to 3 DELETE /held2.example '' wsH "$f.delete" &
    b=$!
    wait "$a" "$b"
    for i in 1 2 3; do
        CL_PID[$i]=
    done
    for w in patch delete; do
        read -r code ecode retry <"$f.$w"
        t_is "$code $ecode ${retry:+retry}" "503 cluster_unavailable retry" \
            "held: the $(echo "$w" | tr a-z A-Z) answers 503 cluster_unavailable, a JSON error and Retry-After" \
            "answer: $(sed -n 2p "$f.$w")"
    done
    say "held: etcd started again"
    for ((i = 1; i <= CL_N; i++)); do
        cl_spawn "$i" existing
    done
    cl_wait_healthy $(seq 1 "$CL_N")
    t_within $((W * 3)) "held: every node's rows equal etcd's once it is back" \
        '$(rows_diff)' rows_equal
}

# node $1 adds $3 for workspace $2, retrying while it answers 503 (or
# nothing) for up to 15 s: a node may take a moment to find etcd again
# after it was stopped.  ND_CODE and ND_BODY are the last answer's.
add_when_back() {
    local t0
    t0=$(nd_ms)
    until nd_api "$1" POST / "{\"identity\":\"$3\"}" "$2"; [ "$ND_CODE" = 201 ]; do
        case $ND_CODE in 503|000) ;; *) break ;; esac
        [ $(($(nd_ms) - t0)) -gt 15000 ] && break
        sleep 0.2
    done
}

case_reload() {
    local n=0 bad=0 first= t0

    say "reload: adds through A while it reloads (SIGHUP)"
    # after an earlier case stopped etcd, A may take a moment to find it
    # again (the outage case measures that): the reload starts from a node
    # that takes writes
    add_when_back 1 wsL reload0.example
    t_is "$ND_CODE" 201 "reload: A takes writes before the reload" "$(nd_answer)"
    kill -HUP "${ND_PID[1]}"
    t0=$(nd_ms)
    while [ $(($(nd_ms) - t0)) -lt 1500 ]; do
        n=$((n + 1))
        nd_api 1 POST / "{\"identity\":\"reload$n.example\"}" wsL
        if [ "$ND_CODE" != 201 ]; then
            bad=$((bad + 1))
            [ -n "$first" ] || first="add $n, $(($(nd_ms) - t0)) ms after the SIGHUP: $(nd_answer)"
        fi
    done
    t_is "$bad" 0 "reload: every add during the reload answers 201 ($n adds in 1.5 s)" "$first"
}

# node $1 reloaded (SIGHUP) with the configuration nd_conf writes now
reload_node() {
    local old
    old=$(nd_workers "$1" | tr '\n' ' ')
    nd_conf "$1" >"${ND_DIR[$1]}/nginx.conf"
    kill -HUP "${ND_PID[$1]}"
    cl_until 15 "$(nd_name "$1") did not reload" new_workers "$1" "$old"
}

# etcd's claims at, over and under tree key $1: "key=ws key=ws"
claims_of() { "${CHECK[@]}" claims "$(cl_url 1)" "$ND_PREFIX" "$1" | tr '\n' ' ' | sed 's/ $//'; }
# workspace $2's row $3 on node $1: "state last_error.code"
state_on() {
    nd_api "$1" GET "/$3" '' "$2"
    nd_field "j.get('state', '') + ' ' + ((j.get('last_error') or {}).get('code') or '')"
}
expired_on() { [ "$(state_on "$@")" = "failed claim_expired" ]; }

case_expired() {
    local i extra=$ND_HTTP_EXTRA exp lead lname b c

    say "expired: claims of 3 s on A; the refresher's leader stopped meanwhile (no sweep)"
    ND_HTTP_EXTRA="$extra sender_domains_claim_expiry 3s 3s;"
    reload_node 1
    ND_HTTP_EXTRA=$extra
    sleep 1

    if nd_add_verified 1 wsT3 ver.example; then
        t_ok "expired: ver.example added and verified by wsT3 through A"
    else
        t_fail "expired: ver.example added and verified by wsT3 through A" "$ND_CODE $ND_BODY"
    fi
    nd_api 1 POST / '{"identity":"exp.example"}' wsT1
    t_is "$ND_CODE" 201 "expired: wsT1 adds exp.example through A" "$ND_BODY"
    exp=$(nd_field "j['claim_expires_at']")
    nd_api 1 POST / '{"identity":"sub.exp2.example"}' wsT1
    t_is "$ND_CODE" 201 "expired: wsT1 adds sub.exp2.example through A" "$ND_BODY"
    # the later of the two ends (the adds may straddle a second)
    exp=$(printf '%s\n%s\n' "$exp" "$(nd_field "j['claim_expires_at']")" | sort | tail -1)
    # an address's claim key is lower case, its row key as written
    nd_api 1 POST / '{"identity":"CEO@cap.example"}' wsT1
    t_is "$ND_CODE" 201 "expired: wsT1 adds CEO@cap.example through A" "$ND_BODY"
    exp=$(printf '%s\n%s\n' "$exp" "$(nd_field "j['claim_expires_at']")" | sort | tail -1)

    # the leader's sweep would mark the rows failed and release the claims
    # itself: it is stopped until wsT2's adds are answered
    lname=$(cl_get "${ND_PREFIX}leader")
    lead=
    for ((i = 1; i <= ND_N; i++)); do
        [ "$(nd_name "$i")" = "$lname" ] && lead=$i
    done
    [ -n "$lead" ] || cl_die "expired: no refresher leader in etcd ('$lname')"
    b=2 c=3
    [ "$lead" = 2 ] && b=3
    [ "$lead" = 3 ] && c=2
    nd_stop "$lead"

    nd_api $b POST / '{"identity":"mail.exp.example"}' wsT2
    t_is "$ND_CODE $(err_code)" "409 already_registered" \
        "expired: before its claim ends, wsT2's mail.exp.example through $(nd_name $b) is 409" "$(date -u +%T) < $exp"

    exp=$(date -d "$exp" +%s 2>/dev/null || echo 0)
    while [ "$(date +%s)" -lt "$exp" ]; do sleep 0.05; done
    sleep 0.1

    nd_api $b POST / '{"identity":"mail.exp.example"}' wsT2
    t_is "$ND_CODE" 201 "expired: its claim over, wsT2 adds mail.exp.example through $(nd_name $b)" "$(nd_answer)"
    nd_api $c POST / '{"identity":"exp2.example"}' wsT2
    t_is "$ND_CODE" 201 "expired: wsT2 adds exp2.example (over wsT1's expired sub.exp2.example) through $(nd_name $c)" "$(nd_answer)"
    nd_api $b POST / '{"identity":"mail.ver.example"}' wsT2
    t_is "$ND_CODE $(err_code)" "409 already_registered" \
        "expired: a verified claim still holds (mail.ver.example through $(nd_name $b) is 409)" "$(nd_answer)"
    nd_api $c POST / '{"identity":"cap.example"}' wsT2
    t_is "$ND_CODE" 201 "expired: wsT2 adds cap.example (over wsT1's expired CEO@cap.example) through $(nd_name $c)" "$(nd_answer)"
    nd_cont "$lead"

    for i in 1 2 3; do
        t_within $W "expired: wsT1's exp.example is failed (claim_expired) on $(nd_name "$i")" \
            '$(state_on '"$i"' wsT1 exp.example)' expired_on "$i" wsT1 exp.example
        t_within $W "expired: wsT1's sub.exp2.example is failed (claim_expired) on $(nd_name "$i")" \
            '$(state_on '"$i"' wsT1 sub.exp2.example)' expired_on "$i" wsT1 sub.exp2.example
        t_within $W "expired: wsT1's CEO@cap.example is failed (claim_expired) on $(nd_name "$i")" \
            '$(state_on '"$i"' wsT1 CEO@cap.example)' expired_on "$i" wsT1 CEO@cap.example
    done
    t_is "$(claims_of example.cap.)" "example.cap.=wsT2" \
        "expired: etcd's claims under cap.example are wsT2's alone"
    t_is "$(claims_of example.exp.)" "example.exp.mail.=wsT2" \
        "expired: etcd's claims under exp.example are wsT2's alone"
    t_is "$(claims_of example.exp2.sub.)" "example.exp2.=wsT2" \
        "expired: etcd's claims over sub.exp2.example are wsT2's alone"
    t_is "$(claims_of example.ver.mail.)" "example.ver.=wsT3" \
        "expired: the verified ver.example is still wsT3's in etcd"

    reload_node 1
    sleep 1
}

# a PUT /legacy of one address: node $1, workspace $2, address $3 -> $4
legacy_one() {
    nd_api "$1" PUT /legacy "[{\"address\":\"$3\"}]" "$2" service
    printf '%s %s\n' "$ND_CODE" "$(err_code)" >"$4"
}

case_legacy() {
    local k f=$CL_DIR/legacy p a want got bad= lw=0 aw=0 last= i

    say "legacy: PUT /legacy through A against an add of the covering domain through B, $CL_LEGACY rounds"
    for ((k = 1; k <= CL_LEGACY; k++)); do
        legacy_one 1 wsQ1 "ops@lg$k.example" "$f.put" &
        race_one 2 wsQ2 "lg$k.example" "$f.add" &
        wait
        p=$(cat "$f.put") a=$(cat "$f.add")
        case "$p|$a" in
            "200 |409 already_registered")
                lw=$((lw + 1)) last=$k want="example.lg$k.@ops=wsQ1" ;;
            "409 already_registered|201 ")
                aw=$((aw + 1)) want="example.lg$k.=wsQ2" ;;
            *)
                bad="round $k: PUT /legacy $p, add $a"; break ;;
        esac
        got=$(claims_of "example.lg$k.")
        if [ "$got" != "$want" ]; then
            bad="round $k: PUT /legacy $p, add $a; etcd's claims '$got', expected '$want'"
            break
        fi
    done
    if [ -z "$bad" ]; then
        t_ok "legacy: $CL_LEGACY rounds, one winner each ($lw PUT /legacy, $aw adds), etcd's claims the winner's"
    else
        t_fail "legacy: one winner a round, etcd's claims the winner's" "$bad"
    fi
    # a list of 1000 (the default sender_domains_max_legacy): 8 Txns of
    # reads, 8 of claims; one address under another's domain refuses it all
    local list=
    for ((k = 0; k < 1000; k++)); do
        list="$list${list:+,}{\"address\":\"s$((k % 50))@big$((k / 50)).example\"}"
    done
    nd_api 3 PUT /legacy "[$list]" wsQ3 service
    t_is "$ND_CODE" 200 "legacy: a list of 1000 senders on 20 domains through C" "$(nd_answer)"
    t_is "$("${CHECK[@]}" claims "$(cl_url 1)" "$ND_PREFIX" example. | grep -c '=wsQ3$')" 1000 \
        "legacy: etcd holds its 1000 claims"
    nd_api 1 POST / '{"identity":"lgbig.example"}' wsQ2
    list=${list/s49@big19.example/x@mail.lgbig.example}
    nd_api 3 PUT /legacy "[${list/s0@big0/t0@big0}]" wsQ3 service
    t_is "$ND_CODE $(err_code) $(nd_field "[e['address'] for e in j['error']['entries']]")" \
        "409 already_registered ['x@mail.lgbig.example']" \
        "legacy: 1000 senders, a new one under wsQ2's lgbig.example: 409 naming it" "$(nd_answer)"
    t_is "$(claims_of example.big0.@t0) $(claims_of example.big0.@s0)" " example.big0.@s0=wsQ3" \
        "legacy: nothing of the refused list is claimed in etcd"

    [ -n "$last" ] || return 0
    for i in 1 2 3; do
        t_within $W "legacy: $(nd_name "$i") resolves ops@lg$last.example (won by PUT /legacy) as legacy" \
            '$(nd_resolve '"$i"' wsQ1 ops@lg'"$last"'.example)' resolves_as "$i" wsQ1 "ops@lg$last.example" legacy
    done
}

case_refresher() {
    local t0 polls leader= i k ms killed key

    say "refresher: pending domains added through every node; who polls SES?"
    for i in 1 2 3; do
        for k in 1 2; do
            nd_api "$i" POST / "{\"identity\":\"ref$i-$k.example\"}" wsR
        done
    done
    t0=$(now)
    sleep 6
    polls=$("${CHECK[@]}" polls "$ND_SIM_PORT" "$t0")
    case $polls in
    "")
        t_fail "refresher: background polls in 6 s" "none" ;;
    *" "*)
        t_fail "refresher: background polls come from one node only" "$polls" ;;
    *)
        t_ok "refresher: background polls come from one node only ($polls)" ;;
    esac
    key=${polls%%=*}
    key=${key%% *}
    for ((i = 1; i <= ND_N; i++)); do
        [ "$(nd_key "$i")" = "$key" ] && leader=$i
    done
    [ -n "$leader" ] || { t_fail "refresher: find the polling node" "polls: '$polls'"; return; }

    killed=$(now)
    nd_kill "$leader"
    # fresh rows, due 1 s after they were added, through the two others
    for i in 1 2 3; do
        [ "$i" = "$leader" ] && continue
        nd_api "$i" POST / "{\"identity\":\"ref$i-after.example\"}" wsR
    done
    # the lease's TTL (10 s), a renewal period (ttl/3) to take the leader
    # key, a refresher tick (1 s), and slack for a loaded machine
    if ms=$(cl_until_out $TAKEOVER "${CHECK[@]}" first-poll "$ND_SIM_PORT" "$killed" "$key"); then
        [ "${ms%.*}" -le $TAKEOVER ] \
            && t_ok "refresher: $(nd_name "$leader") killed: another node polls $ms s later (lease TTL 10 s)" \
            || t_fail "refresher: another node polls within $TAKEOVER s" "$ms s"
    else
        t_fail "refresher: another node polls within $TAKEOVER s of the kill" "no poll"
    fi
    t0=$(now)
    sleep 4
    polls=$("${CHECK[@]}" polls "$ND_SIM_PORT" "$t0")
    case $polls in
    *" "*) t_fail "refresher: after the take-over one node polls" "$polls" ;;
    "")    t_fail "refresher: after the take-over one node polls" "no polls in 4 s" ;;
    *)     t_ok "refresher: after the take-over one node polls ($polls)" ;;
    esac
    nd_spawn "$leader"
}

# cl_until_out LIMIT CMD...: runs CMD every 0.5 s until it succeeds,
# prints its output; status 1 after LIMIT seconds
cl_until_out() {
    local limit=$1 deadline out
    shift
    deadline=$((SECONDS + limit))
    until out=$("$@"); do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.5
    done
    printf '%s' "$out"
}

# the workspace's limit (sender_domains_max_identities) holds for the
# cluster: adds raced through every node at once never leave more rows
nodes_reload() {
    local i old
    for ((i = 1; i <= ND_N; i++)); do
        nd_alive "$i" || continue
        old=$(nd_workers "$i" | tr '\n' ' ')
        nd_conf "$i" >"${ND_DIR[$i]}/nginx.conf"
        kill -HUP "${ND_PID[$i]}"
        cl_until 15 "$(nd_name "$i") did not reload" new_workers "$i" "$old"
    done
}

case_quota() {
    local i k f=$CL_DIR/quota created rows codes max=3

    say "quota: sender_domains_max_identities $max, 12 adds of one workspace through 3 nodes at once"
    ND_MAX_IDS=$max
    nodes_reload
    sleep 2
    for ((i = 1; i <= ND_N; i++)); do
        for ((k = 1; k <= 4; k++)); do
            race_one "$i" wsQ "q$i-$k.example" "$f.$i.$k" &
        done
    done
    wait
    codes=$(cat "$f".* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    created=$(grep -c '^201 ' "$f".* | awk -F: '{s += $2} END {print s}')
    t_is "$created" "$max" "quota: exactly $max of the 12 adds answer 201 ($codes)"
    rows=$(cl_post kv/range "{\"key\":\"$(cl_b64 "${ND_PREFIX}rows/wsQ/")\",\"range_end\":\"$(cl_b64 "${ND_PREFIX}rows/wsQ0")\",\"count_only\":true}" \
           | cl_json "j.get('count', '0')")
    t_is "$rows" "$max" "quota: etcd holds $max rows of wsQ"
    cat "${ND_DIR[1]}/error.log" "${ND_DIR[2]}/error.log" "${ND_DIR[3]}/error.log" \
        | grep -q 'workspace "wsQ" holds its limit of 3 identities' \
        && t_ok "quota: the error logs name wsQ and its limit for the refused adds" \
        || t_fail "quota: the error logs name wsQ and its limit for the refused adds" \
                  "$(grep -h 'limit' "${ND_DIR[1]}/error.log" | tail -1)"
    ND_MAX_IDS=0
    nodes_reload
}

case_budget() {
    local i k rate=6 t0 f=$CL_DIR/budget win max codes bad rate0=$ND_SES_RATE

    say "budget: every node at sender_domains_ses_rate $rate, adds through all three at once"
    ND_SES_RATE=$rate
    nodes_reload
    # the cluster workers of the new generation find each other (node keys)
    sleep 4
    t0=$(now)
    for ((i = 1; i <= ND_N; i++)); do
        for ((k = 1; k <= 8; k++)); do
            race_one "$i" wsG "bud$i-$k.example" "$f.$i.$k" &
        done
    done
    wait
    max=$((rate * 4 + rate + ND_N))
    win=$("${CHECK[@]}" window "$ND_SIM_PORT" "$t0" 4)
    [ "${win%% *}" -le "$max" ] \
        && t_ok "budget: at most $max SES calls in any 4 s (most: $win s)" \
        || t_fail "budget: at most $max SES calls in any 4 s (6/s for the cluster)" "most: $win s"
    codes=$(cat "$f".* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    bad=$(cat "$f".* | grep -v -c -E '^(201 |503 ses_unavailable)$')
    t_is "$bad" 0 "budget: every add answers 201 or 503 ses_unavailable ($codes)"
    # the low rate is this case's own: the later cases' adds and refreshes
    # are not about the budget (at 6 a second, split by 3 nodes, a refresh
    # on the leader queued behind its polls of every earlier case's rows)
    ND_SES_RATE=$rate0
    nodes_reload
}

# one workspace flooding writes on a node does not hold back another's
# acknowledgements (the outbox's fair turns); nothing of the flood is lost
case_fairness() {
    local out b99 slow

    say "fairness: wsFA floods PATCHes through A ($FAIR_THREADS clients, $FAIR_SECS s), wsFB makes 20 paced PATCHes"
    out=$("$ND_PY" "$HERE/fairness.py" "${ND_PORT[1]}" "$(cl_url 1)" "$ND_PREFIX" \
              "$FAIR_THREADS" "$FAIR_SECS" "$FAIR_MS" 2>&1 | tail -1)
    say "fairness: $out"
    case $out in
    b=*) ;;
    *) t_fail "fairness: the flood ran" "$out"; return ;;
    esac
    # a count, not a percentile of 20: at most 2 of wsFB's PATCHes over
    # FAIR_MS (a loaded 2-core machine stalls now and then)
    slow=$(printf '%s' "$out" | sed -n 's/.*slow=\([0-9]*\).*/\1/p')
    b99=$(printf '%s' "$out" | sed -n 's/^b=[^/]*\/\([^/]*\)\/.*/\1/p')
    [ "${slow:-99}" -le 2 ] \
        && t_ok "fairness: wsFB's PATCHes are not held behind wsFA's flood ($out)" \
        || t_fail "fairness: at most 2 of wsFB's 20 PATCHes over $FAIR_MS ms while wsFA floods" "$out"
    t_is "$(printf '%s' "$out" | sed -n 's/.*b_ok=\([0-9]*\).*/\1/p')" 20 \
        "fairness: every one of wsFB's PATCHes answers 2xx"
    t_is "$(printf '%s' "$out" | sed -n 's/.*lost=\([0-9]*\).*/\1/p')" 0 \
        "fairness: every wsFA row's last acknowledged sender name is in etcd (p99 of wsFB $b99 ms)"
}

# a workspace that sends writes and drops the connection cannot grow the
# node's outbox (every workspace's map) without bound: past 256 waiting
# entries its writes answer 429; another workspace's writes go on
case_backlog() {
    local out max

    say "backlog: wsK sends PATCHes through A and drops each connection ($BACKLOG_THREADS clients, 4 s)"
    out=$("$ND_PY" "$HERE/backlog.py" "${ND_PORT[1]}" "$BACKLOG_THREADS" 4 2>&1 | tail -1)
    say "backlog: $out"
    case $out in
    max_outbox=*) ;;
    *) t_fail "backlog: the flood ran" "$out"; return ;;
    esac
    max=$(printf '%s' "$out" | sed -n 's/^max_outbox=\([0-9-]*\).*/\1/p')
    # the cap is checked before a write: writes in flight at once may pass
    # it by one each
    [ "$max" -ge 0 ] && [ "$max" -le $((256 + BACKLOG_THREADS + 2)) ] \
        && t_ok "backlog: A's outbox stays at the cap (most seen $max)" \
        || t_fail "backlog: A's outbox stays within 256 + the writes in flight" "$out"
    # the dropped writes' 429s are read by nobody: the operator's info line
    # says them, naming the workspace
    # (a machine whose etcd keeps up with the flood never reaches the cap:
    # then there is nothing to refuse, and the line says so)
    if [ "$max" -lt 256 ]; then
        t_ok "backlog: the outbox never reached the cap here (most $max): no refusal to log"
    elif grep -qE 'a write of workspace "wsK" refused: (25[6-9]|26[0-9]) of its changes wait on this node' "${ND_DIR[1]}/error.log"; then
        t_ok "backlog: A's error log says wsK's writes were refused past 256 waiting"
    else
        t_fail "backlog: A's error log says wsK's writes were refused past 256 waiting" \
               "$(grep -c 'refused' "${ND_DIR[1]}/error.log") refusal lines"
    fi
    [[ "$out" =~ k_codes=((200|429):[0-9]+,?)+\  ]] \
        && t_ok "backlog: wsK's answered writes are 200 or 429, nothing else ($out)" \
        || t_fail "backlog: wsK's answered writes are 200 or 429" "$out"
    [[ "$out" =~ l_codes=(200:[0-9]+)$ ]] \
        && t_ok "backlog: every write of wsL answers 200 meanwhile (${BASH_REMATCH[1]})" \
        || t_fail "backlog: every write of wsL answers 200 meanwhile" "$out"
    t_within $((W * 3)) "backlog: A's outbox drains" \
        'A: $(nd_metric 1 sender_domains_cluster_outbox_entries)' metric_is 1 sender_domains_cluster_outbox_entries 0
}
metric_is() { [ "$(nd_metric "$1" "$2")" = "$3" ]; }

# node $1's webhooks_total{outcome="$2"} (0 when absent)
hook_metric() {
    curl -s -m 5 "$(nd_url "$1")/metrics" \
        | awk -v m="sender_domains_webhooks_total{outcome=\"$2\"}" '$1 == m { v = $2 } END { print v + 0 }'
}
hook_check() { "$ND_PY" "$HERE/hook_check.py" "$HOOK_DIR/hooks.log" "$@"; }
hook_got() { hook_check delivered "$@" >/dev/null; }
# the event keys waiting in etcd
hook_waiting() {
    cl_post kv/range "{\"key\":\"$(cl_b64 "${ND_PREFIX}events/")\",\"range_end\":\"$(cl_b64 "${ND_PREFIX}events0")\",\"count_only\":true}" \
        | cl_json "j.get('count', '0')"
}
hook_waiting_ge() { [ "$(hook_waiting)" -ge "$1" ]; }
leader_gauge_ge() { local v; v=$(nd_metric "$1" sender_domains_cluster_webhook_events); [ -n "$v" ] && [ "$v" -ge "$2" ]; }
hook_waiting_is() { [ "$(hook_waiting)" = "$1" ]; }
leader_node() {
    local i
    for ((i = 1; i <= ND_N; i++)); do
        nd_alive "$i" && [ "$(nd_metric "$i" sender_domains_cluster_leader)" = 1 ] && { printf '%s' "$i"; return 0; }
    done
    return 1
}

case_webhooks() {
    local extra=$ND_HTTP_EXTRA i d lead before after others sent ids bad n \
          types='identity.added identity.verified'

    HOOK_DIR=$CL_DIR/hooks
    mkdir -p "$HOOK_DIR"
    rm -f "$HOOK_DIR/port" "$HOOK_DIR/hooks.log" "$HOOK_DIR/fail" "$HOOK_DIR/fail_ws"
    "$ND_PY" "$HERE/hook_receiver.py" "$HOOK_DIR" >"$HOOK_DIR/receiver.log" 2>&1 &
    HOOK_PID=$!
    cl_until 10 "the webhook receiver did not start" test -s "$HOOK_DIR/port"

    say "webhooks: a webhook URL on every node (reload), writes through A, B and C"
    ND_HTTP_EXTRA="$extra sender_domains_webhook http://127.0.0.1:$(cat "$HOOK_DIR/port")/hook; sender_domains_webhook_retry 1s 1s 1h;"
    nodes_reload
    sleep 1
    lead=$(cl_until_out 15 leader_node) || { t_fail "webhooks: a leader" "none"; kill "$HOOK_PID"; return; }
    for ((i = 1; i <= ND_N; i++)); do before[$i]=$(hook_metric "$i" delivered); done

    for i in 1 2 3; do
        nd_add_verified "$i" wsW "wh$i.example" \
            || t_fail "webhooks: wh$i.example added and verified through $(nd_name "$i")" "$ND_CODE $ND_BODY"
    done
    for i in 1 2 3; do
        t_within 20 "webhooks: wh$i.example's added and verified events (made on $(nd_name "$i")) arrive" \
            'missing: $(hook_check delivered wh$i.example $types)' hook_got "wh$i.example" $types
    done
    sleep 1
    bad=$(hook_check dups | tr '\n' ' ')
    hook_check dups >/dev/null \
        && t_ok "webhooks: each event delivered once, every webhook-id distinct ($bad)" \
        || t_fail "webhooks: each event delivered once, every webhook-id distinct" "$bad"
    for i in 1 2 3; do
        # the add was made on node i (later changes may be the leader's polls)
        ids=$(hook_check ids "wh$i.example" identity.added)
        n=$(printf '%s\n' $ids | grep -c "^evt_$(nd_name "$i")_[0-9]*$")
        t_is "$n" 1 "webhooks: wh$i.example's added event's id names $(nd_name "$i"), the node that made it" "ids: $ids"
        hook_check order "wh$i.example" identity.added identity.verified \
            && t_ok "webhooks: wh$i.example's added arrives before its verified" \
            || t_fail "webhooks: wh$i.example's added arrives before its verified" "$(grep -c "wh$i.example" "$HOOK_DIR/hooks.log") requests"
    done
    # who sent them: the leader's delivered counter moved, the others' not
    sent=$(grep -c '"status": 200' "$HOOK_DIR/hooks.log")
    others=
    for ((i = 1; i <= ND_N; i++)); do
        after=$(hook_metric "$i" delivered)
        if [ "$i" = "$lead" ]; then
            t_is "$((after - before[i]))" "$sent" "webhooks: the leader $(nd_name "$i") delivered all $sent"
        else
            others="$others$(nd_name "$i")=$((after - before[i])) "
        fi
    done
    [ "$others" = "$(for ((i = 1; i <= ND_N; i++)); do [ "$i" = "$lead" ] || printf '%s=0 ' "$(nd_name "$i")"; done)" ] \
        && t_ok "webhooks: the other nodes delivered none ($others)" \
        || t_fail "webhooks: the other nodes delivered none" "$others"

    say "webhooks: the receiver refuses wsWB's events; wsWG's go on"
    echo wsWB >"$HOOK_DIR/fail_ws"
    nd_api 2 POST / '{"identity":"wb.example"}' wsWB
    [ "$ND_CODE" = 201 ] || t_fail "webhooks: wsWB adds wb.example through B" "$ND_CODE $ND_BODY"
    t_within 10 "webhooks: wsWB's added event is tried and refused" \
        'requests: $(grep -c wb.example "$HOOK_DIR/hooks.log")' grep -q wb.example "$HOOK_DIR/hooks.log"
    for i in 1 2 3; do
        nd_api "$i" POST / "{\"identity\":\"wg$i.example\"}" wsWG
        [ "$ND_CODE" = 201 ] || t_fail "webhooks: wsWG adds wg$i.example through $(nd_name "$i")" "$ND_CODE $ND_BODY"
    done
    for i in 1 2 3; do
        t_within 10 "webhooks: wsWG's wg$i.example added event is delivered while wsWB's is refused" \
            'missing: $(hook_check delivered wg$i.example identity.added)' hook_got "wg$i.example" identity.added
    done
    hook_got wb.example identity.added \
        && t_fail "webhooks: wsWB's refused event is not counted delivered" "it was answered 200" \
        || t_ok "webhooks: wsWB's refused event is not counted delivered"
    rm -f "$HOOK_DIR/fail_ws"
    t_within 15 "webhooks: wsWB's event is delivered on a retry once the receiver takes it" \
        'missing: $(hook_check delivered wb.example identity.added)' hook_got wb.example identity.added

    say "webhooks: the receiver answers 500, events wait in etcd, the leader $(nd_name "$lead") is killed"
    touch "$HOOK_DIR/fail"
    for i in 1 2 3; do
        nd_api "$i" POST / "{\"identity\":\"wk$i.example\"}" wsW
        [ "$ND_CODE" = 201 ] || t_fail "webhooks: wk$i.example added through $(nd_name "$i")" "$ND_CODE $ND_BODY"
    done
    t_within 10 "webhooks: the 3 added events wait in etcd while the receiver fails" \
        'etcd holds $(hook_waiting)' hook_waiting_ge 3
    t_within 10 "webhooks: the leader's gauge counts the events waiting in etcd" \
        '$(nd_metric "$lead" sender_domains_cluster_webhook_events)' leader_gauge_ge "$lead" 3
    sleep 1
    nd_kill "$lead"
    rm -f "$HOOK_DIR/fail"
    for i in 1 2 3; do
        t_within $((TAKEOVER + 10)) "webhooks: wk$i.example's added event (made on $(nd_name "$i")) is delivered after the kill" \
            'missing: $(hook_check delivered wk$i.example identity.added)' hook_got "wk$i.example" identity.added
    done
    t_within 10 "webhooks: no event is left in etcd" 'etcd holds $(hook_waiting)' hook_waiting_is 0
    bad=$(hook_check dups | tr '\n' ' ')
    hook_check dups >/dev/null \
        && t_ok "webhooks: after the take-over still no webhook-id shared by two events ($bad)" \
        || t_fail "webhooks: after the take-over no webhook-id shared by two events" "$bad"

    say "webhooks: sender_domains_webhook_queue 4, the receiver fails, 8 adds of wsWQ through A"
    nd_spawn "$lead"
    ND_HTTP_EXTRA="$extra sender_domains_webhook http://127.0.0.1:$(cat "$HOOK_DIR/port")/hook; sender_domains_webhook_retry 1s 1s 1h; sender_domains_webhook_queue 4;"
    nodes_reload
    sleep 1
    touch "$HOOK_DIR/fail"
    for i in 1 2 3 4 5 6 7 8; do
        nd_api 1 POST / "{\"identity\":\"wq$i.example\"}" wsWQ
        [ "$ND_CODE" = 201 ] || t_fail "webhooks: wq$i.example added through A" "$ND_CODE $ND_BODY"
    done
    t_within 10 "webhooks: 4 events wait in etcd while the receiver fails" \
        'etcd holds $(hook_waiting)' hook_waiting_ge 4
    n=0
    for i in 1 2 3 4 5 6 7 8 9 10; do
        d=$(hook_waiting)
        [ "$d" -gt "$n" ] && n=$d
        sleep 0.3
    done
    t_is "$n" 4 "webhooks: etcd never holds more than sender_domains_webhook_queue (4) events (most seen)"
    grep -q 'webhook events wait in etcd, sender_domains_webhook_queue.s 4; this node keeps its events in its store' "${ND_DIR[1]}/error.log" \
        && t_ok "webhooks: A's error log says it keeps its events at the limit" \
        || t_fail "webhooks: A's error log says it keeps its events at the limit" \
                  "$(grep -h 'wait in etcd' "${ND_DIR[1]}/error.log" | tail -1)"
    rm -f "$HOOK_DIR/fail"
    t_within 20 "webhooks: once the receiver heals, etcd's waiting events are delivered and it drains" \
        'etcd holds $(hook_waiting)' hook_waiting_is 0
    sleep 2
    # the 4 etcd held at least; A's own queue of 4 drops wsWQ's oldest
    n=$(hook_check count wsWQ)
    [ "$n" -ge 4 ] \
        && t_ok "webhooks: $n of wsWQ's events delivered once the receiver healed (at least the 4 etcd held)" \
        || t_fail "webhooks: at least 4 of wsWQ's events delivered once the receiver healed" "$n"
    bad=$(hook_check dups | tr '\n' ' ')
    hook_check dups >/dev/null \
        && t_ok "webhooks: at the limit still no event delivered twice ($bad)" \
        || t_fail "webhooks: at the limit still no event delivered twice" "$bad"

    kill "$HOOK_PID" 2>/dev/null
    wait "$HOOK_PID" 2>/dev/null
    ND_HTTP_EXTRA=$extra
    nodes_reload
}

# the end of every run: whatever the cases did, the live nodes agree with etcd
case_final() {
    local ms
    t_within $((W * 3)) "final: every live node's rows equal etcd's range read" \
        '$(rows_diff)' rows_equal
}

cl_start 3
nd_start 3
for c in $CASES; do
    declare -F "case_$c" >/dev/null || cl_die "no case '$c' (cases: propagate metrics anynode race delete converge member outage held reload expired legacy refresher quota budget fairness backlog webhooks final)"
    "case_$c"
done
t_done
