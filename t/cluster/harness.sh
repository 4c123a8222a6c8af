# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/harness.sh: the smoke test of t/cluster/lib.sh against Debian's
# etcd 3.4: 3 members start, a key is written and read through the gRPC
# gateway (/v3/kv/put, /v3/kv/range, base64 keys and values), the leader is
# killed (SIGKILL) and writes still succeed with 2 of 3 members, the member
# restarts on its data dir and has the writes it missed.  ~10 s.
#
#   bash t/cluster/harness.sh        (make -f Makefile.dev cluster-harness)

set -u
. "$(dirname "$0")/lib.sh"

pass=0
ok() { pass=$((pass + 1)); printf 'ok %d - %s\n' "$pass" "$*"; }

cl_start 3

cl_put /sd-smoke/a "hello" || cl_die "put through the gateway failed"
v=$(cl_get /sd-smoke/a) || cl_die "range: /sd-smoke/a is absent"
[ "$v" = hello ] || cl_die "range: got '$v', expected 'hello'"
ok "put and range through /v3/ on a 3-member cluster"

# every member answers the same linearizable read
for i in 1 2 3; do
    v=$(cl_get /sd-smoke/a "$i") || cl_die "m$i: range failed"
    [ "$v" = hello ] || cl_die "m$i: got '$v'"
done
ok "every member reads the value"

leader=$(cl_leader) || cl_die "no leader found"
cl_kill "$leader"

# writes resume once the two left elect a leader (bounded: 10 s)
t0=$SECONDS
cl_until 10 "no write succeeded after killing the leader m$leader" \
    cl_put /sd-smoke/b "after-kill"
ok "a write succeeds with 2 of 3 members (leader m$leader killed, $((SECONDS - t0)) s)"

for i in 1 2 3; do
    [ "$i" = "$leader" ] && continue
    v=$(cl_get /sd-smoke/b "$i") || cl_die "m$i: range failed"
    [ "$v" = after-kill ] || cl_die "m$i: got '$v'"
done
new=$(cl_leader) || cl_die "no leader after the kill"
[ "$new" != "$leader" ] || cl_die "the killed member is still the leader"
ok "both survivors read it; m$new leads now"

# 20 more writes with a member down: all acknowledged, all readable
for n in $(seq 1 20); do
    cl_put "/sd-smoke/n$n" "v$n" || cl_die "write $n failed with 2 of 3"
done
ok "20 writes with 2 of 3 members"

# the value of key $2 on member $1 is $3
has() { [ "$(cl_get "$2" "$1")" = "$3" ]; }

cl_restart "$leader"
cl_until 10 "m$leader did not catch up" has "$leader" /sd-smoke/n20 v20
ok "the restarted member m$leader has the writes it missed"

# SIGSTOP of one member: the other two keep writing; SIGCONT: it catches up
other=$(( leader % 3 + 1 ))
cl_stop "$other"
cl_until 10 "no write after stopping m$other" cl_put /sd-smoke/c while-stopped
cl_cont "$other"
cl_wait_healthy "$other"
cl_until 10 "m$other did not catch up" has "$other" /sd-smoke/c while-stopped
ok "a stopped member (SIGSTOP) is skipped, then catches up (SIGCONT)"

echo "1..$pass"
