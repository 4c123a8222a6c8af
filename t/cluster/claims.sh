# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/claims.sh: the pure core's etcd part (src/core/sd_etcd.c)
# against a real 3-member etcd 3.4 (Debian's), through the gRPC gateway
# with curl; t/cluster/etcd_txn prints the core's bodies and reads the
# answers (issue 18, docs/cluster.md "Built and proven"):
#
#  1. two workspaces race acme.com and mail.acme.com, each Txn sent to a
#     different member at the same time: exactly one claim commits, the
#     other's answer names the winner; etcd then holds exactly the winner's
#     claim and row.  ROUNDS times (100).
#  2. the nested shape: a workspace adds a name under its own domain and
#     its domain over its own address; another workspace is refused.
#  3. a late watch event never moves a row backwards; a compacted watch
#     asks for a resync.
#  4. taking over an expired claim: wsB's claim under wsA's expired
#     acme.com is CONFLICT, the owners' read and the takeover Txn free it
#     (wsA's row failed, claim_expired), the claim then commits; a takeover
#     whose row changed meanwhile (verified on another node) commits
#     nothing; an unexpired claim is not taken.
#
#   make -f Makefile.dev cluster-core       (bounded: < 2 minutes)

set -u
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DRV=${ETCD_TXN:-$ROOT/build/cluster/etcd_txn}
ROUNDS=${ROUNDS:-100}

[ -x "$DRV" ] || cl_die "$DRV not built: make -f Makefile.dev cluster-core"

pass=0
ok() { pass=$((pass + 1)); printf 'ok %d - %s\n' "$pass" "$*"; }

cl_start 3
W=$CL_DIR/work
mkdir -p "$W"

# POSTs file $2 to /v3/kv/txn on member $1, the answer into file $3
txn() {
    curl -s -m 5 -X POST -H 'Content-Type: application/json' \
        --data-binary @"$2" "$(cl_url "$1")/v3/kv/txn" -o "$3"
}

# every key under prefix $1, one "key=value" a line, sorted
dump_prefix() {
    local end
    end=$(printf '%s' "${1%/}0")
    cl_post kv/range "{\"key\":\"$(cl_b64 "$1")\",\"range_end\":\"$(cl_b64 "$end")\"}" \
        | "$CL_PY" -c '
import base64, json, sys
j = json.load(sys.stdin)
for kv in j.get("kvs", []):
    print(base64.b64decode(kv["key"]).decode() + "=" + base64.b64decode(kv.get("value", "")).decode())'
}

# ---- 1. the race, ROUNDS times ---------------------------------------------

# one round: both Txns at once, each to another member; who starts first
# alternates.  The verdicts go to $W/<round>.va and .vb.
race_round() {
    local r=$1 P=/sd-race/$1/ ma mb pa pb

    "$DRV" claim "$P" wsA acme.com rowA >"$W/$r.a.json" || return 1
    "$DRV" claim "$P" wsB mail.acme.com rowB >"$W/$r.b.json" || return 1
    ma=$(( r % 3 + 1 ))
    mb=$(( (r + 1) % 3 + 1 ))
    if (( r % 2 )); then
        txn "$ma" "$W/$r.a.json" "$W/$r.a.out" & pa=$!
        txn "$mb" "$W/$r.b.json" "$W/$r.b.out" & pb=$!
    else
        txn "$mb" "$W/$r.b.json" "$W/$r.b.out" & pb=$!
        txn "$ma" "$W/$r.a.json" "$W/$r.a.out" & pa=$!
    fi
    wait "$pa" || { echo "no answer from m$ma" >"$W/$r.va"; return 1; }
    wait "$pb" || { echo "no answer from m$mb" >"$W/$r.vb"; return 1; }
    "$DRV" verdict "$P" wsA acme.com "$W/$r.a.out" >"$W/$r.va"
    "$DRV" verdict "$P" wsB mail.acme.com "$W/$r.b.out" >"$W/$r.vb"
}

t0=$SECONDS
wins_a=0
wins_b=0

# RACE_BATCH rounds at a time (each on its own prefix), so the run stays
# short on a loaded machine: etcd commits concurrent proposals together
RACE_BATCH=${RACE_BATCH:-5}
for ((r = 1; r <= ROUNDS; r += RACE_BATCH)); do
    pids=()
    for ((q = r; q < r + RACE_BATCH && q <= ROUNDS; q++)); do
        race_round "$q" & pids+=($!)
    done
    wait "${pids[@]}"
done

for ((r = 1; r <= ROUNDS; r++)); do
    P=/sd-race/$r/
    va=$(cat "$W/$r.va" 2>/dev/null)
    vb=$(cat "$W/$r.vb" 2>/dev/null)

    case "$va|$vb" in
    DONE\ *"|CONFLICT acme.com wsA")
        wins_a=$((wins_a + 1))
        want="${P}claims/com.acme.=wsA
${P}rows/wsA/acme.com=rowA"
        ;;
    "CONFLICT mail.acme.com wsB|"DONE\ *)
        wins_b=$((wins_b + 1))
        want="${P}claims/com.acme.mail.=wsB
${P}rows/wsB/mail.acme.com=rowB"
        ;;
    *)
        cl_die "round $r: wsA: '$va', wsB: '$vb' (want one DONE, one CONFLICT naming the winner)"
        ;;
    esac

    printf '%s\n' "$want" >>"$W/race.want"
done

# one range read of every round's keys: only the winners' claims and rows
dump_prefix /sd-race/ | sort >"$W/race.got" || cl_die "range read failed"
sort "$W/race.want" | cmp -s - "$W/race.got" \
    || cl_die "etcd holds other keys than the winners': $(sort "$W/race.want" | diff - "$W/race.got" | head -5)"

ok "$ROUNDS races of acme.com (wsA) and mail.acme.com (wsB) on two members: exactly one commits each time (wsA $wins_a, wsB $wins_b), etcd holds only the winner's claim and row ($((SECONDS - t0)) s)"

# ---- 2. the nested shape ----------------------------------------------------

P=/sd-nested/

claim() {   # ws id member -> the verdict, after the nested shape if asked
    local ws=$1 id=$2 m=$3 v

    "$DRV" claim "$P" "$ws" "$id" "row-$ws-$id" >"$W/c.json"
    txn "$m" "$W/c.json" "$W/c.out" || cl_die "claim $ws $id: no answer"
    v=$("$DRV" verdict "$P" "$ws" "$id" "$W/c.out")

    if [ "$v" = NESTED ]; then
        "$DRV" nested "$P" "$ws" "$id" "row-$ws-$id" "$W/c.out" >"$W/n.json" \
            || cl_die "claim $ws $id: no nested Txn"
        txn "$m" "$W/n.json" "$W/n.out" || cl_die "claim $ws $id: no answer"
        v="NESTED then $("$DRV" verdict "$P" "$ws" "$id" "$W/n.out" "$W/c.out")"
    fi

    printf '%s' "$v"
}

expect() {  # what got want
    case "$2" in
    $3) ;;
    *) cl_die "$1: got '$2', want '$3'" ;;
    esac
}

expect "wsA acme.com" "$(claim wsA acme.com 1)" "DONE *"
expect "wsA reports@acme.com (under its own domain)" \
       "$(claim wsA reports@acme.com 2)" "NESTED then DONE *"
expect "wsA mail.acme.com (under its own domain)" \
       "$(claim wsA mail.acme.com 3)" "NESTED then DONE *"
expect "wsB mail.acme.com" "$(claim wsB mail.acme.com 1)" \
       "CONFLICT acme.com wsA"
expect "wsB x@mail.acme.com" "$(claim wsB x@mail.acme.com 2)" \
       "CONFLICT * wsA"
expect "wsA acme.com again" "$(claim wsA acme.com 3)" "EXISTS"
expect "wsB acme.org" "$(claim wsB acme.org 1)" "DONE *"
# the domain over the workspace's own address
expect "wsB sales@shop.acme.org (under its own acme.org)" \
       "$(claim wsB sales@shop.acme.org 2)" "NESTED then DONE *"
expect "wsB shop.acme.org (between its own domain and address)" \
       "$(claim wsB shop.acme.org 3)" "NESTED then DONE *"
expect "wsC acme.org (another's, with its names under it)" \
       "$(claim wsC acme.org 3)" "CONFLICT acme.org wsB"
n=$(dump_prefix "$P" | grep -c /claims/)
[ "$n" = 6 ] || cl_die "etcd holds $n claims under $P, want 6"
ok "nested shape: a workspace's names under its own domain commit, another workspace gets the conflict, a repeat is EXISTS"

# the nested shape under a race: wsA adds an address under its own domain
# while wsB claims a subdomain of it, on two other members
for ((r = 1; r <= 10; r++)); do
    P=/sd-nested-race/$r/
    expect "round $r: wsA acme.com" "$(claim wsA acme.com 1)" "DONE *"
    # wsA: reports@acme.com (nested: its own parent) vs wsB: acme.com's
    # child mail.acme.com (phase 1 fails on wsA's acme.com)
    ( claim wsA reports@acme.com 2 >"$W/ra.v" ) &
    pa=$!
    "$DRV" claim "$P" wsB mail.acme.com rowB >"$W/rb.json"
    txn 3 "$W/rb.json" "$W/rb.out"
    wait "$pa"
    expect "round $r: wsA reports@acme.com" "$(cat "$W/ra.v")" "NESTED then DONE *"
    expect "round $r: wsB mail.acme.com" \
           "$("$DRV" verdict "$P" wsB mail.acme.com "$W/rb.out")" \
           "CONFLICT acme.com wsA"
done
ok "10 rounds: a nested add and another workspace's claim under the same domain at the same time"

# ---- 4. taking over an expired claim ----------------------------------------

P=/sd-take/
NOW=$(date +%s)
# wsA's acme.com: unverified, its claim ended a minute ago
ROW_OLD=$("$CL_PY" -c 'import json,sys,time
t=int(sys.argv[1])
f=lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))
print(json.dumps({"identity":"acme.com","kind":"managed","state":"pending",
  "verified_for_sending":False,"origin":"created","created_at":f(t-3600),
  "claim_expires_at":f(t-60)},separators=(",",":")))' "$NOW")
ROW_NEW=${ROW_OLD/$(date -u -d @$((NOW - 60)) +%FT%TZ)/$(date -u -d @$((NOW + 3600)) +%FT%TZ)}

"$DRV" claim "$P" wsA acme.com "$ROW_OLD" >"$W/t.a.json"
txn 1 "$W/t.a.json" "$W/t.a.out"
v=$("$DRV" verdict "$P" wsA acme.com "$W/t.a.out")
[ "${v%% *}" = DONE ] || cl_die "takeover: wsA's claim: $v"

# the claim meets it; the owners' read; the takeover from another member
take() {    # take ROUND_NAME NOW -> the takeover's body in $W/$1.take.json
    "$DRV" claim "$P" wsB mail.acme.com rowB >"$W/$1.b.json"
    txn 2 "$W/$1.b.json" "$W/$1.b.out"
    v=$("$DRV" verdict "$P" wsB mail.acme.com "$W/$1.b.out")
    [ "$v" = "CONFLICT acme.com wsA" ] || cl_die "takeover $1: the claim: $v"
    "$DRV" owners "$P" wsB mail.acme.com "$W/$1.b.out" >"$W/$1.o.json"
    txn 3 "$W/$1.o.json" "$W/$1.o.out"
    "$DRV" takeover "$P" "$W/$1.o.out" "$2" >"$W/$1.take.json"
}

# not expired yet by this clock: taken by nobody
if take early $((NOW - 120)); then
    cl_die "takeover: an unexpired claim was taken: $(cat "$W/early.take.json")"
fi
[ "$(cat "$W/early.take.json")" = CONFLICT ] || cl_die "takeover early: $(cat "$W/early.take.json")"
ok "a claim not expired yet by the node's clock is not taken (CONFLICT)"

# the row changes between the read and the takeover (verified elsewhere):
# the takeover commits nothing
take race "$NOW" || cl_die "takeover race: $(cat "$W/race.take.json")"
cl_put "${P}rows/wsA/acme.com" "$ROW_NEW"
txn 1 "$W/race.take.json" "$W/race.take.out"
grep -q '"succeeded":true' "$W/race.take.out" && cl_die "takeover race: committed over a changed row"
[ "$(cl_get "${P}claims/com.acme.")" = wsA ] || cl_die "takeover race: the claim went"
ok "a takeover whose owner's row changed after the read commits nothing (mod_revision compare)"

# expired again, unchanged: the takeover frees it and the claim commits
cl_put "${P}rows/wsA/acme.com" "$ROW_OLD"
take go "$NOW" || cl_die "takeover: $(cat "$W/go.take.json")"
txn 1 "$W/go.take.json" "$W/go.take.out"
grep -q '"succeeded":true' "$W/go.take.out" || cl_die "takeover: $(cat "$W/go.take.out")"
txn 2 "$W/go.b.json" "$W/go.b2.out"
v=$("$DRV" verdict "$P" wsB mail.acme.com "$W/go.b2.out")
[ "${v%% *}" = DONE ] || cl_die "takeover: the claim after it: $v"
got=$(dump_prefix "${P}claims/" | tr '\n' ' ')
[ "$got" = "${P}claims/com.acme.mail.=wsB " ] || cl_die "takeover: claims $got"
cl_get "${P}rows/wsA/acme.com" | grep -q '"state":"failed".*"claim_expired"\|"claim_expired".*"state":"failed"' \
    || cl_die "takeover: wsA's row $(cl_get "${P}rows/wsA/acme.com")"
ok "an expired claim is taken over (its row failed, claim_expired) and the claim under it commits"

# ---- 2b. a poll's publish lands only over the row it was made from ----------

P=/sd-guard/
K=${P}rows/w1/acme.com
guard_put() {   # guard_put JSON GUARD -> the verdict of the answer
    "$DRV" publish "$P" w1 acme.com "$1" "$2" >"$W/g.json" || cl_die "publish body"
    txn $((RANDOM % 3 + 1)) "$W/g.json" "$W/g.out" || cl_die "publish Txn failed"
    "$DRV" published "$W/g.out"
}
row_now() {
    cl_post kv/range "{\"key\":\"$(cl_b64 "$K")\"}" \
        | cl_json "__import__('base64').b64decode(j['kvs'][0]['value']).decode() if j.get('kvs') else '-'"
}

# a person's write (unguarded, as every write but a poll's), then a poll
# made from it: it lands
got=$(guard_put '{"sender_name":"n1"}' -)
r1=${got#DONE }
[ "${got%% *}" = DONE ] || cl_die "unguarded publish: $got ($(cat "$W/g.out"))"
got=$(guard_put '{"sender_name":"n1","state":"verified"}' "$r1")
[ "${got%% *}" = DONE ] || cl_die "a poll over the row it read: $got ($(cat "$W/g.out"))"
[ "$(row_now)" = '{"sender_name":"n1","state":"verified"}' ] || cl_die "row: $(row_now)"
r2=${got#DONE }
ok "a poll's publish guarded by the row's revision lands when the row is unchanged (r$r1 -> r$r2), and the claim is created in the nested Txn"
[ "$(cl_post kv/range "{\"key\":\"$(cl_b64 "${P}claims/com.acme.")\"}" | cl_json "__import__('base64').b64decode(j['kvs'][0]['value']).decode()")" = w1 ] \
    || cl_die "the nested Txn did not create the claim"

# another node's person writes n2; a poll made from the older copy (r2)
# must not put n1 back: nothing written, the row read in the same Txn
got=$(guard_put '{"sender_name":"n2","state":"verified"}' -)
[ "${got%% *}" = DONE ] || cl_die "the newer write: $got"
got=$(guard_put '{"sender_name":"n1","state":"failed"}' "$r2")
[ "$got" = 'OVERTAKEN {"sender_name":"n2","state":"verified"}' ] \
    || cl_die "a poll from an older copy: $got ($(cat "$W/g.out"))"
[ "$(row_now)" = '{"sender_name":"n2","state":"verified"}' ] || cl_die "row after the stale poll: $(row_now)"
ok "a poll made from an older copy of the row writes nothing and reads etcd's newer row (the person's n2 stays)"

# the row deleted meanwhile: the poll does not bring it back
cl_post kv/deleterange "{\"key\":\"$(cl_b64 "$K")\"}" >/dev/null || cl_die "delete"
got=$(guard_put '{"sender_name":"n2","state":"verified"}' "$r2")
[ "$got" = 'OVERTAKEN -' ] || cl_die "a poll of a deleted row: $got ($(cat "$W/g.out"))"
[ "$(row_now)" = - ] || cl_die "the deleted row came back: $(row_now)"
ok "a poll of a row deleted meanwhile writes nothing: the row stays deleted"

# ---- 3. a late event never moves a row backwards ----------------------------

P=/sd-late/
K=${P}rows/w1/acme.com
rev() { cl_json "j['header']['revision']"; }

r1=$(cl_post kv/put "{\"key\":\"$(cl_b64 "$K")\",\"value\":\"$(cl_b64 v1)\"}" | rev)
r2=$(cl_post kv/put "{\"key\":\"$(cl_b64 "$K")\",\"value\":\"$(cl_b64 v2)\"}" | rev)
r3=$(cl_post kv/deleterange "{\"key\":\"$(cl_b64 "$K")\"}" | rev)
[ -n "$r1" ] && [ -n "$r2" ] && [ -n "$r3" ] || cl_die "puts failed"

# the watch from r1 (it replays r1, r2, r3); curl stops after 2 s
"$DRV" watch "$P" "$r1" >"$W/w.json"
curl -s -N -m 2 -X POST --data-binary @"$W/w.json" "$(cl_url 2)/v3/watch" \
    >"$W/w.out"
grep -q '"events"' "$W/w.out" || cl_die "the watch delivered no events: $(cat "$W/w.out")"

{
    echo "direct $K v2 $r2"     # the node's own Txn answer, applied first
    sed 's/^/watch /' "$W/w.out"
    echo "direct $K v2 $r2"     # the same answer again, late
    echo "direct $K v1 $r1"     # an older one, later still
    echo dump
} | "$DRV" replay "$P" >"$W/replay.out" || cl_die "replay failed"

want="APPLY PUT $K $r2
SKIP PUT $K $r1
SKIP PUT $K $r2
APPLY DELETE $K $r3
SKIP PUT $K $r2
SKIP PUT $K $r1
NONE $K"
got=$(grep -v '^APPLIED' "$W/replay.out")
[ "$got" = "$want" ] || cl_die "replay:
$got
want
$want"
ok "the Txn's answer at $r2 first, then the watch's $r1, $r2 (skipped), the delete at $r3 (applied); late answers at $r2 and $r1 do not bring the row back"

# after a compaction past r1 the watch from r1 is cancelled: resync
cl_post kv/compaction "{\"revision\":\"$r3\"}" >/dev/null || cl_die "compaction failed"
curl -s -N -m 2 -X POST --data-binary @"$W/w.json" "$(cl_url 3)/v3/watch" \
    >"$W/w2.out"
got=$(sed 's/^/watch /' "$W/w2.out" | "$DRV" replay "$P" | grep RESYNC)
[ "$got" = "RESYNC $r3" ] || cl_die "compacted watch: '$got' ($(cat "$W/w2.out"))"
ok "a watch from a compacted revision is cancelled with compact_revision $r3: the node resyncs"

echo "1..$pass"
