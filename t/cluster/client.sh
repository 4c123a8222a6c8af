# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/client.sh: the module's etcd client (src/ngx_http_sender_domains_
# etcd.c on the curl multi client) inside nginx, against a real 3-member
# etcd (t/cluster/lib.sh), driven by the test-only module t/cluster/
# etcd_probe (make -f Makefile.dev cluster-client builds it and runs this):
#
#   1. the lease: node key, leader key taken, live nodes
#   2. the watch cut into lines: 15 puts and one of 300 KB (a line of
#      ~400 KB over many chunks), every event once, every line valid JSON
#   3. a member killed: calls go to the next endpoint, the watch restarts
#      there from the next revision and misses nothing
#   4. a member stopped (SIGSTOP): its watch goes silent, not closed; the
#      first call to it that times out ends the watch, which moves on
#   5. a second node: one leader, 2 live nodes on both; the leader's lease
#      loop stopped in its running worker (as when it loses the store's
#      lease): revoked through the event loop, the other leads; started
#      again, it follows
#   6. the leader's nginx (B now) stopped gracefully while its worker still serves
#      a download: the worker leaves the lead and revokes its lease at its
#      next tick; the other node leads within the TTL
#   7. every member stopped: one warning, the leader steps down within
#      ttl/2, not reachable; members back: reachable, leads again
#   8. nginx stopped fast (SIGTERM): the lease is revoked at exit
#      (blocking, bounded), the node key and the leader key gone at once
#
#   PROBE=build/probe-nginx/objs/ngx_http_sd_etcd_probe_module.so \
#       bash t/cluster/client.sh

set -u
. "$(dirname "$0")/lib.sh"

NGINX=${NGINX:-/usr/sbin/nginx}
PROBE=${PROBE:?the probe module: make -f Makefile.dev cluster-client}
P=/sdtest/
TTL=6

pass=0
ok() { pass=$((pass + 1)); printf 'ok %d - %s\n' "$pass" "$*"; }

declare -A NX_PID NX_PORT NX_DIR

nx_cleanup() {
    local rc=$? n
    for n in "${!NX_PID[@]}"; do
        [ -n "${NX_PID[$n]}" ] && kill -TERM "${NX_PID[$n]}" 2>/dev/null
    done
    sleep 0.5
    for n in "${!NX_PID[@]}"; do
        [ -n "${NX_PID[$n]}" ] && kill -KILL "${NX_PID[$n]}" 2>/dev/null
    done
    (exit $rc)
    cl_cleanup
}
trap nx_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
CL_TRAPPED=1

# starts probe node $1 (its master in the foreground of a background job)
nx_start() {
    local n=$1 dir port

    dir=$CL_DIR/nginx-$n
    mkdir -p "$dir/files"
    head -c 4000000 /dev/zero >"$dir/files/blob"
    # the worker (nobody, when the test runs as root) reads the download
    chmod o+x "$CL_DIR" "$dir"
    chmod -R o+rX "$dir/files"
    if [ -z "${NX_PORT[$n]:-}" ]; then
        NX_PORT[$n]=$(cl_free_ports 1)
    fi
    port=${NX_PORT[$n]}
    NX_DIR[$n]=$dir
    cat >"$dir/nginx.conf" <<EOF
load_module $PROBE;
worker_processes 1;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
    access_log off;
    sd_etcd_probe $(cl_url 1) $(cl_url 2) $(cl_url 3);
    sd_etcd_probe_node $n;
    sd_etcd_probe_prefix $P;
    sd_etcd_probe_ttl $TTL;
    server {
        listen 127.0.0.1:$port;
        location / { sd_etcd_probe_handler; }
        location /files/ { root $dir; limit_rate 64k; }
    }
}
EOF
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
    NX_PID[$n]=$!
    disown "${NX_PID[$n]}"
    cl_until 10 "node $n did not answer" nx_get "$n" status >/dev/null
    cl_log "node $n up on port $port (master pid ${NX_PID[$n]})"
}

# stops node $1 with signal $2 (none: already sent), waits (bounded) for
# its master to exit
nx_signal() {
    local n=$1 sig=${2:-} deadline=$((SECONDS + 15))

    [ -n "$sig" ] && kill "-$sig" "${NX_PID[$n]}"
    while kill -0 "${NX_PID[$n]}" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && cl_die "node $n survived SIG$sig"
        sleep 0.05
    done
    NX_PID[$n]=
}

nx_get() {
    curl -s -m 10 "http://127.0.0.1:${NX_PORT[$1]}/$2"
}

# the value of field $2 in node $1's status line
st() {
    nx_get "$1" status | tr ' ' '\n' | sed -n "s/^$2=//p"
}

st_is() {
    [ "$(st "$1" "$2")" = "$3" ]
}

st_ge() {
    local v
    v=$(st "$1" "$2")
    [ -n "$v" ] && [ "$v" -ge "$3" ]
}

absent() {
    cl_get "$1" >/dev/null
    [ $? = 1 ]
}

# the lines of node $1's log that a failure needs
nx_log() {
    grep -E 'sender_domains: |probe: watch ended' "${NX_DIR[$1]}/error.log" \
        | grep -v 'watch line' | tail -${2:-15} | sed 's/^/#   /' >&2
}

no_crash() {
    local n
    for n in "$@"; do
        ! grep -E '\[(alert|emerg|crit)\]|exited on signal' \
            "${NX_DIR[$n]}/error.log" \
            || cl_die "node $n: alert or crash in its log"
    done
}

# a failure shows the nodes' client lines too
cl_die() {
    local n
    for n in "${!NX_DIR[@]}"; do
        cl_log "node $n's log:"
        nx_log "$n" 25
    done
    cl_log "FAIL: $*"
    exit 1
}

cl_start 3

# 1. the lease
nx_start A
cl_until 10 "A did not lead" st_is A leader 1
[ "$(cl_get ${P}leader)" = A ] || cl_die "the leader key is not A"
[ "$(cl_get ${P}nodes/A)" = A ] || cl_die "the node key of A is missing"
st_is A nodes 1 || cl_die "A counts $(st A nodes) nodes, not 1"
grep -q 'cluster node "A" is the refresher.s leader' "${NX_DIR[A]}/error.log" \
    || cl_die "no info line for the leadership"
ok "lease: A holds ${P}leader and ${P}nodes/A with its lease; 1 live node"

# 2. the watch cut into lines
cl_until 10 "the watch did not start" st_ge A lines 1
e0=$(st A events)
for i in $(seq 1 10); do
    out=$(nx_get A "put?k=${P}k$i&v=v$i")
    case $out in "outcome=0 status=200 tries=1"*) ;; *) cl_die "put k$i: $out";; esac
done
out=$(nx_get A "big?k=${P}big&n=300000")
case $out in "outcome=0 status=200"*) ;; *) cl_die "big put: $out";; esac
for i in $(seq 11 15); do
    nx_get A "put?k=${P}k$i&v=v$i" >/dev/null
done
rev=$(cl_post kv/range "{\"key\":\"$(cl_b64 ${P}k15)\"}" \
      | cl_json "j['kvs'][0]['mod_revision']")
cl_until 10 "the watch saw $(( $(st A events) - e0 )) of 16 events" \
    st_is A events $((e0 + 16))
st_is A bad 0 || cl_die "bad watch lines: $(st A bad)"
st_is A rev "$rev" || cl_die "watch at revision $(st A rev), etcd at $rev"
big=$(grep -o 'watch line of [0-9]* bytes, 1 events' "${NX_DIR[A]}/error.log" \
      | awk '{print $4}' | sort -n | tail -1)
[ "$big" -gt 400000 ] || cl_die "no line over 400000 bytes (largest $big)"
ok "watch: 16 puts (one of 300 KB: a line of $big bytes) seen once each, up to revision $rev; no bad line"

# 3. a member killed: the one the client uses (the last put's endpoint)
out=$(nx_get A "put?k=${P}before-kill&v=1")
e=$(echo "$out" | head -1 | sed -n 's/.*endpoint=\([0-9]*\).*/\1/p')
m=$((e + 1))
r0=$(st A restarts)
cl_kill $m
out=$(nx_get A "put?k=${P}after-kill&v=1")
case $out in "outcome=0 status=200"*) ;; *) nx_log A; cl_die "put with m$m dead: $out";; esac
grep -Eq "etcd (watch|/v3/[a-z/]*) on $(cl_url $m) failed" "${NX_DIR[A]}/error.log" \
    || { nx_log A; cl_die "no line for m$m failing"; }
cl_until 10 "the watch did not restart" st_ge A restarts $((r0 + 1))
R=$(echo "$out" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')
cl_until 10 "the put after the kill (revision $R) was not watched" st_ge A rev "$R"
ok "m$m (in use) killed: the next call answered from another ('$(echo "$out" | head -1)'); the watch restarted from the next revision and saw the put"
cl_restart $m

# 4. a member stopped: the watch on it ends when a call to it fails
cl_until 10 "no watch running" st_is A reason "$(st A reason)"
w=$(grep -o 'etcd watch [^ ]* http[^ ,]*' "${NX_DIR[A]}/error.log" | tail -1)
out=$(nx_get A "put?k=${P}before-stop&v=1")
e=$(echo "$out" | head -1 | sed -n 's/.*endpoint=\([0-9]*\).*/\1/p')
m=$((e + 1))
r0=$(st A restarts)
cl_stop $m
t0=$SECONDS
cl_until 20 "the watch on the stopped m$m did not end" st_ge A restarts $((r0 + 1))
st_is A reason 2 || { nx_log A; cl_die "the watch ended for reason $(st A reason), not 2 (endpoint)"; }
grep -q "etcd watch on endpoint $e ended: a call to it failed" \
    "${NX_DIR[A]}/error.log" || { nx_log A; cl_die "no line for the watch left"; }
put_ok() {
    out=$(nx_get A "put?k=${P}after-stop&v=1")
    case $out in "outcome=0 status=200"*) return 0;; esac
    return 1
}
cl_until 20 "no put with m$m stopped" put_ok
R=$(echo "$out" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')
cl_until 10 "the put after the stop (revision $R) was not watched" st_ge A rev "$R"
ok "m$m (in use) stopped: its silent watch ended after $((SECONDS - t0)) s (a call to m$m timed out), restarted elsewhere, saw the next put"
cl_cont $m
cl_wait_healthy 1 2 3

# 5. a second node
nx_start B
cl_until 10 "B does not count 2 nodes" st_is B nodes 2
cl_until 10 "A does not count 2 nodes" st_is A nodes 2
st_is B leader 0 || cl_die "B leads too"
st_is A leader 1 || cl_die "A lost the lead"
grep -q 'the refresher.s leader is node "A"' "${NX_DIR[B]}/error.log" \
    || cl_die "B did not log who leads"
ok "B joined: 2 live nodes on both, A still the only leader"

# 5b. the lease loop stopped in a running worker (a worker that loses
#     the store's lease): revoked through the event loop, the request
#     answered at once; B leads; started again, A rejoins as a follower
t0=$(date +%s%3N)
[ "$(nx_get A stop)" = stopped ] || cl_die "A's lease loop did not stop"
t=$(( $(date +%s%3N) - t0 ))
cl_until 3 "nodes/A still there after the stop: not revoked" absent ${P}nodes/A
grep -q 'cluster node "A": its stopped lease revoked (HTTP 200)' "${NX_DIR[A]}/error.log" \
    || cl_die "no revoke line in A's log"
st_is A leader 0 || cl_die "A still leads after its loop stopped"
cl_until $TTL "B did not take the lead" st_is B leader 1
[ "$(nx_get A start)" = started ] || cl_die "A's lease loop did not start again"
cl_until 10 "A does not count 2 nodes again" st_is A nodes 2
st_is A leader 0 || cl_die "A leads again beside B"
ok "A's lease loop stopped in a running worker (answered in $t ms): lease revoked, B leads; started again, A follows with 2 live nodes"

# 6. B (leading now) stopped gracefully while a slow download keeps its worker: the
#    worker leaves the leadership and revokes its lease through the event
#    loop before it exits; A leads within the TTL
curl -s -o /dev/null -m 30 "http://127.0.0.1:${NX_PORT[B]}/files/blob" &
slow=$!
sleep 0.5
kill -QUIT "${NX_PID[B]}"
t0=$(date +%s%3N)
cl_until $TTL "nodes/B still there after QUIT: not revoked" absent ${P}nodes/B
t=$(( $(date +%s%3N) - t0 ))
kill -0 "${NX_PID[B]}" 2>/dev/null || cl_die "B exited before the test could see its worker stay"
grep -q 'cluster node "B" leaves the refresher.s leadership: worker exiting' \
    "${NX_DIR[B]}/error.log" || cl_die "no line for B leaving"
grep -q 'lease [0-9]* revoked (HTTP 200)' "${NX_DIR[B]}/error.log" \
    || cl_die "no revoke line in B's log"
cl_until $TTL "A did not take the lead" st_is A leader 1
t2=$(( $(date +%s%3N) - t0 ))
[ "$(cl_get ${P}leader)" = A ] || cl_die "the leader key is not A"
cl_until 10 "A still counts 2 nodes" st_is A nodes 1
kill "$slow" 2>/dev/null
wait "$slow" 2>/dev/null
nx_signal B
ok "B stopped (QUIT) while serving a download: its worker revoked its lease within $t ms (TTL $TTL s), before exiting; A leads after $t2 ms"

# 7. every member stopped
cl_stop 1; cl_stop 2; cl_stop 3
t0=$SECONDS
cl_until $TTL "A still leads with etcd stopped" st_is A leader 0
tl=$((SECONDS - t0))
cl_until 20 "A still says reachable" st_is A reachable 0
sleep 3
n=$(grep -c '\[warn\].*the etcd cluster is unreachable' "${NX_DIR[A]}/error.log")
[ "$n" = 1 ] || cl_die "$n unreachable warnings, not 1"
grep -q 'cluster node "A" is no longer the refresher.s leader' \
    "${NX_DIR[A]}/error.log" || cl_die "no info line for the step-down"
cl_cont 1; cl_cont 2; cl_cont 3
cl_wait_healthy 1 2 3
cl_until 20 "A did not lead again" st_is A leader 1
st_is A reachable 1 || cl_die "A not reachable again"
grep -q 'the etcd cluster is reachable again' "${NX_DIR[A]}/error.log" \
    || cl_die "no line for reachable again"
ok "etcd stopped: A stepped down within $tl s, one warning; etcd back: reachable, A leads again"

# 8. nginx stopped fast: revoked too
nx_signal A TERM
absent ${P}nodes/A || cl_die "nodes/A still there after A exited (TERM)"
absent ${P}leader || cl_die "the leader key outlived A"
ok "A stopped (TERM): its node key and the leader key gone at once"

no_crash A B
ok "no alert, no crash in either node's log"
