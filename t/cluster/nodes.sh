# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# t/cluster/nodes.sh: nginx nodes with the module on top of the etcd
# cluster of t/cluster/lib.sh, and one SES simulator they share (issue 18,
# docs/cluster.md).  Sourced after lib.sh, not run:
#
#   . t/cluster/lib.sh; . t/cluster/nodes.sh
#   cl_start 3                  # the etcd members (lib.sh)
#   nd_start 3                  # the simulator, then nodes 1..3 (nodeA..C)
#   nd_api 1 POST / '{"identity":"acme.com"}' wsA
#                               # sets ND_CODE, ND_BODY, ND_HDR (headers)
#   nd_resolve 2 wsA reports@acme.com   # prints "source from-header"
#   nd_sim GET /calls           # the simulator's control API (/_sim/...)
#   nd_kill i | nd_stop i | nd_cont i | nd_term i | nd_restart i
#
# A node counts as started once it answers and, in cluster mode, once it
# has reached etcd (nd_ready: its reads no longer say X-Sender-Domains-Stale).
#
# Each node is Debian's /usr/sbin/nginx (NGINX) with the module (MODULE),
# master + ND_WORKERS workers, in the foreground (daemon off) so its pid is
# this shell's child; its own folder under the cluster's temp dir (config,
# logs, LMDB store senders.mdb), its own loopback port, its own node name
# and its own AWS access key (AKIDNODEA…, registered with the simulator),
# so the simulator's call log says which node made each SES call.
#
#   ND_CLUSTER=1   the nodes get sender_domains_cluster (the 3 members'
#                  URLs), _prefix ND_PREFIX and _node; 0: single-node
#                  mode (each node its own store, nothing shared), to
#                  check the harness and that the cases can fail
#   ND_SINGLE      node numbers that run without the cluster directives
#                  whatever ND_CLUSTER says ("3": node 3 is a single node,
#                  the benchmark's baseline)
#   ND_HTTP_EXTRA  more http{} lines for every node (e.g. a rate)
#
# Everything is stopped by pid on exit (nd_cleanup runs before lib.sh's
# cl_cleanup); every wait is bounded.  Needs curl and /usr/bin/python3.

ND_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=${MODULE:-$ND_ROOT/build/nginx/objs/ngx_http_sender_domains_module.so}
ND_CLUSTER=${ND_CLUSTER:-1}
ND_PREFIX=${ND_PREFIX:-/sender-domains/v1/}
ND_WORKERS=${ND_WORKERS:-2}
ND_SES_RATE=${ND_SES_RATE:-100}
ND_REFRESH=${ND_REFRESH:-1s}
ND_HTTP_EXTRA=${ND_HTTP_EXTRA:-}
ND_SINGLE=${ND_SINGLE:-}
ND_CURL_MAX=${ND_CURL_MAX:-20}      # seconds for one API request
ND_PY=/usr/bin/python3
ND_N=0
ND_SIM_PID=
ND_SIM_PORT=
ND_CODE=
ND_READY_MS=
ND_READY_LOG=
ND_BODY=
ND_HDR=
declare -a ND_PID ND_PORT ND_DIR ND_NAME

nd_name() {
    # 1 -> nodeA, 2 -> nodeB, ...
    printf 'node%s' "$(printf "\\x$(printf %x $((64 + $1)))")"
}

nd_key() {
    printf 'AKID%s' "$(nd_name "$1" | tr a-z A-Z)"
}

nd_url() {
    printf 'http://127.0.0.1:%s' "${ND_PORT[$1]}"
}

# the etcd endpoints as the directive takes them (space separated)
nd_endpoints() {
    cl_endpoints | tr , ' '
}

nd_sim_start() {
    local deadline=$((SECONDS + 20)) out=$CL_DIR/sim.out

    nice -n "$CL_NICE" "$ND_PY" "$ND_ROOT/t/ses-sim/ses_sim.py" --port 0 \
        >"$out" 2>"$CL_DIR/sim.err" &
    ND_SIM_PID=$!
    disown "$ND_SIM_PID"
    until ND_SIM_PORT=$(sed -n 's#.*listening on http://[0-9.]*:\([0-9]*\).*#\1#p' "$out" 2>/dev/null) \
          && [ -n "$ND_SIM_PORT" ]; do
        kill -0 "$ND_SIM_PID" 2>/dev/null \
            || cl_die "the SES simulator exited: $(tail -3 "$CL_DIR/sim.err")"
        [ $SECONDS -ge $deadline ] && cl_die "the SES simulator did not start within 20 s"
        sleep 0.1
    done
    cl_log "SES simulator on port $ND_SIM_PORT (pid $ND_SIM_PID)"
}

# nd_sim METHOD PATH [JSON]: the simulator's control API; prints the body
nd_sim() {
    curl -s -m 10 -X "$1" -H 'Content-Type: application/json' \
         ${3:+--data-binary "$3"} "http://127.0.0.1:$ND_SIM_PORT/_sim$2"
}

nd_conf() {
    local i=$1 dir=${ND_DIR[$1]} user= cluster=

    [ "$(id -u)" = 0 ] && user="user root;"
    if [ "$ND_CLUSTER" = 1 ] && [[ " $ND_SINGLE " != *" $i "* ]]; then
        cluster="sender_domains_cluster etcd $(nd_endpoints);
    sender_domains_cluster_prefix $ND_PREFIX;
    sender_domains_cluster_node ${ND_NAME[$i]};"
    fi
    cat <<EOF
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# t/cluster/nodes.sh: ${ND_NAME[$i]}
load_module $MODULE;
$user
daemon off;
master_process on;
worker_processes $ND_WORKERS;
pid $dir/nginx.pid;
error_log $dir/error.log info;

env AWS_ACCESS_KEY_ID=$(nd_key "$i");
env AWS_SECRET_ACCESS_KEY=sim-secret-key;

events {
    worker_connections 1024;
}

http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

    sender_domains_db $dir/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:$ND_SIM_PORT;
    sender_domains_ses_rate $ND_SES_RATE;
    sender_domains_ses_timeout 3s;
    sender_domains_refresh_cooldown 0;
    sender_domains_resend_cooldown 0;
    sender_domains_refresh_interval $ND_REFRESH;
    sender_domains_max_identities 0;
    $cluster
    $ND_HTTP_EXTRA

    server {
        listen 127.0.0.1:${ND_PORT[$i]};
        server_name localhost;

        location = /bare {
            return 200 'ok\n';
        }

        location = /metrics {
            sender_domains_metrics;
        }

        location /api/ {
            sender_domains_api;
            sender_domains_workspace \$http_x_ws;
            sender_domains_role \$http_x_role;
            sender_domains_plan \$http_x_plan;
        }
    }
}
EOF
}

nd_alive() {
    [ -n "${ND_PID[$1]:-}" ] && kill -0 "${ND_PID[$1]}" 2>/dev/null
}

# the live children of node $1's master (its workers), by parent pid
nd_workers() {
    local master=${ND_PID[$1]:-} stat pid rest state ppid

    [ -n "$master" ] || return 0
    for stat in /proc/[0-9]*/stat; do
        read -r pid rest 2>/dev/null <"$stat" || continue
        rest=${rest##*) }
        read -r state ppid _ <<<"$rest"
        [ "$ppid" = "$master" ] && [ "$state" != Z ] && echo "$pid"
    done
}

# starts node $1 (again: same folder, port, store) and waits until it answers
nd_spawn() {
    local i=$1 dir=${ND_DIR[$1]} deadline=$((SECONDS + 20))

    nd_conf "$i" >"$dir/nginx.conf"
    nice -n "$CL_NICE" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >>"$dir/stderr.log" 2>&1 &
    ND_PID[$i]=$!
    disown "${ND_PID[$i]}"
    until curl -s -m 2 -o /dev/null "$(nd_url "$i")/bare"; do
        nd_alive "$i" || cl_die "${ND_NAME[$i]} exited: $(tail -3 "$dir/error.log" "$dir/stderr.log" 2>/dev/null)"
        [ $SECONDS -ge $deadline ] && cl_die "${ND_NAME[$i]} did not answer within 20 s"
        sleep 0.1
    done
    nd_ready "$i" "$deadline"
}

# in cluster mode, waits (until $2, in SECONDS) until node $1 has reached
# etcd: a read answers with X-Sender-Domains-Revision and without
# X-Sender-Domains-Stale (a node that has not yet refuses writes with 503)
nd_ready() {
    local i=$1 deadline=$2 t0 h

    [ "$ND_CLUSTER" = 1 ] && [[ " $ND_SINGLE " != *" $i "* ]] || return 0
    t0=$(date +%s%3N)
    while :; do
        h=$(curl -s -m 2 -o /dev/null -D - -H 'X-WS: nd-ready' -H 'X-Role: admin' \
                 -H 'X-Plan: professional' "$(nd_url "$i")/api/" 2>/dev/null | tr -d '\r')
        if printf '%s\n' "$h" | grep -qi '^x-sender-domains-revision:' \
           && ! printf '%s\n' "$h" | grep -qi '^x-sender-domains-stale:'; then
            ND_READY_MS=$(($(date +%s%3N) - t0))
            return 0
        fi
        [ $SECONDS -ge $deadline ] && cl_die "${ND_NAME[$i]} did not reach etcd within 20 s (still stale)"
        sleep 0.05
    done
}

nd_start() {
    local n=${1:-3} i ports

    [ -x "$NGINX" ] || cl_die "$NGINX not found"
    [ -f "$MODULE" ] || cl_die "$MODULE not found: make -f Makefile.dev build"
    [ -n "$CL_DIR" ] || cl_die "nd_start needs cl_start first (lib.sh)"
    trap nd_cleanup_all EXIT

    nd_sim_start
    ND_N=$n
    read -r -a ports <<<"$(cl_free_ports "$n")"
    for ((i = 1; i <= n; i++)); do
        ND_PORT[$i]=${ports[$((i - 1))]}
        ND_NAME[$i]=$(nd_name "$i")
        ND_DIR[$i]=$CL_DIR/${ND_NAME[$i]}
        mkdir -p "${ND_DIR[$i]}/logs"
        nd_sim POST /credentials "{\"access_key\":\"$(nd_key "$i")\",\"secret_key\":\"sim-secret-key\"}" \
            >/dev/null || cl_die "the simulator refused a credential"
    done
    for ((i = 1; i <= n; i++)); do
        nd_spawn "$i"
        ND_READY_LOG="$ND_READY_LOG ${ND_NAME[$i]}:${ND_READY_MS:-0}ms"
    done
    [ "$ND_CLUSTER" = 1 ] && cl_log "nodes in reach of etcd (ms after answering):$ND_READY_LOG"
    cl_log "nginx nodes up ($( [ "$ND_CLUSTER" = 1 ] && echo cluster mode || echo SINGLE-NODE mode)):$(for ((i = 1; i <= n; i++)); do printf ' %s=%s(pid %s)' "${ND_NAME[$i]}" "${ND_PORT[$i]}" "${ND_PID[$i]}"; done)"
}

# signals node $1's master and workers; KILL/TERM wait (bounded) until gone
nd_signal() {
    local i=$1 sig=$2 pids deadline=$((SECONDS + 15)) p

    nd_alive "$i" || cl_die "${ND_NAME[$i]} is not running"
    pids="${ND_PID[$i]} $(nd_workers "$i")"
    case $sig in
    TERM)
        kill -CONT $pids 2>/dev/null
        kill -TERM "${ND_PID[$i]}"          # the master stops its workers
        ;;
    *)
        kill "-$sig" $pids 2>/dev/null
        ;;
    esac
    case $sig in
    KILL|TERM)
        for p in $pids; do
            while kill -0 "$p" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; do
                [ $SECONDS -ge $deadline ] && { kill -KILL $pids 2>/dev/null; cl_die "${ND_NAME[$i]} (pid $p) survived SIG$sig"; }
                sleep 0.1
            done
        done
        ND_PID[$i]=
        ;;
    esac
}

nd_kill() { cl_log "SIGKILL ${ND_NAME[$1]} (master ${ND_PID[$1]} and workers)"; nd_signal "$1" KILL; }
nd_term() { cl_log "SIGTERM ${ND_NAME[$1]} (master ${ND_PID[$1]})"; nd_signal "$1" TERM; }
nd_stop() { cl_log "SIGSTOP ${ND_NAME[$1]} (master ${ND_PID[$1]} and workers)"; nd_signal "$1" STOP; }
nd_cont() { cl_log "SIGCONT ${ND_NAME[$1]}"; nd_signal "$1" CONT; }

nd_restart() {
    nd_alive "$1" && nd_term "$1"
    nd_spawn "$1"
    cl_log "${ND_NAME[$1]} restarted (pid ${ND_PID[$1]})"
}

# nd_api NODE METHOD PATH [BODY] [WS] [ROLE]: one API call under /api;
# sets ND_CODE (000: no answer), ND_BODY and ND_HDR (the headers)
nd_api() {
    local i=$1 method=$2 path=$3 body=${4:-} ws=${5:-acme} role=${6:-admin} f

    f=$CL_DIR/api.$BASHPID
    ND_CODE=$(curl -s -m "$ND_CURL_MAX" -X "$method" -o "$f.body" -D "$f.hdr" \
                   -w '%{http_code}' -H "X-WS: $ws" -H "X-Role: $role" \
                   -H 'X-Plan: professional' -H 'Content-Type: application/json' \
                   ${body:+--data-binary "$body"} "$(nd_url "$i")/api$path" 2>/dev/null)
    [ -n "$ND_CODE" ] || ND_CODE=000
    ND_BODY=$(cat "$f.body" 2>/dev/null)
    ND_HDR=$(tr -d '\r' <"$f.hdr" 2>/dev/null)
    rm -f "$f.body" "$f.hdr"
}

# a field of ND_BODY (a Python expression over j), "" when not JSON
nd_field() {
    printf '%s' "$ND_BODY" | cl_json "$1" 2>/dev/null
}

# nd_resolve NODE WS ADDRESS: prints "<source> <from header>" ("fallback
# <reason>" for the default sender; "error <code>" for no answer)
nd_resolve() {
    local out
    out=$(curl -s -m 10 -G -H "X-WS: $2" -H 'X-Role: service' -H 'X-Plan: professional' \
               --data-urlencode "from=$3" "$(nd_url "$1")/api/resolve" 2>/dev/null)
    printf '%s' "$out" | cl_json "('fallback ' + str(j['reason'])) if j.get('fallback') else (j['source'] + ' ' + j['from'])" 2>/dev/null \
        || echo "error ${out:-no-answer}"
}

# a domain verified through node $1 for workspace $2: added, its DKIM and
# MAIL FROM records published in the simulator's DNS, refreshed on the
# node.  Status 1 (and ND_CODE/ND_BODY of the failed step) otherwise.
nd_add_verified() {
    local i=$1 ws=$2 dom=$3
    nd_api "$i" POST / "{\"identity\":\"$dom\"}" "$ws"
    [ "$ND_CODE" = 201 ] || return 1
    nd_sim POST /dns/publish "{\"identity\":\"$dom\"}" >/dev/null || return 1
    nd_api "$i" POST "/$dom/refresh" '' "$ws"
    [ "$ND_CODE" = 200 ] && [ "$(nd_field "j.get('verified_for_sending')")" = True ]
}

# milliseconds since the epoch
nd_ms() {
    date +%s%3N
}

# nd_wait_ms LIMIT_S CMD...: runs CMD every 20 ms until it succeeds; prints
# the milliseconds it took, status 1 after LIMIT_S seconds
nd_wait_ms() {
    local limit=$1 t0 deadline
    shift
    t0=$(nd_ms)
    deadline=$((t0 + limit * 1000))
    until "$@"; do
        [ "$(nd_ms)" -ge $deadline ] && { echo $((limit * 1000)); return 1; }
        sleep 0.02
    done
    echo $(($(nd_ms) - t0))
}

# every node still running, by pid: TERM (its workers with it), then KILL
nd_cleanup() {
    local i deadline pids=

    for ((i = 1; i <= ND_N; i++)); do
        [ -n "${ND_PID[$i]:-}" ] || continue
        pids="$pids ${ND_PID[$i]} $(nd_workers "$i")"
        kill -CONT ${ND_PID[$i]} $(nd_workers "$i") 2>/dev/null
        kill -TERM "${ND_PID[$i]}" 2>/dev/null
    done
    [ -n "$ND_SIM_PID" ] && kill -TERM "$ND_SIM_PID" 2>/dev/null && pids="$pids $ND_SIM_PID"
    deadline=$((SECONDS + 5))
    for p in $pids; do
        while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
    done
    ND_N=0
    ND_SIM_PID=
}

nd_cleanup_all() {
    local rc=$? i

    if [ $rc != 0 ] && [ -n "$CL_DIR" ]; then
        for ((i = 1; i <= ND_N; i++)); do
            [ -f "${ND_DIR[$i]}/error.log" ] || continue
            cl_log "${ND_NAME[$i]} error.log (last warnings and errors):"
            grep -E '\[(warn|error|crit|alert|emerg)\]' "${ND_DIR[$i]}/error.log" \
                | tail -8 | sed 's/^/#   /' >&2
        done
    fi
    nd_cleanup
    (exit $rc)
    cl_cleanup
}

# TAP-like lines: t_ok MESSAGE / t_fail MESSAGE REASON / t_check COND...
T_N=0
T_FAILED=0
t_ok() {
    T_N=$((T_N + 1))
    printf 'ok %d - %s\n' "$T_N" "$1"
}
t_fail() {
    T_N=$((T_N + 1))
    T_FAILED=$((T_FAILED + 1))
    printf 'not ok %d - %s\n' "$T_N" "$1"
    [ -n "${2:-}" ] && printf '#   %s\n' "$2"
    return 0
}
# t_is GOT EXPECTED MESSAGE [DETAIL]: DETAIL (e.g. the answer) is shown
# with a failure
t_is() {
    if [ "$1" = "$2" ]; then
        t_ok "$3"
    else
        t_fail "$3" "got '$1', expected '$2'${4:+; $4}"
    fi
}
t_done() {
    echo "1..$T_N"
    [ "$T_FAILED" = 0 ] || { echo "# $T_FAILED of $T_N failed"; return 1; }
}

# node $1's metric $2 (a sample without labels), empty when absent
nd_metric() {
    curl -s -m 5 "$(nd_url "$1")/metrics" | awk -v m="$2" '$1 == m { print $2; exit }'
}
